"""The scripted site: each scenario is a path whose answers follow a timeline, per region
(read from the check's User-Agent, "... region/<slug>"), and every request is logged."""

import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

from bench.servers import BackgroundServer

REGION_IN_AGENT = re.compile(r"region/([a-z0-9-]+)")


@dataclass(frozen=True)
class Outage:
    """Failing answers (500) from `start` to `end`, seconds after the script starts; for
    one region only, or for all."""

    start: float
    end: float
    region: str | None = None

    def covers(self, elapsed: float, region: str) -> bool:
        return self.start <= elapsed < self.end and self.region in (None, region)


@dataclass(frozen=True)
class Flapping:
    """From `start` to `end`, every other check of each region fails (all its attempts): a
    region's request more than `gap` seconds after its last check began starts its next
    check. (Regions' checks of one slot need not arrive together, so each region keeps its
    own count.)"""

    start: float
    end: float
    gap: float


@dataclass
class Scenario:
    name: str
    description: str
    outages: tuple[Outage, ...] = ()
    # Single failed requests: the first request at or after each of these times fails.
    blips: tuple[float, ...] = ()
    delay_seconds: float = 0.0
    # Whether the site was really down (in every region) at some point: an incident expected.
    real_outages: int = 0
    flapping: Flapping | None = None
    # The monitor's settings beyond the common ones: its regions, its parent scenario, its
    # confirmations.
    regions: tuple[str, ...] = ("india", "usa")
    parent: str | None = None
    failures_before_down: int = 1
    # A child behind a parent that is down: expected `unreachable`, with no incident of its own.
    expect_unreachable: bool = False
    # With flapping, an incident per failing check (as without confirmations) or none.
    incident_per_failing_check: bool = False


@dataclass(frozen=True)
class Request:
    scenario: str
    region: str
    at: float
    status: int


class ScriptedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        server: ScriptedTarget = self.server  # type: ignore[assignment]
        name = self.path.strip("/").split("/")[-1]
        match = REGION_IN_AGENT.search(self.headers.get("User-Agent", ""))
        region = match.group(1) if match else ""
        if server.network_lost(name, region):
            # No answer at all, as when the region's network fails: the connection closes.
            self.close_connection = True
            return
        status, delay = server.answer(name, region)
        if delay:
            time.sleep(delay)
        body = b"ok" if status == 200 else b"scripted failure"
        try:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_HEAD = do_GET


class ScriptedTarget(BackgroundServer):
    def __init__(self, scenarios: list[Scenario], network_losses: tuple[Outage, ...] = ()):
        super().__init__(ScriptedHandler)
        # Regions whose network fails for a while (`Outage.region`): nothing they ask is answered.
        self.network_losses = network_losses
        self.scenarios = {scenario.name: scenario for scenario in scenarios}
        self.started_at: float | None = None  # the script's zero; before it, all is well
        self.requests: list[Request] = []
        self._blips_used: set[tuple[str, float]] = set()
        # Per flapping scenario and region: when its current check began and whether it
        # fails; per scenario, how many checks failed (in any region).
        self._checks: dict[tuple[str, str], tuple[float, bool]] = {}
        self.failed_checks: dict[str, int] = {}
        self._lock = threading.Lock()

    def url(self, scenario: str) -> str:
        return f"http://127.0.0.1:{self.port}/s/{scenario}"

    def network_lost(self, name: str, region: str) -> bool:
        """Whether the region's network is down now (for every path, canaries included)."""
        if self.started_at is None:
            return False
        elapsed = time.time() - self.started_at
        lost = any(loss.covers(elapsed, region) for loss in self.network_losses)
        if lost:
            with self._lock:
                self.requests.append(Request(name, region, time.time(), 0))
        return lost

    def start_script(self) -> float:
        self.started_at = time.time()
        return self.started_at

    def answer(self, name: str, region: str) -> tuple[int, float]:
        scenario = self.scenarios.get(name)
        now = time.time()
        status = 200
        with self._lock:
            if scenario is not None and self.started_at is not None:
                elapsed = now - self.started_at
                if any(outage.covers(elapsed, region) for outage in scenario.outages):
                    status = 500
                for blip in scenario.blips:
                    if elapsed >= blip and (name, blip) not in self._blips_used:
                        self._blips_used.add((name, blip))
                        status = 500
                        break
                flapping = scenario.flapping
                if flapping is not None:
                    began, failing = self._checks.get((name, region), (0.0, False))
                    if now - began > flapping.gap:
                        # A new check: the next of the alternation while the script says so
                        # (a check begun inside it ends as it began, retries included).
                        in_script = flapping.start <= elapsed < flapping.end
                        began, failing = now, in_script and not failing
                        self.failed_checks[name] = self.failed_checks.get(name, 0) + failing
                        self._checks[(name, region)] = (began, failing)
                    if failing:
                        status = 500
            self.requests.append(Request(name, region, now, status))
        return status, scenario.delay_seconds if scenario else 0.0
