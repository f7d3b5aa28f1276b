"""The pages' SVG charts: well-formed, one mark per check or period, each named in words
(titles and labels) and told apart by shape as well as colour, and every piece of text from
the data escaped."""

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from django.utils.safestring import SafeString

from checks.figures.recent import RecentTick, latest_ticks
from checks.figures.rollups import Figures
from checks.figures.series import Series, window_periods, window_series
from checks.models import Tick
from checks.outcomes.rollup_counts import BUCKETS
from monitors.models import Region
from tests.factories import make_monitor, make_tick
from web.charts import check_bar, response_time_chart, sparkline
from web.period_bars import uptime_bars

NOW = datetime(2026, 12, 3, 14, 35, 12, tzinfo=UTC)
HOSTILE = "<script>alert('x')</script>"


def parse(svg: SafeString) -> ET.Element:
    """The chart as XML (it must be well-formed), checked for what every chart has: role,
    an aria-label, a <title> first saying the same, and coordinates to 0.1 at most."""
    assert isinstance(svg, SafeString)
    root = ET.fromstring(str(svg))
    assert root.tag == "svg" and root.get("viewBox", "").startswith("0 0 ")
    assert root.get("role") in ("img", "group")
    assert root[0].tag == "title" and root[0].text == root.get("aria-label") != ""
    assert not re.search(r"\d\.\d\d", re.sub(r"<title>.*?</title>|aria-label=\"[^\"]*\"", "", str(svg)))
    return root


def title_of(element: ET.Element) -> str:
    title = element.find("title")
    assert title is not None, ET.tostring(element)
    return title.text or ""


def tick(minute: int, status="up", region="india", ms: int | None = 123, error="", maintenance=False) -> RecentTick:
    at = datetime(2026, 12, 3, 12, minute, tzinfo=UTC)
    return RecentTick(
        at, status, region, ms if status == "up" else None, 200 if status == "up" else None, error, maintenance
    )


# --- check bar -----------------------------------------------------------------------------


def marks(root: ET.Element) -> list[ET.Element]:
    """The checks drawn (each has a title); the rest are empty slots."""
    return [child for child in root[1:] if child.find("title") is not None]


def test_the_check_bar_draws_the_last_checks_right_aligned_with_a_title_each():
    root = parse(
        check_bar(
            [
                tick(3, ms=123),
                tick(4, "down", "usa", error="connection refused"),
                tick(5, region="europe", ms=90, maintenance=True),
            ],
            slots=30,
        )
    )
    drawn = marks(root)
    placeholders = [child for child in root[1:] if child not in drawn]
    assert len(drawn) == 3 and len(placeholders) == 27
    assert [title_of(mark) for mark in drawn] == [
        "12:03:00 UTC · india · up · 123 ms",
        "12:04:00 UTC · usa · down · connection refused",
        "12:05:00 UTC · europe · in maintenance · up · 90 ms",
    ]
    # Oldest left, the newest in the last slot; the empty slots before them.
    assert [float(mark.get("x") or mark.get("d", "")[1:].split()[0]) for mark in drawn] == [27 * 8, 28 * 8, 29 * 8]
    assert max(float(p.get("x")) for p in placeholders) < 27 * 8
    # Told apart by shape, not only colour: up a full bar, down notched, maintenance short.
    up, down, maintenance = drawn
    assert (up.tag, up.get("height")) == ("rect", "20")
    assert down.tag == "path" and down.get("fill") != up.get("fill")
    assert (maintenance.tag, maintenance.get("height")) == ("rect", "10")
    assert {p.get("height") for p in placeholders} == {"4"}
    assert root.get("aria-label") == (
        "Last 3 checks: 1 up, 1 down, 1 in maintenance; latest in maintenance at 2026-12-03 12:05:00 UTC"
    )


def test_the_check_bar_keeps_the_newest_checks_and_dates_those_of_another_day():
    ticks = [tick(minute) for minute in range(40)]
    ticks.insert(0, RecentTick(datetime(2026, 12, 1, 9, 0, tzinfo=UTC), "down", "usa", None, 503, "", False))
    drawn = marks(parse(check_bar(ticks, slots=30)))
    assert len(drawn) == 30
    assert title_of(drawn[0]).startswith("12:10:00 UTC") and title_of(drawn[-1]).startswith("12:39:00 UTC")

    first = marks(parse(check_bar(ticks[:3], slots=30)))
    assert title_of(first[0]) == "2026-12-01 09:00:00 UTC · usa · down · HTTP 503"
    assert title_of(first[1]) == "12:00:00 UTC · india · up · 123 ms"


def test_a_monitor_without_checks_gets_an_empty_bar():
    root = parse(check_bar([], slots=10))
    assert marks(root) == [] and len(root) == 1 + 10
    assert root.get("aria-label") == "No checks yet"


def test_the_check_bar_escapes_errors_and_region_slugs_from_the_database(alice):
    evil = Region.objects.create(slug='"><b>evil</b>', name="evil")
    monitor = make_monitor(alice, "https://shop.example/")
    Tick.objects.create(monitor=monitor, region=evil, status="down", error=HOSTILE, scheduled_at=NOW, checked_at=NOW)
    svg = check_bar(latest_ticks([monitor.pk])[monitor.pk])
    assert "<script>" not in svg and "<b>" not in svg
    assert title_of(marks(parse(svg))[0]) == f'14:35:12 UTC · "><b>evil</b> · down · {HOSTILE}'


# --- sparkline -----------------------------------------------------------------------------


def test_the_sparkline_breaks_where_a_check_has_no_time():
    root = parse(sparkline([100, 120, None, 90, 80, None, None, 150], width=120, height=28))
    lines = root.findall(".//polyline")
    assert [len(line.get("points").split()) for line in lines] == [2, 2]
    assert len(root.findall(".//circle")) == 1  # 150 alone, between a gap and the end
    assert root.get("aria-label") == "Response time: lowest 80 ms, highest 150 ms, latest 150 ms"
    ys = {float(point.split(",")[1]) for line in lines for point in line.get("points").split()}
    assert float(root.find(".//circle").get("cy")) == 2.0  # the highest at the top
    assert max(ys) == 26.0 and min(ys) > 2.0  # the lowest at the bottom


def test_a_sparkline_without_times_says_so():
    root = parse(sparkline([None, None]))
    assert root.findall(".//polyline") == [] and root.findall(".//circle") == []
    assert root.get("aria-label") == "No response times yet"
    flat = parse(sparkline([50, 50, 50]))
    assert flat.find(".//polyline").get("points") == "2,14 60,14 118,14"


# --- response time chart -------------------------------------------------------------------


def line_groups(root: ET.Element) -> dict[str, ET.Element]:
    """The chart's lines by their title ("india p95")."""
    return {title_of(g): g for g in root.iter("g") if g.find("title") is not None}


def test_the_response_time_chart_draws_a_line_per_region_and_percentile(alice):
    shop = make_monitor(alice, "https://shop.example/", regions=("india", "usa"))
    this_hour = NOW.replace(minute=0, second=0)
    for hours_ago in (0, 1, 3):  # india unchecked two hours ago: its lines break there
        for minute, ms in enumerate((100, 150, 200, 900)):
            make_tick(shop, "india", this_hour - timedelta(hours=hours_ago, minutes=-minute), "up", ms)
    make_tick(shop, "usa", this_hour, "up", 300)

    root = parse(response_time_chart(window_series(shop.pk, "24h", NOW)))
    lines = line_groups(root)

    assert list(lines) == ["india p50", "india p95", "usa p50", "usa p95"]
    assert lines["india p50"].get("stroke") == lines["india p95"].get("stroke") != lines["usa p50"].get("stroke")
    assert lines["india p50"].get("stroke-dasharray") != lines["india p95"].get("stroke-dasharray")
    # A polyline for the two hours in a row, a dot for the hour alone; usa's one hour a dot.
    assert [len(p.get("points").split()) for p in lines["india p50"].findall("polyline")] == [2]
    assert len(lines["india p50"].findall("circle")) == 1
    assert len(lines["usa p95"].findall("circle")) == 1
    # p95 above p50 (smaller y) in the same hour.
    p50 = float(lines["india p50"].find("polyline").get("points").split()[-1].split(",")[1])
    p95 = float(lines["india p95"].find("polyline").get("points").split()[-1].split(",")[1])
    assert p95 < p50

    texts = [text.text for text in root.iter("text")]
    assert [t for t in texts if t.endswith(":00")] == ["16:00", "20:00", "00:00", "04:00", "08:00", "12:00"]
    y_labels = [t for t in texts if t.endswith(" ms")]
    assert 4 <= len(y_labels) <= 5 and y_labels[0] == "0 ms"
    assert {"india p50", "india p95", "usa p50", "usa p95"} <= set(texts)  # the legend
    assert root.get("aria-label").startswith("Response time over the last 24 hours: india p50 ")


def test_an_empty_window_says_there_are_no_checks_yet(alice):
    quiet = make_monitor(alice, "https://quiet.example/", regions=("india", "usa"))
    root = parse(response_time_chart(window_series(quiet.pk, "7d", NOW)))
    assert [text.text for text in root.iter("text")] == ["No checks in this window yet"]
    assert root.findall(".//polyline") == []


def series_of(window: str, overall: list[Figures], by_region: dict | None = None) -> Series:
    periods = window_periods(window, NOW)
    overall = overall + [Figures() for _ in range(len(periods) - len(overall))]
    return Series(window, periods, by_region or {"india": overall}, overall)


def timed(*times: int) -> Figures:
    histogram = [len(times)] + [0] * (BUCKETS - 1)  # the bucket does not matter to the chart's shape
    return Figures(len(times), len(times), 0, sum(times), min(times), max(times), histogram)


def test_day_windows_are_labelled_by_date_and_hostile_slugs_are_escaped():
    figures = [timed(100, 200) for _ in range(30)]
    root = parse(response_time_chart(series_of("30d", figures, {HOSTILE: figures}), percentiles=(0.99,)))
    texts = [text.text for text in root.iter("text")]
    assert HOSTILE + " p99" in texts and list(line_groups(root)) == [HOSTILE + " p99"]
    assert [t for t in texts if re.fullmatch(r"\d\d-\d\d", t)] == ["11-08", "11-13", "11-18", "11-23", "11-28", "12-03"]
    assert "<script>" not in response_time_chart(series_of("30d", figures, {HOSTILE: figures}))


# --- uptime bars ---------------------------------------------------------------------------


def bars(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter("g") if g.get("tabindex") == "0"]


def test_uptime_bars_give_each_day_a_focusable_bar_with_its_figures():
    overall = [
        Figures(checks=1_440, up=1_440),
        Figures(checks=1_440, up=1_438),
        Figures(checks=30_000, up=29_999),
        Figures(checks=100, up=90, maintenance_checks=12),
        Figures(maintenance_checks=60),
    ]
    root = parse(uptime_bars(series_of("30d", overall)))
    shown = bars(root)
    assert len(shown) == 30 and all(len(bar.findall("rect")) == 1 for bar in shown)
    assert [title_of(bar) for bar in shown[:6]] == [
        "2026-11-04: 100% up, 1,440 of 1,440 checks",
        "2026-11-05: 99.86% up, 1,438 of 1,440 checks",
        "2026-11-06: 99.99% up, 29,999 of 30,000 checks",
        "2026-11-07: 90.00% up, 90 of 100 checks (12 more in maintenance, not counted)",
        "2026-11-08: no checks (60 more in maintenance, not counted)",
        "2026-11-09: no checks",
    ]
    # Each level has its own height as well as its colour: full, amber, red, none.
    heights = [float(bar.find("rect").get("height")) for bar in shown[:5]]
    fills = [bar.find("rect").get("fill") for bar in shown[:5]]
    assert heights[0] == 48 and heights[1] == heights[2] < 48 and heights[3] < heights[1] and heights[4] < heights[3]
    assert len({fills[0], fills[1], fills[3], fills[4]}) == 4 and fills[1] == fills[2]
    assert root.get("role") == "group"
    assert root.get("aria-label") == (
        "Uptime per day over the last 30 days: 1 day at 100%, 2 below 100%, 1 below 95%, 26 without checks;"
        " 99.96% up overall, 32,967 of 32,980 checks"
    )


@pytest.mark.parametrize("window, count", [("24h", 24), ("7d", 168), ("90d", 90)])
def test_uptime_bars_from_the_rollups_draw_one_bar_per_period(alice, window, count):
    shop = make_monitor(alice, "https://shop.example/", regions=("india", "usa"))
    make_tick(shop, "india", NOW, "up")
    make_tick(shop, "usa", NOW, "down", None)
    root = parse(uptime_bars(window_series(shop.pk, window, NOW)))
    shown = bars(root)
    assert len(shown) == count
    when = "2026-12-03 14:00 UTC" if window in ("24h", "7d") else "2026-12-03"
    assert title_of(shown[-1]) == f"{when}: 50.00% up, 1 of 2 checks"
    assert all(title_of(bar).endswith(": no checks") for bar in shown[:-1])
    # Evenly spread across the width, in order.
    xs = [float(bar.find("rect").get("x")) for bar in shown]
    assert xs == sorted(xs) and xs[0] == 0 and xs[-1] < 720
