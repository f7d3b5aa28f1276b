"""The health endpoint: what an operator or a load balancer sees."""

import json

from tests.factories import make_monitor


def test_healthy_system_reports_every_region(anon_client, broker, db):
    response = anon_client.get("/api/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == {"ok": True}
    assert body["broker"] == {"ok": True}
    assert set(body["regions"]) >= {"india", "usa", "europe"}
    assert body["regions"]["india"] == {
        "queue_depth": 0,
        "workers": 0,
        "last_heartbeat": None,
        "last_heartbeat_age_seconds": None,
        "stalled": False,
        "late_monitors": 0,
        # No worker has run a canary round there (tests/test_canaries.py has them).
        "impaired": False,
        "canaries_reached": None,
        "canaries": None,
        "canaries_checked_at": None,
    }


def test_a_region_with_checks_queued_and_no_worker_is_stalled(
    anon_client, alice, broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        make_monitor(alice, "https://a.example/", regions=("india",))
    india = anon_client.get("/api/health/").json()["regions"]["india"]
    assert india["queue_depth"] == 1
    assert india["workers"] == 0
    assert india["stalled"] is True


def test_broker_down_is_503(anon_client, db, settings, closed_port):
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port}/0"
    response = anon_client.get("/api/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is False
    # What failed, but nothing of where it lives: the report needs no token.
    assert body["broker"]["error"].startswith("ConnectionError")
    assert str(closed_port) not in json.dumps(body) and "127.0.0.1" not in json.dumps(body)
