"""A monitor's day totals (all regions added, what a status page's uptime bars read) are its
daily rollups summed over regions: as the outcome writer records ticks, after a rebuild,
and after retention, which prunes both alike."""

import random
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Sum

from checks.figures.series import days_of
from checks.models import DailyRollup, DayTotal
from checks.outcomes import spool
from checks.outcomes.rollup_counts import BUCKETS
from checks.outcomes.writer import write_spooled
from checks.tasks import prune_ticks
from monitors.maintenance import create_window
from monitors.services import delete_monitor
from probe.target import CheckOutcome, ProbeResult
from tests.factories import make_monitor, personal


def outcome(slot: datetime, up: bool, ms: int) -> CheckOutcome:
    result = ProbeResult(up, slot, 200 if up else 500, ms if up else None, "" if up else "unexpected status 500")
    return CheckOutcome(result, 1, slot)


def spool_checks(client, slots: list[tuple]) -> None:
    """Spool (monitor, region, slot, up) checks as region workers do, for the writer."""
    spool.spool(
        client,
        [(spool.SlotOutcome(m.pk, region, at, outcome(at, up, 100 + at.minute)), 60) for m, region, at, up in slots],
    )


def daily_sums() -> dict[tuple, tuple]:
    rows = DailyRollup.objects.values("monitor", "day").annotate(
        checks_=Sum("checks"), up_=Sum("up"), maintenance=Sum("maintenance_checks")
    )
    return {(r["monitor"], r["day"]): (r["checks_"], r["up_"], r["maintenance"]) for r in rows}


def day_totals() -> dict[tuple, tuple]:
    rows = DayTotal.objects.values_list("monitor", "day", "checks", "up", "maintenance_checks")
    return {(monitor, day): (checks, up, maintenance) for monitor, day, checks, up, maintenance in rows}


@pytest.fixture
def spooled(broker):
    spool.ensure_group(broker)
    return broker


def test_the_day_totals_are_the_daily_rollups_added_over_regions(alice, spooled):
    shop = make_monitor(alice, "https://shop.example/", regions=("india", "usa", "europe"), name="shop")
    api = make_monitor(alice, "https://api.example/", regions=("usa",), name="api")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    window_start = now - timedelta(days=2, hours=3)
    create_window(
        personal(alice), [shop], name="upgrade", starts_at=window_start, ends_at=window_start + timedelta(hours=2)
    )
    rng = random.Random(5)
    sent = [
        (monitor, region, now - timedelta(minutes=17 * n), rng.random() > 0.2)
        for n in range(300)  # about three and a half days
        for monitor, region in ((shop, "india"), (shop, "usa"), (shop, "europe"), (api, "usa"))
        if rng.random() < 0.7
    ]
    # Spooled in batches of every size the writer meets: a day's rows of several regions
    # arrive in one batch and in many.
    for start in range(0, len(sent), 137):
        spool_checks(spooled, sent[start : start + 137])
        write_spooled(batch_size=50)

    totals = day_totals()
    assert totals == daily_sums()
    assert len(totals) >= 8  # both monitors, four or five days each
    assert sum(checks for checks, _, _ in totals.values()) + sum(m for _, _, m in totals.values()) == len(sent)
    assert any(maintenance for _, _, maintenance in totals.values())
    assert any(up < checks for checks, up, _ in totals.values())

    # The status page's bars read them: today last, each day its regions added.
    found = days_of([shop.pk, api.pk], 5, now)
    for monitor in (shop, api):
        counts = found[monitor.pk]
        for position in range(counts.days):
            day = counts.day(position)
            expected = totals.get((monitor.pk, day), (0, 0, 0))
            assert (counts.checks[position], counts.up[position], counts.maintenance_checks[position]) == expected

    # Lost or wrong totals are put right by rebuild_rollups.
    DayTotal.objects.filter(monitor=shop).delete()
    DayTotal.objects.filter(monitor=api).update(checks=0, up=0)
    call_command("rebuild_rollups", "--all", stdout=SimpleNamespace(write=lambda text: None))
    assert day_totals() == totals


def test_retention_prunes_the_day_totals_with_the_daily_rollups(alice, spooled, settings):
    settings.ROLLUP_DAILY_RETENTION_DAYS = 91
    shop = make_monitor(alice, "https://shop.example/", regions=("india", "usa"), name="shop")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    ages = (0, 1, 90, 95, 120)
    spool_checks(
        spooled, [(shop, region, now - timedelta(days=days), True) for days in ages for region in ("india", "usa")]
    )
    write_spooled()
    assert len(day_totals()) == len(ages)

    prune_ticks.apply()

    kept = {(now - timedelta(days=days)).date() for days in (0, 1, 90)}
    assert {day for _, day in day_totals()} == kept
    assert set(day_totals()) == set(daily_sums())
    # A deleted monitor takes its totals with it.
    delete_monitor(shop)
    assert not DayTotal.objects.exists()


def test_the_migration_fills_the_day_totals_from_the_daily_rollups(alice, india, usa):
    executor = MigrationExecutor(connection)
    executor.migrate([("checks", "0009_region_impairment")])
    shop = make_monitor(alice, "https://shop.example/", regions=("india", "usa"))
    today = datetime.now(UTC).date()
    DailyRollup.objects.bulk_create(
        DailyRollup(
            monitor=shop,
            region=region,
            day=today - timedelta(days=days),
            checks=1440 - days,
            up=1400 - days - (region == usa),
            maintenance_checks=days,
            response_time_histogram=[0] * BUCKETS,
        )
        for days in range(3)
        for region in (india, usa)
    )
    before = daily_sums()

    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert day_totals() == before
    assert before[(shop.pk, today)] == (2880, 2799, 0)
