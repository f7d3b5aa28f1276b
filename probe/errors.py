"""A failed check in a few words, starting with its kind ("dns:", "refused:", "timeout:", ...)."""

import errno
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import requests
import requests.utils
import urllib3.connection
import urllib3.connectionpool
import urllib3.exceptions
from requests_hardened.ip_filter import InvalidIPAddress

from probe.target import ProbeTarget


def timeout_message(target: ProbeTarget) -> str:
    if urlsplit(target.url).scheme == "tcp":
        return f"timeout: no connection within {target.timeout_seconds:g} s"
    return f"timeout: no complete response within {target.timeout_seconds:g} s"


def _blocked_message(exc: InvalidIPAddress) -> str:
    return f"blocked: {exc} is a private or reserved address"


def _socket_failure(causes: list[BaseException]) -> str | None:
    """The reason shared by HTTP and TCP checks when the connection itself failed."""
    if any(isinstance(c, (urllib3.exceptions.NameResolutionError, socket.gaierror)) for c in causes):
        return "dns: the host name could not be resolved"
    if any(isinstance(c, ConnectionRefusedError) for c in causes):
        return "refused: the connection was refused"
    if any(isinstance(c, OSError) and c.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH) for c in causes):
        return "unreachable: no route to the host"
    return None


def classify_connect_error(exc: BaseException, target: ProbeTarget) -> str:
    """Turn a failed TCP connection into a short reason starting with its kind."""
    if isinstance(exc, InvalidIPAddress):
        return _blocked_message(exc)
    if isinstance(exc, TimeoutError):
        return timeout_message(target)
    return _socket_failure([exc]) or f"connection: {_innermost(exc)}"


def classify_error(exc: requests.exceptions.RequestException, target: ProbeTarget) -> str:
    """Turn a requests exception into a short reason starting with its kind."""
    if isinstance(exc, InvalidIPAddress):
        return _blocked_message(exc)
    if isinstance(exc, requests.exceptions.Timeout):
        return timeout_message(target)
    if isinstance(exc, requests.exceptions.TooManyRedirects):
        return f"too many redirects: more than {target.max_redirects}"
    if isinstance(exc, requests.exceptions.SSLError):
        return f"tls: {_innermost(exc)}"
    if isinstance(exc, requests.exceptions.ConnectionError):
        if reason := _socket_failure(list(_causes(exc))):
            return reason
        if "Connection refused" in str(exc):
            return "refused: the connection was refused"
        return f"connection: {_innermost(exc)}"
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema)):
        return f"invalid url: {exc}"
    return f"error: {_innermost(exc)}"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend([current.__cause__, current.__context__])
        stack.extend(arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException))
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            stack.append(reason)


def _innermost(exc: BaseException) -> str:
    last = exc
    for cause in _causes(exc):
        last = cause
    return str(last) or type(last).__name__
