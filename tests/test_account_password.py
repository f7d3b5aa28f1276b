"""Changing one's password: `POST /api/auth/password/`, and the reset the README gives for
the admin user `make run` creates."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from accounts.models import User
from tests.conftest import PASSWORD, client_for

BASE_DIR = Path(__file__).resolve().parent.parent
NEW_PASSWORD = "a-brand-new-pass-phrase"


def sign_in(client, email: str, password: str):
    return client.post("/api/auth/token/", {"email": email, "password": password}, format="json")


def refresh(client, token: str) -> int:
    return client.post("/api/auth/token/refresh/", {"refresh": token}, format="json").status_code


def test_a_changed_password_signs_in_and_the_old_one_no_longer_does(alice_client, anon_client, alice):
    response = alice_client.post(
        "/api/auth/password/", {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 204
    assert response.content == b""
    assert sign_in(anon_client, "alice@example.com", PASSWORD).status_code == 401
    assert sign_in(anon_client, "alice@example.com", NEW_PASSWORD).status_code == 200


def test_refresh_tokens_issued_before_the_change_stop_working(alice_client, anon_client, alice, bob):
    before = sign_in(anon_client, "alice@example.com", PASSWORD).json()
    bobs = sign_in(anon_client, "bob@example.com", PASSWORD).json()
    response = alice_client.post(
        "/api/auth/password/", {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 204
    assert refresh(anon_client, before["refresh"]) == 401
    # Tokens issued with the new password work, and another user's are untouched.
    after = sign_in(anon_client, "alice@example.com", NEW_PASSWORD).json()
    assert refresh(anon_client, after["refresh"]) == 200
    assert refresh(anon_client, bobs["refresh"]) == 200


def test_a_wrong_current_password_is_400_on_old_password_and_changes_nothing(alice_client, alice):
    response = alice_client.post(
        "/api/auth/password/", {"old_password": "not-my-password", "new_password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"old_password"}
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"old_password": PASSWORD, "new_password": "123"}, {"new_password"}),  # short and numeric
        ({"old_password": PASSWORD, "new_password": "password"}, {"new_password"}),  # too common
        ({"old_password": PASSWORD, "new_password": "alice@example.com"}, {"new_password"}),  # like the email
        ({"old_password": "wrong", "new_password": "password"}, {"old_password", "new_password"}),
        ({"new_password": NEW_PASSWORD}, {"old_password"}),
        ({"old_password": PASSWORD}, {"new_password"}),
        ({}, {"old_password", "new_password"}),
    ],
)
def test_bad_input_is_400_per_field(alice_client, alice, payload, fields):
    response = alice_client.post("/api/auth/password/", payload, format="json")
    assert response.status_code == 400
    assert set(response.json()) == fields
    assert all(isinstance(message, str) for messages in response.json().values() for message in messages)
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_no_token_is_401(anon_client, alice):
    response = anon_client.post(
        "/api/auth/password/", {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 401
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_password_changes_are_rate_limited_as_sign_ins_are(settings, alice_client, alice):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "auth": "2/min"}
    codes = [
        alice_client.post(
            "/api/auth/password/", {"old_password": f"guess-{n}", "new_password": NEW_PASSWORD}, format="json"
        ).status_code
        for n in range(3)
    ]
    assert codes == [400, 400, 429]
    # Even the right password waits for the window.
    response = alice_client.post(
        "/api/auth/password/", {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 429
    assert "Retry-After" in response.headers


def documented_reset_command() -> list[str]:
    """The admin password reset the README gives, e.g.
    `DEBUG=true .venv/bin/python manage.py changepassword admin@example.com`."""
    readme = (BASE_DIR / "README.md").read_text()
    found = re.findall(r"^((?:[A-Z_]+=\S+ )*)\.venv/bin/python (manage\.py changepassword \S+)$", readme, re.M)
    assert len(found) == 1, "the README gives one admin password reset command"
    return [*shlex.split(found[0][0]), sys.executable, *shlex.split(found[0][1])]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_readme_admin_password_reset_works(settings):
    """Run as written, against this test's database (which `make run`'s settings defaults
    would name), typing the new password twice at its prompt."""
    # The command hashes with the project's own hasher, not the suite's fast one.
    settings.PASSWORD_HASHERS = [*settings.PASSWORD_HASHERS, "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    *assignments, python, script, command, email = documented_reset_command()
    User.objects.create_superuser(email=email, password=PASSWORD)
    db = connection.settings_dict
    env = {
        **os.environ,
        **dict(assignment.split("=", 1) for assignment in assignments),
        "DATABASE_URL": f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }
    # Without a controlling terminal the prompt reads standard input.
    result = subprocess.run(
        [python, script, command, email],
        input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n",
        env=env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        start_new_session=True,
    )
    assert result.returncode == 0, result.stderr
    assert User.objects.get(email=email).check_password(NEW_PASSWORD)
    assert sign_in(client_for(None), email, NEW_PASSWORD).status_code == 200
