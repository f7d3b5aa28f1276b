"""What a new user and an attacker send in the first hour: bodies nested thousands of levels
deep, strings that are not Unicode, forms where the API reads JSON, tokens signed with our
key but holding claims we never issue, and a request that breaks the server. Each answer is
a 4xx saying what was wrong, or a bare JSON 500, and never anything about the server."""

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.test import APIClient
from rest_framework.views import APIView
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from monitors.models import MaintenanceWindow, Monitor
from notifications.models import Channel
from tests.conftest import PASSWORD
from tests.factories import make_monitor
from uptime import urls as project_urls

MONITOR = {"name": "Example", "url": "https://example.com/health", "interval_seconds": 60, "regions": ["india"]}
SURROGATE = "\ud800"  # json.dumps writes it as the escape "\ud800": ASCII, and not Unicode


@pytest.fixture
def monitor(alice) -> Monitor:
    return make_monitor(alice, "https://a.example/")


def send(client: APIClient, method: str, url: str, body: str | bytes, content_type="application/json"):
    return client.generic(method, url, body, content_type=content_type)


def hour_from_now(hours: int) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


# --- Deep nesting ----------------------------------------------------------------------------

# (method, path, needs a token): the endpoints that read a body, the public ones included.
BODY_ENDPOINTS = [
    ("POST", "/api/auth/register/", False),
    ("POST", "/api/auth/token/", False),
    ("POST", "/api/auth/token/refresh/", False),
    ("POST", "/api/auth/logout/", True),
    ("POST", "/api/monitors/", True),
    ("PATCH", "/api/monitors/{monitor}/", True),
    ("PUT", "/api/monitors/{monitor}/", True),
    ("POST", "/api/channels/", True),
    ("POST", "/api/maintenance-windows/", True),
]


def email_nested(levels: int) -> str:
    """`{"email": [[…]]}`: an object holding `levels` arrays, so 1 + levels deep."""
    return '{"email": ' + "[" * levels + "]" * levels + "}"


@pytest.mark.parametrize("method, url, needs_token", BODY_ENDPOINTS)
def test_a_body_nested_20000_levels_deep_is_a_400_on_every_endpoint(
    method, url, needs_token, alice_client, anon_client, monitor
):
    client = alice_client if needs_token else anon_client
    response = send(client, method, url.format(monitor=monitor.pk), email_nested(20_000))
    assert response.status_code == 400
    assert response.json() == {"detail": "JSON parse error - nested deeper than 32 levels of objects and arrays."}


def test_bodies_are_read_up_to_32_levels_deep(anon_client, db):
    at_the_limit = send(anon_client, "POST", "/api/auth/register/", email_nested(31))
    assert at_the_limit.status_code == 400
    assert "email" in at_the_limit.json()  # read, and refused by the field

    one_more = send(anon_client, "POST", "/api/auth/register/", email_nested(32))
    assert one_more.status_code == 400
    assert one_more.json()["detail"].endswith("nested deeper than 32 levels of objects and arrays.")
    assert not User.objects.exists()


def test_a_token_whose_header_is_nested_deep_is_a_401(anon_client):
    """No key is needed to write a token's header, which is read before the signature."""
    header = b'{"alg": "HS256", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    token = ".".join(base64.urlsafe_b64encode(part).rstrip(b"=").decode() for part in (header, b"{}", b"sig"))
    assert anon_client.get("/api/auth/me/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    assert send(anon_client, "POST", "/api/auth/token/refresh/", json.dumps({"refresh": token})).status_code == 401


# --- Strings that are not Unicode ------------------------------------------------------------

WINDOW = {"name": "w", "monitors": [], "starts_at": hour_from_now(1), "ends_at": hour_from_now(2)}
CHANNEL = {"name": "ops", "kind": "webhook", "url": "https://hooks.example/x"}


@pytest.mark.parametrize(
    "url, body",
    [
        ("/api/monitors/", {**MONITOR, "kind": SURROGATE}),
        ("/api/monitors/", {**MONITOR, "method": "GE" + SURROGATE}),
        ("/api/monitors/", {**MONITOR, "keyword": "ok", "keyword_mode": SURROGATE}),
        ("/api/monitors/", {**MONITOR, "request_headers": {"X-" + SURROGATE: "1"}}),
        ("/api/monitors/", {**MONITOR, "name": "shop " + SURROGATE}),
        ("/api/monitors/", {**MONITOR, "no such field " + SURROGATE: 1}),  # a key nothing reads
        ("/api/maintenance-windows/", {**WINDOW, "recurrence": SURROGATE}),
        ("/api/channels/", {**CHANNEL, "kind": SURROGATE}),
        ("/api/channels/", {**CHANNEL, "name": [{"deep": SURROGATE}]}),
    ],
    ids=[
        "monitor kind",
        "monitor method",
        "monitor keyword_mode",
        "monitor header name",
        "monitor name",
        "a key nothing reads",
        "window recurrence",
        "channel kind",
        "deep in a list",
    ],
)
def test_a_lone_surrogate_anywhere_in_a_body_is_a_400(alice_client, url, body):
    response = send(alice_client, "POST", url, json.dumps(body))
    assert response.status_code == 400
    assert response.json() == {
        "detail": "JSON parse error - a string holds a lone surrogate (an escape \\ud800 to \\udfff), "
        "not valid Unicode."
    }
    assert not Monitor.objects.exists() and not MaintenanceWindow.objects.exists() and not Channel.objects.exists()


@pytest.mark.parametrize(
    "url, body",
    [
        ("/api/auth/register/", {"email": "carol@example.com", "password": "a-long-pass-phrase" + SURROGATE}),
        ("/api/auth/token/", {"email": "alice@example.com", "password": PASSWORD + SURROGATE}),
        ("/api/auth/token/", {"email": SURROGATE + "@example.com", "password": PASSWORD}),
    ],
)
def test_a_lone_surrogate_in_a_login_or_registration_is_a_400(alice, anon_client, url, body):
    response = send(anon_client, "POST", url, json.dumps(body))
    assert response.status_code == 400
    assert "lone surrogate" in response.json()["detail"]
    assert list(User.objects.values_list("email", flat=True)) == ["alice@example.com"]


def test_a_body_that_is_not_utf8_is_a_400(alice_client):
    response = send(alice_client, "POST", "/api/monitors/", b'{"name": "\xed\xa0\x80"}')
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")


@pytest.mark.parametrize(
    "url",
    [
        "/api/monitors/{monitor}/ticks/?region=%ED%A0%80",
        "/api/monitors/{monitor}/ticks/?status=%ED%A0%80&in_maintenance=%ED%A0%80",
        "/api/monitors/{monitor}/ticks/?since=%ED%A0%80",
        "/api/monitors/{monitor}/uptime/?window=%ED%A0%80",
        "/api/monitors/{monitor}/status-changes/?until=%ED%A0%80",
        "/api/incidents/?state=%ED%A0%80&monitor=%ED%A0%80",
        "/api/monitors/?page=%ED%A0%80",
        "/api/monitors/%ED%A0%80/",
    ],
)
def test_a_query_or_path_that_is_not_utf8_answers_json_without_a_server_error(alice_client, monitor, url):
    """Django decodes a query string's bad bytes to U+FFFD, so what the API echoes is Unicode."""
    response = alice_client.get(url.format(monitor=monitor.pk))
    assert response.status_code in (200, 400, 404)
    assert response["Content-Type"] == "application/json"
    response.json()


# --- JSON only -------------------------------------------------------------------------------

FORMS = [
    ("application/x-www-form-urlencoded", "quorum=1&quorum=2"),
    ("multipart/form-data; boundary=b", '--b\r\nContent-Disposition: form-data; name="quorum"\r\n\r\n1\r\n--b--\r\n'),
]


@pytest.mark.parametrize("content_type, body", FORMS, ids=["form", "multipart"])
def test_a_form_body_is_a_415(alice_client, monitor, content_type, body):
    """The fuzz's find: a form-encoded PATCH repeating `quorum`."""
    patched = send(alice_client, "PATCH", f"/api/monitors/{monitor.pk}/", body, content_type)
    assert patched.status_code == 415
    assert patched.json()["detail"].startswith("Unsupported media type")
    monitor.refresh_from_db()
    assert monitor.quorum is None


@pytest.mark.parametrize("format", ["multipart", "form"])
def test_a_registration_sent_as_a_form_is_a_415(anon_client, db, format):
    registration = {"email": "carol@example.com", "password": PASSWORD}
    if format == "multipart":
        response = anon_client.post("/api/auth/register/", registration, format="multipart")
    else:
        form = f"email=carol%40example.com&password={PASSWORD}"
        response = send(anon_client, "POST", "/api/auth/register/", form, "application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert not User.objects.exists()


# --- Location of what a POST creates ---------------------------------------------------------


def test_every_create_answers_the_new_objects_api_url_as_location(alice_client, anon_client, monitor):
    created = {
        "/api/monitors/": alice_client.post("/api/monitors/", MONITOR),
        "/api/channels/": alice_client.post("/api/channels/", CHANNEL),
        "/api/maintenance-windows/": alice_client.post(
            "/api/maintenance-windows/", {**WINDOW, "monitors": [monitor.pk]}
        ),
    }
    for collection, response in created.items():
        assert response.status_code == 201, response.json()
        location = response["Location"]
        assert location == f"{collection}{response.json()['id']}/"
        assert alice_client.get(location).json()["id"] == response.json()["id"]

    registered = anon_client.post("/api/auth/register/", {"email": "carol@example.com", "password": PASSWORD})
    assert registered.status_code == 201
    assert registered["Location"] == "/api/auth/me/"


# --- Tokens signed with our key, holding claims we never issue ------------------------------


def signed(token: RefreshToken, **claims) -> str:
    """The token with its claims changed, signed with the project's JWT_SIGNING_KEY."""
    return token_backend.encode({**token.payload, **claims})


NOT_A_USER_ID = ["abc", "", ["1"], {"id": 1}, "1.5", 1.5, "-1", True, None, "99999999999999999999999", "\u0661"]


@pytest.mark.parametrize("user_id", NOT_A_USER_ID, ids=ascii)
def test_an_access_token_whose_user_id_is_not_one_is_a_401(alice, anon_client, user_id):
    token = signed(RefreshToken.for_user(alice).access_token, user_id=user_id)
    response = anon_client.get("/api/auth/me/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_an_access_token_with_alices_id_written_oddly_is_not_alices(alice, anon_client):
    for user_id in (f"{alice.pk}.0", f" {alice.pk}", f"{alice.pk}\n", str(alice.pk).translate(ARABIC_DIGITS)):
        token = signed(RefreshToken.for_user(alice).access_token, user_id=user_id)
        assert anon_client.get("/api/auth/me/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401, user_id
    token = signed(RefreshToken.for_user(alice).access_token, user_id=alice.pk)  # as simplejwt once wrote it
    assert anon_client.get("/api/auth/me/", HTTP_AUTHORIZATION=f"Bearer {token}").json()["email"] == alice.email


ARABIC_DIGITS = str.maketrans("0123456789", "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669")


@pytest.mark.parametrize("exp", [10**20, "9999999999", [1]], ids=ascii)
def test_an_access_token_whose_expiry_is_no_date_is_a_401(alice, anon_client, exp):
    token = signed(RefreshToken.for_user(alice).access_token, exp=exp)
    assert anon_client.get("/api/auth/me/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


@pytest.mark.parametrize(
    "claims", [{"user_id": "abc"}, {"user_id": ["1"]}, {"exp": 10**20}, {"jti": "x" * 300}, {"jti": ["a"]}], ids=ascii
)
def test_refresh_and_logout_with_a_refresh_token_whose_claims_we_never_issue(alice, alice_client, anon_client, claims):
    token = signed(RefreshToken.for_user(alice), **claims)
    refreshed = anon_client.post("/api/auth/token/refresh/", {"refresh": token})
    assert refreshed.status_code == 401
    assert refreshed.json()["code"] == "token_not_valid"
    logout = alice_client.post("/api/auth/logout/", {"refresh": token})
    assert logout.status_code == 400
    assert logout.json() == {"refresh": ["Token is invalid or expired."]}


def test_the_refresh_token_of_a_deleted_user_is_a_401(alice, anon_client):
    refresh = str(RefreshToken.for_user(alice))
    alice.delete()
    response = anon_client.post("/api/auth/token/refresh/", {"refresh": refresh})
    assert response.status_code == 401
    assert response.json() == {"detail": "No active account found for the given token."}


# --- A server error --------------------------------------------------------------------------

# A secret the failing views put in their exception, as a database error would its address.
SECRET = "postgresql://uptime:hunter2@10.0.0.5:5432/uptime"


class ExplodingView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    def get(self, request):
        raise RuntimeError(SECRET)


def exploding_page(request):
    raise RuntimeError(SECRET)


# This module is the URL configuration of the tests below (pytest's `urls` marker): the
# project's routes and error handlers, and two views that fail.
urlpatterns = [
    path("api/explodes/", ExplodingView.as_view()),
    path("explodes/", exploding_page),
    *project_urls.urlpatterns,
]
handler404 = project_urls.handler404
handler500 = getattr(project_urls, "handler500", "django.views.defaults.server_error")


@pytest.mark.urls(__name__)
def test_a_server_error_under_the_api_is_json_and_tells_nothing(settings, db):
    settings.DEBUG = False
    response = APIClient(raise_request_exception=False).get("/api/explodes/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Server error."}


@pytest.mark.urls(__name__)
def test_a_server_error_outside_the_api_stays_html_and_tells_nothing(settings, db):
    settings.DEBUG = False
    response = APIClient(raise_request_exception=False).get("/explodes/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert SECRET not in page and "RuntimeError" not in page and "Traceback" not in page


def test_a_host_the_server_does_not_serve_is_a_json_400_under_the_api(settings, db):
    """Django refuses it before any view; an API client still reads JSON."""
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["uptime.example.com"]
    response = APIClient().get("/api/health/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Bad request."}
