"""Rollup rows for the web benchmarks, written in bulk SQL: every monitor-region's last 24
hours and last N days, and every monitor's day totals, as the outcome writer would have
counted them."""

from datetime import datetime, timedelta

from checks.outcomes.rollup_counts import BUCKET_BOUNDS_MS, BUCKETS

# Per monitor and region, every period from first to last. A row's up checks share one
# response time, so its histogram has one bucket filled, where width_bucket places it (as
# rollups.rebuild does); about one period in twenty has 1 to max_failed failed checks.
ROLLUPS_SQL = """
WITH plan AS (
    SELECT link.monitor_id, link.region_id, period,
        CASE WHEN random() < 0.05 THEN 1 + floor(random() * %(max_failed)s)::int ELSE 0 END AS failed,
        (60 + random() * 500)::int AS ms
    FROM monitors_monitor_regions AS link
    CROSS JOIN generate_series(%(first)s::timestamptz, %(last)s::timestamptz, %(step)s::interval) AS period
)
INSERT INTO {table} (monitor_id, region_id, {period}, checks, up, maintenance_checks,
    response_time_sum_ms, response_time_min_ms, response_time_max_ms, response_time_histogram)
SELECT monitor_id, region_id, period::{period_type}, %(checks)s, %(checks)s - failed, 0,
    (%(checks)s - failed) * ms, ms, ms,
    ARRAY(SELECT CASE WHEN bucket = width_bucket(ms, %(bounds)s::int[]) THEN %(checks)s - failed ELSE 0 END
          FROM generate_series(0, %(buckets)s - 1) AS bucket ORDER BY bucket)
FROM plan
"""

# Each monitor's days, its regions added, from the daily rows: as migration checks 0010 fills
# them on an upgrade.
DAY_TOTALS_SQL = """
INSERT INTO checks_daytotal (monitor_id, day, checks, up, maintenance_checks)
SELECT monitor_id, day, sum(checks), sum(up), sum(maintenance_checks)
FROM checks_dailyrollup
GROUP BY monitor_id, day
"""


def insert_rollups(cursor, now: datetime, days: int, max_failed: int) -> dict[str, int]:
    """This hour and the 24 before, today and the `days` - 1 before, for every monitor and
    region (one check a minute), and the day totals of those days; the rows written per table."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    today = hour.replace(hour=0)
    counts = {}
    for table, period, period_type, first, last, step, checks in (
        ("checks_hourlyrollup", "hour", "timestamptz", hour - timedelta(hours=24), hour, "1 hour", 60),
        ("checks_dailyrollup", "day", "date", today - timedelta(days=days - 1), today, "1 day", 1440),
    ):
        params = {
            "first": first,
            "last": last,
            "step": step,
            "checks": checks,
            "max_failed": max_failed,
            "bounds": BUCKET_BOUNDS_MS,
            "buckets": BUCKETS,
        }
        cursor.execute(ROLLUPS_SQL.format(table=table, period=period, period_type=period_type), params)
        counts[table] = cursor.rowcount
    cursor.execute(DAY_TOTALS_SQL)
    counts["checks_daytotal"] = cursor.rowcount
    return counts
