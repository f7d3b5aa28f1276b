"""Confirmations: failures before down and successes before up, counted once per slot,
driven by real checks of real local servers."""

import pytest

from checks.models import Incident
from monitors.services import pause_monitor, resume_monitor
from tests.factories import make_monitor
from tests.test_incidents import check, point_at

VALID = {"name": "Example", "url": "https://example.com/health", "interval_seconds": 60, "regions": ["india"]}


def test_down_waits_for_the_failures_before_down(alice, target, slot):
    monitor = make_monitor(alice, target.url("/status/500"), failures_before_down=3)
    assert check(monitor, "india", slot) == "pending"
    assert check(monitor, "india", slot, 60) == "pending"
    assert not Incident.objects.exists()
    assert check(monitor, "india", slot, 120) == "down"
    assert Incident.objects.get().is_open


def test_up_waits_for_the_successes_before_up(alice, target, slot):
    monitor = make_monitor(alice, target.url("/status/500"), successes_before_up=2)
    assert check(monitor, "india", slot) == "down"
    point_at(monitor, target.url("/ok"))
    assert check(monitor, "india", slot, 60) == "down"
    assert Incident.objects.get().is_open
    assert check(monitor, "india", slot, 120) == "up"
    assert not Incident.objects.get().is_open


def test_a_site_failing_every_other_check_pages_nobody_with_two_failures_before_down(alice, target, slot):
    monitor = make_monitor(alice, target.url("/ok"), failures_before_down=2)
    for n in range(6):
        point_at(monitor, target.url("/status/500" if n % 2 else "/ok"))
        assert check(monitor, "india", slot, 60 * n) == "up"
    assert not Incident.objects.exists()


def test_a_site_failing_every_other_check_opens_an_incident_each_time_by_default(alice, target, slot):
    monitor = make_monitor(alice, target.url("/ok"))
    for n in range(6):
        point_at(monitor, target.url("/status/500" if n % 2 else "/ok"))
        check(monitor, "india", slot, 60 * n)
    assert Incident.objects.count() == 3


def test_the_regions_of_one_slot_count_once(alice, target, slot):
    monitor = make_monitor(alice, target.url("/status/500"), regions=("india", "usa"), failures_before_down=2)
    assert check(monitor, "india", slot) == "degraded"
    # Both regions see it down in this slot: one failing verdict, not two.
    assert check(monitor, "usa", slot) == "degraded"
    assert check(monitor, "india", slot, 60) == "down"


def test_a_late_result_of_an_older_slot_counts_for_nothing(alice, target, slot):
    monitor = make_monitor(alice, target.url("/status/500"), failures_before_down=2)
    check(monitor, "india", slot, 60)
    check(monitor, "india", slot)  # the slot before, finishing late
    monitor.refresh_from_db()
    assert (monitor.status, monitor.failure_streak) == ("pending", 1)


def test_pausing_starts_the_count_afresh(alice, target, slot):
    monitor = make_monitor(alice, target.url("/status/500"), failures_before_down=2)
    check(monitor, "india", slot)
    pause_monitor(monitor)
    resume_monitor(monitor)
    assert check(monitor, "india", slot, 60) == "pending"
    assert check(monitor, "india", slot, 120) == "down"


def test_the_api_gives_and_bounds_the_confirmations(alice_client):
    created = alice_client.post("/api/monitors/", VALID, format="json").json()
    assert (created["failures_before_down"], created["successes_before_up"]) == (1, 1)
    changed = alice_client.patch(
        f"/api/monitors/{created['id']}/", {"failures_before_down": 3, "successes_before_up": 10}, format="json"
    )
    assert (changed.json()["failures_before_down"], changed.json()["successes_before_up"]) == (3, 10)


@pytest.mark.parametrize("value", [0, 11, "two", 1.5])
def test_confirmations_out_of_range_are_refused_per_field(alice_client, value):
    response = alice_client.post(
        "/api/monitors/", {**VALID, "failures_before_down": value, "successes_before_up": value}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "failures_before_down": ["Failures before down must be a whole number from 1 to 10."],
        "successes_before_up": ["Successes before up must be a whole number from 1 to 10."],
    }
