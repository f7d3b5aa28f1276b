"""The whole path with real processes: beat and a `celery worker -Q india` against the test
database and broker, checking a real local HTTP target."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from checks.models import Tick
from monitors.models import Monitor
from tests.factories import make_monitor

BASE_DIR = Path(__file__).resolve().parent.parent
# Real processes see only committed data. The serialized rollback restores the seeded
# regions that the flush after a transactional test would otherwise remove.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def process_env() -> dict:
    """The environment of the processes under test: this test's database and broker."""
    db = connection.settings_dict
    return {
        **os.environ,
        "DATABASE_URL": f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "MONITOR_MIN_INTERVAL_SECONDS": "1",
        "ALLOW_PRIVATE_TARGETS": "true",
        "WORKER_HEARTBEAT_SECONDS": "1",
    }


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "uptime", *args],
        cwd=BASE_DIR,
        env=process_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop(process: subprocess.Popen) -> str:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.stdout.read()


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


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
