"""One active beat: the leader lease in the real Redis-protocol server, and two real
schedulers sharing one database and broker."""

import time
from datetime import UTC, datetime, timedelta

import pytest
import redis
from django.conf import settings
from django.db import connection
from django_celery_beat.models import PeriodicTask

from checks.beat.lease import LEASE_KEY, Lease
from checks.beat.scheduler import DATABASE_RETRY_SECONDS, STANDBY_POLL_SECONDS, SlotScheduler
from tests.conftest import queued_checks
from tests.factories import make_monitor
from uptime.celery import app


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_one_holder_at_a_time_and_a_standby_takes_a_released_or_lapsed_lease(broker):
    clock = Clock()
    first, second = Lease(broker, ttl_seconds=10), Lease(broker, ttl_seconds=10, clock=clock)
    assert first.hold() and not second.hold()
    assert first.holder() == first.token
    first.release()
    assert second.hold() and not first.hold()
    # The holder hangs: its key lapses in Redis (here at once rather than after 10 s) and
    # the standby takes over.
    broker.delete(LEASE_KEY)
    assert first.hold()
    # When the old holder wakes, its lease is past trusting, and renewing it fails.
    clock.now += 10
    assert not second.hold() and not second.held
    assert first.holder() == first.token


def test_a_holder_that_cannot_reach_redis_stops_trusting_its_lease_before_it_can_lapse(broker, closed_port):
    clock = Clock()
    lease = Lease(broker, ttl_seconds=10, clock=clock)
    assert lease.hold()
    lease.client = redis.Redis(host="127.0.0.1", port=closed_port, socket_connect_timeout=0.5)
    clock.now += 5
    assert lease.hold()  # unreachable, but the lease it had cannot have lapsed yet
    clock.now += 3.5
    assert not lease.hold()  # within the safety margin: it stops sending
    assert broker.pttl(LEASE_KEY) > 0  # (the key itself lapses on its own in Redis)


def test_a_lease_redis_kept_through_a_pause_is_known_as_never_lost(broker):
    clock = Clock()
    lease = Lease(broker, ttl_seconds=10, clock=clock)
    assert lease.hold() and not lease.kept  # taken
    clock.now += 9  # a long pause (a first read of a big schedule): past trusting it
    assert not lease.held
    assert lease.hold() and lease.kept  # but still ours in Redis: nobody led meanwhile
    broker.delete(LEASE_KEY)  # this time it lapsed
    clock.now += 9
    assert lease.hold() and not lease.kept


def due_monitor(alice, broker, interval=60):
    monitor = make_monitor(alice, "https://example.com/", regions=("india",), interval_seconds=interval)
    last_run = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=interval + 1)
    PeriodicTask.objects.filter(name__startswith=f"check monitor {monitor.pk} ").update(last_run_at=last_run)
    broker.delete("india")  # the check sent on creation; these tests are about beat's
    return monitor, last_run + timedelta(seconds=interval)


def run(scheduler, ticks=30):
    """Beat's own loop (celery.beat.Service.start), without the sleeping."""
    for _ in range(ticks):
        scheduler.tick()
        if scheduler.should_sync():
            scheduler._do_sync()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_beats_send_each_slot_once_and_the_standby_takes_over_without_resending(alice, broker):
    monitor, slot = due_monitor(alice, broker)
    leader, standby = SlotScheduler(app=app), SlotScheduler(app=app)
    run(leader)
    assert standby.tick() == STANDBY_POLL_SECONDS
    run(standby)
    [message] = queued_checks(broker, "india")
    assert message["kwargs"]["scheduled_at"] == slot.isoformat()

    # The leader stops cleanly: the standby takes over at its next look, reading the
    # schedule afresh, so the slot the leader sent is not sent again.
    leader.close()
    run(standby)
    assert standby.lease.held
    assert len(queued_checks(broker, "india")) == 1
    assert monitor.pk  # (the monitor is still there: nothing was skipped for it)
    standby.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_beat_keeps_sending_through_a_database_outage(alice, broker, closed_port):
    # 4 s: the due slot must stay within BEAT_LATE_SLOT_MAX_SECONDS' cap (the interval) on a
    # loaded machine, or beat rightly waits for the next slot instead of sending it.
    due_monitor(alice, broker, interval=4)
    scheduler = SlotScheduler(app=app)
    run(scheduler)  # leader; the due check is sent and its last run saved
    assert len(queued_checks(broker, "india")) == 1
    real_port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = closed_port  # PostgreSQL is away
    try:
        scheduler._next_reconcile_step = 0  # its periodic comparison with the table is due now
        # The next slot falls due during the outage and is sent from the schedule beat holds.
        deadline = time.monotonic() + 7
        while len(queued_checks(broker, "india")) < 2 and time.monotonic() < deadline:
            assert scheduler.tick() <= DATABASE_RETRY_SECONDS
            time.sleep(0.1)
        assert len(queued_checks(broker, "india")) == 2
    finally:
        connection.close()
        connection.settings_dict["PORT"] = real_port
    run(scheduler, ticks=3)  # saves what it sent meanwhile; nothing is sent twice
    slots = [check["kwargs"]["scheduled_at"] for check in queued_checks(broker, "india")]
    assert len(slots) == len(set(slots)) >= 2
    scheduler.close()


def test_health_reports_the_active_beat(anon_client, broker, db):
    assert anon_client.get("/api/health/").json()["beat"]["active"] is False
    lease = Lease(broker, ttl_seconds=settings.BEAT_LEASE_SECONDS)
    lease.hold()
    beat = anon_client.get("/api/health/").json()["beat"]
    assert beat["active"] is True and beat["holder"] == lease.token
    assert 0 < beat["lease_expires_in_seconds"] <= settings.BEAT_LEASE_SECONDS
