"""API keys: made with a role no higher than their maker's, shown once and stored hashed,
accepted as `Authorization: Bearer` beside JWTs, limited to their role, with their last use
recorded, and refused at once when revoked, expired or their owner is deactivated."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.html import escape
from rest_framework.test import APIClient

from accounts.models import ApiKey
from monitors.models import Monitor
from tests.factories import make_monitor, personal

pytestmark = pytest.mark.django_db


def key_client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def make_key(client: APIClient, role: str = "editor", **fields) -> dict:
    response = client.post("/api/keys/", {"name": f"ci {role}", "role": role, **fields})
    assert response.status_code == 201, response.data
    return response.data


def test_a_new_key_is_shown_once_and_stored_only_as_a_hash(alice_client):
    made = make_key(alice_client)
    assert made["token"].startswith(f"upt_{made['prefix']}_") and len(made["token"]) > 50
    stored = ApiKey.objects.get(pk=made["id"])
    assert made["token"] not in (stored.secret_hash, stored.prefix) and len(stored.secret_hash) == 64
    listed = alice_client.get("/api/keys/").data["results"]
    assert [key["id"] for key in listed] == [made["id"]] and listed[0]["token"] is None
    assert alice_client.get(f"/api/keys/{made['id']}/").data["token"] is None


def test_a_key_acts_as_its_owner_and_records_its_last_use(alice, alice_client, bob):
    make_monitor(alice, "https://alice.example.com/")
    make_monitor(bob, "https://bob.example.com/")
    made = make_key(alice_client, "viewer")
    response = key_client(made["token"]).get("/api/monitors/")
    assert response.status_code == 200
    assert [m["url"] for m in response.data["results"]] == ["https://alice.example.com/"]
    assert ApiKey.objects.get(pk=made["id"]).last_used_at is not None


def test_a_viewer_key_reads_but_may_not_write(alice, alice_client, india):
    viewer = key_client(make_key(alice_client, "viewer")["token"])
    monitor = make_monitor(alice, "https://alice.example.com/")
    assert viewer.get(f"/api/monitors/{monitor.pk}/").status_code == 200
    created = viewer.post("/api/monitors/", {"name": "x", "url": "https://x.example.com/", "regions": ["india"]})
    assert created.status_code == 403 and "role" in created.data["detail"]
    assert viewer.delete(f"/api/monitors/{monitor.pk}/").status_code == 403
    assert Monitor.objects.filter(organization=personal(alice)).count() == 1


def test_an_editor_key_writes_but_may_not_make_or_list_keys(alice, alice_client, india):
    editor = key_client(make_key(alice_client, "editor")["token"])
    created = editor.post("/api/monitors/", {"name": "x", "url": "https://x.example.com/", "regions": ["india"]})
    assert created.status_code == 201, created.data
    assert editor.get("/api/keys/").status_code == 403
    assert editor.post("/api/keys/", {"name": "more", "role": "viewer"}).status_code == 403


def test_a_key_may_not_make_a_key_above_its_own_role(alice_client):
    admin = key_client(make_key(alice_client, "admin")["token"])
    refused = admin.post("/api/keys/", {"name": "higher", "role": "owner"})
    assert refused.status_code == 400 and refused.data == {"role": ["A key may not have a role above yours (admin)."]}
    assert make_key(admin, "editor")["role"] == "editor"


def test_a_key_never_changes_its_owners_password(alice_client):
    owner_key = key_client(make_key(alice_client, "owner")["token"])
    response = owner_key.post(
        "/api/auth/password/", {"old_password": "irrelevant-1", "new_password": "A-new-password-42"}
    )
    assert response.status_code == 403


def test_a_revoked_key_is_refused_at_once_and_stays_listed(alice_client):
    made = make_key(alice_client)
    client = key_client(made["token"])
    assert client.get("/api/monitors/").status_code == 200
    assert alice_client.delete(f"/api/keys/{made['id']}/").status_code == 204
    response = client.get("/api/monitors/")
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    listed = alice_client.get(f"/api/keys/{made['id']}/").data
    assert listed["revoked_at"] is not None and listed["is_active"] is False


def test_an_expired_key_and_a_deactivated_owners_key_are_refused(alice, alice_client):
    expiring = make_key(alice_client, expires_at=(timezone.now() + timedelta(hours=1)).isoformat())
    ApiKey.objects.filter(pk=expiring["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert key_client(expiring["token"]).get("/api/monitors/").status_code == 401
    other = make_key(alice_client)
    alice.is_active = False
    alice.save()
    assert key_client(other["token"]).get("/api/monitors/").status_code == 401


@pytest.mark.parametrize(
    "token",
    ["upt_", "upt_abc", "upt_000000000000_wrong-secret", "upt_zzzzzzzzzzzz_" + "x" * 43, "upt_\u00e9\u00e9_x"],
)
def test_a_malformed_or_unknown_key_is_a_401_not_a_500(alice_client, token):
    make_key(alice_client)
    assert key_client(token).get("/api/monitors/").status_code == 401


def test_a_right_prefix_with_a_wrong_secret_is_refused(alice_client):
    made = make_key(alice_client)
    assert key_client(made["token"][:-2] + "xx").get("/api/monitors/").status_code == 401


@pytest.mark.parametrize(
    "body, field",
    [
        ({"role": "editor"}, "name"),
        ({"name": "x" * 101, "role": "editor"}, "name"),
        ({"name": "ci", "role": "superuser"}, "role"),
        ({"name": "ci", "role": "editor", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "ci", "role": "editor", "expires_at": "soon"}, "expires_at"),
    ],
)
def test_bad_input_gets_a_message_for_its_field_and_makes_nothing(alice_client, body, field):
    response = alice_client.post("/api/keys/", body)
    assert response.status_code == 400 and list(response.data) == [field], response.data
    assert not ApiKey.objects.exists()


def test_another_users_key_does_not_exist_for_you(alice_client, bob_client):
    made = make_key(alice_client)
    assert bob_client.get(f"/api/keys/{made['id']}/").status_code == 404
    assert bob_client.delete(f"/api/keys/{made['id']}/").status_code == 404
    assert bob_client.get("/api/keys/").data["results"] == []
    assert key_client(made["token"]).get("/api/monitors/").status_code == 200


def test_a_jwt_still_works_beside_keys(alice_client):
    make_key(alice_client)
    assert alice_client.get("/api/auth/me/").status_code == 200


def test_the_keys_page_shows_a_new_key_once_and_never_caches_it(alice):
    client = Client()
    client.force_login(alice)
    made = client.post("/keys/", {"name": "CI", "role": "editor", "expires_at": ""})
    assert made.status_code == 200 and made["Cache-Control"] == "no-store"
    key = ApiKey.objects.get()
    token = re.search(rb'value="(upt_[^"]+)"', made.content).group(1).decode()
    assert token.startswith(f"upt_{key.prefix}_") and key_client(token).get("/api/monitors/").status_code == 200
    assert token.encode() not in client.get("/keys/").content


def test_the_keys_page_refuses_what_the_api_refuses_with_the_same_message(alice, alice_client):
    client = Client()
    client.force_login(alice)
    page = client.post("/keys/", {"name": "", "role": "root", "expires_at": ""})
    api = alice_client.post("/api/keys/", {"name": "", "role": "root"})
    assert page.status_code == 400 and api.status_code == 400
    for message in [*api.data["name"], *api.data["role"]]:
        assert escape(str(message)).encode() in page.content
    assert not ApiKey.objects.exists()


def test_another_users_key_cannot_be_revoked_from_the_web(alice_client, bob):
    made = make_key(alice_client)
    client = Client()
    client.force_login(bob)
    assert client.get(f"/keys/{made['id']}/revoke/").status_code == 404
    assert client.post(f"/keys/{made['id']}/revoke/").status_code == 404
    assert ApiKey.objects.get(pk=made["id"]).revoked_at is None
