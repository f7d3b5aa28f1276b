"""Monitors keep exactly one beat entry per region in step, and beat stamps each check's slot."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django_celery_beat.models import PeriodicTask

from checks.scheduler import SlotScheduler
from monitors.models import Region
from monitors.services import delete_monitor, pause_monitor, resume_monitor, update_monitor
from tests.conftest import queued_checks
from tests.factories import make_monitor
from uptime.celery import app


def entries(monitor) -> dict[str, PeriodicTask]:
    return {
        task.queue: task for task in PeriodicTask.objects.filter(name__startswith=f"check monitor {monitor.pk} in ")
    }


def test_create_makes_one_entry_per_region_routed_to_its_queue(alice):
    monitor = make_monitor(alice, "https://example.com/", regions=("india", "usa"), interval_seconds=120)
    tasks = entries(monitor)
    assert set(tasks) == {"india", "usa"}
    for slug, task in tasks.items():
        assert task.task == "checks.run_check"
        assert (task.routing_key, task.exchange) == (slug, slug)
        assert json.loads(task.kwargs) == {"monitor_id": monitor.pk, "region": slug}
        assert task.interval.every == 120
        assert task.interval.period == "seconds"
        assert task.expire_seconds == 120
        assert task.enabled


def test_editing_interval_and_regions_keeps_entries_exact(alice):
    monitor = make_monitor(alice, "https://example.com/", regions=("india", "usa"), interval_seconds=120)
    update_monitor(monitor, Region.objects.filter(slug__in=["usa", "europe"]), interval_seconds=300)
    tasks = entries(monitor)
    assert set(tasks) == {"usa", "europe"}
    assert {task.interval.every for task in tasks.values()} == {300}
    assert {task.expire_seconds for task in tasks.values()} == {300}
    assert PeriodicTask.objects.filter(name__startswith=f"check monitor {monitor.pk} ").count() == 2


def test_pause_disables_and_resume_enables(alice):
    monitor = make_monitor(alice, "https://example.com/", regions=("india", "usa"))
    pause_monitor(monitor)
    assert {task.enabled for task in entries(monitor).values()} == {False}
    monitor.refresh_from_db()
    assert monitor.status == "paused"
    resume_monitor(monitor)
    assert {task.enabled for task in entries(monitor).values()} == {True}
    monitor.refresh_from_db()
    assert monitor.status == "pending"


def test_delete_removes_every_entry(alice):
    monitor = make_monitor(alice, "https://example.com/", regions=("india", "usa"))
    delete_monitor(monitor)
    assert not PeriodicTask.objects.filter(name__startswith="check monitor ").exists()


def test_first_check_is_dispatched_on_create_to_each_region_queue(alice, broker, django_capture_on_commit_callbacks):
    before = datetime.now(UTC)
    with django_capture_on_commit_callbacks(execute=True):
        monitor = make_monitor(alice, "https://example.com/", regions=("india", "usa"))
    for slug in ("india", "usa"):
        [message] = queued_checks(broker, slug)
        assert message["task"] == "checks.run_check"
        assert message["kwargs"]["monitor_id"] == monitor.pk
        assert message["kwargs"]["region"] == slug
        assert datetime.fromisoformat(message["kwargs"]["scheduled_at"]) >= before
        assert message["headers"]["expires"] is not None
    assert queued_checks(broker, "europe") == []


def test_nothing_is_dispatched_when_the_transaction_rolls_back(alice, broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        make_monitor(alice, "https://example.com/")
    assert len(callbacks) == 1  # only ever sent from on_commit
    assert queued_checks(broker, "india") == []


# The scheduler closes connections it finds inside a transaction, as beat would. The
# rollback restores the seeded regions that a transactional test's flush would remove.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_beat_sends_a_due_check_stamped_with_its_slot(alice, broker):
    monitor = make_monitor(alice, "https://example.com/", regions=("india",), interval_seconds=60)
    last_run = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=61)
    PeriodicTask.objects.filter(name__startswith=f"check monitor {monitor.pk} ").update(last_run_at=last_run)
    broker.delete("india")  # the check sent on creation; this test is about beat's

    scheduler = SlotScheduler(app=app)
    for _ in range(50):  # one due entry per tick; the static housekeeping entry is not due
        if queued_checks(broker, "india"):
            break
        scheduler.tick()
    [message] = queued_checks(broker, "india")
    assert message["kwargs"] == {
        "monitor_id": monitor.pk,
        "region": "india",
        "scheduled_at": (last_run + timedelta(seconds=60)).isoformat(),
    }
    # The stamp belongs to that one message, not to the entry.
    assert "scheduled_at" not in scheduler.schedule[f"check monitor {monitor.pk} in india"].kwargs
