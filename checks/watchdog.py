"""The watchdog: finds the monitor-regions whose checks stopped arriving and records the
missed slots as gaps, so an outage of our own (beat, a region's workers, the broker) is
visible as such instead of passing for uptime."""

import logging
import math
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from monitors.models import Monitor

from .models import Gap, Tick

logger = logging.getLogger(__name__)

# A slot is over once its check could no longer be written: the message expires and the
# retries stop one interval after the slot; this much more allows for writing it.
GRACE_SECONDS = 30
# Any number that is the same in every process that runs the watchdog.
WATCHDOG_LOCK_ID = 0x7570_7464  # "uptd"
# Two consecutive ticks this many intervals apart or more have a missed slot between them
# (beat moves later slots along when it sends one late, so less than this is lateness).
HOLE_INTERVALS = 1.5
# How far back each run looks for ticks to compare with the one before them: the tick that
# ends a hole is written at most about two intervals, the grace and a watchdog period
# before the next run (longer only while the database, and so the watchdog, is away).
HOLE_LOOKBACK_INTERVALS = 4
HOLE_LOOKBACK_SECONDS = 300


def missed_slot_count(first_expected: datetime, interval_seconds: int, now: datetime) -> int:
    """How many slots from `first_expected` on, one interval apart, are over by `now`."""
    over_for = (now - first_expected).total_seconds() - interval_seconds - GRACE_SECONDS
    return 0 if over_for < 0 else int(over_for // interval_seconds) + 1


def _pairs_with_latest_slot():
    """(monitor id, region id, interval, checking since, latest slot) for every region of
    every active monitor; the latest slot comes from the tick table's unique index."""
    through = Monitor.regions.through
    latest = Tick.objects.filter(monitor=OuterRef("monitor_id"), region=OuterRef("region_id")).order_by("-scheduled_at")
    return (
        through.objects.filter(monitor__is_active=True)
        .annotate(latest=Subquery(latest.values("scheduled_at")[:1]))
        .values_list(
            "monitor_id",
            "region_id",
            "monitor__interval_seconds",
            "monitor__checking_since",
            "monitor__created_at",
            "latest",
        )
    )


@transaction.atomic
def watch(now: datetime | None = None) -> dict:
    """Open, extend and close gaps, and refresh each monitor's late regions. Returns counts.

    Runs under a transaction-scoped advisory lock: a second watchdog started at the same
    time does nothing rather than opening the same gaps twice.
    """
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [WATCHDOG_LOCK_ID])
        if not cursor.fetchone()[0]:
            return {"skipped": True}
    open_gaps = {
        (gap.monitor_id, gap.region_id): gap
        for gap in Gap.objects.filter(ends_at__isnull=True).select_related("monitor")
    }
    opened = closed = 0
    for monitor_id, region_id, interval, checking_since, created_at, latest in _pairs_with_latest_slot():
        since = checking_since or created_at
        # With nothing checked since the schedule began, its first check was due at once.
        checked = latest is not None and latest >= since
        first_expected = latest + timedelta(seconds=interval) if checked else since
        missed = missed_slot_count(first_expected, interval, now)
        gap = open_gaps.pop((monitor_id, region_id), None)
        if gap is not None and (gap.starts_at != first_expected or not missed):
            # Checks came back (or the schedule was reset) after the gap began: it ends at
            # the first of them.
            _close(gap, _first_slot_after(gap) or since, now)
            closed += 1
            gap = None
        if missed and gap is None:
            Gap.objects.create(
                monitor_id=monitor_id,
                region_id=region_id,
                starts_at=first_expected,
                slots_missed=missed,
                detected_at=now,
            )
            opened += 1
        elif missed and gap.slots_missed != missed:
            Gap.objects.filter(pk=gap.pk).update(slots_missed=missed)
    # Gaps of monitors paused or moved out of a region since: nothing is expected there.
    for gap in open_gaps.values():
        _close(gap, now, now)
        closed += 1
    holes = _record_holes(now)
    late = _refresh_late_regions()
    if opened or closed or holes:
        logger.warning(
            "watchdog: %s gaps opened, %s closed, %s found already over, %s monitor-regions late",
            opened,
            closed,
            holes,
            late,
        )
    return {"opened": opened, "closed": closed, "holes": holes, "late": late}


def _record_holes(now: datetime) -> int:
    """Record as closed gaps the missed slots between two recent ticks that no gap covers.

    An outage shorter than about two intervals (a broker or database restart, a check lost
    with its worker) ends before the open-gap rule above can see it, and the tick after it
    would otherwise hide it.
    """
    # The tick before each recent one is looked up however old it is (the unique slot index
    # makes that one index probe), so a hole longer than the look-back is found too: a
    # database outage leaves no watchdog run to see it open.
    tick_table, monitor_table = Tick._meta.db_table, Monitor._meta.db_table
    sql = f"""
        SELECT monitor_id, region_id, previous, scheduled_at, interval_seconds FROM (
            SELECT t.monitor_id, t.region_id, t.scheduled_at, m.interval_seconds,
                   COALESCE(m.checking_since, m.created_at) AS since,
                   (SELECT max(p.scheduled_at) FROM {tick_table} p
                    WHERE p.monitor_id = t.monitor_id AND p.region_id = t.region_id
                      AND p.scheduled_at < t.scheduled_at) AS previous
            FROM {tick_table} t JOIN {monitor_table} m ON m.id = t.monitor_id
            WHERE m.is_active
              AND t.scheduled_at > %s - make_interval(secs => m.interval_seconds * %s + %s)
        ) AS recent
        WHERE previous >= since
          AND scheduled_at - previous >= make_interval(secs => interval_seconds * %s)
    """  # noqa: S608 - table names from the models, values as parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, HOLE_LOOKBACK_INTERVALS, HOLE_LOOKBACK_SECONDS, HOLE_INTERVALS])
        holes = cursor.fetchall()
    recorded = 0
    for monitor_id, region_id, previous, following, interval in holes:
        if Gap.objects.filter(
            monitor_id=monitor_id, region_id=region_id, starts_at__gt=previous, starts_at__lte=following
        ).exists():
            continue  # seen while it was open
        missed = math.floor((following - previous).total_seconds() / interval + 0.5) - 1
        Gap.objects.create(
            monitor_id=monitor_id,
            region_id=region_id,
            starts_at=previous + timedelta(seconds=interval),
            ends_at=following,
            slots_missed=missed,
            detected_at=now,
        )
        recorded += 1
    return recorded


def _first_slot_after(gap: Gap) -> datetime | None:
    ticks = Tick.objects.filter(monitor_id=gap.monitor_id, region_id=gap.region_id, scheduled_at__gt=gap.starts_at)
    return ticks.order_by("scheduled_at").values_list("scheduled_at", flat=True).first()


def _close(gap: Gap, ends_at: datetime, now: datetime) -> None:
    """End the gap; its final count is every slot between its start and its end that is over."""
    ends_at = max(min(ends_at, now), gap.starts_at)
    slots = math.ceil((ends_at - gap.starts_at).total_seconds() / gap.monitor.interval_seconds)
    Gap.objects.filter(pk=gap.pk).update(ends_at=ends_at, slots_missed=max(gap.slots_missed, slots))


def _refresh_late_regions() -> int:
    late: dict[int, list[str]] = {}
    for monitor_id, slug in Gap.objects.filter(ends_at__isnull=True).values_list("monitor_id", "region__slug"):
        late.setdefault(monitor_id, []).append(slug)
    stored = dict(Monitor.objects.exclude(late_regions=[]).values_list("id", "late_regions"))
    for monitor_id in set(stored) | set(late):
        regions = sorted(late.get(monitor_id, []))
        if stored.get(monitor_id, []) != regions:
            Monitor.objects.filter(pk=monitor_id).update(late_regions=regions)
    return sum(len(regions) for regions in late.values())
