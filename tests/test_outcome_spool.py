"""Checks spool their outcomes in Redis and the outcome writer records them in batches:
nothing is written before the writer runs, everything after, each slot once; a worker
checks from the monitor settings it keeps in memory, and goes on when the database is away."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import OperationalError, connection, transaction

from checks.models import HourlyRollup, Tick
from checks.outcomes import spool
from checks.outcomes.recording import record_outcomes
from checks.outcomes.writer import OutcomeWriter, write_spooled
from checks.tasks import run_check, run_checks
from checks.worker.monitor_cache import monitor_cache
from monitors.models import Monitor
from monitors.services import delete_monitor, pause_monitor, update_monitor
from probe.target import CheckOutcome, ProbeResult
from tests.factories import make_monitor
from uptime.redis_clients import shared_client


def send(monitor, slot, region="india") -> str:
    return run_check.apply(kwargs={"monitor_id": monitor.pk, "region": region, "scheduled_at": slot.isoformat()}).get()


def outcome(slot, up=True, ms=120) -> CheckOutcome:
    result = ProbeResult(up, slot, 200 if up else 500, ms, "" if up else "unexpected status 500")
    return CheckOutcome(result, 1, slot)


@pytest.fixture
def spooled(broker):
    spool.ensure_group(broker)
    return broker


def test_a_check_is_spooled_and_recorded_only_by_the_writer(alice, target, slot, spooled, anon_client):
    monitor = make_monitor(alice, target.url("/ok"))
    assert send(monitor, slot) == "up"
    assert not Tick.objects.exists()
    assert spool.backlog(spooled) == 1
    assert anon_client.get("/api/health/").json()["outcomes_waiting"] == 1

    assert write_spooled() == 1
    tick = Tick.objects.get(monitor=monitor)
    assert (tick.status, tick.scheduled_at, tick.status_code) == ("up", slot, 200)
    monitor.refresh_from_db()
    assert (monitor.status, monitor.last_checked_at) == (Monitor.Status.UP, tick.checked_at)
    assert HourlyRollup.objects.get(monitor=monitor).checks == 1
    assert anon_client.get("/api/health/").json()["outcomes_waiting"] == 0


def test_a_batch_writes_each_slot_once_and_counts_it_once(alice, slot, spooled):
    monitors = [make_monitor(alice, f"https://example.com/{n}") for n in range(3)]
    slots = [
        spool.SlotOutcome(monitor.pk, "india", slot + timedelta(minutes=minute), outcome(slot, up=minute != 1))
        for monitor in monitors
        for minute in range(3)
    ]
    # The same slot twice in the batch, and again in a later batch (a redelivered check).
    assert len(record_outcomes([*slots, slots[0]])) == 9
    assert record_outcomes(slots[:2]) == []

    assert Tick.objects.count() == 9
    rollups = HourlyRollup.objects.filter(monitor=monitors[0])
    assert sum(row.checks for row in rollups) == 3
    assert sum(row.up for row in rollups) == 2
    assert sum(row.response_time_sum_ms for row in rollups) == 240
    assert sum(sum(row.response_time_histogram) for row in rollups) == 2


def test_outcomes_of_deleted_monitors_are_dropped_and_the_rest_written(alice, slot, spooled):
    kept = make_monitor(alice, "https://example.com/kept")
    gone = make_monitor(alice, "https://example.com/gone")
    for monitor in (kept, gone):
        spool.spool(spooled, [(spool.SlotOutcome(monitor.pk, "india", slot, outcome(slot)), 60)])
    delete_monitor(gone)

    assert write_spooled() == 2
    assert list(Tick.objects.values_list("monitor_id", flat=True)) == [kept.pk]
    assert spool.backlog(spooled) == 0


def test_a_writer_that_died_leaves_its_batch_pending_for_another(alice, slot, spooled):
    monitor = make_monitor(alice, "https://example.com/")
    spool.spool(spooled, [(spool.SlotOutcome(monitor.pk, "india", slot, outcome(slot)), 60)])
    # The first writer takes the entry and dies before writing it.
    assert len(spool.take(spooled, "dead-writer", 10, None)) == 1
    assert write_spooled() == 0  # not new, and not this writer's

    survivor = OutcomeWriter(shared_client(), "survivor")
    assert spool.claim_stalled(spooled, "survivor", min_idle_ms=0) == 1
    assert survivor.write_batch(wait_ms=None) == 1
    assert Tick.objects.filter(monitor=monitor).count() == 1
    assert spool.backlog(spooled) == 0


def test_a_redelivered_check_of_a_spooled_slot_is_skipped(alice, target, slot, spooled):
    monitor = make_monitor(alice, target.url("/ok"))
    assert send(monitor, slot) == "up"
    assert send(monitor, slot) == "skipped"
    assert target.hits["/ok"] == 1
    assert write_spooled() == 1


def test_a_bundles_checks_run_side_by_side_each_for_its_own_slot(alice, target, slot, spooled):
    monitors = [make_monitor(alice, target.url(f"/slow?seconds=1&n={n}"), timeout_seconds=5) for n in range(4)]
    pairs = [[monitor.pk, (slot + timedelta(seconds=n)).isoformat()] for n, monitor in enumerate(monitors)]
    started = time.monotonic()
    assert run_checks.apply(args=["india", pairs]).get() == {"up": 4, "down": 0, "skipped": 0}
    # Four one-second sites one after another would take four seconds.
    assert time.monotonic() - started < 2.5
    assert write_spooled() == 4
    ticks = {tick.monitor_id: tick.scheduled_at.isoformat() for tick in Tick.objects.all()}
    assert ticks == {monitor_id: at for monitor_id, at in pairs}


def test_a_bundle_skips_what_is_paused_or_checked_and_checks_the_rest_once(alice, target, slot, spooled):
    checked, paused, fresh = (make_monitor(alice, target.url(f"/ok?n={n}")) for n in range(3))
    assert send(checked, slot) == "up"
    pause_monitor(paused)
    pairs = [[m.pk, slot.isoformat()] for m in (checked, paused, fresh, fresh)]  # fresh twice
    assert run_checks.apply(args=["india", pairs]).get() == {"up": 2, "down": 0, "skipped": 2}
    assert target.hits["/ok"] == 2  # the first send, and fresh once
    assert write_spooled() == 2
    assert sorted(Tick.objects.values_list("monitor_id", flat=True)) == sorted([checked.pk, fresh.pk])


def test_workers_see_edits_within_the_refresh_period(alice, target, slot, settings, spooled):
    settings.MONITOR_REFRESH_SECONDS = 3600  # only the first read, for this test
    monitor = make_monitor(alice, target.url("/ok"))
    assert send(monitor, slot) == "up"
    update_monitor(monitor, url=target.url("/status/500"))
    assert send(monitor, slot + timedelta(minutes=1)) == "up"  # still the settings read before

    settings.MONITOR_REFRESH_SECONDS = 0
    assert send(monitor, slot + timedelta(minutes=2)) == "down"
    update_monitor(monitor, is_active=False)
    assert send(monitor, slot + timedelta(minutes=3)) == "skipped"


# serialized_rollback: the regions are seed data, and a transactional test's flush removes them.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_checks_go_on_from_memory_while_the_database_is_away(alice, target, slot, settings, spooled, caplog):
    monitor = make_monitor(alice, target.url("/ok"))
    assert send(monitor, slot) == "up"  # the worker has read its monitors

    # The monitors table held by another connection, and this one giving up after 0.2 s:
    # the monitor cache's read fails as it would with PostgreSQL gone.
    locked, release = threading.Event(), threading.Event()

    def hold_the_table():
        with transaction.atomic():
            connection.cursor().execute("LOCK TABLE monitors_monitor IN ACCESS EXCLUSIVE MODE")
            locked.set()
            release.wait(30)
        connection.close()

    holder = threading.Thread(target=hold_the_table)
    holder.start()
    try:
        assert locked.wait(10)
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 200")
        assert send(monitor, slot + timedelta(minutes=1)) == "up"
        assert "checking with those read before" in caplog.text
        assert spool.backlog(spooled) == 2
        with pytest.raises(OperationalError):
            write_spooled()  # the writer cannot either: the outcomes wait in Redis
        assert spool.backlog(spooled) == 2
    finally:
        release.set()
        holder.join()
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 0")
    assert write_spooled() == 2
    assert Tick.objects.filter(monitor=monitor).count() == 2
    monitor_cache.__init__()  # the process's cache, emptied as in a new worker


def test_health_counts_the_writers_that_read_the_spool_lately(alice, slot, spooled, anon_client, monkeypatch):
    from checks.figures import health

    monitor = make_monitor(alice, "https://example.com/")
    spool.spool(spooled, [(spool.SlotOutcome(monitor.pk, "india", slot, outcome(slot)), 60)])
    report = anon_client.get("/api/health/").json()
    assert (report["outcomes_waiting"], report["outcome_writers"], report["writing_stalled"]) == (1, 0, True)

    assert OutcomeWriter(shared_client(), "writer-1").write_batch(wait_ms=None) == 1
    later = slot + timedelta(minutes=1)
    spool.spool(spooled, [(spool.SlotOutcome(monitor.pk, "india", later, outcome(later)), 60)])
    report = anon_client.get("/api/health/").json()
    assert (report["outcomes_waiting"], report["outcome_writers"], report["writing_stalled"]) == (1, 1, False)

    # A writer that stopped reading (it died) is no longer counted once it has aged out.
    monkeypatch.setattr(health, "WRITER_SEEN_WITHIN_SECONDS", 0)
    report = anon_client.get("/api/health/").json()
    assert (report["outcome_writers"], report["writing_stalled"]) == (0, True)
