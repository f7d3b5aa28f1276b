"""The watchdog: finds the monitor-regions whose checks stopped arriving and records the
missed slots as gaps, so an outage of our own (beat, a region's workers, the broker) is
visible as such instead of passing for uptime."""

import logging
import math
from datetime import datetime, timedelta
from typing import NamedTuple

from django.db import connection, transaction
from django.utils import timezone

from checks.models import Gap, Tick
from monitors.models import Monitor, Region

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

TICK_TABLE, GAP_TABLE = Tick._meta.db_table, Gap._meta.db_table
MONITOR_TABLE, REGION_TABLE = Monitor._meta.db_table, Region._meta.db_table
PAIR_TABLE = Monitor.regions.through._meta.db_table


class OpenGap(NamedTuple):
    id: int
    starts_at: datetime
    slots_missed: int


class Closing(NamedTuple):
    gap_id: int
    # The end if no check came after the gap's start, or if none is looked for.
    until: datetime
    look_for_check: bool


def missed_slot_count(first_expected: datetime, interval_seconds: int, now: datetime) -> int:
    """How many slots from `first_expected` on, one interval apart, are over by `now`."""
    over_for = (now - first_expected).total_seconds() - interval_seconds - GRACE_SECONDS
    return 0 if over_for < 0 else int(over_for // interval_seconds) + 1


def _pairs_to_decide(now: datetime, open_gaps: dict[tuple[int, int], OpenGap]):
    """(monitor id, region id, interval, checking since, created at, latest slot) for every
    region of every active monitor that has a slot over and unchecked by `now`, or one of
    the `open_gaps` (read already, so passed in rather than read again): the rest (at
    25,000 monitors, nearly all of them at every run) need nothing, so PostgreSQL leaves
    them out rather than this process reading each. The latest slot is a probe of the
    unique index of each day partition from yesterday on; the rule is `missed_slot_count`'s, in SQL.
    """
    sql = f"""
        SELECT pair.monitor_id, pair.region_id, monitor.interval_seconds, monitor.checking_since,
               monitor.created_at, latest.scheduled_at
        FROM {PAIR_TABLE} pair
        JOIN {MONITOR_TABLE} monitor ON monitor.id = pair.monitor_id
        LEFT JOIN LATERAL (
            -- Ticks are in day partitions: the latest is looked for in the last day's and
            -- later ones first, and only where none is there in all of them (each
            -- partition's index is probed: with 90 days kept, 90 probes instead of a few).
            -- OFFSET 0 keeps it a subquery, evaluated once, not copied into the CASE below.
            SELECT COALESCE(
                (SELECT max(scheduled_at) FROM {TICK_TABLE} tick
                 WHERE tick.monitor_id = pair.monitor_id AND tick.region_id = pair.region_id
                   AND tick.scheduled_at >= %(recent)s),
                (SELECT max(scheduled_at) FROM {TICK_TABLE} tick
                 WHERE tick.monitor_id = pair.monitor_id AND tick.region_id = pair.region_id)
            ) AS scheduled_at
            OFFSET 0
        ) AS latest ON true
        WHERE monitor.is_active AND (
            CASE WHEN latest.scheduled_at >= COALESCE(monitor.checking_since, monitor.created_at)
                 THEN latest.scheduled_at + make_interval(secs => monitor.interval_seconds)
                 ELSE COALESCE(monitor.checking_since, monitor.created_at)
            END <= %(now)s - make_interval(secs => monitor.interval_seconds + %(grace)s)
            OR (pair.monitor_id, pair.region_id) IN (
                SELECT * FROM unnest(%(gap_monitors)s::bigint[], %(gap_regions)s::bigint[])
            )
        )
    """  # noqa: S608 - table names from the models, values as parameters
    gap_monitors, gap_regions = [list(ids) for ids in zip(*open_gaps, strict=True)] or [[], []]
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "now": now,
                "recent": now - timedelta(days=1),
                "grace": GRACE_SECONDS,
                "gap_monitors": gap_monitors,
                "gap_regions": gap_regions,
            },
        )
        return cursor.fetchall()


@transaction.atomic
def watch(now: datetime | None = None) -> dict:
    """Open, extend and close gaps, and refresh each monitor's late regions. Returns counts.

    Runs under a transaction-scoped advisory lock: a second watchdog started at the same
    time does nothing rather than opening the same gaps twice.

    The decisions are made here, per monitor-region; the writes are a few statements for
    all of them, however many gaps open, grow or close (when a region's workers or beat
    come back, every monitor-region there ends its gap in the same run).
    """
    now = now or timezone.now()
    if not _lock():
        return {"skipped": True}
    open_gaps = _open_gaps()
    closing: list[Closing] = []
    opening: list[Gap] = []
    recounts: list[tuple[int, int]] = []
    for monitor_id, region_id, interval, checking_since, created_at, latest in _pairs_to_decide(now, open_gaps):
        since = checking_since or created_at
        # With nothing checked since the schedule began, its first check was due at once.
        checked = latest is not None and latest >= since
        first_expected = latest + timedelta(seconds=interval) if checked else since
        missed = missed_slot_count(first_expected, interval, now)
        gap = open_gaps.pop((monitor_id, region_id), None)
        if gap is not None and (gap.starts_at != first_expected or not missed):
            # Checks came back (or the schedule was reset) after the gap began: it ends at
            # the first of them.
            closing.append(Closing(gap.id, until=since, look_for_check=True))
            gap = None
        if missed and gap is None:
            opening.append(
                Gap(
                    monitor_id=monitor_id,
                    region_id=region_id,
                    starts_at=first_expected,
                    slots_missed=missed,
                    detected_at=now,
                )
            )
        elif missed and gap is not None and gap.slots_missed != missed:
            recounts.append((gap.id, missed))
    # Gaps of monitors paused or moved out of a region since: nothing is expected there.
    closing += [Closing(gap.id, until=now, look_for_check=False) for gap in open_gaps.values()]
    # Closed first: a region's new gap may follow the one closed here, and only one is open.
    _close(closing, now)
    Gap.objects.bulk_create(opening)
    _recount(recounts)
    holes = _record_holes(now)
    late = _refresh_late_regions()
    opened, closed = len(opening), len(closing)
    if opened or closed or holes:
        logger.warning(
            "watchdog: %s gaps opened, %s closed, %s found already over, %s monitor-regions late",
            opened,
            closed,
            holes,
            late,
        )
    return {"opened": opened, "closed": closed, "holes": holes, "late": late}


def _lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [WATCHDOG_LOCK_ID])
        return cursor.fetchone()[0]


def _open_gaps() -> dict[tuple[int, int], OpenGap]:
    """The open gaps by (monitor id, region id)."""
    rows = Gap.objects.filter(ends_at__isnull=True).values_list(
        "monitor_id", "region_id", "id", "starts_at", "slots_missed"
    )
    return {
        (monitor_id, region_id): OpenGap(gap_id, starts_at, slots_missed)
        for monitor_id, region_id, gap_id, starts_at, slots_missed in rows
    }


def _close(closing: list[Closing], now: datetime) -> None:
    """End the gaps, each at the first slot checked after its start (or, when there is
    none or none is looked for, at its `until`), never after now nor before its start; its
    final count is every slot between its start and its end that is over."""
    if not closing:
        return
    gap_ids, untils, look_for_check = (list(column) for column in zip(*closing, strict=True))
    # The first slot after a gap's start is one probe of the tick table's unique index
    # (monitor, region, scheduled_at); the CASE makes it only for the gaps that need it.
    sql = f"""
        WITH ending AS (
            SELECT gap.id, gap.starts_at, gap.slots_missed, monitor.interval_seconds,
                   GREATEST(LEAST(COALESCE(
                       CASE WHEN closing.look_for_check THEN (
                           SELECT tick.scheduled_at FROM {TICK_TABLE} tick
                           WHERE tick.monitor_id = gap.monitor_id AND tick.region_id = gap.region_id
                             AND tick.scheduled_at > gap.starts_at
                           ORDER BY tick.scheduled_at LIMIT 1
                       ) END,
                       closing.until), %(now)s), gap.starts_at) AS ends_at
            FROM unnest(%(gap_ids)s::bigint[], %(untils)s::timestamptz[], %(look_for_check)s::boolean[])
                 AS closing (gap_id, until, look_for_check)
            JOIN {GAP_TABLE} gap ON gap.id = closing.gap_id
            JOIN {MONITOR_TABLE} monitor ON monitor.id = gap.monitor_id
        )
        UPDATE {GAP_TABLE} gap
        SET ends_at = ending.ends_at,
            slots_missed = GREATEST(
                ending.slots_missed,
                ceil(extract(epoch FROM ending.ends_at - ending.starts_at) / ending.interval_seconds)
            )::integer
        FROM ending WHERE gap.id = ending.id
    """  # noqa: S608 - table names from the models, values as parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, {"now": now, "gap_ids": gap_ids, "untils": untils, "look_for_check": look_for_check})


def _recount(recounts: list[tuple[int, int]]) -> None:
    """Set the open gaps' new counts of missed slots."""
    if not recounts:
        return
    gap_ids, counts = (list(column) for column in zip(*recounts, strict=True))
    sql = f"""
        UPDATE {GAP_TABLE} gap SET slots_missed = recount.slots_missed
        FROM unnest(%s::bigint[], %s::integer[]) AS recount (gap_id, slots_missed)
        WHERE gap.id = recount.gap_id
    """  # noqa: S608 - table names from the models, values as parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [gap_ids, counts])


def _record_holes(now: datetime) -> int:
    """Record as closed gaps the missed slots between two recent ticks that no gap covers.

    An outage shorter than about two intervals (a broker or database restart, a check lost
    with its worker) ends before the open-gap rule above can see it, and the tick after it
    would otherwise hide it.
    """
    # The tick before each recent one is the recent one before it or, for the oldest, the
    # latest before it however old (one probe of the unique slot index), so a hole longer
    # than the look-back is found too: a database outage leaves no watchdog run to see it
    # open. A hole that a gap starts in was seen while it was open.
    sql = f"""
        SELECT monitor_id, region_id, previous, scheduled_at, interval_seconds FROM (
            SELECT recent.*,
                   COALESCE(
                       lag(scheduled_at) OVER (PARTITION BY monitor_id, region_id ORDER BY scheduled_at),
                       -- In the day partitions from yesterday on first (as _pairs_to_decide).
                       (SELECT max(p.scheduled_at) FROM {TICK_TABLE} p
                        WHERE p.monitor_id = recent.monitor_id AND p.region_id = recent.region_id
                          AND p.scheduled_at < recent.scheduled_at AND p.scheduled_at >= %s),
                       (SELECT max(p.scheduled_at) FROM {TICK_TABLE} p
                        WHERE p.monitor_id = recent.monitor_id AND p.region_id = recent.region_id
                          AND p.scheduled_at < recent.scheduled_at)
                   ) AS previous
            FROM (
                SELECT t.monitor_id, t.region_id, t.scheduled_at, m.interval_seconds,
                       COALESCE(m.checking_since, m.created_at) AS since
                FROM {TICK_TABLE} t JOIN {MONITOR_TABLE} m ON m.id = t.monitor_id
                WHERE m.is_active
                  AND t.scheduled_at > %s - make_interval(secs => m.interval_seconds * %s + %s)
            ) AS recent
        ) AS paired
        WHERE previous >= since
          AND scheduled_at - previous >= make_interval(secs => interval_seconds * %s)
          AND NOT EXISTS (
              SELECT 1 FROM {GAP_TABLE} g
              WHERE g.monitor_id = paired.monitor_id AND g.region_id = paired.region_id
                AND g.starts_at > paired.previous AND g.starts_at <= paired.scheduled_at
          )
    """  # noqa: S608 - table names from the models, values as parameters
    with connection.cursor() as cursor:
        cursor.execute(
            sql, [now - timedelta(days=1), now, HOLE_LOOKBACK_INTERVALS, HOLE_LOOKBACK_SECONDS, HOLE_INTERVALS]
        )
        holes = cursor.fetchall()
    Gap.objects.bulk_create(
        Gap(
            monitor_id=monitor_id,
            region_id=region_id,
            starts_at=previous + timedelta(seconds=interval),
            ends_at=following,
            slots_missed=math.floor((following - previous).total_seconds() / interval + 0.5) - 1,
            detected_at=now,
        )
        for monitor_id, region_id, previous, following, interval in holes
    )
    return len(holes)


def _refresh_late_regions() -> int:
    """Set each monitor's late regions (its open gaps' regions, sorted) where they changed;
    returns how many monitor-regions are late."""
    # Sorted by code point, as Python sorts, so an unchanged list compares equal and is
    # not written again.
    sql = f"""
        WITH late AS (
            SELECT gap.monitor_id, jsonb_agg(region.slug ORDER BY region.slug COLLATE "C") AS regions
            FROM {GAP_TABLE} gap JOIN {REGION_TABLE} region ON region.id = gap.region_id
            WHERE gap.ends_at IS NULL
            GROUP BY gap.monitor_id
        ), stale AS (
            SELECT id FROM {MONITOR_TABLE} WHERE late_regions <> '[]'::jsonb
        ), wanted AS (
            SELECT COALESCE(late.monitor_id, stale.id) AS monitor_id,
                   COALESCE(late.regions, '[]'::jsonb) AS regions
            FROM late FULL JOIN stale ON stale.id = late.monitor_id
        )
        UPDATE {MONITOR_TABLE} monitor SET late_regions = wanted.regions
        FROM wanted
        WHERE monitor.id = wanted.monitor_id AND monitor.late_regions <> wanted.regions
    """  # noqa: S608 - table names from the models
    with connection.cursor() as cursor:
        cursor.execute(sql)
    return Gap.objects.filter(ends_at__isnull=True).count()
