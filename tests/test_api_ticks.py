"""A monitor's ticks (filters, pagination) and its uptime figures, through the API."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import make_monitor, make_tick


def add_tick(monitor, region_slug, minutes_ago, status="up", response_time_ms=100, now=None):
    slot = (now or datetime.now(UTC)) - timedelta(minutes=minutes_ago)
    return make_tick(monitor, region_slug, slot, status, response_time_ms, late=timedelta(milliseconds=20))


@pytest.fixture
def monitor(alice):
    return make_monitor(alice, "https://a.example/", regions=("india", "usa"))


def test_ticks_are_paginated_newest_first(alice_client, monitor):
    for minute in range(60):
        add_tick(monitor, "india", minute)
    first = alice_client.get(f"/api/monitors/{monitor.pk}/ticks/").json()
    assert first["count"] == 60
    assert len(first["results"]) == 50
    assert first["previous"] is None and first["next"]
    stamps = [t["scheduled_at"] for t in first["results"]]
    assert stamps == sorted(stamps, reverse=True)
    second = alice_client.get(first["next"]).json()
    assert len(second["results"]) == 10
    assert second["next"] is None
    assert set(first["results"][0]) == {
        "id",
        "region",
        "status",
        "status_code",
        "response_time_ms",
        "error",
        "attempts",
        "scheduled_at",
        "checked_at",
        "in_maintenance",
        "tls_expires_at",
    }


def test_ticks_filter_by_region_status_and_time(alice_client, monitor):
    now = datetime.now(UTC)
    add_tick(monitor, "india", 1, now=now)
    add_tick(monitor, "usa", 2, "down", now=now)
    add_tick(monitor, "india", 30, "down", now=now)
    add_tick(monitor, "usa", 90, now=now)

    def ids(query):
        response = alice_client.get(f"/api/monitors/{monitor.pk}/ticks/", query)
        assert response.status_code == 200, response.json()
        return [(t["region"], t["status"]) for t in response.json()["results"]]

    assert ids({"region": "india"}) == [("india", "up"), ("india", "down")]
    assert ids({"status": "down"}) == [("usa", "down"), ("india", "down")]
    assert ids({"since": (now - timedelta(minutes=45)).isoformat()}) == [
        ("india", "up"),
        ("usa", "down"),
        ("india", "down"),
    ]
    assert ids({"until": (now - timedelta(minutes=45)).isoformat()}) == [("usa", "up")]
    assert ids({"region": "usa", "status": "up", "since": (now - timedelta(hours=2)).isoformat()}) == [("usa", "up")]


def test_another_monitors_ticks_never_show(alice_client, alice, monitor):
    other = make_monitor(alice, "https://b.example/")
    add_tick(other, "india", 1)
    assert alice_client.get(f"/api/monitors/{monitor.pk}/ticks/").json()["count"] == 0


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"region": "atlantis"}, "region"),
        ({"status": "sideways"}, "status"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "until"),
    ],
)
def test_bad_tick_filters_are_400(alice_client, monitor, query, field):
    response = alice_client.get(f"/api/monitors/{monitor.pk}/ticks/", query)
    assert response.status_code == 400
    assert field in response.json()


def test_uptime_figures_overall_and_per_region(alice_client, monitor):
    # india: 3 up (100, 200, 300 ms), 1 down; usa: 4 up (100 ms each). One old tick is out of the window.
    for minutes, status, ms in [(1, "up", 100), (2, "up", 200), (3, "up", 300), (4, "down", 5000)]:
        add_tick(monitor, "india", minutes, status, ms)
    for minutes in range(1, 5):
        add_tick(monitor, "usa", minutes, "up", 100)
    add_tick(monitor, "usa", 60 * 25, "down", 100)

    body = alice_client.get(f"/api/monitors/{monitor.pk}/uptime/", {"window": "24h"}).json()
    assert body["window"] == "24h"
    assert body["checks"] == 8
    assert body["uptime_percent"] == 87.5
    # Response times count successful checks only: (100+200+300+4*100)/7
    assert body["avg_response_time_ms"] == pytest.approx(142.9, abs=0.05)
    # The 95th percentile is estimated from a histogram of response times: within 10%.
    assert body["p95_response_time_ms"] == pytest.approx(270.0, rel=0.1)
    india = body["regions"]["india"]
    assert india.pop("p95_response_time_ms") == pytest.approx(290.0, rel=0.1)
    assert india == {
        "uptime_percent": 75.0,
        "checks": 4,
        "maintenance_checks": 0,
        "avg_response_time_ms": 200.0,
        "missed_slots": 0,
    }
    assert body["regions"]["usa"]["uptime_percent"] == 100.0
    assert body["regions"]["usa"]["checks"] == 4

    week = alice_client.get(f"/api/monitors/{monitor.pk}/uptime/", {"window": "7d"}).json()
    assert week["checks"] == 9
    assert week["regions"]["usa"]["uptime_percent"] == 80.0


def test_uptime_without_checks_is_unknown_not_zero(alice_client, monitor):
    body = alice_client.get(f"/api/monitors/{monitor.pk}/uptime/").json()
    assert body["window"] == "24h"
    assert body["checks"] == 0
    assert body["uptime_percent"] is None
    assert body["regions"]["india"]["uptime_percent"] is None


def test_bad_window_is_400(alice_client, monitor):
    response = alice_client.get(f"/api/monitors/{monitor.pk}/uptime/", {"window": "1y"})
    assert response.status_code == 400
    assert "window" in response.json()


def test_a_region_filter_with_a_nul_character_is_a_400_not_a_500(alice_client, monitor):
    response = alice_client.get(f"/api/monitors/{monitor.pk}/ticks/", {"region": "in\x00dia"})
    assert response.status_code == 400
    assert list(response.json()) == ["region"]
