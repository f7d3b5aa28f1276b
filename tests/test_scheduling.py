"""Monitors keep exactly one beat entry per region in step, and beat stamps each check's slot."""

import base64
import copy
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django_celery_beat.models import PeriodicTask

from checks.beat.message import broker_client
from checks.beat.scheduler import SlotScheduler
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
    scheduler.close()


def make_due(monitor, seconds_ago: int = 1) -> datetime:
    """Make the monitor's entries fall due `seconds_ago`; return that slot."""
    slot = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=seconds_ago)
    PeriodicTask.objects.filter(name__startswith=f"check monitor {monitor.pk} ").update(
        last_run_at=slot - timedelta(seconds=monitor.interval_seconds)
    )
    return slot


def beat_until(scheduler, done, seconds: float = 1.0) -> float:
    """Run beat's loop until `done()`, at most `seconds`; return how long it took."""
    started = time.monotonic()
    while not done():
        assert time.monotonic() - started < seconds, "beat did not get there in time"
        delay = scheduler.tick()
        time.sleep(min(delay, 0.05))
    return time.monotonic() - started


@pytest.fixture
def leading_beat(broker, monkeypatch):
    """A beat that has read its schedule and leads; reading all of it again fails the test."""
    scheduler = SlotScheduler(app=app)
    scheduler.tick()

    def read_all():
        raise AssertionError("the whole schedule was read again")

    monkeypatch.setattr(scheduler, "_read_all", read_all)
    yield scheduler
    scheduler.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_edits_reach_a_running_beat_within_a_second_without_rereading_the_schedule(alice, broker, leading_beat):
    edited = make_monitor(alice, "https://example.com/", regions=("india", "usa"), interval_seconds=60)
    paused = make_monitor(alice, "https://example.org/", regions=("india",), interval_seconds=60)
    deleted = make_monitor(alice, "https://example.net/", regions=("india",), interval_seconds=60)
    schedule = leading_beat.schedule
    names = {f"check monitor {m.pk} in {slug}" for m in (edited, paused, deleted) for slug in ("india", "usa")}
    assert beat_until(leading_beat, lambda: len(names & set(schedule)) == 4) <= 1

    update_monitor(edited, Region.objects.filter(slug__in=["usa", "europe"]), interval_seconds=300)
    pause_monitor(paused)
    delete_monitor(deleted)
    now_has = {f"check monitor {edited.pk} in usa", f"check monitor {edited.pk} in europe"}

    def applied():
        entries = {name for name in schedule if name in names or name in now_has}
        return entries == now_has and schedule[f"check monitor {edited.pk} in usa"].schedule.seconds == 300

    assert beat_until(leading_beat, applied) <= 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_monitor_created_while_beat_runs_is_sent_when_due(alice, broker, leading_beat):
    monitor = make_monitor(alice, "https://example.com/", regions=("india",), interval_seconds=60)
    slot = make_due(monitor)  # as if created a minute ago, before beat heard of it
    broker.delete("india")
    update_monitor(monitor, name="renamed")
    beat_until(leading_beat, lambda: queued_checks(broker, "india"))
    [message] = queued_checks(broker, "india")
    assert message["kwargs"]["scheduled_at"] == slot.isoformat()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_many_due_checks_are_sent_once_each_and_saved_for_the_next_beat(alice, broker):
    monitors = [make_monitor(alice, f"https://example.com/{n}", regions=("india",)) for n in range(120)]
    # Late by up to 15 s, as after a standby's takeover: each still goes for its own slot.
    slots = {monitor.pk: make_due(monitor, seconds_ago=n % 15) for n, monitor in enumerate(monitors)}
    broker.delete("india")

    first = SlotScheduler(app=app)
    beat_until(first, lambda: len(queued_checks(broker, "india")) >= 120, seconds=10)
    for _ in range(5):
        first.tick()
    sent = [(m["kwargs"]["monitor_id"], m["kwargs"]["scheduled_at"]) for m in queued_checks(broker, "india")]
    assert sorted(sent) == sorted((pk, slot.isoformat()) for pk, slot in slots.items())
    first.close()  # saves, then hands the lease over

    # The next beat reads the saved last runs: the next slots are an interval on, on the grid.
    second = SlotScheduler(app=app)
    second.tick()
    assert len(queued_checks(broker, "india")) == 120
    for monitor in monitors[:10]:
        entry = second.schedule[f"check monitor {monitor.pk} in india"]
        assert entry.last_run_at == slots[monitor.pk]
    second.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_checks_due_together_go_out_as_one_message_per_region(alice, broker):
    from checks.beat.message import BUNDLE_MAX_CHECKS

    india = [make_monitor(alice, f"https://example.com/i{n}", regions=("india",)) for n in range(BUNDLE_MAX_CHECKS + 5)]
    usa = [make_monitor(alice, f"https://example.com/u{n}", regions=("usa",)) for n in range(3)]
    for monitor in india + usa:
        make_due(monitor, seconds_ago=2)
    broker.delete("india", "usa")
    scheduler = SlotScheduler(app=app)
    beat_until(scheduler, lambda: len(queued_checks(broker, "india")) == len(india) and queued_checks(broker, "usa"))
    # Each region's own queue; a bundle holds at most BUNDLE_MAX_CHECKS checks.
    assert (broker.llen("india"), broker.llen("usa")) == (2, 1)
    assert {check["kwargs"]["monitor_id"] for check in queued_checks(broker, "usa")} == {m.pk for m in usa}
    scheduler.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_late_send_keeps_the_next_slot_on_the_grid(alice, broker):
    monitor = make_monitor(alice, "https://example.com/", regions=("india",), interval_seconds=60)
    slot = make_due(monitor, seconds_ago=8)  # beat is 8 s late for this one
    broker.delete("india")
    scheduler = SlotScheduler(app=app)
    beat_until(scheduler, lambda: queued_checks(broker, "india"))
    [message] = queued_checks(broker, "india")
    assert message["kwargs"]["scheduled_at"] == slot.isoformat()
    # Not 60 s after the late send: 60 s after the slot.
    next_due = scheduler.schedule[f"check monitor {monitor.pk} in india"].due_timestamp()
    assert next_due == (slot + timedelta(seconds=60)).timestamp()
    scheduler.close()


def raw_messages(broker, queue: str) -> list[dict]:
    """The messages waiting on a queue, oldest first, with their bodies decoded."""
    messages = []
    for raw in reversed(broker.lrange(queue, 0, -1)):
        envelope = json.loads(raw)
        envelope["body"] = json.loads(base64.b64decode(envelope["body"]))
        messages.append(envelope)
    return messages


def without_per_send_values(message: dict) -> dict:
    """The message less what differs between two sends of one entry: the ids, the expiry."""
    message = copy.deepcopy(message)
    for name in ("id", "root_id", "expires"):
        message["headers"].pop(name)
    for name in ("correlation_id", "delivery_tag"):
        message["properties"].pop(name)
    return message


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_beat_sends_the_message_celery_would_with_its_own_id_slots_and_expiry(alice, broker):
    monitors = [make_monitor(alice, f"https://example.com/{n}", regions=("usa",)) for n in range(3)]
    slots = [make_due(monitor, seconds_ago=3 - n) for n, monitor in enumerate(monitors)]
    broker.delete("usa")
    scheduler = SlotScheduler(app=app)
    beat_until(scheduler, lambda: len(queued_checks(broker, "usa")) == 3)
    # The same bundle through celery's own send, straight to the queue's list.
    pairs = [[monitor.pk, slot.isoformat()] for monitor, slot in zip(monitors, slots, strict=True)]
    celery_sent_at = time.time()
    with app.producer_or_acquire() as producer:
        app.send_task(
            "checks.run_checks",
            args=("usa", pairs),
            queue="usa",
            routing_key="usa",
            expires=60,
            headers={"celery_beat_task": True},
            priority=0,
            ignore_result=True,  # as the task says (beat's own send asks the task)
            producer=producer,
        )

    [ours, celerys] = raw_messages(broker, "usa")  # one message for the three checks
    ours_kept, celerys_kept = without_per_send_values(ours), without_per_send_values(celerys)
    # What a log line or an event shows: the region, not the pairs.
    assert ours_kept["headers"].pop("argsrepr") == "('usa', [...])"
    celerys_kept["headers"].pop("argsrepr")
    for part in ("headers", "properties", "body"):  # one at a time: a readable difference
        assert ours_kept.pop(part) == celerys_kept.pop(part), part
    assert ours_kept == celerys_kept
    assert ours["body"][0] == ["usa", pairs]
    headers, properties = ours["headers"], ours["properties"]
    assert headers["id"] == headers["root_id"] == properties["correlation_id"] != celerys["headers"]["id"]
    assert properties["delivery_tag"] != celerys["properties"]["delivery_tag"]
    # Expires one interval after the send, like celery's.
    ours_expires = datetime.fromisoformat(headers["expires"]).timestamp()
    assert celery_sent_at + 58 < ours_expires <= datetime.fromisoformat(celerys["headers"]["expires"]).timestamp()
    scheduler.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_checks_the_broker_refused_are_sent_once_with_their_slots_when_it_is_back(alice, broker, closed_port):
    monitors = [make_monitor(alice, f"https://example.com/{n}", regions=("india",)) for n in range(3)]
    slots = {monitor.pk: make_due(monitor, seconds_ago=n + 1) for n, monitor in enumerate(monitors)}
    broker.delete("india")
    scheduler = SlotScheduler(app=app)
    reachable = scheduler._broker
    scheduler._broker = broker_client(f"redis://127.0.0.1:{closed_port}/0")  # the broker is away
    for _ in range(3):
        scheduler.tick()
    assert not queued_checks(broker, "india")

    scheduler._broker = reachable  # the broker is back
    for _ in range(3):
        scheduler.tick()
    sent = [(m["kwargs"]["monitor_id"], m["kwargs"]["scheduled_at"]) for m in queued_checks(broker, "india")]
    assert sorted(sent) == sorted((pk, slot.isoformat()) for pk, slot in slots.items())
    scheduler.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_change_beat_was_not_told_of_is_found_by_its_periodic_comparison(alice, broker, leading_beat):
    kept = make_monitor(alice, "https://example.com/", regions=("india",), interval_seconds=60)
    hidden = make_monitor(alice, "https://example.org/", regions=("india",), interval_seconds=60)
    names = {f"check monitor {m.pk} in india" for m in (kept, hidden)}
    beat_until(leading_beat, lambda: names <= set(leading_beat.schedule))
    # A queryset update(): no signal, no change time, so the poll of changes misses it.
    PeriodicTask.objects.filter(name=f"check monitor {hidden.pk} in india").update(enabled=False)
    for _ in range(5):
        leading_beat.tick()
    assert names <= set(leading_beat.schedule)

    leading_beat._next_reconcile_step = 0  # the comparison's next slice is due
    beat_until(leading_beat, lambda: f"check monitor {hidden.pk} in india" not in leading_beat.schedule)
    assert f"check monitor {kept.pk} in india" in leading_beat.schedule


# The options django-celery-beat stores on a PeriodicTask row (PeriodicTask fields): any
# other key in a static entry's options is dropped without a word.
STORED_OPTIONS = {"queue", "exchange", "routing_key", "priority", "headers", "expire_seconds"}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_beat_stores_every_option_of_its_static_entries():
    beat = SlotScheduler(app=app)
    try:
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
            options = entry.get("options", {})
            assert set(options) <= STORED_OPTIONS, (name, set(options) - STORED_OPTIONS)
            row = PeriodicTask.objects.get(name=name)
            assert {key: getattr(row, key) for key in options} == options, name
        watchdog = PeriodicTask.objects.get(name="watch-for-gaps")
        # A watchdog run that waited a whole period is dropped, not run late.
        assert (watchdog.queue, watchdog.expire_seconds) == ("housekeeping", 30)
    finally:
        beat.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_after_beat_was_away_each_monitor_keeps_its_own_phase(alice, broker):
    """Beat away for 150 s: the slots owed since are more than an interval old. Sent "now",
    every monitor's slots would fall in the same second of every minute from then on; each
    must wait for its next slot on its own grid instead."""
    monitors = [
        make_monitor(alice, f"https://example.com/{n}", regions=("india",), interval_seconds=60) for n in range(4)
    ]
    owed = {monitor.pk: make_due(monitor, seconds_ago=150 + 13 * n) for n, monitor in enumerate(monitors)}
    broker.delete("india")
    scheduler = SlotScheduler(app=app)
    run_started = datetime.now(UTC)
    for _ in range(20):
        scheduler.tick()
    assert queued_checks(broker, "india") == []
    scheduler.sync()
    assert scheduler._saver.flush(5)
    for monitor in monitors:
        name = f"check monitor {monitor.pk} in india"
        upcoming = datetime.fromtimestamp(scheduler.schedule[name].due_timestamp(), UTC)
        periods = (upcoming - owed[monitor.pk]) / timedelta(seconds=60)
        assert periods == int(periods), "the next slot is on the monitor's own grid"
        assert run_started <= upcoming < run_started + timedelta(seconds=61)
        # Saved, so a beat started after this one keeps the same phase.
        stored = PeriodicTask.objects.get(name=name).last_run_at
        assert stored == upcoming - timedelta(seconds=60)
    phases = {round(scheduler.schedule[f"check monitor {m.pk} in india"].due_timestamp()) % 60 for m in monitors}
    assert len(phases) == len(monitors)
    scheduler.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_slot_beat_itself_is_too_late_for_waits_for_the_next_while_one_just_late_goes(alice, broker, settings):
    settings.BEAT_LATE_SLOT_MAX_SECONDS = 20
    too_late, just_late = (
        make_monitor(alice, f"https://example.com/{name}", regions=("india",), interval_seconds=60)
        for name in ("too-late", "just-late")
    )
    too_late_slot, just_late_slot = make_due(too_late, seconds_ago=35), make_due(just_late, seconds_ago=5)
    broker.delete("india")
    scheduler = SlotScheduler(app=app)
    beat_until(scheduler, lambda: queued_checks(broker, "india"))
    for _ in range(10):
        scheduler.tick()
    assert [message["kwargs"]["monitor_id"] for message in queued_checks(broker, "india")] == [just_late.pk]
    assert queued_checks(broker, "india")[0]["kwargs"]["scheduled_at"] == just_late_slot.isoformat()
    upcoming = scheduler.schedule[f"check monitor {too_late.pk} in india"].due_timestamp()
    assert upcoming == (too_late_slot + timedelta(seconds=60)).timestamp()
    scheduler.close()
