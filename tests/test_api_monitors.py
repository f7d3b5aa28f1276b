"""Monitor CRUD through the API: fields, validation, ownership, and "check now"."""

import pytest
from django_celery_beat.models import PeriodicTask

from monitors.models import Monitor
from tests.conftest import queued_checks
from tests.factories import make_monitor, personal

VALID = {"name": "Example", "url": "https://example.com/health", "interval_seconds": 60, "regions": ["india", "usa"]}


def test_create_returns_the_monitor_with_defaults(alice_client, alice):
    response = alice_client.post("/api/monitors/", VALID, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["regions"] == ["india", "usa"]
    assert body["method"] == "GET"
    assert body["timeout_seconds"] == 10
    assert body["retries"] == 2
    assert body["expected_status"] == "200-399"
    assert body["status"] == "pending"
    assert body["is_active"] is True
    assert body["last_checked_at"] is None
    monitor = Monitor.objects.get(pk=body["id"])
    assert monitor.organization == personal(alice)
    assert PeriodicTask.objects.filter(name__startswith=f"check monitor {monitor.pk} in ").count() == 2


def test_owner_cannot_be_set_through_the_api(alice_client, alice, bob):
    body = {**VALID, "owner": bob.pk, "organization": personal(bob).pk}
    response = alice_client.post("/api/monitors/", body, format="json")
    assert Monitor.objects.get(pk=response.json()["id"]).organization == personal(alice)


def test_list_shows_only_my_monitors(alice_client, alice, bob):
    mine = make_monitor(alice, "https://a.example/")
    make_monitor(bob, "https://b.example/")
    response = alice_client.get("/api/monitors/")
    assert response.status_code == 200
    assert [m["id"] for m in response.json()["results"]] == [mine.pk]


def test_put_patch_and_delete(alice_client, alice):
    monitor = make_monitor(alice, "https://a.example/", regions=("india",))
    patched = alice_client.patch(
        f"/api/monitors/{monitor.pk}/", {"interval_seconds": 120, "regions": ["usa"]}, format="json"
    )
    assert patched.status_code == 200, patched.json()
    assert (patched.json()["interval_seconds"], patched.json()["regions"]) == (120, ["usa"])
    assert set(
        PeriodicTask.objects.filter(name__startswith=f"check monitor {monitor.pk} ").values_list("queue", flat=True)
    ) == {"usa"}

    put = alice_client.put(
        f"/api/monitors/{monitor.pk}/", {**VALID, "name": "Renamed", "method": "HEAD"}, format="json"
    )
    assert put.status_code == 200, put.json()
    assert (put.json()["name"], put.json()["method"], put.json()["regions"]) == ("Renamed", "HEAD", ["india", "usa"])

    paused = alice_client.patch(f"/api/monitors/{monitor.pk}/", {"is_active": False}, format="json")
    assert paused.json()["status"] == "paused"
    assert not PeriodicTask.objects.filter(name__startswith=f"check monitor {monitor.pk} ", enabled=True).exists()

    assert alice_client.delete(f"/api/monitors/{monitor.pk}/").status_code == 204
    assert not Monitor.objects.filter(pk=monitor.pk).exists()
    assert not PeriodicTask.objects.filter(name__startswith=f"check monitor {monitor.pk} ").exists()


@pytest.mark.parametrize("path", ["/api/monitors/{id}/", "/api/monitors/{id}/ticks/", "/api/monitors/{id}/uptime/"])
def test_another_users_monitor_is_404_to_read(bob_client, alice, path):
    monitor = make_monitor(alice, "https://a.example/")
    assert bob_client.get(path.format(id=monitor.pk)).status_code == 404


def test_another_users_monitor_is_404_to_change_delete_or_check(bob_client, alice, broker):
    monitor = make_monitor(alice, "https://a.example/")
    url = f"/api/monitors/{monitor.pk}/"
    assert bob_client.patch(url, {"name": "mine now"}, format="json").status_code == 404
    assert bob_client.put(url, VALID, format="json").status_code == 404
    assert bob_client.delete(url).status_code == 404
    assert bob_client.post(url + "check/").status_code == 404
    monitor.refresh_from_db()
    assert monitor.name == "site"
    assert queued_checks(broker, "india") == []


def test_anonymous_is_401_everywhere(anon_client, alice):
    monitor = make_monitor(alice, "https://a.example/")
    for path in [
        "/api/monitors/",
        f"/api/monitors/{monitor.pk}/",
        f"/api/monitors/{monitor.pk}/ticks/",
        f"/api/monitors/{monitor.pk}/uptime/",
        "/api/regions/",
    ]:
        assert anon_client.get(path).status_code == 401, path
    assert anon_client.post(f"/api/monitors/{monitor.pk}/check/").status_code == 401


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"url": "ftp://example.com/"}, "url"),
        ({"url": "https://"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "https://user:pw@example.com/"}, "url"),
        ({"url": "https://example.com/" + "a" * 2001}, "url"),
        ({"interval_seconds": 0}, "interval_seconds"),
        ({"interval_seconds": 10**6}, "interval_seconds"),
        ({"timeout_seconds": 60, "interval_seconds": 60}, "timeout_seconds"),
        ({"timeout_seconds": 0}, "timeout_seconds"),
        ({"retries": 9}, "retries"),
        ({"retries": 5, "timeout_seconds": 50, "retry_interval_seconds": 10, "interval_seconds": 600}, "retries"),
        ({"regions": ["atlantis"]}, "regions"),
        ({"regions": []}, "regions"),
        ({"expected_status": "2xx"}, "expected_status"),
        ({"method": "DELETE"}, "method"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_input_is_400_with_a_message_for_the_field(alice_client, settings, changes, field):
    settings.MONITOR_MIN_INTERVAL_SECONDS = 30
    response = alice_client.post("/api/monitors/", {**VALID, **changes}, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert response.json()[field]
    assert not Monitor.objects.exists()
    assert not PeriodicTask.objects.filter(name__startswith="check monitor ").exists()


def test_patch_is_validated_against_the_stored_values(alice_client, alice):
    monitor = make_monitor(alice, "https://a.example/", interval_seconds=60, timeout_seconds=10)
    response = alice_client.patch(f"/api/monitors/{monitor.pk}/", {"interval_seconds": 5}, format="json")
    assert response.status_code == 400
    assert "timeout_seconds" in response.json()
    monitor.refresh_from_db()
    assert monitor.interval_seconds == 60


def test_regions_are_listed(alice_client):
    response = alice_client.get("/api/regions/")
    assert response.status_code == 200
    assert {"slug": "india", "name": "India"} in response.json()
    assert {r["slug"] for r in response.json()} >= {"india", "usa", "europe"}


def test_check_now_queues_a_check_in_every_region(alice_client, alice, broker, django_capture_on_commit_callbacks):
    monitor = make_monitor(alice, "https://a.example/", regions=("india", "usa"))
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(f"/api/monitors/{monitor.pk}/check/")
    assert response.status_code == 202
    assert sorted(response.json()["queued"]) == ["india", "usa"]
    for slug in ("india", "usa"):
        [message] = queued_checks(broker, slug)
        assert message["kwargs"]["monitor_id"] == monitor.pk


def test_check_now_on_a_paused_monitor_is_refused(alice_client, alice, broker):
    monitor = make_monitor(alice, "https://a.example/", is_active=False)
    assert alice_client.post(f"/api/monitors/{monitor.pk}/check/").status_code == 409
    assert queued_checks(broker, "india") == []


@pytest.mark.parametrize("format", ["json"])  # the API reads no multipart (415)
def test_a_region_slug_with_a_nul_character_is_a_400_not_a_500(alice_client, format):
    body = {"name": "n", "url": "https://a.example/", "interval_seconds": 60, "regions": ["in\x00dia"]}
    response = alice_client.post("/api/monitors/", body, format=format)
    assert response.status_code == 400
    assert list(response.json()) == ["regions"]
