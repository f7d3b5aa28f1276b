"""The check itself: one HTTP request with a timeout, bounded redirects and body, or one TCP
connection, classified.

Plain Python with no Django inside, so it can be called, tested and benchmarked alone.
A failed check is data (a result with a reason), never an exception.
"""

import errno
import socket
import ssl
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from urllib.parse import urlsplit

import requests
import requests.utils
import urllib3.connection
import urllib3.connectionpool
import urllib3.exceptions
from requests_hardened import Config as HardenedConfig
from requests_hardened import HTTPSession
from requests_hardened.ip_filter import InvalidIPAddress, get_ip_address

from probe import tcp

# requests 2.34 asks isinstance(x, SupportsItems), a runtime-checkable Protocol, eight
# times per request. Python 3.11 works such a check out afresh from the protocol's classes
# each time (3.12 caches it): 0.2 of the 1.6 ms of CPU a request costs. Mapping, which
# requests 2.32 asked instead, gives the same answer for the dicts, headers and cookie jars
# requests passes there (bench figures in docs/benchmarks.md, "The check").
if sys.version_info < (3, 12) and hasattr(requests.utils, "_SupportsItems"):
    requests.utils._SupportsItems = Mapping

DEFAULT_USER_AGENT = "Uptime/1.0"
BODY_CHUNK_BYTES = 16 * 1024

StatusRanges = tuple[tuple[int, int], ...]


def parse_status_ranges(text: str) -> StatusRanges:
    """Parse "200-299,301" into ((200, 299), (301, 301)); ValueError names what is wrong."""
    ranges = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        low_text, dash, high_text = part.partition("-")
        try:
            low = int(low_text)
            high = int(high_text) if dash else low
        except ValueError:
            raise ValueError(f'"{part}" is not a status code or a range like 200-299.') from None
        if not (100 <= low <= 599 and 100 <= high <= 599):
            raise ValueError(f'"{part}": status codes run from 100 to 599.')
        if low > high:
            raise ValueError(f'"{part}": a range must run from low to high.')
        ranges.append((low, high))
    if not ranges:
        raise ValueError("Give at least one status code or range, e.g. 200-399.")
    return tuple(ranges)


@dataclass(frozen=True)
class ProbeTarget:
    # http(s)://... for an HTTP check, tcp://host:port for a TCP port check; a TCP check
    # uses only the timeout and the private-address switches below.
    url: str
    method: str = "GET"
    timeout_seconds: float = 10
    expected_status: StatusRanges = ((200, 399),)
    # 0: redirects are not followed, and the 3xx itself is judged against expected_status.
    max_redirects: int = 5
    max_body_bytes: int = 1024 * 1024
    user_agent: str = DEFAULT_USER_AGENT
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    content_type: str = ""
    # (username, password), sent as basic auth; out of repr so a logged target shows no password.
    basic_auth: tuple[str, str] | None = field(default=None, repr=False)
    # Searched for in the part of the body that is read (max_body_bytes).
    keyword: str = ""
    keyword_absent: bool = False
    # A CA bundle (PEM file) to verify TLS with instead of the default one.
    ca_bundle: str | None = None
    # Off by default: users' URLs must not reach into the network the workers sit in.
    allow_private: bool = False
    # Loopback only (the worker's own host), everything else private still refused.
    allow_loopback: bool = False


@dataclass(frozen=True)
class ProbeResult:
    is_up: bool
    started_at: datetime
    status_code: int | None = None
    response_time_ms: int | None = None
    error: str = ""
    # The soonest notAfter of the TLS certificates the check was shown (the URL's host and
    # any https hop it was redirected through); None without TLS.
    tls_expires_at: datetime | None = None


@dataclass(frozen=True)
class CheckOutcome:
    """What one slot's check found, after its retries."""

    result: ProbeResult
    attempts: int
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def probe(target: ProbeTarget) -> ProbeResult:
    """Check the target once and say whether it is up, and if not, why."""
    if urlsplit(target.url).scheme == "tcp":
        return _probe_tcp(target)
    return _probe_http(target)


def _probe_http(target: ProbeTarget) -> ProbeResult:
    started_at = datetime.now(UTC)
    start = time.monotonic()

    def elapsed_ms() -> int:
        return round((time.monotonic() - start) * 1000)

    certificates = _CertificateExpiries()
    session = guarded_session(target)
    # Not 0 when redirects are off: requests still prepares the next hop of a 3xx it does
    # not follow, and would count that as one redirect too many.
    session.max_redirects = target.max_redirects or 1
    try:
        response = session.request(
            target.method,
            target.url,
            timeout=(target.timeout_seconds, target.timeout_seconds),
            allow_redirects=target.max_redirects > 0,
            stream=True,
            headers=_request_headers(target),
            data=target.body or None,
            auth=target.basic_auth,
            verify=target.ca_bundle or True,
            hooks={"response": certificates.record},
        )
        with response:
            status_code = response.status_code
            # requests' timeouts bound each socket wait; this bounds the whole exchange, so
            # a server trickling its body cannot hold a worker thread past the timeout.
            body = _read_body(response, target, start)
            if body is None:
                error = _timeout_message(target)
                return ProbeResult(False, started_at, status_code, elapsed_ms(), error, certificates.soonest)
    except requests.exceptions.RequestException as exc:
        error = classify_error(exc, target)
        return ProbeResult(False, started_at, None, elapsed_ms(), error, certificates.soonest)
    finally:
        session.close()

    response_time_ms = elapsed_ms()
    error = ""
    if response_time_ms > target.timeout_seconds * 1000:
        error = _timeout_message(target)
    elif not any(low <= status_code <= high for low, high in target.expected_status):
        error = f"unexpected status {status_code}"
    elif target.keyword:
        error = _keyword_error(_decode(body, response), target)
    return ProbeResult(not error, started_at, status_code, response_time_ms, error, certificates.soonest)


def _probe_tcp(target: ProbeTarget) -> ProbeResult:
    started_at = datetime.now(UTC)
    start = time.monotonic()
    parts = urlsplit(target.url)
    try:
        tcp.connect(
            parts.hostname or "",
            parts.port or 0,
            target.timeout_seconds,
            allow_private=target.allow_private,
            allow_loopback=target.allow_loopback,
        )
        error = ""
    except (OSError, InvalidIPAddress) as exc:
        error = _classify_connect_error(exc, target)
    return ProbeResult(not error, started_at, None, round((time.monotonic() - start) * 1000), error)


def _request_headers(target: ProbeTarget) -> dict[str, str]:
    headers = {"User-Agent": target.user_agent, **dict(target.headers)}
    if target.body:
        headers["Content-Type"] = target.content_type
    return headers


def _keyword_error(text: str, target: ProbeTarget) -> str:
    found = target.keyword in text
    if target.keyword_absent:
        return f'keyword "{target.keyword}" present' if found else ""
    return "" if found else f'keyword "{target.keyword}" not found'


def _decode(body: bytes, response: requests.Response) -> str:
    # The charset the server names, else UTF-8: requests' own fallback for text/* is
    # ISO-8859-1, which would garble a non-ASCII keyword in an undeclared UTF-8 page.
    header = Message()
    header["Content-Type"] = response.headers.get("Content-Type", "")
    try:
        return body.decode(header.get_content_charset() or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        return body.decode("utf-8", errors="replace")


class _CertificateRecordingConnection(urllib3.connection.HTTPSConnection):
    """Notes the server certificate's expiry as the connection is made: by the time the
    response is seen, a server that closes the connection has taken the socket with it."""

    certificate_expires_at: datetime | None = None

    def connect(self) -> None:
        super().connect()
        getpeercert = getattr(self.sock, "getpeercert", None)
        certificate = getpeercert() if getpeercert else None
        if certificate and "notAfter" in certificate:
            seconds = ssl.cert_time_to_seconds(certificate["notAfter"])
            self.certificate_expires_at = datetime.fromtimestamp(seconds, UTC)


class _CertificateRecordingPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _CertificateRecordingConnection


class _CertificateExpiries:
    """A response hook (called for every hop, redirects included) keeping the soonest expiry."""

    def __init__(self):
        self.soonest: datetime | None = None

    def record(self, response: requests.Response, **kwargs) -> None:
        expires_at = getattr(getattr(response.raw, "connection", None), "certificate_expires_at", None)
        if expires_at is not None and (self.soonest is None or expires_at < self.soonest):
            self.soonest = expires_at


def guarded_session(target: ProbeTarget) -> requests.Session:
    """A session that, unless private targets are allowed, resolves each hop's host, refuses
    a private, loopback, link-local, multicast or reserved address, and connects to exactly
    the address it vetted (so DNS cannot rebind between the check and the connection)."""
    config = HardenedConfig(
        ip_filter_enable=not target.allow_private,
        ip_filter_allow_loopback_ips=target.allow_loopback,
        never_redirect=False,
        default_timeout=(target.timeout_seconds, target.timeout_seconds),
    )
    session = HTTPSession(config)
    # Checks go straight to the target: no proxy or .netrc from the worker's environment.
    session.trust_env = False
    for adapter in session.adapters.values():
        # One connection per host is all a check makes (one request at a time, redirects
        # to another host get their own pool). urllib3 fills a new pool's queue with
        # `maxsize` slots and drains them at close: at its default of 10, about 5% of a
        # check's CPU, since every check has a fresh session.
        adapter.poolmanager.connection_pool_kw["maxsize"] = 1
    pool_manager = session.get_adapter("https://").poolmanager
    pool_manager.pool_classes_by_scheme = {**pool_manager.pool_classes_by_scheme, "https": _CertificateRecordingPool}
    return session


def private_address_error(url: str) -> str | None:
    """Say why a URL's host is refused as private, or None when it is public or unresolvable.

    Used when a URL is entered; every request checks again, on every redirect hop, on the
    address it actually connects to.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").strip("[]")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        get_ip_address(host, port, allow_loopback=False)
    except InvalidIPAddress as exc:
        return (
            f"{host} is a private or reserved address ({exc})."
            if host == str(exc)
            else (f"{host} resolves to a private or reserved address ({exc}).")
        )
    except (OSError, ValueError, UnicodeError):
        return None  # does not resolve now: checks will report it as a DNS failure
    return None


def _read_body(response: requests.Response, target: ProbeTarget, start: float) -> bytes | None:
    """Read at most max_body_bytes; None when the timeout ran out first.

    The body is kept only when there is a keyword to search for.
    """
    if target.method == "HEAD" or target.max_body_bytes == 0:
        return b""
    limit_seconds = target.timeout_seconds
    received = 0
    kept = bytearray()
    for chunk in response.iter_content(BODY_CHUNK_BYTES):
        received += len(chunk)
        if target.keyword:
            kept += chunk[: target.max_body_bytes - len(kept)]
        if time.monotonic() - start > limit_seconds:
            return None
        if received >= target.max_body_bytes:
            break
    return bytes(kept)


def _timeout_message(target: ProbeTarget) -> str:
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


def _classify_connect_error(exc: BaseException, target: ProbeTarget) -> str:
    """Turn a failed TCP connection into a short reason starting with its kind."""
    if isinstance(exc, InvalidIPAddress):
        return _blocked_message(exc)
    if isinstance(exc, TimeoutError):
        return _timeout_message(target)
    return _socket_failure([exc]) or f"connection: {_innermost(exc)}"


def classify_error(exc: requests.exceptions.RequestException, target: ProbeTarget) -> str:
    """Turn a requests exception into a short reason starting with its kind."""
    if isinstance(exc, InvalidIPAddress):
        return _blocked_message(exc)
    if isinstance(exc, requests.exceptions.Timeout):
        return _timeout_message(target)
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


def _causes(exc: BaseException):
    seen = set()
    stack = [exc]
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


def check(
    target: ProbeTarget,
    retries: int,
    retry_interval_seconds: float,
    deadline: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
) -> CheckOutcome:
    """Probe, retrying a failure `retries` times `retry_interval_seconds` apart.

    `deadline` (a Unix time) is when the next slot of the same monitor and region begins:
    an attempt that could not finish before it is not started, so retries of one slot
    never overlap the next.
    """
    attempts = 0
    first_started_at = None
    while True:
        result = probe(target)
        attempts += 1
        first_started_at = first_started_at or result.started_at
        if result.is_up or attempts > retries:
            break
        next_attempt_ends = clock() + retry_interval_seconds + target.timeout_seconds
        if deadline is not None and next_attempt_ends > deadline:
            break
        sleep(retry_interval_seconds)
    return CheckOutcome(result=result, attempts=attempts, started_at=first_started_at)
