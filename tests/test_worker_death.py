"""A worker killed mid-check (SIGKILL: no warm shutdown) loses nothing: the check it held
goes back to the queue within seconds, not after the broker's visibility timeout, by which
time it would have expired."""

import pytest

from checks.models import Tick
from tests.factories import make_monitor
from tests.processes import start, stop, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def india_worker(node: str):
    return start("worker", "-Q", "india", "-n", f"{node}@e2e", "-l", "info", "--without-mingle", "--without-gossip")


def kill_mid_check(target, node: str) -> str:
    worker = india_worker(node)
    try:
        wait_for(lambda: target.hits["/slow"] >= 1, timeout=30, what="the check to reach the target")
    finally:
        worker.kill()
        worker.wait()
    return worker.stdout.read()


@pytest.mark.parametrize(
    ("first", "second"),
    [("india", "india"), ("india-a", "india-b")],
    ids=["restarted-under-its-name", "another-worker-takes-over"],
)
def test_a_check_held_by_a_killed_worker_is_run_again_and_recorded_once(alice, target, broker, first, second):
    # Created with an immediate check; the interval (and so the message's expiry) is a
    # minute, far shorter than the visibility timeout the check would otherwise wait out.
    monitor = make_monitor(
        alice, target.url("/slow?seconds=3"), regions=("india",), interval_seconds=60, timeout_seconds=5
    )
    killed_log = kill_mid_check(target, first)
    assert not Tick.objects.filter(monitor=monitor).exists()

    worker = india_worker(second)
    try:
        tick = wait_for(lambda: Tick.objects.filter(monitor=monitor).first(), timeout=30, what="the check's tick")
    finally:
        log = stop(worker)

    assert tick.status == "up", log
    assert Tick.objects.filter(monitor=monitor).count() == 1, (killed_log, log)
    # The slot is the one of the check that was interrupted, not a new one.
    assert abs((tick.scheduled_at - monitor.checking_since).total_seconds()) < 2
    assert target.hits["/slow"] == 2
