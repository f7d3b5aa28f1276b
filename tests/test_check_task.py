"""The check task through Celery's own call path, with the real database and real targets."""

from datetime import UTC, datetime, timedelta

from checks.models import Tick
from checks.outcomes.writer import write_spooled
from checks.tasks import run_check
from monitors.models import Monitor
from monitors.services import delete_monitor, pause_monitor
from tests.factories import make_monitor


def run(monitor, slot, region="india"):
    kwargs = {"monitor_id": monitor.pk, "region": region, "scheduled_at": slot.isoformat()}
    status = run_check.apply(kwargs=kwargs).get()
    write_spooled()
    return status


def test_up_site_writes_an_up_tick_and_moves_the_monitor(alice, target, slot):
    monitor = make_monitor(alice, target.url("/ok"))
    assert run(monitor, slot) == "up"
    tick = Tick.objects.get(monitor=monitor)
    assert (tick.status, tick.status_code, tick.attempts, tick.region.slug) == ("up", 200, 1, "india")
    assert tick.scheduled_at == slot
    assert tick.response_time_ms is not None
    monitor.refresh_from_db()
    assert monitor.status == Monitor.Status.UP
    assert monitor.last_checked_at == tick.checked_at


def test_500_writes_a_down_tick_with_the_reason(alice, target, slot):
    monitor = make_monitor(alice, target.url("/status/500"), retries=1, retry_interval_seconds=1)
    assert run(monitor, slot) == "down"
    tick = Tick.objects.get(monitor=monitor)
    assert (tick.status, tick.status_code, tick.error, tick.attempts) == ("down", 500, "unexpected status 500", 2)
    monitor.refresh_from_db()
    assert monitor.status == Monitor.Status.DOWN


def test_timeout_and_refused_are_down_with_their_reason(alice, target, closed_port, slot):
    slow = make_monitor(alice, target.url("/slow?seconds=3"), timeout_seconds=1)
    refused = make_monitor(alice, f"http://127.0.0.1:{closed_port}/")
    run(slow, slot)
    run(refused, slot)
    assert Tick.objects.get(monitor=slow).error.startswith("timeout")
    assert Tick.objects.get(monitor=refused).error.startswith("refused")


def test_flaky_site_is_up_after_one_retry(alice, target, slot):
    monitor = make_monitor(alice, target.url("/flaky/x?failures=1"), retries=2, retry_interval_seconds=1)
    assert run(monitor, slot) == "up"
    tick = Tick.objects.get(monitor=monitor)
    assert (tick.status, tick.attempts) == ("up", 2)


def test_the_same_slot_delivered_twice_writes_one_tick_and_hits_once(alice, target, slot):
    monitor = make_monitor(alice, target.url("/ok"))
    assert run(monitor, slot) == "up"
    assert run(monitor, slot) == "skipped"
    assert Tick.objects.filter(monitor=monitor).count() == 1
    assert target.hits["/ok"] == 1


def test_next_slot_writes_its_own_tick(alice, target, slot):
    monitor = make_monitor(alice, target.url("/ok"))
    run(monitor, slot)
    run(monitor, slot + timedelta(seconds=60))
    assert list(Tick.objects.filter(monitor=monitor).values_list("scheduled_at", flat=True)) == [
        slot + timedelta(seconds=60),
        slot,
    ]


def test_an_older_slot_finishing_late_does_not_overwrite_a_newer_status(alice, target, slot):
    monitor = make_monitor(alice, target.url("/ok"))
    run(monitor, slot + timedelta(seconds=60))
    Monitor.objects.filter(pk=monitor.pk).update(url=target.url("/status/500"))
    # The late one began earlier than the newest result: only the tick is kept.
    Monitor.objects.filter(pk=monitor.pk).update(last_checked_at=datetime(2100, 1, 1, tzinfo=UTC))
    run(monitor, slot)
    monitor.refresh_from_db()
    assert monitor.status == Monitor.Status.UP
    assert Tick.objects.filter(monitor=monitor).count() == 2


def test_paused_deleted_or_other_region_monitors_are_not_checked(alice, target, slot):
    paused = make_monitor(alice, target.url("/ok"))
    pause_monitor(paused)
    gone = make_monitor(alice, target.url("/ok"))
    gone_id = gone.pk
    delete_monitor(gone)
    usa_only = make_monitor(alice, target.url("/ok"), regions=("usa",))

    assert run(paused, slot) == "skipped"
    assert run_check.apply(kwargs={"monitor_id": gone_id, "region": "india"}).get() == "skipped"
    assert run(usa_only, slot, region="india") == "skipped"
    assert target.hits["/ok"] == 0
    assert not Tick.objects.exists()
    paused.refresh_from_db()
    assert paused.status == Monitor.Status.PAUSED


def test_retention_deletes_only_ticks_older_than_the_setting(alice, target, settings, slot):
    from checks.tasks import prune_ticks

    settings.TICK_RETENTION_DAYS = 90
    monitor = make_monitor(alice, target.url("/ok"))
    for days_ago in (0, 89, 91, 400):
        run(monitor, slot - timedelta(days=days_ago))
    assert prune_ticks.apply().get() == 2
    kept = sorted((slot - t).days for t in Tick.objects.values_list("scheduled_at", flat=True))
    assert kept == [0, 89]
