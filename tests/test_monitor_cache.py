"""The monitors a worker holds in memory: edits arrive by their stamps within the refresh
period, and the periodic reconciliation catches what no fresh stamp announces."""

from datetime import timedelta

import pytest
from django.utils import timezone

from checks.worker import monitor_cache as monitor_cache_module
from checks.worker.monitor_cache import monitor_cache
from monitors.models import Monitor, Region
from monitors.services import resume_monitor, update_monitor
from tests.factories import make_monitor, personal

pytestmark = pytest.mark.django_db


def url_held(monitor) -> str | None:
    assignment = monitor_cache.assignment(monitor.pk, "india")
    return assignment.targets["india"].url if assignment else None


def test_an_edit_reaches_the_worker_at_its_next_refresh(alice, settings):
    settings.MONITOR_REFRESH_SECONDS = 3600
    monitor = make_monitor(alice, "https://before.example/")
    assert url_held(monitor) == "https://before.example/"

    update_monitor(monitor, url="https://after.example/")
    assert url_held(monitor) == "https://before.example/"  # not read again yet
    settings.MONITOR_REFRESH_SECONDS = 0
    assert url_held(monitor) == "https://after.example/"


def test_the_reconciliation_catches_changes_without_a_fresh_stamp(alice, monkeypatch):
    kept = make_monitor(alice, "https://kept.example/")
    paused = make_monitor(alice, "https://paused.example/")
    deleted = make_monitor(alice, "https://deleted.example/")
    edited = make_monitor(alice, "https://edited.example/")
    resumed = make_monitor(alice, "https://resumed.example/", is_active=False)
    # Stamped well before the reads below, so only the reconciliation reads them again.
    long_ago = timezone.now() - timedelta(days=1)
    Monitor.objects.filter(organization=personal(alice)).update(updated_at=long_ago)
    assert [url_held(m) for m in (kept, paused, deleted, edited, resumed)] == [
        "https://kept.example/",
        "https://paused.example/",
        "https://deleted.example/",
        "https://edited.example/",
        None,
    ]
    held_before = monitor_cache.assignment(kept.pk, "india")

    # Changes made behind the services' back, or committed with a stamp older than the
    # last read: the reads of edited rows cannot see them.
    long_ago += timedelta(seconds=1)
    Monitor.objects.filter(pk=paused.pk).update(is_active=False, updated_at=long_ago)
    Monitor.objects.filter(pk=deleted.pk).delete()
    Monitor.objects.filter(pk=edited.pk).update(url="https://edited-late.example/", updated_at=long_ago)
    Monitor.objects.filter(pk=resumed.pk).update(is_active=True, updated_at=long_ago)
    assert url_held(paused) == "https://paused.example/"
    assert url_held(edited) == "https://edited.example/"
    # Not held, so its row is read at once rather than at the next reconciliation.
    assert url_held(resumed) == "https://resumed.example/"

    monkeypatch.setattr(monitor_cache_module, "FULL_READ_SECONDS", 0)
    assert [url_held(m) for m in (kept, paused, deleted, edited, resumed)] == [
        "https://kept.example/",
        None,
        None,
        "https://edited-late.example/",
        "https://resumed.example/",
    ]
    # What had not changed was not read again.
    assert monitor_cache.assignment(kept.pk, "india") is held_before


def test_a_monitor_not_held_yet_is_read_before_its_check_is_refused(alice, settings):
    """A new monitor's first check is sent at once, before the worker's next refresh: the
    worker must read it rather than answer "not active here"."""
    settings.MONITOR_REFRESH_SECONDS = 3600
    make_monitor(alice, "https://first.example/")
    assert monitor_cache.assignment(Monitor.objects.get().pk, "india") is not None  # the cache is read now

    created = make_monitor(alice, "https://created.example/")
    resumed = make_monitor(alice, "https://resumed.example/", is_active=False)
    assert url_held(resumed) is None
    resume_monitor(resumed)
    moved = make_monitor(alice, "https://moved.example/", regions=("europe",))
    assert monitor_cache.assignment(moved.pk, "india") is None
    update_monitor(moved, regions=[Region.objects.get(slug="india")])

    assert url_held(created) == "https://created.example/"
    assert url_held(resumed) == "https://resumed.example/"
    assert url_held(moved) == "https://moved.example/"
