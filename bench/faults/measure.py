"""What a fault did, read back from the database and the target's hit log once the run is over.

Every monitor has one region, so a monitor is a (monitor, region) pair. Definitions (also
in docs/reliability.md):

- expected slots: per monitor, one per interval from its creation to the moment beat was
  stopped; ticks are the ticks written.
- lost slots: beat's schedule follows its sends (a late send moves later slots with it), so
  slots are not counted on a fixed grid. Between two consecutive ticks of a monitor (and
  from its last tick to the end) that are g seconds apart, round(g / interval) - 1 slots
  went unchecked: a gap of 1.4 intervals is a late slot, one of 1.5 intervals or more
  hides a slot. "unflagged" is the part of those for which the watchdog recorded no gap.
- duplicate ticks: rows sharing (monitor, region, slot), which the unique constraint
  forbids, plus consecutive ticks of a monitor less than half an interval apart (two slots
  stamped for one due time).
- extra hits: hits on the target beyond the attempts the monitor's ticks record (a check
  run again after a worker died mid-check, or a check whose tick was never written).
- recovery: from the end of the fault until every monitor has had an on-time tick (checked
  within ON_TIME_SECONDS of its slot) begun after the fault ended; it includes waiting for
  each monitor's next slot, up to one interval. "first" is the same for the first monitor.
- false down: down ticks, incidents and status changes to down or degraded; the target
  never fails, so every one of them is false.
"""

import math
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime

import psycopg

ON_TIME_SECONDS = 5.0


@dataclass
class Outcome:
    expected: int
    ticks: int
    lost: int
    lost_unflagged: int
    duplicate_ticks: int
    extra_hits: int
    longest_gap_seconds: float
    recovery_seconds: float | None
    first_on_time_seconds: float | None
    late_ticks: int
    down_ticks: int
    incidents: int
    down_changes: int
    gaps_recorded: int

    def as_dict(self) -> dict:
        return asdict(self)


def _ts(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def slots_hidden(gap_seconds: float, interval_seconds: float) -> int:
    """Slots a gap of this length between two ticks hides (round half up, minus the one on time)."""
    return max(0, math.floor(gap_seconds / interval_seconds + 0.5) - 1)


def read_back(database_url: str):
    with psycopg.connect(database_url) as conn:
        ticks = conn.execute(
            "SELECT monitor_id, scheduled_at, checked_at, status, attempts FROM checks_tick ORDER BY scheduled_at"
        ).fetchall()
        gaps = conn.execute("SELECT monitor_id, starts_at, ends_at, slots_missed FROM checks_gap").fetchall()
        monitors = dict(conn.execute("SELECT id, checking_since FROM monitors_monitor").fetchall())
        same_slot = conn.execute(
            "SELECT count(*) FROM (SELECT 1 FROM checks_tick GROUP BY monitor_id, region_id, scheduled_at"
            " HAVING count(*) > 1) AS doubled"
        ).fetchone()[0]
        incidents = conn.execute("SELECT count(*) FROM checks_incident").fetchone()[0]
        down_changes = conn.execute(
            "SELECT count(*) FROM checks_statuschange WHERE to_status IN ('down', 'degraded')"
        ).fetchone()[0]
    return ticks, gaps, monitors, same_slot, incidents, down_changes


def measure(
    database_url: str,
    interval_seconds: int,
    monitor_keys: dict[int, int],
    hits_per_key: dict[int, int],
    fault_end: float,
    window_end: float,
) -> Outcome:
    ticks, gaps, monitors, same_slot, incidents, down_changes = read_back(database_url)
    by_monitor: dict[int, list] = defaultdict(list)
    for monitor_id, scheduled_at, checked_at, status, attempts in ticks:
        by_monitor[monitor_id].append((scheduled_at.timestamp(), checked_at.timestamp(), status, attempts))
    gap_starts: dict[int, list[float]] = defaultdict(list)
    for monitor_id, starts_at, _ends_at, _slots in gaps:
        gap_starts[monitor_id].append(starts_at.timestamp())

    expected = lost = unflagged = doubled = extra_hits = late = 0
    longest = 0.0
    recovery: float | None = 0.0
    first_on_time: float | None = None
    for monitor_id, since in monitors.items():
        start = since.timestamp()
        expected += math.floor((window_end - start) / interval_seconds) + 1
        rows = by_monitor.get(monitor_id, [])
        stamps = [slot for slot, *_ in rows if slot <= window_end]
        points = [*stamps, window_end] if stamps else [start, window_end]
        for earlier, later in zip(points, points[1:], strict=False):
            hidden = slots_hidden(later - earlier, interval_seconds)
            lost += hidden
            if hidden and not any(earlier < s <= later + 1 for s in gap_starts[monitor_id]):
                unflagged += hidden
        for earlier, later in zip(stamps, stamps[1:], strict=False):
            longest = max(longest, later - earlier)
            if later - earlier < interval_seconds / 2:
                doubled += 1
        late += sum(1 for slot, checked, *_ in rows if checked - slot > ON_TIME_SECONDS)
        attempts = sum(row[3] for row in rows)
        extra_hits += max(0, hits_per_key.get(monitor_keys.get(monitor_id, -1), 0) - attempts)
        on_time = [
            checked for slot, checked, *_ in rows if checked >= fault_end - 0.5 and checked - slot <= ON_TIME_SECONDS
        ]
        if on_time:
            first_on_time = min(first_on_time or math.inf, min(on_time) - fault_end)
        if recovery is not None:
            recovery = max(recovery, min(on_time) - fault_end) if on_time else None

    return Outcome(
        expected=expected,
        ticks=len(ticks),
        lost=lost,
        lost_unflagged=unflagged,
        duplicate_ticks=same_slot + doubled,
        extra_hits=extra_hits,
        longest_gap_seconds=round(longest, 1),
        recovery_seconds=None if recovery is None else round(max(recovery, 0.0), 1),
        first_on_time_seconds=None if first_on_time is None else round(max(first_on_time, 0.0), 1),
        late_ticks=late,
        down_ticks=sum(1 for row in ticks if row[3] == "down"),
        incidents=incidents,
        down_changes=down_changes,
        gaps_recorded=len(gaps),
    )
