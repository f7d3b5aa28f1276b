"""The whole path with real processes: beat and a `celery worker -Q india` against the test
database and broker, checking a real local HTTP target."""

import signal
import time
from datetime import UTC, datetime, timedelta

import pytest
from django_celery_beat.models import PeriodicTask

from checks.models import Tick
from monitors.models import Monitor
from tests.conftest import queued_checks
from tests.factories import make_monitor
from tests.processes import start, stop, wait_for

# Real processes see only committed data. The serialized rollback restores the seeded
# regions that the flush after a transactional test would otherwise remove.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_india_worker_and_beat_check_india_monitors_only(alice, target, broker, anon_client):
    india_monitor = make_monitor(
        alice, target.url("/ok"), regions=("india",), name="india site", interval_seconds=2, timeout_seconds=1
    )
    usa_monitor = make_monitor(
        alice, target.url("/ok"), regions=("usa",), name="usa site", interval_seconds=2, timeout_seconds=1
    )
    worker = start("worker", "-Q", "india", "-n", "india@e2e", "-l", "info", "--without-mingle", "--without-gossip")
    beat = start("beat", "-l", "info", "--pidfile=", "--max-interval", "1")
    try:
        ticks = wait_for(
            lambda: (
                list(Tick.objects.filter(monitor=india_monitor).order_by("scheduled_at")[:4])
                if Tick.objects.filter(monitor=india_monitor).count() >= 4
                else None
            ),
            timeout=40,
            what="four india ticks",
        )
        health = anon_client.get("/api/health/").json()
    finally:
        beat_log = stop(beat)
        worker_log = stop(worker)

    assert all(t.status == "up" and t.status_code == 200 and t.region.slug == "india" for t in ticks), worker_log
    # The first tick is the immediate check on creation; later ones are beat's slots, one interval apart.
    gaps = [later.scheduled_at - earlier.scheduled_at for earlier, later in zip(ticks[1:], ticks[2:], strict=False)]
    assert all(timedelta(seconds=1.9) <= gap <= timedelta(seconds=2.5) for gap in gaps), (gaps, beat_log)
    assert all(t.checked_at >= t.scheduled_at for t in ticks)
    india_monitor.refresh_from_db()
    assert india_monitor.status == Monitor.Status.UP
    # Nothing consumes usa's queue: its monitor has no ticks and its checks wait there.
    assert not Tick.objects.filter(monitor=usa_monitor).exists()
    assert broker.llen("usa") >= 1
    assert health["regions"]["india"]["workers"] == 1
    assert health["regions"]["usa"]["workers"] == 0
    assert health["regions"]["usa"]["stalled"] is True
    # One tick per slot, however the messages were delivered.
    slots = list(Tick.objects.values_list("monitor_id", "region_id", "scheduled_at"))
    assert len(slots) == len(set(slots))


def test_a_worker_stopped_mid_check_finishes_it_and_hands_back_the_rest(alice, target, broker):
    """A rolling restart: the old worker is told to stop (SIGTERM) while a check runs and
    another waits in its prefetch. It finishes the running check (bounded by
    CHECK_MAX_SECONDS) and the waiting one goes back to the queue at once, for the new
    worker: each checked once, nothing left to the visibility timeout."""
    first, second = (
        make_monitor(alice, target.url(f"/slow?seconds=4&n={n}"), regions=("india",), timeout_seconds=10)
        for n in (1, 2)
    )  # each one's immediate check is queued on creation
    options = ("-l", "info", "--without-mingle", "--without-gossip", "-c", "1", "--prefetch-multiplier", "2")
    old = start("worker", "-Q", "india", "-n", "old@e2e", *options)
    new = None
    try:
        wait_for(lambda: target.hits["/slow"], timeout=30, what="the old worker's first check to reach the target")
        stopped_at = time.monotonic()
        old.send_signal(signal.SIGTERM)
        old.wait(timeout=20)
        new = start("worker", "-Q", "india", "-n", "new@e2e", *options)
        ticks = wait_for(
            lambda: Tick.objects.count() == 2 and list(Tick.objects.order_by("checked_at")),
            timeout=40,
            what="both checks' ticks",
        )
        handed_over_after = time.monotonic() - stopped_at
    finally:
        old_log = stop(old)
        new_log = stop(new) if new else ""
    assert all(tick.status == "up" for tick in ticks), (old_log, new_log)
    assert {tick.monitor_id for tick in ticks} == {first.pk, second.pk}
    assert target.hits["/slow"] == 2, (old_log, new_log)  # no check ran twice
    assert old_log.count("succeeded") == 1 and new_log.count("succeeded") == 1, (old_log, new_log)
    # The broker's visibility timeout is minutes; the hand-over took seconds.
    assert handed_over_after < 20, (handed_over_after, old_log, new_log)


def test_a_worker_runs_beats_messages_for_their_slots_and_drops_an_expired_one(alice, target, broker):
    """Beat builds its bundles' messages itself (checks.beat.message.BundleMessage), not through
    celery's send_task: a real worker must take them as it took celery's, and run each
    bundle's checks for their own slots."""
    from checks.beat.message import BundleMessage
    from checks.beat.scheduler import SlotScheduler
    from uptime.celery import app

    monitors = [
        make_monitor(alice, target.url(f"/ok?n={n}"), regions=("india",), interval_seconds=60, timeout_seconds=2)
        for n in range(6)
    ]
    now = datetime.now(UTC).replace(microsecond=0)
    slots = {monitor.pk: now - timedelta(seconds=n + 1) for n, monitor in enumerate(monitors)}
    for monitor in monitors:
        PeriodicTask.objects.filter(name__startswith=f"check monitor {monitor.pk} in ").update(
            last_run_at=slots[monitor.pk] - timedelta(seconds=60)
        )
    broker.delete("india")  # the checks sent on creation
    scheduler = SlotScheduler(app=app)
    sent = lambda: len(queued_checks(broker, "india"))  # noqa: E731
    wait_for(lambda: scheduler.tick() is not None and sent() >= 6, timeout=10, what="beat's sends")
    # One more, sent two intervals ago: it expired on the way, and is not checked.
    stale = BundleMessage(app, "india", "india", 60, app.thread_oid, 0)
    broker.lpush("india", stale.render([(monitors[0].pk, now - timedelta(minutes=5))], time.time() - 120))
    scheduler.close()

    worker = start("worker", "-Q", "india", "-n", "india@e2e", "-l", "info", "--without-mingle", "--without-gossip")
    try:
        wait_for(lambda: Tick.objects.count() >= 6, timeout=40, what="six ticks")
        wait_for(lambda: broker.llen("india") == 0, timeout=10, what="the queue to empty")
        time.sleep(1)  # time for the expired message to be (wrongly) checked
    finally:
        worker_log = stop(worker)
    ticks = {tick.monitor_id: tick for tick in Tick.objects.all()}
    assert {pk: tick.scheduled_at for pk, tick in ticks.items()} == slots, worker_log
    assert all(tick.status == "up" for tick in ticks.values()), worker_log
    assert target.hits["/ok"] == 6, worker_log
    # celery drops a message past its expiry as revoked, without running it.
    assert worker_log.count("Discarding revoked task: checks.run_checks") == 1, worker_log


def test_a_region_worker_without_a_writer_checks_and_the_housekeeping_worker_writes(alice, target, broker, anon_client):
    """`make run` and the compose file start region workers with --without-outcome-writer:
    they check and spool, and the housekeeping worker's writer records the outcomes."""
    from checks.outcomes import spool

    monitor = make_monitor(alice, target.url("/ok"), regions=("india",), timeout_seconds=2)  # checked at once
    options = ("-l", "info", "--without-mingle", "--without-gossip")
    india = start("worker", "-Q", "india", "-n", "india@e2e", "--without-outcome-writer", *options)
    housekeeping = None
    try:
        wait_for(lambda: spool.backlog(broker) == 1, timeout=30, what="the india worker's outcome in the spool")
        time.sleep(2)  # time for a writer, had the worker started one, to record it
        assert not Tick.objects.exists()
        health = anon_client.get("/api/health/").json()
        assert (health["outcomes_waiting"], health["outcome_writers"], health["writing_stalled"]) == (1, 0, True)

        housekeeping = start("worker", "-Q", "housekeeping", "-n", "housekeeping@e2e", *options)
        tick = wait_for(lambda: Tick.objects.filter(monitor=monitor).first(), timeout=30, what="the written tick")
        health = anon_client.get("/api/health/").json()
    finally:
        india_log = stop(india)
        housekeeping_log = stop(housekeeping) if housekeeping else ""
    assert tick.status == "up", (india_log, housekeeping_log)
    assert target.hits["/ok"] == 1
    assert (health["outcomes_waiting"], health["outcome_writers"], health["writing_stalled"]) == (0, 1, False)


def test_monitors_created_a_moment_apart_into_a_running_worker_each_get_their_first_check_at_once(alice, target):
    """The check sent on creation reaches a worker that read its monitors less than a
    refresh period ago: each must be checked, not refused as "not active here"."""
    first = make_monitor(alice, target.url("/ok"), regions=("india",), name="first", interval_seconds=3600)
    worker = start(
        "worker",
        "-Q",
        "india",
        "-n",
        "india@e2e",
        "--without-mingle",
        "--without-gossip",
        MONITOR_REFRESH_SECONDS="3600",
    )
    try:
        wait_for(lambda: Tick.objects.filter(monitor=first).exists(), timeout=30, what="the first monitor's check")
        created = [
            make_monitor(alice, target.url("/ok"), regions=("india",), name=f"site {n}", interval_seconds=3600)
            for n in range(10)
        ]
        checked = lambda: Tick.objects.filter(monitor__in=created).count() == len(created)  # noqa: E731
        wait_for(checked, timeout=30, what="every new monitor's first check")
    finally:
        log = stop(worker)
    assert set(Monitor.objects.filter(pk__in=[m.pk for m in created]).values_list("status", flat=True)) == {"up"}, log
