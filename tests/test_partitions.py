"""Ticks in day partitions: made ahead, a tick never refused for its date, one tick per slot
across partitions, and retention dropping whole days."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from checks.models import Tick
from checks.outcomes import partitions
from checks.outcomes.recording import record_outcomes, record_tick
from checks.outcomes.spool import SlotOutcome
from checks.tasks import create_tick_partitions, prune_ticks
from monitors.models import Region
from probe.target import CheckOutcome, ProbeResult
from tests.factories import make_monitor


def outcome(slot: datetime, up: bool = True) -> CheckOutcome:
    result = ProbeResult(is_up=up, started_at=slot, status_code=200 if up else 500, response_time_ms=80)
    return CheckOutcome(result, 1, slot)


def record(monitor, slot: datetime, region: str = "india", up: bool = True) -> Tick | None:
    return record_tick(monitor, Region.objects.get(slug=region), slot, outcome(slot, up))


def stored_in(tick_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM checks_tick WHERE id = %s", [tick_id])
        return cursor.fetchone()[0]


def checks_done() -> None:
    """Run the foreign key checks PostgreSQL defers to the commit, as the commit of the
    transaction that wrote the ticks would: a table with checks pending cannot be dropped,
    and a test's transaction never commits."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def day_partitions() -> dict:
    with connection.cursor() as cursor:
        return partitions.day_partitions(cursor)


@pytest.fixture
def site(alice):
    return make_monitor(alice, "https://site.example/", regions=("india", "usa"))


def test_partitions_are_made_days_ahead_once(db):
    today = datetime.now(UTC).date()
    create_tick_partitions.apply()
    assert create_tick_partitions.apply().get() == []
    days = day_partitions()
    assert all(today + timedelta(days=n) in days for n in range(partitions.DAYS_AHEAD + 1))


def test_a_tick_of_any_date_is_stored(site):
    for slot in (datetime(2001, 2, 3, 4, 5, tzinfo=UTC), datetime.now(UTC), datetime(2199, 1, 1, tzinfo=UTC)):
        tick = record(site, slot)
        assert Tick.objects.get(pk=tick.pk).scheduled_at == slot
    assert stored_in(Tick.objects.get(scheduled_at__year=2001).pk) == partitions.DEFAULT_PARTITION
    today = partitions.partition_name(datetime.now(UTC).date())
    assert stored_in(Tick.objects.filter(scheduled_at__year=datetime.now(UTC).year).latest("scheduled_at").pk) in (
        today,
        partitions.partition_name(datetime.now(UTC).date() + timedelta(days=1)),  # past midnight meanwhile
    )


def test_making_a_days_partition_moves_its_ticks_and_keeps_the_slot_rule(site):
    day = datetime(2030, 6, 1, tzinfo=UTC)
    last_slot, first_next = day + timedelta(hours=23, minutes=59), day + timedelta(days=1)
    kept = record(site, last_slot)
    assert stored_in(kept.pk) == partitions.DEFAULT_PARTITION

    assert partitions.create_partitions(day.date(), first_next.date()) == [
        "checks_tick_p20300601",
        "checks_tick_p20300602",
    ]
    assert stored_in(kept.pk) == "checks_tick_p20300601"
    assert Tick.objects.get(pk=kept.pk).scheduled_at == last_slot

    # A redelivered slot writes nothing, in the partition its tick moved to; the slot
    # just after midnight is another partition's, and both regions have their own tick.
    assert record(site, last_slot) is None
    written = record_outcomes(
        [
            SlotOutcome(site.pk, "india", last_slot, outcome(last_slot)),
            SlotOutcome(site.pk, "india", first_next, outcome(first_next)),
            SlotOutcome(site.pk, "usa", last_slot, outcome(last_slot)),
        ]
    )
    assert sorted((t.region_id, t.scheduled_at) for t in written) == sorted(
        [(Region.objects.get(slug="india").pk, first_next), (Region.objects.get(slug="usa").pk, last_slot)]
    )
    assert record_outcomes([SlotOutcome(site.pk, "india", first_next, outcome(first_next))]) == []
    assert Tick.objects.filter(monitor=site).count() == 3
    assert stored_in(Tick.objects.get(scheduled_at=first_next).pk) == "checks_tick_p20300602"


def test_retention_drops_the_partitions_of_old_days_and_deletes_old_ticks_elsewhere(site, settings):
    settings.TICK_RETENTION_DAYS = 30
    today = datetime.now(UTC).date()
    old_days = [today - timedelta(days=n) for n in (33, 32, 31)]
    partitions.create_partitions(old_days[0], old_days[-1])
    for day in old_days:
        for hour in (0, 12, 23):
            record(site, partitions.day_start(day) + timedelta(hours=hour))
    record(site, datetime.now(UTC) - timedelta(days=400))  # in the default partition
    recent = record(site, datetime.now(UTC) - timedelta(days=29))
    now = record(site, datetime.now(UTC))
    checks_done()

    assert prune_ticks.apply().get() == 10
    days = day_partitions()
    assert not any(day in days for day in old_days)
    assert today in days
    assert sorted(Tick.objects.values_list("pk", flat=True)) == sorted([recent.pk, now.pk])
    assert prune_ticks.apply().get() == 0


def test_a_day_holding_the_cutoff_is_kept_until_it_is_wholly_old(site, settings):
    settings.TICK_RETENTION_DAYS = 30
    cutoff = datetime.now(UTC) - timedelta(days=30)
    partitions.create_partitions(cutoff.date(), cutoff.date())
    day_start = partitions.day_start(cutoff.date())
    if cutoff - day_start < timedelta(minutes=1):
        pytest.skip("the cutoff is at midnight")
    record(site, day_start)  # older than the cutoff, in the cutoff's day
    checks_done()
    assert prune_ticks.apply().get() == 0
    assert cutoff.date() in day_partitions()
    assert Tick.objects.count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_making_the_same_partition_make_it_once():
    day = datetime(2091, 3, 4, tzinfo=UTC).date()
    made, errors = [], []
    start = threading.Barrier(2)

    def make():
        try:
            start.wait()
            made.append(partitions.create_partitions(day, day))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=make) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert sorted(made) == [[], [partitions.partition_name(day)]]
        assert day in day_partitions()
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {partitions.partition_name(day)}")
