"""Rollup counts: each batch of ticks added to its monitors' hourly and daily rows, and to their
days' totals over all regions, in the transaction that inserts the ticks
(checks/outcomes/recording.py), so a tick counts once.
The response-time histogram's buckets are defined here; checks/figures/rollups.py reads them."""

import math
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from django.db import connection

from checks.outcomes.batch_rows import rows_json


def _bucket_bounds_ms() -> list[int]:
    # Every bucket is at most 10% as wide as its lower bound, or exactly one millisecond
    # wide, so a value estimated inside its bucket is off by less than 10% of itself.
    bounds, bound = [], 1
    while bound < 60_000:
        bounds.append(bound)
        bound = max(bound + 1, math.floor(bound * 1.1))
    return [*bounds, 60_000]


# Lower bounds of the response-time histogram's buckets (1 ms .. 60 s, 107 of them). Bucket
# i (0-based, as bisect_right and PostgreSQL's width_bucket number them) holds the times in
# [BUCKET_BOUNDS_MS[i-1], BUCKET_BOUNDS_MS[i]); bucket 0 holds 0 ms, the last one 60 s and
# over. Changing these means rebuilding every rollup: stored histograms use them.
BUCKET_BOUNDS_MS = _bucket_bounds_ms()
BUCKETS = len(BUCKET_BOUNDS_MS) + 1


def bucket_of(response_time_ms: int) -> int:
    return bisect_right(BUCKET_BOUNDS_MS, response_time_ms)


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def day_of(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


# A tick counts once because it is counted only by the transaction that inserted it
# (checks/outcomes/recording.py). Ticks in a maintenance window count only in maintenance_checks,
# as in the figures. A batch's ticks are summed per row first: one statement may not
# update the same row twice.
def _batch_sql(period_type: str) -> str:
    """The batch's rows, as `batch`: the statement's one parameter (checks/outcomes/batch_rows.py)."""
    return f"""
    batch AS (
        SELECT * FROM json_to_recordset(%s::json) AS batch(
            monitor_id bigint, region_id bigint, period {period_type}, checks integer, up integer,
            maintenance integer, total bigint, low integer, high integer, histogram text
        )
    )"""  # noqa: S608 - a type name of this module


def _upsert_sql(table: str, period: str) -> str:
    """Add the rows of `batch` to their rows of `table` (keyed by monitor, `period`, region).
    Both names are constants of this module, never input."""
    return f"""
    INSERT INTO {table} AS r (
        monitor_id, region_id, {period}, checks, up, maintenance_checks,
        response_time_sum_ms, response_time_min_ms, response_time_max_ms, response_time_histogram
    )
    SELECT monitor_id, region_id, period, checks, up, maintenance, total, low, high, histogram::integer[]
    FROM batch
    ON CONFLICT (monitor_id, {period}, region_id) DO UPDATE SET
        checks = r.checks + EXCLUDED.checks,
        up = r.up + EXCLUDED.up,
        maintenance_checks = r.maintenance_checks + EXCLUDED.maintenance_checks,
        response_time_sum_ms = r.response_time_sum_ms + EXCLUDED.response_time_sum_ms,
        -- LEAST/GREATEST skip NULLs: ticks without a time leave min and max alone.
        response_time_min_ms = LEAST(r.response_time_min_ms, EXCLUDED.response_time_min_ms),
        response_time_max_ms = GREATEST(r.response_time_max_ms, EXCLUDED.response_time_max_ms),
        response_time_histogram = ARRAY(
            SELECT stored + added
            FROM unnest(r.response_time_histogram, EXCLUDED.response_time_histogram) WITH ORDINALITY
                AS bucket(stored, added, position)
            ORDER BY position
        )"""  # noqa: S608


_COUNT_HOURLY_SQL = f"WITH {_batch_sql('timestamptz')} {_upsert_sql('checks_hourlyrollup', 'hour')}"

# The day totals (checks.models.DayTotal) are summed from the same batch rows as the daily
# rollups, in the same statement: no second batch to build, encode and send, no round trip.
# Both parts read `batch`, so PostgreSQL decodes it once; a data-modifying WITH part runs to
# completion though nothing reads it. The batch holds one row per monitor, day and region, so
# summed per monitor and day each total is updated once.
_COUNT_DAILY_SQL = f"""
WITH {_batch_sql("date")},
daily AS ({_upsert_sql("checks_dailyrollup", "day")}
)
INSERT INTO checks_daytotal AS t (monitor_id, day, checks, up, maintenance_checks)
SELECT monitor_id, period, sum(checks), sum(up), sum(maintenance)
FROM batch
GROUP BY monitor_id, period
ON CONFLICT (monitor_id, day) DO UPDATE SET
    checks = t.checks + EXCLUDED.checks,
    up = t.up + EXCLUDED.up,
    maintenance_checks = t.maintenance_checks + EXCLUDED.maintenance_checks
"""  # noqa: S608


@dataclass
class _Counts:
    checks: int = 0
    up: int = 0
    maintenance: int = 0
    total_ms: int = 0
    low_ms: int | None = None
    high_ms: int | None = None
    histogram: dict[int, int] = field(default_factory=dict)

    def add(self, tick) -> None:
        counted = not tick.in_maintenance
        up = counted and tick.status == "up"
        self.checks += counted
        self.up += up
        self.maintenance += tick.in_maintenance
        # Response times count for successful checks only, as in the figures.
        if up and tick.response_time_ms is not None:
            ms = tick.response_time_ms
            self.total_ms += ms
            self.low_ms = ms if self.low_ms is None else min(self.low_ms, ms)
            self.high_ms = ms if self.high_ms is None else max(self.high_ms, ms)
            bucket = bucket_of(ms)
            self.histogram[bucket] = self.histogram.get(bucket, 0) + 1

    def histogram_literal(self) -> str:
        # As an array literal in one string, joined from strings: cheaper to write than a JSON
        # list of 108 numbers (docs/benchmarks.md, "Measured costs behind the code").
        counts = ["0"] * BUCKETS
        for bucket, count in self.histogram.items():
            counts[bucket] = str(count)
        return "{" + ",".join(counts) + "}"


def count_ticks(ticks) -> None:
    """Add newly written ticks to their hours' and days' rollups and their days' totals: two
    statements for the batch. Call it in the transaction that inserted the ticks, and only
    there."""
    if not ticks:
        return
    hourly: dict[tuple, _Counts] = {}
    daily: dict[tuple, _Counts] = {}
    for tick in ticks:
        hourly.setdefault((tick.monitor_id, tick.region_id, hour_of(tick.scheduled_at)), _Counts()).add(tick)
        daily.setdefault((tick.monitor_id, tick.region_id, day_of(tick.scheduled_at)), _Counts()).add(tick)
    with connection.cursor() as cursor:
        for sql, rows in ((_COUNT_HOURLY_SQL, hourly), (_COUNT_DAILY_SQL, daily)):
            batch = [
                {
                    "monitor_id": monitor_id,
                    "region_id": region_id,
                    "period": period,
                    "checks": counts.checks,
                    "up": counts.up,
                    "maintenance": counts.maintenance,
                    "total": counts.total_ms,
                    "low": counts.low_ms,
                    "high": counts.high_ms,
                    "histogram": counts.histogram_literal(),
                }
                for (monitor_id, region_id, period), counts in rows.items()
            ]
            cursor.execute(sql, [rows_json(batch)])
