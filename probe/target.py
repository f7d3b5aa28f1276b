"""What a check is asked (ProbeTarget) and what it finds (ProbeResult, CheckOutcome)."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

DEFAULT_USER_AGENT = "Uptime/1.0"


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
