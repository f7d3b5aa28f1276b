"""The API's guards: rate limits, quotas, body size, and tokens of users who may no longer act."""

import json

from accounts.models import User
from monitors.models import Monitor
from tests.conftest import PASSWORD, client_for
from tests.factories import make_monitor, personal

VALID = {"name": "Example", "url": "https://example.com/", "interval_seconds": 60, "regions": ["india"]}


def test_token_requests_are_rate_limited_per_client(settings, anon_client, alice):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "auth": "3/min"}
    codes = [
        anon_client.post("/api/auth/token/", {"email": "alice@example.com", "password": "guess"}).status_code
        for _ in range(4)
    ]
    assert codes == [401, 401, 401, 429]
    # The limit holds for the right password too, until the window passes.
    response = anon_client.post("/api/auth/token/", {"email": "alice@example.com", "password": PASSWORD})
    assert response.status_code == 429
    assert "Retry-After" in response.headers


def test_registration_is_rate_limited(settings, anon_client, db):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "auth": "2/min"}
    codes = [
        anon_client.post("/api/auth/register/", {"email": f"u{n}@example.com", "password": PASSWORD}).status_code
        for n in range(3)
    ]
    assert codes == [201, 201, 429]
    assert User.objects.count() == 2


def test_check_now_is_rate_limited_per_user(settings, alice, bob):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "check_now": "2/min"}
    monitor = make_monitor(alice, "https://a.example/")
    alice_client = client_for(alice)
    codes = [alice_client.post(f"/api/monitors/{monitor.pk}/check/").status_code for _ in range(3)]
    assert codes == [202, 202, 429]
    # Bob's allowance is his own.
    bobs = make_monitor(bob, "https://b.example/")
    assert client_for(bob).post(f"/api/monitors/{bobs.pk}/check/").status_code == 202


def test_monitor_quota_is_a_clear_403(settings, alice_client, alice):
    settings.MONITOR_QUOTA_PER_ORGANIZATION = 2
    make_monitor(alice, "https://a.example/")
    make_monitor(alice, "https://b.example/")
    response = alice_client.post("/api/monitors/", VALID, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "You have reached the limit of 2 monitors."}
    assert Monitor.objects.filter(organization=personal(alice)).count() == 2


def test_oversized_request_bodies_are_refused(alice_client):
    body = json.dumps({**VALID, "padding": "x" * 200_000})  # an ignored field: only size can refuse it
    response = alice_client.post("/api/monitors/", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large: the limit is 65536 bytes."}
    assert not Monitor.objects.exists()


def test_a_deactivated_users_token_stops_working(alice_client, alice):
    assert alice_client.get("/api/monitors/").status_code == 200
    User.objects.filter(pk=alice.pk).update(is_active=False)
    assert alice_client.get("/api/monitors/").status_code == 401


def test_logout_cannot_blacklist_another_users_token(alice_client, anon_client, bob):
    bobs = anon_client.post("/api/auth/token/", {"email": "bob@example.com", "password": PASSWORD}).json()
    response = alice_client.post("/api/auth/logout/", {"refresh": bobs["refresh"]})
    assert response.status_code == 400
    assert anon_client.post("/api/auth/token/refresh/", {"refresh": bobs["refresh"]}).status_code == 200
