"""The HTTP check itself: one request with a timeout, bounded redirects and body, classified.

Plain Python with no Django inside, so it can be called, tested and benchmarked alone.
A failed check is data (a result with a reason), never an exception.
"""

import errno
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import requests
import urllib3.exceptions
from requests_hardened import Config as HardenedConfig
from requests_hardened import HTTPSession
from requests_hardened.ip_filter import InvalidIPAddress, get_ip_address

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
    url: str
    method: str = "GET"
    timeout_seconds: float = 10
    expected_status: StatusRanges = ((200, 399),)
    max_redirects: int = 5
    max_body_bytes: int = 1024 * 1024
    user_agent: str = DEFAULT_USER_AGENT
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


@dataclass(frozen=True)
class CheckOutcome:
    """What one slot's check found, after its retries."""

    result: ProbeResult
    attempts: int
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def probe(target: ProbeTarget) -> ProbeResult:
    """Make one request to the target and say whether it is up, and if not, why."""
    started_at = datetime.now(UTC)
    start = time.monotonic()

    def elapsed_ms() -> int:
        return round((time.monotonic() - start) * 1000)

    session = _session(target)
    session.max_redirects = target.max_redirects
    try:
        response = session.request(
            target.method,
            target.url,
            timeout=(target.timeout_seconds, target.timeout_seconds),
            allow_redirects=target.max_redirects > 0,
            stream=True,
            headers={"User-Agent": target.user_agent},
        )
        with response:
            status_code = response.status_code
            # requests' timeouts bound each socket wait; this bounds the whole exchange, so
            # a server trickling its body cannot hold a worker thread past the timeout.
            if not _read_body(response, target, start):
                return ProbeResult(False, started_at, status_code, elapsed_ms(), _timeout_message(target))
    except requests.exceptions.RequestException as exc:
        return ProbeResult(False, started_at, None, elapsed_ms(), classify_error(exc, target))
    finally:
        session.close()

    response_time_ms = elapsed_ms()
    if response_time_ms > target.timeout_seconds * 1000:
        return ProbeResult(False, started_at, status_code, response_time_ms, _timeout_message(target))
    if not any(low <= status_code <= high for low, high in target.expected_status):
        return ProbeResult(False, started_at, status_code, response_time_ms, f"unexpected status {status_code}")
    return ProbeResult(True, started_at, status_code, response_time_ms)


def _session(target: ProbeTarget) -> requests.Session:
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


def _read_body(response: requests.Response, target: ProbeTarget, start: float) -> bool:
    """Read at most max_body_bytes; False when the timeout ran out first."""
    if target.method == "HEAD" or target.max_body_bytes == 0:
        return True
    limit_seconds = target.timeout_seconds
    received = 0
    for chunk in response.iter_content(BODY_CHUNK_BYTES):
        received += len(chunk)
        if time.monotonic() - start > limit_seconds:
            return False
        if received >= target.max_body_bytes:
            break
    return True


def _timeout_message(target: ProbeTarget) -> str:
    return f"timeout: no complete response within {target.timeout_seconds:g} s"


def classify_error(exc: requests.exceptions.RequestException, target: ProbeTarget) -> str:
    """Turn a requests exception into a short reason starting with its kind."""
    if isinstance(exc, InvalidIPAddress):
        return f"blocked: {exc} is a private or reserved address"
    if isinstance(exc, requests.exceptions.Timeout):
        return _timeout_message(target)
    if isinstance(exc, requests.exceptions.TooManyRedirects):
        return f"too many redirects: more than {target.max_redirects}"
    if isinstance(exc, requests.exceptions.SSLError):
        return f"tls: {_innermost(exc)}"
    if isinstance(exc, requests.exceptions.ConnectionError):
        causes = list(_causes(exc))
        if any(isinstance(c, (urllib3.exceptions.NameResolutionError, socket.gaierror)) for c in causes):
            return "dns: the host name could not be resolved"
        if any(isinstance(c, ConnectionRefusedError) for c in causes) or "Connection refused" in str(exc):
            return "refused: the connection was refused"
        if any(isinstance(c, OSError) and c.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH) for c in causes):
            return "unreachable: no route to the host"
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
