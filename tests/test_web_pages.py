"""The web pages through Django's test client: who may see what, the forms' rules (the
API's, word for word), CSRF, and the sign-in limit. What a browser shows is in tests/browser/."""

import re
from html import unescape

import pytest
from django.core import mail
from django.test import Client

from checks.models import Tick
from monitors.models import Monitor
from tests.conftest import PASSWORD
from tests.factories import make_monitor, monitor_form, personal, signed_in

# The same monitor as monitor_form(), as the API takes it.
API_MONITOR = {"name": "Shop", "url": "https://shop.example/", "regions": ["india"], "interval_seconds": 60}


def test_signed_out_every_page_sends_to_sign_in(db, alice):
    monitor = make_monitor(alice, "https://shop.example/")
    client = Client()
    for path in (
        "/",
        "/dashboard/rows/",
        f"/monitors/{monitor.pk}/",
        "/monitors/new/",
        f"/monitors/{monitor.pk}/edit/",
    ):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/login/?next="), path


def test_the_sign_in_page_links_to_the_api_docs_schema_health_and_admin_and_loads_nothing_from_elsewhere(db):
    page = Client().get("/login/").content.decode()
    links = dict((label.strip(), href) for href, label in re.findall(r'<a href="([^"]+)">([^<]+)</a>', page))
    assert {
        "API docs": "/api/docs/",
        "API schema": "/api/schema/",
        "Health": "/api/health/",
        "Admin": "/admin/",
    }.items() <= links.items()
    assert "POST /api/auth/token/" in page
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", page)


def test_signing_in_with_the_account_opens_the_dashboard_and_signing_out_needs_a_post(db, alice):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/login/")
    token = page.cookies["csrftoken"].value
    response = client.post("/login/", {"username": alice.email, "password": PASSWORD, "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    # A link cannot sign anyone out; the form's POST does.
    assert client.get("/logout/").status_code == 405
    token = client.cookies["csrftoken"].value
    assert client.post("/logout/", {"csrfmiddlewaretoken": token}).status_code == 302
    assert client.get("/").status_code == 302


def test_a_wrong_password_says_so_and_signs_nobody_in(db, alice):
    client = Client()
    response = client.post("/login/", {"username": alice.email, "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct email address and password" in response.content.decode()
    assert client.get("/").status_code == 302


def test_sign_in_is_limited_like_the_token_endpoint(db, alice, settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "auth": "3/min"}
    client = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(3):
        assert client.post("/login/", {"username": alice.email, "password": "wrong"}).status_code == 200
    response = client.post("/login/", {"username": alice.email, "password": PASSWORD})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many attempts" in response.content.decode()
    assert client.get("/").status_code == 302  # the right password did not get through either


def test_forms_refuse_a_post_without_the_csrf_token(db, alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post("/monitors/new/", monitor_form()).status_code == 403
    assert not Monitor.objects.exists()


def test_another_users_monitor_is_404_on_every_page_and_action(db, alice, bob):
    bobs = make_monitor(bob, "https://bob.example/")
    client = signed_in(alice)
    for path in (f"/monitors/{bobs.pk}/", f"/monitors/{bobs.pk}/edit/", f"/monitors/{bobs.pk}/delete/"):
        assert client.get(path).status_code == 404, path
    for action in ("pause", "resume", "check", "delete"):
        assert client.post(f"/monitors/{bobs.pk}/{action}/").status_code == 404, action
    bobs.refresh_from_db()
    assert bobs.is_active
    assert "bob.example" not in client.get("/").content.decode()


def test_creating_a_monitor_from_the_form_schedules_it_and_opens_its_page(db, alice):
    client = signed_in(alice)
    response = client.post("/monitors/new/", monitor_form(request_headers='{"X-Token": "abc"}'))
    monitor = Monitor.objects.get(organization=personal(alice))
    assert response.status_code == 302 and response["Location"] == f"/monitors/{monitor.pk}/"
    assert monitor.request_headers == {"X-Token": "abc"}
    assert [region.slug for region in monitor.regions.all()] == ["india"]
    page = client.get(response["Location"]).content.decode()
    assert "Shop" in page and "its first check is on its way" in page


@pytest.mark.parametrize(
    "bad",
    [
        {"timeout_seconds": "abc"},
        {"interval_seconds": "0", "url": "ftp://shop.example/", "expected_status": "999x"},
        {"timeout_seconds": "60", "quorum": "3"},
    ],
)
def test_the_form_shows_the_apis_own_messages_next_to_the_fields(db, alice, alice_client, bad):
    as_json = {name: int(value) if value.isdigit() else value for name, value in bad.items()}
    api = alice_client.post("/api/monitors/", {**API_MONITOR, **as_json}, format="json").json()
    response = signed_in(alice).post("/monitors/new/", monitor_form(**bad))
    assert response.status_code == 400
    page = response.content.decode()
    shown = {
        name: unescape(message)
        for name, message in re.findall(r'<p class="error" id="id_(\w+)_error">([^<]*)</p>', page)
    }
    assert shown == {name: " ".join(messages) for name, messages in api.items()}
    assert len(shown) >= 1
    assert not Monitor.objects.exists()


def test_headers_that_are_no_json_object_are_refused_next_to_the_field(db, alice):
    response = signed_in(alice).post("/monitors/new/", monitor_form(request_headers="X-Token: abc"))
    assert response.status_code == 400
    assert 'id="id_request_headers_error"' in response.content.decode()
    assert not Monitor.objects.exists()


def test_editing_keeps_the_stored_password_unless_a_new_one_is_typed(db, alice):
    monitor = make_monitor(alice, "https://shop.example/", auth_username="ops", auth_password="s3cret")
    client = signed_in(alice)
    form = client.get(f"/monitors/{monitor.pk}/edit/").content.decode()
    assert "s3cret" not in form
    response = client.post(f"/monitors/{monitor.pk}/edit/", monitor_form(name="Shop 2", auth_username="ops"))
    assert response.status_code == 302
    monitor.refresh_from_db()
    assert (monitor.name, monitor.auth_password) == ("Shop 2", "s3cret")


def test_pause_resume_and_delete(db, alice):
    monitor = make_monitor(alice, "https://shop.example/")
    client = signed_in(alice)
    client.post(f"/monitors/{monitor.pk}/pause/")
    monitor.refresh_from_db()
    assert (monitor.is_active, monitor.status) == (False, "paused")
    client.post(f"/monitors/{monitor.pk}/resume/")
    monitor.refresh_from_db()
    assert (monitor.is_active, monitor.status) == (True, "pending")
    assert "Delete “" in client.get(f"/monitors/{monitor.pk}/delete/").content.decode()
    assert Monitor.objects.filter(pk=monitor.pk).exists()  # GET only asks
    client.post(f"/monitors/{monitor.pk}/delete/")
    assert not Monitor.objects.filter(pk=monitor.pk).exists()


def test_the_monitor_page_shows_checks_errors_and_figures(db, alice, slot):
    monitor = make_monitor(alice, "https://shop.example/")
    Tick.objects.create(
        monitor=monitor,
        region=monitor.regions.first(),
        status="down",
        error="connection refused <b>",
        scheduled_at=slot,
        checked_at=slot,
        response_time_ms=None,
    )
    page = signed_in(alice).get(f"/monitors/{monitor.pk}/?window=7d").content.decode()
    assert "connection refused &lt;b&gt;" in page
    assert 'aria-current="page">7d<' in page
    assert "<svg" in page


def test_the_dashboard_filters_with_the_apis_rules(db, alice):
    make_monitor(alice, "https://up.example/", name="Up one")
    paused = make_monitor(alice, "https://paused.example/", name="Paused one")
    Monitor.objects.filter(pk=paused.pk).update(is_active=False, status="paused")
    client = signed_in(alice)
    page = client.get("/?is_active=false").content.decode()
    assert "Paused one" in page and "Up one" not in page
    page = client.get("/?search=up.example").content.decode()
    assert "Up one" in page and "Paused one" not in page
    refused = client.get("/?status=sideways")
    assert refused.status_code == 200
    assert "status:" in refused.content.decode() and "Up one" in refused.content.decode()


@pytest.mark.parametrize("path", ["/", "/dashboard/rows/"])
def test_the_dashboard_and_its_live_part_list_only_the_users_monitors(db, alice, bob, path):
    make_monitor(alice, "https://alice.example/", name="Alice's")
    make_monitor(bob, "https://bob.example/", name="Bob's")
    page = signed_in(alice).get(path).content.decode()
    assert "Alice&#x27;s" in page and "Bob&#x27;s" not in page


def test_password_reset_mails_a_link_that_sets_a_new_password(db, alice):
    client = Client()
    client.post("/password-reset/", {"email": alice.email})
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/\s]+(/password-reset/[^\s]+/)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert "Set a new password" in form_page.content.decode()
    new = "a-new-long-passphrase-42"
    response = client.post(form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(new)


def test_the_dashboard_shows_a_page_of_monitors_worst_first_with_links_that_keep_the_filters(db, alice, monkeypatch):
    from web import dashboard

    monkeypatch.setattr(dashboard, "PAGE_SIZE", 2)
    for n in range(4):
        make_monitor(alice, f"https://site{n}.example/", name=f"Site {n}")
    down = Monitor.objects.get(name="Site 3")
    Monitor.objects.filter(pk=down.pk).update(status="down")
    client = signed_in(alice)
    first = client.get("/?search=site").content.decode()
    assert first.count('<tr data-monitor="') == 2
    assert f'<tr data-monitor="{down.pk}" data-status="down">' in first  # worst first
    assert "Monitors 1–2 of 4" in first
    assert 'href="?search=site&amp;page=2"' in first
    second = client.get("/dashboard/rows/?search=site&page=2").content.decode()
    assert second.count('<tr data-monitor="') == 2 and "Site 3" not in second
