"""Incidents and status changes through the API and the admin, for their owner only."""

from datetime import timedelta

import pytest
from django.urls import reverse

from checks.models import Incident
from checks.state.transitions import change_status
from tests.factories import make_monitor
from tests.test_admin import admin_client  # noqa: F401  (fixture)


def move(monitor, to_status, at, reason=""):
    """Move the monitor's status at a chosen time, through the same function checks use."""
    change_status(monitor, to_status, at, reason, ["india"] if to_status == "down" else [])
    monitor.save()


@pytest.fixture
def t0(slot):
    """Twenty minutes ago: the open incident below has lasted ten minutes so far."""
    return slot - timedelta(minutes=20)


@pytest.fixture
def outages(alice, bob, target, t0):
    """Alice's shop: down at t0+1m, up at t0+3m, down again from t0+10m (still open).
    Her blog never went down. Bob's site has one open incident."""
    shop = make_monitor(alice, target.url("/ok"), name="shop")
    move(shop, "up", t0)
    move(shop, "down", t0 + timedelta(minutes=1), "unexpected status 500")
    move(shop, "up", t0 + timedelta(minutes=3))
    move(shop, "down", t0 + timedelta(minutes=10), "unexpected status 502")
    blog = make_monitor(alice, target.url("/ok"), name="blog")
    move(blog, "up", t0)
    bobs = make_monitor(bob, target.url("/ok"), name="bob's")
    move(bobs, "down", t0, "unexpected status 500")
    return shop, blog, bobs


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_incident_list_is_the_users_newest_first_with_its_figures(alice_client, outages, t0):
    shop, _, _ = outages
    response = alice_client.get("/api/incidents/")
    rows = response.json()["results"]
    assert response.json()["count"] == 2
    latest, earlier = rows
    assert latest["monitor"] == shop.pk and latest["monitor_name"] == "shop"
    assert latest["is_open"] is True and latest["resolved_at"] is None
    # Open: no resolution yet, null as in the alerts' payload (it was "" here).
    assert latest["resolution"] is None
    assert latest["first_error"] == "unexpected status 502"
    assert latest["duration_seconds"] == pytest.approx(600, abs=30)
    assert earlier["is_open"] is False
    assert earlier["duration_seconds"] == 120
    assert earlier["first_error"] == "unexpected status 500"
    assert earlier["regions"] == ["india"]
    assert earlier["resolution"] == "up"


def test_incident_filters(alice_client, outages, t0):
    shop, blog, bobs = outages
    open_, resolved = Incident.objects.filter(monitor=shop).order_by("-started_at")
    assert ids(alice_client.get("/api/incidents/", {"state": "open"})) == [open_.pk]
    assert ids(alice_client.get("/api/incidents/", {"state": "resolved"})) == [resolved.pk]
    assert ids(alice_client.get("/api/incidents/", {"monitor": blog.pk})) == []
    assert ids(alice_client.get("/api/incidents/", {"monitor": shop.pk})) == [open_.pk, resolved.pk]
    # A time range keeps the incidents overlapping it.
    window = {"since": (t0 + timedelta(minutes=2)).isoformat(), "until": (t0 + timedelta(minutes=5)).isoformat()}
    assert ids(alice_client.get("/api/incidents/", window)) == [resolved.pk]
    assert ids(alice_client.get("/api/incidents/", {"since": (t0 + timedelta(minutes=4)).isoformat()})) == [open_.pk]
    assert ids(alice_client.get("/api/incidents/", {"until": (t0 + timedelta(minutes=2)).isoformat()})) == [resolved.pk]


def test_incident_filters_refuse_bad_values_and_other_users_monitors(alice_client, outages):
    _, _, bobs = outages
    response = alice_client.get("/api/incidents/", {"monitor": bobs.pk, "state": "maybe", "since": "yesterday"})
    assert response.status_code == 400
    assert set(response.json()) == {"monitor", "state", "since"}


def test_monitor_incidents_and_status_changes(alice_client, outages, t0):
    shop, blog, _ = outages
    assert len(ids(alice_client.get(f"/api/monitors/{shop.pk}/incidents/"))) == 2
    assert ids(alice_client.get(f"/api/monitors/{blog.pk}/incidents/")) == []
    changes = alice_client.get(f"/api/monitors/{shop.pk}/status-changes/").json()["results"]
    assert [(c["from_status"], c["to_status"]) for c in changes] == [
        ("up", "down"),
        ("down", "up"),
        ("up", "down"),
        ("pending", "up"),
    ]
    assert changes[0]["reason"] == "unexpected status 502"
    assert changes[0]["changed_at"].startswith((t0 + timedelta(minutes=10)).isoformat()[:19])
    assert changes[0]["down_regions"] == ["india"]


@pytest.mark.parametrize("persona", ["bob", "anon"])
def test_others_see_nothing_of_alices_incidents(persona, bob_client, anon_client, outages):
    shop, _, _ = outages
    client = bob_client if persona == "bob" else anon_client
    expected = 404 if persona == "bob" else 401
    incident = Incident.objects.filter(monitor=shop).first()
    assert client.get(f"/api/incidents/{incident.pk}/").status_code == expected
    assert client.get(f"/api/monitors/{shop.pk}/incidents/").status_code == expected
    assert client.get(f"/api/monitors/{shop.pk}/status-changes/").status_code == expected
    listing = client.get("/api/incidents/")
    if persona == "bob":
        assert [row["monitor_name"] for row in listing.json()["results"]] == ["bob's"]
    else:
        assert listing.status_code == 401


def test_incidents_are_read_only_in_the_api(alice_client, outages):
    shop, _, _ = outages
    incident = Incident.objects.filter(monitor=shop).first()
    assert alice_client.post("/api/incidents/", {"monitor": shop.pk}).status_code == 405
    assert alice_client.patch(f"/api/incidents/{incident.pk}/", {"first_error": "x"}).status_code == 405
    assert alice_client.delete(f"/api/incidents/{incident.pk}/").status_code == 405


def test_admin_lists_open_incidents_with_duration(admin_client, outages):  # noqa: F811
    page = admin_client.get(reverse("admin:checks_incident_changelist"), {"state": "open"}).content.decode()
    assert "unexpected status 502" in page and "(open)" in page
    assert "unexpected status 500" in page  # bob's, also open
    resolved = admin_client.get(reverse("admin:checks_incident_changelist"), {"state": "resolved"}).content.decode()
    assert "0h 02m 00s" in resolved
    changes = admin_client.get(reverse("admin:checks_statuschange_changelist")).content.decode()
    assert "pending" in changes and "down" in changes
