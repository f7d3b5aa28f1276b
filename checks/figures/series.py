"""Figures per period, read from the rollups: a monitor's per hour or day of a window, per
region and overall (the monitor page's charts), and many monitors' per day (a status
page's uptime bars)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from checks.figures.rollups import PERIODS, WINDOWS, Figures, window_start
from checks.models import DailyRollup, DayTotal
from checks.outcomes.rollup_counts import day_of, hour_of
from monitors.models import Region


@dataclass
class Series:
    """One Figures per period of `window`, oldest first; an empty Figures where a region has
    no rollup row for the period (not checked, or not yet)."""

    window: str
    # Every period start of the window (hours, or days as midnight UTC), the current one included.
    periods: list[datetime]
    # Region slug -> one Figures per period, sorted by slug.
    by_region: dict[str, list[Figures]]
    # Per period, all regions added.
    overall: list[Figures]

    def totals(self) -> dict[str, Figures]:
        """Each region's figures over the whole window: what rollups.window_figures reads."""
        return {slug: Figures.sum_of(figures) for slug, figures in self.by_region.items()}


def window_periods(window: str, now: datetime | None = None) -> list[datetime]:
    """The start of each period (hour or UTC day) of a window, oldest first, the current one
    last."""
    model, _ = WINDOWS[window]
    now = now or timezone.now()
    first = window_start(window, now)
    if model is DailyRollup:
        last, step = datetime.combine(day_of(now), datetime.min.time(), tzinfo=UTC), timedelta(days=1)
    else:
        last, step = hour_of(now), timedelta(hours=1)
    count = (last - first) // step + 1
    return [first + n * step for n in range(count)]


def window_series(monitor_id: int, window: str, now: datetime | None = None) -> Series:
    """A monitor's figures per period of a window, per region: two queries.

    The periods are listed with generate_series and each is probed on the rollup table's
    unique index (monitor, period, region), as in rollups.window_figures (its docstring says
    why not `monitor_id = … AND hour >= …`). A row is one region's one period, so nothing
    needs summing in SQL; WITH ORDINALITY gives each row its period's place in the list.
    """
    model, _ = WINDOWS[window]
    periods = window_periods(window, now)
    period, series_type, period_type, step = PERIODS[model]
    first: date | datetime = periods[0]
    last: date | datetime = periods[-1]
    if model is DailyRollup:
        first, last = periods[0].date(), periods[-1].date()
    # The names and the step are this module's and rollups' constants, never input.
    sql = f"""
        SELECT slot.position - 1, region_id, checks, up, maintenance_checks, response_time_sum_ms,
            response_time_min_ms, response_time_max_ms, response_time_histogram
        FROM generate_series(%(first)s::{series_type}, %(last)s::{series_type}, interval '{step}')
            WITH ORDINALITY AS slot(start, position)
        JOIN {model._meta.db_table} ON monitor_id = %(monitor)s AND {period} = slot.start::{period_type}
    """  # noqa: S608
    per_region_id: dict[int, list[Figures]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, {"first": first, "last": last, "monitor": monitor_id})
        for position, region_id, checks, up, maintenance, total_ms, low_ms, high_ms, histogram in cursor.fetchall():
            if region_id not in per_region_id:  # not setdefault: its empty list would be built per row
                per_region_id[region_id] = [Figures() for _ in periods]
            per_region_id[region_id][position] = Figures(
                checks=checks,
                up=up,
                maintenance_checks=maintenance,
                response_time_sum_ms=total_ms,
                response_time_min_ms=low_ms,
                response_time_max_ms=high_ms,
                histogram=list(histogram),
            )

    # The regions with figures, and the monitor's current regions without any (drawn empty).
    regions = Region.objects.filter(Q(pk__in=per_region_id) | Q(monitors=monitor_id)).distinct()
    by_region = {
        slug: per_region_id.get(region_id) or [Figures() for _ in periods]
        for region_id, slug in sorted(regions.values_list("pk", "slug"), key=lambda pair: pair[1])
    }
    overall = [Figures.sum_of(regions) for regions in zip(*by_region.values(), strict=True)] or [
        Figures() for _ in periods
    ]
    return Series(window=window, periods=periods, by_region=by_region, overall=overall)


@dataclass(frozen=True, slots=True)
class DayCounts:
    """A monitor's last days, all regions added, oldest first, as columns: a status page's 50
    rows of 90 days are 150 lists of ints, not 4,500 objects. A day without rollups counts
    zeros (not checked, or not yet)."""

    first: date
    checks: list[int]
    up: list[int]
    maintenance_checks: list[int]

    @property
    def days(self) -> int:
        return len(self.checks)

    def day(self, position: int) -> date:
        return self.first + timedelta(days=position)


def days_of(monitor_ids: list[int], days: int, now: datetime | None = None) -> dict[int, DayCounts]:
    """Each monitor's last `days` UTC days (today included) from its day totals (all regions
    already added), in one query: a status page's uptime bars.

    Each monitor is an index range scan of the totals' key (monitor, day): unnest keeps the
    planner from guessing at `monitor_id = ANY(...) AND day >= ...` as one selectivity, the
    trap rollups.window_figures describes.
    """
    today = day_of(now or timezone.now())
    first = today - timedelta(days=days - 1)
    table = DayTotal._meta.db_table
    # A row a monitor, its days as arrays by position: 50 rows rather than 4,500 (psycopg
    # reads an integer array in C; a date a row costs a Python object each). The arrays are
    # unordered, each value beside its position: ordering them would sort the days for
    # nothing, as they are put in place here anyway.
    sql = f"""
        SELECT monitor.id, array_agg(day - %(first)s), array_agg(checks), array_agg(up),
            array_agg(maintenance_checks)
        FROM unnest(%(ids)s::bigint[]) AS monitor(id)
        JOIN {table} ON monitor_id = monitor.id AND day >= %(first)s AND day <= %(today)s
        GROUP BY monitor.id
    """  # noqa: S608 - the table's name only
    found = {monitor_id: DayCounts(first, [0] * days, [0] * days, [0] * days) for monitor_id in monitor_ids}
    with connection.cursor() as cursor:
        cursor.execute(sql, {"ids": list(monitor_ids), "first": first, "today": today})
        rows = cursor.fetchall()
    for monitor_id, positions, *columns in rows:
        counts = found[monitor_id]
        # A column at a time: 13,500 values for a page of 50, so the loop is the plainest.
        for column, values in zip((counts.checks, counts.up, counts.maintenance_checks), columns, strict=True):
            for position, value in zip(positions, values, strict=True):
                column[position] = value
    return found
