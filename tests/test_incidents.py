"""Status changes and incidents, driven by real checks of real local servers from several regions."""

import pytest

from checks.models import Incident, StatusChange
from checks.outcomes.writer import write_spooled
from checks.tasks import run_check
from monitors.models import Monitor
from monitors.services import pause_monitor, update_monitor
from tests.factories import make_monitor


@pytest.fixture
def two_region_monitor(alice, target):
    return make_monitor(alice, target.url("/ok"), regions=("india", "usa"))


def check(monitor, region, slot, seconds=0):
    from datetime import timedelta

    at = slot + timedelta(seconds=seconds)
    run_check.apply(kwargs={"monitor_id": monitor.pk, "region": region, "scheduled_at": at.isoformat()})
    write_spooled()
    monitor.refresh_from_db()
    return monitor.status


def point_at(monitor, url):
    Monitor.objects.filter(pk=monitor.pk).update(url=url)


def test_one_region_down_is_degraded_and_opens_no_incident(two_region_monitor, target, slot):
    monitor = two_region_monitor
    assert check(monitor, "usa", slot) == "up"
    point_at(monitor, target.url("/status/500"))
    assert check(monitor, "india", slot) == "degraded"
    assert not Incident.objects.exists()
    change = StatusChange.objects.filter(monitor=monitor).first()
    assert (change.from_status, change.to_status, change.down_regions) == ("up", "degraded", ["india"])
    assert change.reason == "unexpected status 500"


def test_quorum_down_opens_one_incident_and_recovery_resolves_it(two_region_monitor, target, slot):
    monitor = two_region_monitor
    point_at(monitor, target.url("/status/503"))
    assert check(monitor, "india", slot) == "degraded"
    assert check(monitor, "usa", slot) == "down"
    incident = Incident.objects.get(monitor=monitor)
    assert incident.is_open
    assert incident.first_error == "unexpected status 503"
    assert incident.regions == ["india", "usa"]

    # Repeated down results while it is open do not open another.
    assert check(monitor, "india", slot, 60) == "down"
    assert check(monitor, "usa", slot, 60) == "down"
    assert Incident.objects.filter(monitor=monitor).count() == 1

    point_at(monitor, target.url("/ok"))
    assert check(monitor, "india", slot, 120) == "degraded"
    incident.refresh_from_db()
    assert incident.resolved_at is not None
    assert incident.resolution == "degraded"
    assert incident.duration_seconds > 0
    assert check(monitor, "usa", slot, 120) == "up"

    flips = list(
        StatusChange.objects.filter(monitor=monitor)
        .order_by("changed_at", "id")
        .values_list("from_status", "to_status")
    )
    assert flips == [("pending", "degraded"), ("degraded", "down"), ("down", "degraded"), ("degraded", "up")]


def test_quorum_of_one_pages_on_any_region(alice, target, slot):
    monitor = make_monitor(alice, target.url("/status/500"), regions=("india", "usa", "europe"), quorum=1)
    assert check(monitor, "europe", slot) == "down"
    assert Incident.objects.filter(monitor=monitor, resolved_at__isnull=True).count() == 1


def test_regions_that_see_it_down_later_join_the_open_incident_once(alice, target, slot):
    monitor = make_monitor(alice, target.url("/status/500"), regions=("usa", "india", "europe"), quorum=1)
    assert check(monitor, "usa", slot) == "down"
    assert check(monitor, "europe", slot) == "down"
    assert check(monitor, "india", slot) == "down"
    assert check(monitor, "europe", slot, 60) == "down"  # a region already named adds nothing
    incident = Incident.objects.get(monitor=monitor)
    assert incident.is_open
    assert incident.regions == ["europe", "india", "usa"]
    assert incident.first_error == "unexpected status 500"


def test_pausing_a_down_monitor_resolves_its_incident(alice, target, slot):
    monitor = make_monitor(alice, target.url("/status/500"))
    assert check(monitor, "india", slot) == "down"
    pause_monitor(monitor)
    incident = Incident.objects.get(monitor=monitor)
    assert incident.resolution == "paused"
    monitor.refresh_from_db()
    assert monitor.status == "paused"
    assert StatusChange.objects.filter(monitor=monitor, from_status="down", to_status="paused").exists()


def test_a_result_from_a_removed_region_does_not_count(two_region_monitor, target, slot, india):
    monitor = two_region_monitor
    point_at(monitor, target.url("/status/500"))
    check(monitor, "india", slot)
    update_monitor(monitor, [r for r in monitor.regions.all() if r.slug == "usa"])
    point_at(monitor, target.url("/ok"))
    assert check(monitor, "usa", slot, 60) == "up"


def test_an_old_slot_finishing_late_does_not_overrule_a_newer_result(alice, target, slot):
    monitor = make_monitor(alice, target.url("/ok"))
    assert check(monitor, "india", slot, 60) == "up"
    point_at(monitor, target.url("/status/500"))
    # The slot before the newest one is recorded, but the newest result still decides.
    assert check(monitor, "india", slot) == "up"
    assert not Incident.objects.exists()


def test_stale_results_from_before_a_long_pause_do_not_count(alice, target, slot):
    from datetime import timedelta

    monitor = make_monitor(alice, target.url("/status/500"), regions=("india", "usa"))
    check(monitor, "india", slot - timedelta(hours=1))
    point_at(monitor, target.url("/ok"))
    assert check(monitor, "usa", slot) == "up"
