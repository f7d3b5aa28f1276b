"""Beat through a broker outage, against a Valkey of its own that is stopped and started
again: every slot that fell due meanwhile is sent once it is back, oldest first, each once
and stamped with its slot."""

import contextlib
import time
from datetime import UTC, datetime, timedelta

import pytest
import redis
from django_celery_beat.models import PeriodicTask

from checks.beat.message import broker_client
from checks.beat.scheduler import SlotScheduler
from tests.conftest import queued_checks
from tests.factories import make_monitor
from uptime.celery import app
from uptime.embedded import EmbeddedValkey, free_port

INTERVAL_SECONDS = 2


@pytest.fixture
def valkey(tmp_path):
    """A Valkey server for beat alone (the suite's own keeps running), with the append-only
    file, so what it held before a clean stop is there after the start."""
    server = EmbeddedValkey(tmp_path / "valkey", free_port())
    server.start()
    yield server
    with contextlib.suppress(Exception):
        server.stop()


def beat_using(valkey) -> SlotScheduler:
    scheduler = SlotScheduler(app=app)
    scheduler._broker = broker_client(valkey.url())
    scheduler.lease.client = redis.Redis.from_url(valkey.url(), socket_timeout=1, socket_connect_timeout=1)
    return scheduler


def run_beat(scheduler, seconds: float) -> None:
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        time.sleep(min(scheduler.tick(), 0.05))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_slots_due_while_the_broker_was_stopped_are_sent_in_slot_order_once_it_is_back(alice, settings, valkey):
    # A lease shorter than the outage: beat stands by for part of it, as a real one would.
    settings.BEAT_LEASE_SECONDS = 3
    monitors = [
        make_monitor(alice, f"https://example.com/{n}", regions=("india",), interval_seconds=INTERVAL_SECONDS)
        for n in range(3)
    ]
    first_slot = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    for n, monitor in enumerate(monitors):
        # Due half a second apart, from a second from now, every two seconds.
        PeriodicTask.objects.filter(name__startswith=f"check monitor {monitor.pk} ").update(
            last_run_at=first_slot + timedelta(seconds=n / 2 - INTERVAL_SECONDS)
        )
    scheduler = beat_using(valkey)
    run_beat(scheduler, 3)
    port = valkey.port
    valkey.stop()
    stopped_at = datetime.now(UTC)
    run_beat(scheduler, 7)  # three and a half intervals, longer than the lease
    valkey.start()
    assert valkey.port == port  # where beat's clients look for it
    back_at = datetime.now(UTC)
    run_beat(scheduler, 3)
    scheduler.close()

    client = redis.Redis.from_url(valkey.url())
    sent = [
        (message["kwargs"]["monitor_id"], datetime.fromisoformat(message["kwargs"]["scheduled_at"]))
        for message in queued_checks(client, "india")
    ]
    client.close()
    for n, monitor in enumerate(monitors):
        slots = [slot for pk, slot in sent if pk == monitor.pk]
        grid_start = first_slot + timedelta(seconds=n / 2)
        # Every slot on the grid, from the first to the last sent, once.
        assert slots == [grid_start + timedelta(seconds=INTERVAL_SECONDS * k) for k in range(len(slots))]
        assert slots[-1] >= back_at - timedelta(seconds=INTERVAL_SECONDS)
        assert sum(stopped_at <= slot <= back_at for slot in slots) >= 3  # due while the broker was away
    # Those owed went out oldest first.
    assert [slot for _, slot in sent] == sorted(slot for _, slot in sent)
