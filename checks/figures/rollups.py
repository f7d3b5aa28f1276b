"""Rollups: each monitor's ticks counted per region and hour, and per region and day (and
per day, all regions added, for status pages), so uptime and latency over a window read a
few hundred rows instead of every tick.

Counted with the ticks (checks/outcomes/rollup_counts.py), rebuilt from
ticks by `rebuild` (the migration that added them, and `manage.py rebuild_rollups`), read
by checks.figures.stats, pruned on their own retention (checks/outcomes/retention.py).
"""

import math
import operator
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from typing import Any

from django.db import connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import IntegerField, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from checks.models import DailyRollup, HourlyRollup
from checks.outcomes.rollup_counts import BUCKET_BOUNDS_MS, BUCKETS, day_of, hour_of

# How each API window maps onto rollups. Windows are whole hours or days (UTC), the current
# one included: "24h" is this hour and the 23 before it, "7d" this hour and the 167 before,
# "30d" today and the 29 days before, "90d" today and the 89 before. So a window covers
# between its nominal length and one hour (or day) more.
WINDOWS = {
    "24h": (HourlyRollup, timedelta(hours=23)),
    "7d": (HourlyRollup, timedelta(hours=167)),
    "30d": (DailyRollup, timedelta(days=29)),
    "90d": (DailyRollup, timedelta(days=89)),
}


def _bucket_range_ms(bucket: int, max_ms: int) -> tuple[int, int]:
    """The smallest and largest whole millisecond a bucket can hold."""
    low = BUCKET_BOUNDS_MS[bucket - 1] if bucket > 0 else 0
    high = BUCKET_BOUNDS_MS[bucket] - 1 if bucket < len(BUCKET_BOUNDS_MS) else max_ms
    return low, high


# --- rebuilding from ticks -----------------------------------------------------------------

_UP_TIMED = "NOT in_maintenance AND status = 'up' AND response_time_ms IS NOT NULL"

# The f-strings below are built from constants only (bucket bounds, table names), never input.
_REBUILD_HOURLY_SQL = f"""
INSERT INTO checks_hourlyrollup (
    monitor_id, region_id, hour, checks, up, maintenance_checks,
    response_time_sum_ms, response_time_min_ms, response_time_max_ms, response_time_histogram
)
SELECT monitor_id, region_id, date_trunc('hour', scheduled_at, 'UTC'),
    count(*) FILTER (WHERE NOT in_maintenance),
    count(*) FILTER (WHERE NOT in_maintenance AND status = 'up'),
    count(*) FILTER (WHERE in_maintenance),
    coalesce(sum(response_time_ms) FILTER (WHERE {_UP_TIMED}), 0),
    min(response_time_ms) FILTER (WHERE {_UP_TIMED}),
    max(response_time_ms) FILTER (WHERE {_UP_TIMED}),
    ARRAY[{", ".join(f"count(*) FILTER (WHERE {_UP_TIMED} AND bucket = {b})" for b in range(BUCKETS))}]::integer[]
FROM (
    SELECT *, width_bucket(response_time_ms, ARRAY{BUCKET_BOUNDS_MS}) AS bucket
    FROM checks_tick WHERE scheduled_at >= %(since)s
) AS tick
GROUP BY 1, 2, 3
"""  # noqa: S608


def _histogram_sum_sql(column: str = "response_time_histogram") -> str:
    """Element-wise sum of the histograms of a group of rollup rows."""
    return f"ARRAY[{', '.join(f'sum({column}[{i}])' for i in range(1, BUCKETS + 1))}]"


_REBUILD_DAILY_SQL = f"""
INSERT INTO checks_dailyrollup (
    monitor_id, region_id, day, checks, up, maintenance_checks,
    response_time_sum_ms, response_time_min_ms, response_time_max_ms, response_time_histogram
)
SELECT monitor_id, region_id, (hour AT TIME ZONE 'UTC')::date,
    sum(checks), sum(up), sum(maintenance_checks), sum(response_time_sum_ms),
    min(response_time_min_ms), max(response_time_max_ms), {_histogram_sum_sql()}::integer[]
FROM checks_hourlyrollup WHERE hour >= %(since)s
GROUP BY 1, 2, 3
"""  # noqa: S608


# From the daily rows just rebuilt: the same sums the writer adds (rollup_counts).
_REBUILD_DAY_TOTALS_SQL = """
INSERT INTO checks_daytotal (monitor_id, day, checks, up, maintenance_checks)
SELECT monitor_id, day, sum(checks), sum(up), sum(maintenance_checks)
FROM checks_dailyrollup WHERE day >= %(since)s
GROUP BY 1, 2
"""


def rebuild(since: datetime, using: BaseDatabaseWrapper | None = None) -> dict[str, Any]:
    """Recompute every rollup from `since` (rounded down to a UTC day) on from the ticks.

    Only run it over days whose ticks are all still there (not pruned): the rows it
    writes replace those stored. Tick writes wait meanwhile (a SHARE lock on the tick
    table), so no tick is counted twice or lost between the read and the write.
    """
    db = using or connection
    start = datetime.combine(day_of(since), datetime.min.time(), tzinfo=UTC)
    with transaction.atomic(using=db.alias), db.cursor() as cursor:
        cursor.execute("LOCK TABLE checks_tick IN SHARE MODE")
        cursor.execute("DELETE FROM checks_hourlyrollup WHERE hour >= %s", [start])
        cursor.execute("DELETE FROM checks_dailyrollup WHERE day >= %s", [start.date()])
        cursor.execute(_REBUILD_HOURLY_SQL, {"since": start})
        hourly = cursor.rowcount
        cursor.execute(_REBUILD_DAILY_SQL, {"since": start})
        daily = cursor.rowcount
        # Migration 0007 rebuilds through this function at a schema before the day totals
        # (0010, which then fills them from the daily rows): there is nothing to rebuild.
        cursor.execute("SELECT to_regclass('checks_daytotal') IS NOT NULL")
        day_totals = None
        if cursor.fetchone()[0]:
            cursor.execute("DELETE FROM checks_daytotal WHERE day >= %s", [start.date()])
            cursor.execute(_REBUILD_DAY_TOTALS_SQL, {"since": start.date()})
            day_totals = cursor.rowcount
    return {"since": start, "hourly": hourly, "daily": daily, "day_totals": day_totals}


# --- reading -------------------------------------------------------------------------------


@dataclass
class Figures:
    """Counts over some rollup rows: everything a window's figures are computed from."""

    checks: int = 0
    up: int = 0
    maintenance_checks: int = 0
    response_time_sum_ms: int = 0
    response_time_min_ms: int | None = None
    response_time_max_ms: int | None = None
    histogram: list[int] = field(default_factory=lambda: [0] * BUCKETS)

    @classmethod
    def sum_of(cls, many: Iterable["Figures"]) -> "Figures":
        """All of `many` added up, column by column (a monitor page sums 168 hours of three
        regions several ways); empty ones are skipped."""
        many = [one for one in many if one.checks or one.maintenance_checks]
        lows = [one.response_time_min_ms for one in many if one.response_time_min_ms is not None]
        highs = [one.response_time_max_ms for one in many if one.response_time_max_ms is not None]
        return cls(
            checks=sum(one.checks for one in many),
            up=sum(one.up for one in many),
            maintenance_checks=sum(one.maintenance_checks for one in many),
            response_time_sum_ms=sum(one.response_time_sum_ms for one in many),
            response_time_min_ms=min(lows, default=None),
            response_time_max_ms=max(highs, default=None),
            histogram=_histograms_added([one.histogram for one in many]),
        )

    @property
    def timed(self) -> int:
        return sum(self.histogram)

    @property
    def avg_response_time_ms(self) -> float | None:
        return self.response_time_sum_ms / self.timed if self.timed else None

    def response_time_percentile_ms(self, fraction: float) -> float | None:
        """The percentile as PostgreSQL's percentile_cont would give it over the ticks
        (interpolating between the two values around the rank), each value estimated
        from its bucket: within 10% of the exact figure. Clamped to the smallest and
        largest time seen, so it is exact when all times are equal."""
        return self.response_time_percentiles_ms((fraction,))[0]

    def response_time_percentiles_ms(self, fractions: Sequence[float]) -> list[float | None]:
        """response_time_percentile_ms for each fraction, counting the histogram once."""
        # Counts up to and including each bucket, so a rank's bucket is a bisection away: a
        # monitor page draws hundreds of these (a 7-day chart, 168 periods per region).
        cumulative = list(accumulate(self.histogram))
        count = cumulative[-1] if cumulative else 0
        if not count:
            return [None for _ in fractions]
        found: list[float | None] = []
        for fraction in fractions:
            rank = fraction * (count - 1)
            below = math.floor(rank)
            value = self._nth_ms(below, cumulative)
            if rank > below:
                value += (rank - below) * (self._nth_ms(below + 1, cumulative) - value)
            found.append(value)
        return found

    def _nth_ms(self, n: int, cumulative: list[int]) -> float:
        """The n-th smallest time (from 0), placed evenly within its bucket's range."""
        low_ms, high_ms = self.response_time_min_ms, self.response_time_max_ms
        assert low_ms is not None and high_ms is not None  # set along with any time counted
        if n == 0:
            return float(low_ms)
        if n == cumulative[-1] - 1:
            return float(high_ms)
        bucket = bisect_right(cumulative, n)
        if bucket == len(cumulative):
            raise ValueError(f"no time number {n} among {cumulative[-1]}")
        seen = cumulative[bucket - 1] if bucket else 0
        low, high = _bucket_range_ms(bucket, high_ms)
        low, high = max(low, low_ms), min(high, high_ms)
        return low + (high - low) * (n - seen + 0.5) / self.histogram[bucket]


def _histograms_added(histograms: list[list[int]]) -> list[int]:
    if not histograms:
        return [0] * BUCKETS
    # A few (a period's regions): map(add) pair by pair runs in C; many (a window's periods):
    # one sum per bucket beats as many list copies.
    if len(histograms) <= 4:
        total = histograms[0]
        for histogram in histograms[1:]:
            total = list(map(operator.add, total, histogram))
        return list(total)
    return [sum(column) for column in zip(*histograms, strict=True)]


def window_start(window: str, now: datetime | None = None) -> datetime:
    """The first moment a window covers (see WINDOWS)."""
    model, span = WINDOWS[window]
    now = now or timezone.now()
    if model is HourlyRollup:
        return hour_of(now) - span
    return datetime.combine(day_of(now), datetime.min.time(), tzinfo=UTC) - span


# How a window's periods are listed: the series' SQL type, the period column's, the step.
PERIODS = {
    HourlyRollup: ("hour", "timestamptz", "timestamptz", "1 hour"),
    DailyRollup: ("day", "timestamp", "date", "1 day"),
}


def window_figures(monitor_id: int, window: str, now: datetime | None = None) -> dict[int, Figures]:
    """A monitor's figures over a window, per region id, in one query.

    The window's periods are listed (generate_series) and each is looked up by the unique
    index (monitor, period, region): a few index probes whatever the table holds. With
    `monitor_id = %s AND hour >= %s` instead, the planner multiplies the two selectivities
    as if independent; for a monitor holding a large share of the rows (a year of them
    among many young monitors) it expects thousands of rows where there are 48, and scans
    every recent hour of every monitor (the BRIN index on hour, or the whole table in
    parallel), several times slower than the probes (docs/benchmarks.md, "Measured costs
    behind the code").
    """
    model, _ = WINDOWS[window]
    now = now or timezone.now()
    period, series_type, period_type, step = PERIODS[model]
    first: date  # hours (datetimes), or days for the daily rollups
    last: date
    first, last = window_start(window, now), hour_of(now)
    if model is DailyRollup:
        first, last = first.date(), day_of(now)
    sql = f"""
        SELECT region_id, sum(checks), sum(up), sum(maintenance_checks), sum(response_time_sum_ms),
            min(response_time_min_ms), max(response_time_max_ms), {_histogram_sum_sql()}
        FROM generate_series(%(first)s::{series_type}, %(last)s::{series_type}, interval '{step}') AS slot(start)
        JOIN {model._meta.db_table} ON monitor_id = %(monitor)s AND {period} = slot.start::{period_type}
        GROUP BY region_id
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, {"first": first, "last": last, "monitor": monitor_id})
        return {
            row[0]: Figures(
                checks=row[1],
                up=row[2],
                maintenance_checks=row[3],
                response_time_sum_ms=int(row[4]),  # sum(bigint) is numeric: a Decimal
                response_time_min_ms=row[5],
                response_time_max_ms=row[6],
                histogram=[int(n) for n in row[7]],
            )
            for row in cursor.fetchall()
        }


def uptime_24h_annotation(now: datetime | None = None) -> dict[str, Coalesce]:
    """Annotations giving each monitor's checks and up checks over the "24h" window: one
    small index scan of its hourly rollups per monitor shown, in the same query."""
    rows = HourlyRollup.objects.filter(monitor=OuterRef("pk"), hour__gte=window_start("24h", now))
    grouped = rows.order_by().values("monitor")
    return {
        f"{name}_24h": Coalesce(
            Subquery(grouped.annotate(total=Sum(name)).values("total")), 0, output_field=IntegerField()
        )
        for name in ("checks", "up")
    }


def uptime_percent(checks: int, up: int) -> float | None:
    # No checks in the window is "unknown", not 0% or 100%.
    return round(100.0 * up / checks, 3) if checks else None
