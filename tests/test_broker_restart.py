"""A region worker outlives its broker: Redis (Valkey) killed, or stopped cleanly, while the
worker runs a check, then started again on the same port and data. The worker must
reconnect by itself, record the check it was running once, and check what comes after."""

import time
from datetime import UTC, datetime

import pytest
import redis
from celery import current_app

from checks.models import Tick
from checks.tasks import run_check
from tests.factories import make_monitor
from tests.processes import start, stop, wait_for
from uptime.embedded import EmbeddedValkey, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def valkey(tmp_path):
    """A Valkey of this test's own (append-only file on, as `make run` has it), so it can
    be killed without taking the rest of the suite's broker with it."""
    server = EmbeddedValkey(tmp_path / "valkey", free_port())
    server.start()
    yield server
    if server.server.is_running():
        server.stop()


def send_check(valkey: EmbeddedValkey, monitor, slot: datetime) -> None:
    """What beat sends for one slot, sent to this test's broker."""
    with current_app.connection_for_write(valkey.url()) as connection:
        run_check.apply_async(
            kwargs={"monitor_id": monitor.pk, "region": "india", "scheduled_at": slot.isoformat()},
            queue="india",
            routing_key="india",
            exchange="india",
            expires=monitor.interval_seconds,
            connection=connection,
        )


def take_down(valkey: EmbeddedValkey, how: str) -> None:
    if how == "killed":
        valkey.server.terminate()  # SIGKILL: no goodbye to the clients, no last write
    else:
        valkey.stop()  # SIGTERM: Valkey saves, closes every client connection and exits


@pytest.mark.parametrize(("how", "down_seconds"), [("killed", 2), ("stopped", 6)])
def test_a_worker_reconnects_after_the_broker_comes_back_and_loses_no_check(
    alice, target, broker, valkey, how, down_seconds
):
    monitor = make_monitor(alice, target.url("/slow?seconds=3"), regions=("india",), timeout_seconds=5)
    # The worker's command line is the one `make run` uses (gossip and mingle included:
    # their broadcast channels are part of what breaks when the broker goes away).
    worker = start("worker", "-Q", "india", "-n", "india-restart@e2e", "-l", "info", REDIS_URL=valkey.url())
    try:
        held = datetime.now(UTC)
        send_check(valkey, monitor, held)
        wait_for(lambda: target.hits["/slow"] >= 1, timeout=30, what="the check to reach the target")

        take_down(valkey, how)
        wait_for(lambda: not valkey.server.is_running(), timeout=10, what="the broker to be gone")
        time.sleep(down_seconds)
        valkey.start()

        # The check that was running when the broker went away is recorded, once.
        wait_for(
            lambda: Tick.objects.filter(monitor=monitor, scheduled_at=held).exists(),
            timeout=15,
            what="the tick of the check in flight",
        )
        # The worker is still there and takes new checks from the broker that came back.
        after = datetime.now(UTC)
        send_check(valkey, monitor, after)
        tick = wait_for(
            lambda: worker.poll() is not None or Tick.objects.filter(monitor=monitor, scheduled_at=after).first(),
            timeout=30,
            what="a check sent after the broker came back",
        )
        alive = worker.poll() is None
        if alive:
            # The check in flight was acknowledged once the broker was back. kombu keeps an
            # unacknowledged message in its "unacked" hash and hands it out again after the
            # visibility timeout: one left there would come back minutes later.
            unacked = redis.Redis.from_url(valkey.url())
            wait_for(lambda: unacked.hlen("unacked") == 0, timeout=10, what="the checks' acknowledgements")
    finally:
        log = stop(worker)

    assert alive, log
    assert tick.status == "up", log
    assert "Unrecoverable error" not in log, log
    slots = Tick.objects.filter(monitor=monitor).order_by("scheduled_at").values_list("scheduled_at", flat=True)
    assert list(slots) == [held, after]
    # Each slot's check reached the site once: the one in flight was not run again.
    assert target.hits["/slow"] == 2, log


def test_a_channel_reuses_one_client_until_its_pool_is_replaced(broker):
    """kombu asks for a synchronous client per message (unacked index, ack): ours hands back
    the channel's one client, and a fresh one over a new pool once the old pool is dropped."""
    with current_app.connection_for_write() as connection:
        channel = connection.default_channel
        client = channel._create_client()
        assert channel._create_client() is client
        assert client.ping()
        channel._disconnect_pools()  # what closing the channel does to its pools
        replaced = channel._create_client()
        assert replaced is not client
        assert replaced.connection_pool is channel.pool
        assert replaced.ping()
