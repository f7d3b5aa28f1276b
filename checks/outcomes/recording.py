"""Recording what checks found: a batch of slot outcomes becomes ticks, their rollups, the
monitors' new statuses (with incidents and alerts) and certificate dates, in one
transaction and a handful of statements, whatever the batch's size.

Fed by the outcome writer (checks/outcomes/writer.py) from the spool; `record_tick` records one.
"""

import logging
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from checks.models import Tick
from checks.outcomes import rollup_counts
from checks.outcomes.batch_rows import rows_json
from checks.outcomes.spool import SlotOutcome
from checks.state import impairments
from checks.state.certificates import record_certificate, warn_of_expiry
from checks.state.dependencies import waiting_children
from checks.state.transitions import apply_ticks
from monitors.maintenance import windows_of
from monitors.models import Monitor, Region
from probe.target import CheckOutcome

logger = logging.getLogger(__name__)

# One statement for the batch. A slot that has its tick already (a redelivered check, or
# an outcome written before a writer died unacknowledged) is skipped by the unique slot
# constraint and not returned, so nothing below counts it twice.
_INSERT_TICKS_SQL = """
INSERT INTO checks_tick (
    monitor_id, region_id, scheduled_at, status, status_code, response_time_ms, error,
    attempts, checked_at, in_maintenance, tls_expires_at
)
SELECT
    monitor_id, region_id, scheduled_at, status, status_code, response_time_ms, error,
    attempts, checked_at, in_maintenance, tls_expires_at
FROM json_to_recordset(%s::json) AS batch(
    monitor_id bigint, region_id bigint, scheduled_at timestamptz, status varchar, status_code integer,
    response_time_ms integer, error varchar, attempts integer, checked_at timestamptz,
    in_maintenance boolean, tls_expires_at timestamptz
)
ON CONFLICT (monitor_id, region_id, scheduled_at) DO NOTHING
RETURNING id, monitor_id, region_id, scheduled_at
"""

# What deciding a monitor's status and certificate reads of it. Only these are loaded with
# the lock (a whole monitor, its URL, headers and body, is most of a batch's reading); any
# other field an alert needs is read when the alert is written.
DECIDING_FIELDS = (
    "id",
    "is_active",
    "status",
    "status_changed_at",
    "last_checked_at",
    "interval_seconds",
    "quorum",
    "tls_expires_at",
    "tls_expiry_warning_days",
    "tls_expiry_warned_for",
    # Confirmations and dependencies (checks/state/confirmations.py, dependencies.py).
    "failures_before_down",
    "successes_before_up",
    "failure_streak",
    "success_streak",
    "streak_slot",
    "held_since",
    # A parent's hold bound.
    "timeout_seconds",
    "retries",
    "retry_interval_seconds",
)

_region_ids: dict[str, int] = {}


def region_id(slug: str) -> int | None:
    """A region's id by slug; regions are few and fixed, so read once per process."""
    if slug not in _region_ids:
        _region_ids.update(Region.objects.values_list("slug", "pk"))
    return _region_ids.get(slug)


@transaction.atomic
def record_outcomes(slots: list[SlotOutcome]) -> list[Tick]:
    """Write the slots' ticks and everything that follows from them; return the ticks
    written (not those whose slot had one already, nor those of deleted monitors, nor
    failures of a region that could not reach its canaries)."""
    # The monitors are locked first, in id order: writers deciding the same monitors take
    # turns and never deadlock. FOR NO KEY UPDATE does not block the ticks' foreign keys.
    # With them, their held or unreachable children: their parents' results decide them.
    # A region that cannot reach its canaries: its failed checks are its own outage, not
    # ticks, and none of its results moves a verdict (checks/state/impairments.py).
    rounds = impairments.current_rounds()
    impairments.record_rounds(rounds)
    impaired = impairments.impaired_regions(rounds)
    for slot in slots:
        if slot.region_impaired:  # also when the round is not in Redis (published while it was away)
            since = impaired.get(slot.region_slug, slot.outcome.started_at)
            impaired[slot.region_slug] = min(since, slot.outcome.started_at)
    slots = [slot for slot in slots if not slot.region_impaired]
    batch_ids = {slot.monitor_id for slot in slots}
    monitor_ids = sorted(batch_ids | set(waiting_children(batch_ids)))
    locked = Monitor.objects.select_for_update(no_key=True).filter(pk__any=monitor_ids).order_by("pk")
    monitors = {monitor.pk: monitor for monitor in locked.only(*DECIDING_FIELDS)}
    unique: dict[tuple, SlotOutcome] = {}
    for slot in slots:
        if slot.monitor_id not in monitors:
            continue  # deleted since its check was sent: nothing to record it against
        if region_id(slot.region_slug) is None:
            logger.warning("dropping an outcome for unknown region %r", slot.region_slug)
            continue
        unique.setdefault((slot.monitor_id, slot.region_slug, slot.scheduled_at), slot)
    if not unique:
        return []
    windows = windows_of(monitors, min(slot.scheduled_at for slot in unique.values()))
    rows = [_tick_row(slot, windows.get(slot.monitor_id, ())) for slot in unique.values()]
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_TICKS_SQL, [rows_json(rows)])
        inserted = {(monitor_id, region, at): pk for pk, monitor_id, region, at in cursor.fetchall()}
    ticks = []
    for row in rows:
        pk = inserted.get((row["monitor_id"], row["region_id"], row["scheduled_at"]))
        if pk is not None:
            ticks.append(Tick(pk=pk, **row))
    rollup_counts.count_ticks(ticks)
    apply_ticks(monitors, ticks, impaired)
    now = timezone.now()
    for tick in sorted(ticks, key=lambda t: t.checked_at):
        monitor = monitors[tick.monitor_id]
        record_certificate(monitor, tick)
        warn_of_expiry(monitor, now)
    return ticks


def _tick_row(slot: SlotOutcome, windows) -> dict:
    result = slot.outcome.result
    return {
        "monitor_id": slot.monitor_id,
        "region_id": region_id(slot.region_slug),
        "scheduled_at": slot.scheduled_at,
        "status": Tick.Status.UP if result.is_up else Tick.Status.DOWN,
        "status_code": result.status_code,
        "response_time_ms": result.response_time_ms,
        "error": result.error[:500],
        "attempts": slot.outcome.attempts,
        "checked_at": slot.outcome.started_at,
        "in_maintenance": any(window.covers(slot.scheduled_at) for window in windows),
        "tls_expires_at": result.tls_expires_at,
    }


def record_tick(monitor: Monitor, region: Region, scheduled_at: datetime, outcome: CheckOutcome) -> Tick | None:
    """Record one slot's outcome; None if the slot had its tick already."""
    ticks = record_outcomes([SlotOutcome(monitor.pk, region.slug, scheduled_at, outcome)])
    return ticks[0] if ticks else None
