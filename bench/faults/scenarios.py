"""The faults: each injects one failure into a running installation and says when the
fault began and ended (the end is when the broken part is back, or a replacement is)."""

import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from checks.outcomes.spool import GROUP, STREAM_KEY

from .cluster import HOUSEKEEPING, Cluster

POLL_SECONDS = 0.2
# Past the 30 s after which health counts a silent writer gone (WRITER_SEEN_WITHIN_SECONDS
# in checks/figures/health.py), so the scenario shows what an operator would see.
WRITER_DOWN_SECONDS = 35


@dataclass
class Fault:
    started: float
    ended: float
    notes: list[str] = field(default_factory=list)


@dataclass
class Scenario:
    name: str
    description: str
    inject: Callable[[Cluster], Fault]
    # Slow answers from the target keep checks in flight, so the fault lands mid-check.
    target_delay_seconds: float = 0.0
    settings: dict = field(default_factory=dict)


def wait_until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(POLL_SECONDS)
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")


def check_in_flight(cluster: Cluster, region: str) -> None:
    wait_until(lambda: cluster.target.checks_in_flight(region), cluster.settings.interval_seconds * 3, "a check")


def worker_sigkill(cluster: Cluster) -> Fault:
    check_in_flight(cluster, "india")
    in_flight = cluster.target.checks_in_flight("india")
    started = cluster.kill("worker-india")
    # A supervisor starts it again at once, under the same node name.
    cluster.start_worker("india")
    ended = time.time()
    cluster.wait_for_worker("india", "india", since=ended)
    return Fault(started, ended, [f"{in_flight} check(s) in flight when killed"])


def pool_child_killed(cluster: Cluster) -> Fault:
    busy = wait_until(
        lambda: cluster.children_talking_to_target("worker-india"),
        cluster.settings.interval_seconds * 3,
        "a pool child with a check in flight",
    )
    os.kill(busy[0], signal.SIGKILL)
    at = time.time()
    return Fault(at, at, [f"killed pool child {busy[0]} mid-check"])


def sigterm_rolling_restart(cluster: Cluster) -> Fault:
    started = time.time()
    notes = []
    for region in ("india", "usa"):
        cluster.start_worker(region, f"{region}-2")
        cluster.wait_for_worker(region, f"{region}-2")
        check_in_flight(cluster, region)
        notes.append(f"{region}: {cluster.target.checks_in_flight(region)} in flight at SIGTERM")
        cluster.stop(f"worker-{region}")
    return Fault(started, time.time(), notes)


def valkey_killed(cluster: Cluster) -> Fault:
    check_in_flight(cluster, "india")
    in_flight = cluster.target.checks_in_flight("india") + cluster.target.checks_in_flight("usa")
    queued = sum(cluster.redis().llen(region) for region in ("india", "usa"))
    started = time.time()
    cluster.valkey.server.terminate()  # SIGKILL
    time.sleep(2)
    cluster.restart_valkey()
    return Fault(started, time.time(), [f"{in_flight} check(s) in flight, {queued} queued when killed"])


def valkey_down(seconds: int) -> Callable[[Cluster], Fault]:
    def inject(cluster: Cluster) -> Fault:
        started = time.time()
        cluster.valkey.stop()
        time.sleep(seconds)
        cluster.restart_valkey()
        return Fault(started, time.time())

    return inject


def postgres_down(seconds: int) -> Callable[[Cluster], Fault]:
    def inject(cluster: Cluster) -> Fault:
        started = time.time()
        cluster.postgres.stop()
        time.sleep(seconds)
        cluster.postgres.start()
        return Fault(started, time.time())

    return inject


def writer_sigkill(cluster: Cluster) -> Fault:
    """The housekeeping worker, the only one writing outcomes, is SIGKILLed and stays down
    for longer than health takes to count a writer gone: the region workers go on checking
    and their outcomes wait in the spool, some perhaps read by the dead writer and never
    acknowledged."""
    spool = cluster.redis()
    pending = spool.xpending(STREAM_KEY, GROUP)["pending"]
    started = cluster.kill(f"worker-{HOUSEKEEPING}")
    time.sleep(WRITER_DOWN_SECONDS)
    report = cluster.health()
    notes = [
        f"{pending} outcome(s) read and unacknowledged when killed",
        f"health before the restart: outcomes_waiting={report.get('outcomes_waiting')}"
        f" outcome_writers={report.get('outcome_writers')} writing_stalled={report.get('writing_stalled')}",
    ]
    cluster.start_worker(HOUSEKEEPING)
    return Fault(started, time.time(), notes)


def beat_sigkill(cluster: Cluster) -> Fault:
    started = cluster.kill("beat")
    cluster.start_beat("beat-2")
    return Fault(started, time.time(), ["replacement beat waits for the dead one's lease to lapse"])


def two_beats(cluster: Cluster) -> Fault:
    started = time.time()
    cluster.start_beat("beat-2")
    time.sleep(cluster.settings.interval_seconds * 2)
    # The active one stops cleanly; the standby takes over.
    ended = cluster.stop("beat")
    return Fault(started, ended, [f"two beats ran for {ended - started:.0f} s, then the first was stopped"])


def region_without_worker(cluster: Cluster) -> Fault:
    started = cluster.stop("worker-usa")
    s = cluster.settings
    # Long enough for the watchdog to flag the region: two intervals, its grace, one round.
    time.sleep(2 * s.interval_seconds + 30 + 2 * s.watchdog_interval_seconds)
    usa = cluster.health().get("regions", {}).get("usa", {})
    notes = [
        f"health before a worker came: workers={usa.get('workers')} stalled={usa.get('stalled')}"
        f" late_monitors={usa.get('late_monitors')} queue_depth={usa.get('queue_depth')}"
    ]
    cluster.start_worker("usa", "usa-2")
    return Fault(started, time.time(), notes)


SCENARIOS = [
    Scenario("worker-sigkill", "region worker SIGKILLed mid-check, restarted under its name", worker_sigkill, 3.0),
    Scenario(
        "pool-child-killed",
        "prefork pool child SIGKILLed mid-check (WORKER_POOL=prefork)",
        pool_child_killed,
        3.0,
        {"pool": "prefork", "concurrency": 4},
    ),
    Scenario("sigterm-rolling-restart", "new worker per region, then SIGTERM the old", sigterm_rolling_restart, 3.0),
    Scenario("valkey-killed", "Valkey SIGKILLed mid-check, restarted 2 s later (AOF everysec)", valkey_killed, 3.0),
    Scenario(
        "valkey-killed-no-aof",
        "Valkey SIGKILLed mid-check, restarted 2 s later, without AOF",
        valkey_killed,
        3.0,
        {"appendonly": False},
    ),
    Scenario("valkey-down-30s", "Valkey stopped for 30 s", valkey_down(30)),
    Scenario("postgres-down-30s", "PostgreSQL stopped for 30 s", postgres_down(30)),
    Scenario("postgres-down-6min", "PostgreSQL stopped for 6 min", postgres_down(360)),
    Scenario("writer-sigkill", "housekeeping worker (the outcome writer) SIGKILLed for 35 s", writer_sigkill),
    Scenario("beat-sigkill", "beat SIGKILLed, replacement started", beat_sigkill),
    Scenario("two-beats", "a second beat started beside the first", two_beats),
    Scenario("region-no-worker", "usa's worker stopped until flagged, then one started", region_without_worker),
]
QUICK = ["worker-sigkill", "beat-sigkill", "valkey-killed"]
