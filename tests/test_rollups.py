"""Rollups: the uptime figures they give agree with the ticks, each tick counts once, they
outlive the ticks, a rebuild gives what the writes gave, and the monitor list shows 24h
uptime from them in one query."""

import importlib
import random
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Avg, Count, F, Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from checks.figures import rollups
from checks.figures.stats import Percentile
from checks.models import DailyRollup, HourlyRollup, Tick
from checks.outcomes import rollup_counts
from checks.outcomes.recording import record_tick
from checks.tasks import prune_ticks
from monitors.admin import MonitorAdmin
from monitors.maintenance import create_window
from monitors.models import Region
from probe.target import CheckOutcome, ProbeResult
from tests.conftest import PASSWORD, client_for
from tests.factories import make_monitor, make_tick, personal


def record(monitor, region: str, slot: datetime, up=True, response_time_ms=100) -> Tick | None:
    """Record a slot's check as a worker does, with the outcome given."""
    result = ProbeResult(
        is_up=up,
        started_at=slot,
        status_code=200 if up else 500,
        response_time_ms=response_time_ms,
        error="" if up else "unexpected status 500",
    )
    return record_tick(monitor, Region.objects.get(slug=region), slot, CheckOutcome(result, 1, slot))


def exact_figures(monitor, window: str, region: str | None = None) -> dict:
    """The figures straight from the ticks, the way they were computed before rollups."""
    ticks = Tick.objects.filter(monitor=monitor, scheduled_at__gte=rollups.window_start(window))
    if region:
        ticks = ticks.filter(region__slug=region)
    up = Q(in_maintenance=False, status="up")
    return ticks.aggregate(
        checks=Count("id", filter=Q(in_maintenance=False)),
        up=Count("id", filter=up),
        maintenance_checks=Count("id", filter=Q(in_maintenance=True)),
        avg=Avg("response_time_ms", filter=up),
        p95=Percentile(F("response_time_ms"), 0.95, filter=up),
    )


def assert_agree(figures: dict, exact: dict) -> None:
    assert figures["checks"] == exact["checks"]
    assert figures["maintenance_checks"] == exact["maintenance_checks"]
    if exact["checks"]:
        assert figures["uptime_percent"] == round(100.0 * exact["up"] / exact["checks"], 3)
    else:
        assert figures["uptime_percent"] is None
    if exact["avg"] is None:
        assert figures["avg_response_time_ms"] is None and figures["p95_response_time_ms"] is None
        return
    assert figures["avg_response_time_ms"] == pytest.approx(exact["avg"], abs=0.05)
    # The documented accuracy of the histogram estimate (plus the rounding to 0.1 ms).
    assert abs(figures["p95_response_time_ms"] - exact["p95"]) <= 0.1 * exact["p95"] + 0.05


@pytest.fixture
def shop(alice):
    return make_monitor(alice, "https://shop.example/", regions=("india", "usa"), name="shop")


def test_figures_agree_with_the_ticks_in_every_window_and_region(alice, alice_client, shop):
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    # Two maintenance windows: one inside the 24h window, one only inside 30d and 90d.
    for days_ago in (0.25, 20):
        starts_at = now - timedelta(days=days_ago)
        create_window(
            personal(alice), [shop], name="upgrade", starts_at=starts_at, ends_at=starts_at + timedelta(hours=2)
        )
    rng = random.Random(7)
    slots = sorted({now - timedelta(minutes=rng.randrange(0, 100 * 24 * 60)) for _ in range(500)})
    slots += [now - timedelta(minutes=m) for m in range(0, 600, 10)]  # a dense recent stretch
    for slot in slots:
        for region in ("india", "usa"):
            # usa is slower and fails more; times spread from a few ms to tens of seconds.
            slow = 3 if region == "usa" else 1
            up = rng.random() > 0.05 * slow
            record(shop, region, slot, up, int(rng.lognormvariate(5, 1.2) * slow))
    assert Tick.objects.filter(in_maintenance=True).count() > 10

    for window in ("24h", "7d", "30d", "90d"):
        body = alice_client.get(f"/api/monitors/{shop.pk}/uptime/", {"window": window}).json()
        assert body["window"] == window
        assert_agree(body, exact_figures(shop, window))
        for region in ("india", "usa"):
            assert_agree(body["regions"][region], exact_figures(shop, window, region))
    assert body["regions"]["india"]["uptime_percent"] > body["regions"]["usa"]["uptime_percent"]


def test_the_windows_are_whole_hours_and_days():
    now = datetime(2026, 3, 10, 14, 35, 12, tzinfo=UTC)
    assert rollups.window_start("24h", now) == datetime(2026, 3, 9, 15, tzinfo=UTC)
    assert rollups.window_start("7d", now) == datetime(2026, 3, 3, 15, tzinfo=UTC)
    assert rollups.window_start("30d", now) == datetime(2026, 2, 9, tzinfo=UTC)
    assert rollups.window_start("90d", now) == datetime(2025, 12, 11, tzinfo=UTC)


def test_p95_is_within_a_tenth_of_the_exact_figure_for_any_spread():
    rng = random.Random(11)
    for times in (
        [rng.randint(0, 5) for _ in range(50)],
        [int(rng.lognormvariate(6, 2)) for _ in range(1_000)],
        [rng.choice((80, 81, 5_000)) for _ in range(200)],
        [rng.randint(40_000, 90_000) for _ in range(30)],
        [123],
    ):
        figures = rollups.Figures(
            response_time_min_ms=min(times), response_time_max_ms=max(times), histogram=[0] * rollup_counts.BUCKETS
        )
        for ms in times:
            figures.histogram[rollup_counts.bucket_of(ms)] += 1
        ordered = sorted(times)
        rank = 0.95 * (len(ordered) - 1)
        below = int(rank)
        exact = ordered[below] + (rank - below) * (ordered[min(below + 1, len(ordered) - 1)] - ordered[below])
        assert abs(figures.response_time_percentile_ms(0.95) - exact) <= 0.1 * exact + 1e-9, times[:5]


def test_a_redelivered_check_counts_once(alice_client, shop):
    slot = datetime.now(UTC).replace(microsecond=0)
    assert record(shop, "india", slot, up=False) is not None
    # The second delivery of the same slot writes nothing, whatever it found.
    assert record(shop, "india", slot, up=True) is None
    body = alice_client.get(f"/api/monitors/{shop.pk}/uptime/").json()
    assert (body["checks"], body["uptime_percent"]) == (1, 0.0)
    assert HourlyRollup.objects.get().checks == DailyRollup.objects.get().checks == 1


def test_figures_outlive_the_ticks_and_rollups_have_their_own_retention(alice_client, shop, settings):
    settings.TICK_RETENTION_DAYS = 1
    settings.ROLLUP_HOURLY_RETENTION_DAYS = 8
    settings.ROLLUP_DAILY_RETENTION_DAYS = 91
    now = datetime.now(UTC)
    for days_ago, up in ((0, True), (3, True), (10, False), (60, True), (95, True)):
        record(shop, "india", now - timedelta(days=days_ago), up=up)

    assert prune_ticks.apply().get() == 4
    assert Tick.objects.count() == 1

    def figures(window):
        body = alice_client.get(f"/api/monitors/{shop.pk}/uptime/", {"window": window}).json()
        return body["checks"], body["uptime_percent"]

    assert figures("7d") == (2, 100.0)  # from hourly rollups, their ticks gone
    assert figures("90d") == (4, 75.0)  # from daily rollups
    assert not HourlyRollup.objects.filter(hour__lt=now - timedelta(days=8)).exists()
    assert HourlyRollup.objects.count() == 2
    assert sorted(DailyRollup.objects.values_list("checks", flat=True)) == [1, 1, 1, 1]

    settings.ROLLUP_DAILY_RETENTION_DAYS = 0  # forever
    record(shop, "india", now - timedelta(days=400))
    prune_ticks.apply()
    assert DailyRollup.objects.count() == 5


def rollup_rows() -> dict:
    rows = {}
    for model, period in ((HourlyRollup, "hour"), (DailyRollup, "day")):
        for row in model.objects.values():
            key = (model.__name__, row.pop("monitor_id"), row.pop("region_id"), row.pop(period))
            row.pop("id")
            rows[key] = row
    return rows


def test_a_rebuild_gives_the_rollups_the_writes_gave(alice, shop):
    other = make_monitor(alice, "https://other.example/", regions=("usa",))
    starts_at = datetime.now(UTC) - timedelta(days=2)
    create_window(personal(alice), [shop], name="upgrade", starts_at=starts_at, ends_at=starts_at + timedelta(hours=3))
    rng = random.Random(3)
    now = datetime.now(UTC).replace(microsecond=0)
    for n in range(200):
        slot = now - timedelta(minutes=37 * n)
        record(shop, rng.choice(("india", "usa")), slot, rng.random() > 0.1, rng.randint(1, 70_000))
        record(other, "usa", slot, rng.random() > 0.3, None if rng.random() < 0.1 else rng.randint(5, 900))
    written = rollup_rows()
    assert len(written) > 150

    # Lost or wrong rollups are put right by the rebuild.
    HourlyRollup.objects.filter(monitor=shop).delete()
    DailyRollup.objects.update(checks=0)
    call_command("rebuild_rollups", "--all", stdout=SimpleNamespace(write=lambda text: None))
    assert rollup_rows() == written

    # The migration that introduced rollups builds them the same way from existing ticks.
    HourlyRollup.objects.all().delete()
    DailyRollup.objects.all().delete()
    migration = importlib.import_module("checks.migrations.0007_build_rollups")
    migration.build_rollups(None, SimpleNamespace(connection=connection))
    assert rollup_rows() == written


def test_a_rebuild_from_a_day_leaves_older_rollups_alone(alice, shop, settings):
    settings.TICK_RETENTION_DAYS = 2
    now = datetime.now(UTC)
    record(shop, "india", now - timedelta(days=30))
    record(shop, "india", now)
    Tick.objects.filter(scheduled_at__lt=now - timedelta(days=1)).delete()  # pruned
    call_command("rebuild_rollups", stdout=SimpleNamespace(write=lambda text: None))
    assert DailyRollup.objects.count() == 2
    body = client_for(alice).get(f"/api/monitors/{shop.pk}/uptime/", {"window": "90d"}).json()
    assert body["checks"] == 2


def test_the_monitor_list_shows_24h_uptime_in_one_query_for_the_page(alice, alice_client, bob, shop):
    now = datetime.now(UTC)
    for minutes, up in ((1, True), (2, True), (3, True), (4, False)):
        record(shop, "india", now - timedelta(minutes=minutes), up=up)
    record(shop, "usa", now - timedelta(hours=30), up=False)  # outside the window
    quiet = make_monitor(alice, "https://quiet.example/")
    bobs = make_monitor(bob, "https://bob.example/")
    record(bobs, "india", now, up=False)

    listed = {m["name"]: m["uptime_24h_percent"] for m in alice_client.get("/api/monitors/").json()["results"]}
    assert listed == {"shop": 75.0, "site": None}
    assert alice_client.get(f"/api/monitors/{shop.pk}/").json()["uptime_24h_percent"] == 75.0
    assert alice_client.patch(f"/api/monitors/{quiet.pk}/", {"name": "q"}).json()["uptime_24h_percent"] is None

    def list_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert alice_client.get("/api/monitors/").status_code == 200
        return len(queries)

    before = list_queries()
    for n in range(5):
        monitor = make_monitor(alice, f"https://more{n}.example/")
        make_tick(monitor, "india", now)
    assert list_queries() == before


def test_the_admin_sorts_monitors_by_24h_uptime(alice, client, shop):
    User.objects.create_superuser(email="root@example.com", password=PASSWORD)
    client.login(email="root@example.com", password=PASSWORD)
    now = datetime.now(UTC)
    record(shop, "india", now, up=True)
    record(shop, "india", now - timedelta(minutes=1), up=False)
    make_monitor(alice, "https://never.example/", name="never checked")
    column = MonitorAdmin.list_display.index("uptime_24h") + 1  # the admin's 1-based sort index
    page = client.get(reverse("admin:monitors_monitor_changelist"), {"o": str(column)})
    assert page.status_code == 200
    text = page.content.decode()
    assert "50.00%" in text
    assert text.index("50.00%") < text.index("never checked")
