"""What the monitor page's charts and the dashboard's check bars read: a monitor's figures per
period of a window (every period listed, empty ones too, per region and overall, from the
rollups the ticks were counted into), and the last checks of many monitors in one query."""

from datetime import UTC, datetime, timedelta

import pytest

from checks.figures.recent import RecentTick, latest_ticks
from checks.figures.rollups import Figures
from checks.figures.series import window_series
from checks.figures.stats import uptime_summary
from checks.models import Tick
from checks.outcomes.rollup_counts import count_ticks
from monitors.models import Region
from tests.factories import make_monitor, make_tick

# A fixed clock: the 24h window is 2026-12-02 15:00 to 2026-12-03 14:59 UTC.
NOW = datetime(2026, 12, 3, 14, 35, 12, tzinfo=UTC)
THIS_HOUR = datetime(2026, 12, 3, 14, tzinfo=UTC)


@pytest.fixture
def shop(alice):
    return make_monitor(alice, "https://shop.example/", regions=("india", "usa"), name="shop")


def maintenance_tick(monitor, region: str, scheduled_at: datetime, status="down") -> Tick:
    tick = Tick.objects.create(
        monitor=monitor,
        region=Region.objects.get(slug=region),
        status=status,
        error="" if status == "up" else "connection refused",
        scheduled_at=scheduled_at,
        checked_at=scheduled_at,
        in_maintenance=True,
    )
    count_ticks([tick])
    return tick


def test_every_hour_of_the_window_is_listed_and_the_unchecked_ones_are_empty(alice, shop):
    make_tick(shop, "india", NOW, "up", 100)
    make_tick(shop, "india", NOW - timedelta(hours=2), "down", None)
    make_tick(shop, "usa", NOW - timedelta(hours=5), "up", 300)
    make_tick(shop, "usa", NOW - timedelta(hours=24), "down", None)  # 14:35 the day before: outside
    make_tick(make_monitor(alice, "https://other.example/"), "india", NOW, "down", None)  # not this monitor

    series = window_series(shop.pk, "24h", NOW)

    assert series.window == "24h"
    assert series.periods == [datetime(2026, 12, 2, 15, tzinfo=UTC) + timedelta(hours=n) for n in range(24)]
    assert series.periods[-1] == THIS_HOUR
    assert list(series.by_region) == ["india", "usa"]
    india, usa = series.by_region["india"], series.by_region["usa"]
    assert len(india) == len(usa) == len(series.overall) == 24
    assert (india[23].checks, india[23].up, india[23].response_time_min_ms) == (1, 1, 100)
    assert (india[21].checks, india[21].up, india[21].timed) == (1, 0, 0)
    assert (usa[18].checks, usa[18].up, usa[18].response_time_max_ms) == (1, 1, 300)
    checked = {("india", 23), ("india", 21), ("usa", 18)}
    for slug, figures in series.by_region.items():
        for n, one in enumerate(figures):
            if (slug, n) not in checked:
                assert one == Figures(), (slug, n)
    assert [(n, one.checks, one.up) for n, one in enumerate(series.overall) if one.checks] == [
        (18, 1, 1),
        (21, 1, 0),
        (23, 1, 1),
    ]


def test_overall_adds_the_regions_of_each_period(shop):
    hour = THIS_HOUR - timedelta(hours=3)
    for minute, (region, status, ms) in enumerate(
        [("india", "up", 120), ("india", "up", 80), ("usa", "up", 400), ("usa", "down", None), ("usa", "up", 900)]
    ):
        make_tick(shop, region, hour + timedelta(minutes=minute), status, ms)
    maintenance_tick(shop, "india", hour + timedelta(minutes=30))

    series = window_series(shop.pk, "24h", NOW)
    india, usa, overall = series.by_region["india"][20], series.by_region["usa"][20], series.overall[20]

    assert (india.checks, india.up, india.maintenance_checks) == (2, 2, 1)
    assert (usa.checks, usa.up, usa.maintenance_checks) == (3, 2, 0)
    assert (overall.checks, overall.up, overall.maintenance_checks) == (5, 4, 1)
    assert overall.response_time_sum_ms == 120 + 80 + 400 + 900
    assert (overall.response_time_min_ms, overall.response_time_max_ms, overall.timed) == (80, 900, 4)


def test_percentiles_per_period_come_from_the_counted_ticks(shop):
    # Ten times in one hour in india, three in usa an hour earlier.
    india_times = [100, 110, 130, 150, 200, 240, 300, 420, 600, 1000]
    for minute, ms in enumerate(india_times):
        make_tick(shop, "india", THIS_HOUR + timedelta(minutes=minute), "up", ms)
    for minute, ms in enumerate([50, 70, 5_000]):
        make_tick(shop, "usa", THIS_HOUR - timedelta(hours=1) + timedelta(minutes=minute), "up", ms)

    series = window_series(shop.pk, "24h", NOW)
    india = series.by_region["india"]

    # percentile_cont over the ten times: halfway between 200 and 240; the rollup's estimate
    # is within 10% of it, and the ends are exact.
    assert india[23].response_time_percentile_ms(0.5) == pytest.approx(220, rel=0.1)
    assert india[23].response_time_percentile_ms(0.0) == 100
    assert india[23].response_time_percentile_ms(1.0) == 1000
    assert india[22].response_time_percentile_ms(0.5) is None  # india had no check that hour
    assert series.by_region["usa"][22].response_time_percentile_ms(0.5) == pytest.approx(70, rel=0.1)
    assert series.by_region["usa"][22].response_time_percentile_ms(0.95) > 4_000
    assert series.overall[22].response_time_percentile_ms(1.0) == 5_000


def test_several_percentiles_at_once_are_each_the_one_alone(shop):
    for minute, ms in enumerate([100, 110, 130, 150, 200, 240, 300, 420, 600, 1000, 7, 12_000]):
        make_tick(shop, "india", THIS_HOUR + timedelta(minutes=minute), "up", ms)
    figures = window_series(shop.pk, "24h", NOW).by_region["india"]

    fractions = (0.0, 0.5, 0.95, 0.99, 1.0)
    assert figures[23].response_time_percentiles_ms(fractions) == [
        figures[23].response_time_percentile_ms(fraction) for fraction in fractions
    ]
    assert figures[23].response_time_percentiles_ms(fractions)[0] == 7
    assert figures[22].response_time_percentiles_ms(fractions) == [None] * 5


@pytest.mark.parametrize("window", ["24h", "7d", "30d", "90d"])
def test_the_series_totals_give_the_summary_read_from_the_rollups(alice, window):
    site = make_monitor(alice, "https://site.example/", regions=("india", "usa"))
    make_tick(site, "europe", NOW - timedelta(hours=30), "up", 90)  # europe: no longer one of its regions
    for hours, (region, status, ms) in enumerate(
        [("india", "up", 120), ("usa", "down", None), ("india", "up", 4_000), ("usa", "up", 80)] * 12
    ):
        make_tick(site, region, NOW - timedelta(hours=hours * 5), status, ms)
    maintenance_tick(site, "india", NOW - timedelta(hours=2))

    series = window_series(site.pk, window, NOW)
    from_series = uptime_summary(site, window, NOW, per_region=series.totals())

    assert from_series == uptime_summary(site, window, NOW)
    assert from_series["checks"] > 0 and from_series["p95_response_time_ms"] is not None
    assert set(from_series["regions"]) >= {"india", "usa"}


def test_day_windows_list_each_utc_day_as_its_midnight(shop):
    make_tick(shop, "india", datetime(2026, 11, 4, 0, 0, 1, tzinfo=UTC), "up", 100)  # the 30d window's first day
    make_tick(shop, "india", datetime(2026, 11, 3, 23, 59, tzinfo=UTC), "down", None)  # the day before it
    make_tick(shop, "usa", datetime(2026, 12, 3, 0, 5, tzinfo=UTC), "down", None)  # today

    series = window_series(shop.pk, "30d", NOW)

    assert len(series.periods) == 30
    assert series.periods[0] == datetime(2026, 11, 4, tzinfo=UTC)
    assert series.periods[-1] == datetime(2026, 12, 3, tzinfo=UTC)
    assert all(b - a == timedelta(days=1) for a, b in zip(series.periods, series.periods[1:], strict=False))
    assert [one.checks for one in series.by_region["india"]] == [1] + [0] * 29
    assert [(one.checks, one.up) for one in series.overall][-1] == (1, 0)
    assert sum(one.checks for one in series.overall) == 2

    ninety = window_series(shop.pk, "90d", NOW)
    assert len(ninety.periods) == 90 and ninety.periods[0] == datetime(2026, 9, 5, tzinfo=UTC)
    assert sum(one.checks for one in ninety.overall) == 3
    assert len(window_series(shop.pk, "7d", NOW).periods) == 168


def test_regions_with_figures_and_the_current_regions_both_appear(alice):
    site = make_monitor(alice, "https://site.example/", regions=("usa",))
    make_tick(site, "europe", NOW, "up", 100)  # checked from europe before it was moved to usa

    series = window_series(site.pk, "24h", NOW)

    assert list(series.by_region) == ["europe", "usa"]
    assert series.by_region["europe"][-1].checks == 1
    assert all(one == Figures() for one in series.by_region["usa"])


def test_a_window_is_read_in_two_queries(shop, django_assert_num_queries):
    for hours in range(0, 160, 7):
        make_tick(shop, "india", NOW - timedelta(hours=hours))
    with django_assert_num_queries(2):
        series = window_series(shop.pk, "7d", NOW)
    assert sum(one.checks for one in series.overall) == len(range(0, 160, 7))


# --- the last checks of many monitors ----------------------------------------------------------


def test_latest_ticks_gives_each_monitors_newest_checks_oldest_first(alice, bob, shop):
    quiet = make_monitor(alice, "https://quiet.example/")
    few = make_monitor(alice, "https://few.example/")
    other = make_monitor(bob, "https://bob.example/")
    start = NOW - timedelta(hours=1)
    for n in range(40):
        make_tick(shop, ("india", "usa")[n % 2], start + timedelta(minutes=n), "up" if n % 5 else "down", 100 + n)
        make_tick(other, "india", start + timedelta(minutes=n, seconds=30), "down", None)
    make_tick(few, "india", NOW - timedelta(days=3), "up", 80)
    make_tick(few, "india", NOW - timedelta(days=2), "down", None)
    maintenance_tick(few, "india", NOW - timedelta(days=1), status="up")

    latest = latest_ticks([shop.pk, quiet.pk, few.pk, 999_999], count=30)

    assert set(latest) == {shop.pk, quiet.pk, few.pk, 999_999}
    assert latest[quiet.pk] == [] and latest[999_999] == []
    assert [tick.scheduled_at for tick in latest[shop.pk]] == [start + timedelta(minutes=n) for n in range(10, 40)]
    assert [tick.region_slug for tick in latest[shop.pk]][:3] == ["india", "usa", "india"]
    assert [tick.response_time_ms for tick in latest[shop.pk]][-2:] == [138, 139]
    assert latest[shop.pk][0].status == "down"  # n = 10
    assert latest[few.pk] == [
        RecentTick(NOW - timedelta(days=3), "up", "india", 80, 200, "", False),
        RecentTick(NOW - timedelta(days=2), "down", "india", None, 500, "unexpected status 500", False),
        RecentTick(NOW - timedelta(days=1), "up", "india", None, None, "", True),
    ]
    assert latest_ticks([few.pk], count=2)[few.pk] == latest[few.pk][1:]


def test_latest_ticks_orders_the_regions_of_a_slot_by_name(shop):
    for minute in range(3):
        for region in ("usa", "india"):
            make_tick(shop, region, NOW + timedelta(minutes=minute, microseconds=250_000 * minute))
    ticks = latest_ticks([shop.pk], count=5)[shop.pk]
    # To the microsecond, in UTC.
    assert ticks[-1].scheduled_at == NOW + timedelta(minutes=2, microseconds=500_000)
    assert ticks[-1].scheduled_at.utcoffset() == timedelta(0)
    # The oldest slot's ticks share the last place: either is kept.
    assert ticks[0].scheduled_at == NOW
    assert [(tick.scheduled_at.minute - NOW.minute, tick.region_slug) for tick in ticks[1:]] == [
        (1, "india"),
        (1, "usa"),
        (2, "india"),
        (2, "usa"),
    ]


def test_latest_ticks_is_one_query_for_any_number_of_monitors(alice, django_assert_num_queries):
    monitors = [make_monitor(alice, f"https://m{n}.example/") for n in range(5)]
    for monitor in monitors:
        make_tick(monitor, "india", NOW)
    with django_assert_num_queries(1):
        latest = latest_ticks([monitor.pk for monitor in monitors])
    assert all(len(latest[monitor.pk]) == 1 for monitor in monitors)
    with django_assert_num_queries(0):
        assert latest_ticks([]) == {}
