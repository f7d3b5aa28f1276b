"""Registration, tokens and the current user, through the HTTP API."""

import pytest

from accounts.models import User
from tests.conftest import PASSWORD


def test_register_then_log_in_and_see_myself(anon_client, db):
    response = anon_client.post("/api/auth/register/", {"email": "Carol@Example.com", "password": PASSWORD})
    assert response.status_code == 201
    assert response.json() == {"id": response.json()["id"], "email": "carol@example.com"}
    assert "password" not in response.json()

    tokens = anon_client.post("/api/auth/token/", {"email": "carol@example.com", "password": PASSWORD}).json()
    assert set(tokens) == {"access", "refresh"}
    anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    me = anon_client.get("/api/auth/me/")
    assert me.status_code == 200
    assert me.json()["email"] == "carol@example.com"


def test_registered_users_are_not_staff(anon_client, db):
    anon_client.post("/api/auth/register/", {"email": "dave@example.com", "password": PASSWORD})
    user = User.objects.get(email="dave@example.com")
    assert not user.is_staff and not user.is_superuser


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"email": "erin@example.com", "password": "123"}, "password"),
        ({"email": "erin@example.com", "password": "password"}, "password"),
        ({"password": PASSWORD}, "email"),
        ({"email": "erin@example.com"}, "password"),
    ],
)
def test_bad_registration_is_400_per_field(anon_client, db, payload, field):
    response = anon_client.post("/api/auth/register/", payload)
    assert response.status_code == 400
    assert field in response.json()
    assert not User.objects.filter(email="erin@example.com").exists()


def test_duplicate_email_is_refused_in_any_case(anon_client, alice):
    response = anon_client.post("/api/auth/register/", {"email": "ALICE@example.com", "password": PASSWORD})
    assert response.status_code == 400
    assert "email" in response.json()


def test_wrong_password_gets_no_token(anon_client, alice):
    response = anon_client.post("/api/auth/token/", {"email": "alice@example.com", "password": "wrong"})
    assert response.status_code == 401


def test_inactive_user_gets_no_token(anon_client, alice):
    User.objects.filter(pk=alice.pk).update(is_active=False)
    response = anon_client.post("/api/auth/token/", {"email": "alice@example.com", "password": PASSWORD})
    assert response.status_code == 401


def test_refresh_rotates_and_the_old_refresh_token_is_spent(anon_client, alice):
    tokens = anon_client.post("/api/auth/token/", {"email": "alice@example.com", "password": PASSWORD}).json()
    refreshed = anon_client.post("/api/auth/token/refresh/", {"refresh": tokens["refresh"]})
    assert refreshed.status_code == 200
    assert "access" in refreshed.json()
    again = anon_client.post("/api/auth/token/refresh/", {"refresh": tokens["refresh"]})
    assert again.status_code == 401


def test_logout_blacklists_the_refresh_token(anon_client, alice):
    tokens = anon_client.post("/api/auth/token/", {"email": "alice@example.com", "password": PASSWORD}).json()
    anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert anon_client.post("/api/auth/logout/", {"refresh": tokens["refresh"]}).status_code == 205
    assert anon_client.post("/api/auth/token/refresh/", {"refresh": tokens["refresh"]}).status_code == 401


def test_no_or_bad_token_is_401(anon_client, db):
    assert anon_client.get("/api/auth/me/").status_code == 401
    anon_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    assert anon_client.get("/api/auth/me/").status_code == 401
    assert anon_client.get("/api/monitors/").status_code == 401


def test_tokens_are_not_signed_with_the_secret_key(settings):
    assert settings.SIMPLE_JWT["SIGNING_KEY"] != settings.SECRET_KEY
