"""The check itself: one HTTP request with a timeout, bounded redirects and body, or one TCP
connection, classified, retried as the monitor asks.

Plain Python with no Django inside, so it can be called, tested and benchmarked alone.
A failed check is data (a result with a reason), never an exception.
"""

import sys
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.message import Message
from urllib.parse import urlsplit

import requests
import requests.utils
from requests_hardened.ip_filter import InvalidIPAddress

from probe import tcp
from probe.certificates import CertificateExpiries
from probe.errors import classify_connect_error, classify_error, timeout_message
from probe.guard import guarded_session
from probe.target import CheckOutcome, ProbeResult, ProbeTarget

# requests 2.34 asks isinstance(x, SupportsItems), a runtime-checkable Protocol, eight
# times per request. Python 3.11 works such a check out afresh from the protocol's classes
# each time (3.12 caches it), a noticeable share of a request's CPU. Mapping, which
# requests 2.32 asked instead, gives the same answer for the dicts, headers and cookie jars
# requests passes there (docs/benchmarks.md, "Measured costs behind the code").
if sys.version_info < (3, 12) and hasattr(requests.utils, "_SupportsItems"):
    requests.utils._SupportsItems = Mapping


BODY_CHUNK_BYTES = 16 * 1024


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

    certificates = CertificateExpiries()
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
                error = timeout_message(target)
                return ProbeResult(False, started_at, status_code, elapsed_ms(), error, certificates.soonest)
    except requests.exceptions.RequestException as exc:
        error = classify_error(exc, target)
        return ProbeResult(False, started_at, None, elapsed_ms(), error, certificates.soonest)
    finally:
        session.close()

    response_time_ms = elapsed_ms()
    error = ""
    if response_time_ms > target.timeout_seconds * 1000:
        error = timeout_message(target)
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
        error = classify_connect_error(exc, target)
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
