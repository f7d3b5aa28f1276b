"""Apprise channels: sent through Apprise's json:// and form:// schemes to a real local
receiver, through the same queue, retries and log as the other kinds; the URL is a secret
nobody sees again, and the address guard holds its sends."""

import inspect
import json
import logging
import sys
from urllib.parse import parse_qs

import pytest
from apprise.manager_plugins import NotificationManager
from django.test import Client
from django.urls import reverse

from accounts.models import User
from notifications import services
from notifications.apprise_urls import UNGUARDED_SCHEMES
from notifications.models import Channel, Delivery
from notifications.tasks import deliver
from tests.conftest import PASSWORD
from tests.factories import personal

# Pieces of the URL that only its owner may know.
USER, SECRET, TOKEN = "ops", "pa55-word-9", "tok3n-abcdef"


def apprise_url(receiver, scheme: str, path: str) -> str:
    return receiver.url(path).replace("http://", f"{scheme}://{USER}:{SECRET}@") + f"?+X-Token={TOKEN}"


def make_apprise_channel(owner, url: str) -> Channel:
    return Channel.objects.create(organization=personal(owner), name="phone", kind="apprise", apprise_url=url)


def deliver_now(delivery: Delivery) -> str:
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=delivery.created_at)
    return deliver.apply(args=[delivery.pk]).get()


def shows_no_secret(text: str) -> bool:
    return SECRET not in text and TOKEN not in text


# --- Sending ------------------------------------------------------------------------------


def test_an_apprise_json_channel_gets_the_alerts_title_and_text(alice, alice_client, receiver):
    created = alice_client.post(
        "/api/channels/",
        {"name": "phone", "kind": "apprise", "apprise_url": apprise_url(receiver, "json", "/hook")},
        format="json",
    )
    assert created.status_code == 201, created.json()
    channel = Channel.objects.get(pk=created.json()["id"])
    payload = {"event": "incident.opened", "title": "Shop is DOWN", "text": "Shop is DOWN.\nRegions: india"}
    (delivery,) = services.queue_deliveries([channel], "incident.opened", payload)

    assert deliver_now(delivery) == "sent"
    (request,) = receiver.at("/hook")
    body = json.loads(request["body"])
    assert (body["title"], body["message"], body["type"]) == (
        "Shop is DOWN",
        "Shop is DOWN.\nRegions: india",
        "failure",
    )
    assert request["headers"]["X-Token"] == TOKEN  # the URL's own header reaches the service
    attempt = Delivery.objects.get(pk=delivery.pk).attempts_log.get()
    assert (attempt.ok, attempt.error) == (True, "")


def test_an_apprise_form_channel_posts_the_message_as_a_form(alice, receiver):
    channel = make_apprise_channel(alice, apprise_url(receiver, "form", "/hook"))
    delivery = services.send_test(channel)
    assert deliver_now(delivery) == "sent"
    (request,) = receiver.at("/hook")
    form = {key: values[0] for key, values in parse_qs(request["body"].decode()).items()}
    assert form["title"] == "Test message from Uptime"
    assert form["message"].startswith('This is a test of the channel "phone".')
    assert form["type"] == "info"


def test_a_failing_apprise_service_is_retried_then_dead_with_every_error_masked(settings, alice, receiver, caplog):
    settings.NOTIFY_MAX_ATTEMPTS = 2
    channel = make_apprise_channel(alice, apprise_url(receiver, "json", "/fail"))
    delivery = services.send_test(channel)
    with caplog.at_level(logging.DEBUG):
        assert deliver_now(delivery) == "retry"
        assert deliver_now(delivery) == "dead"
    assert receiver.hits["/fail"] == 2
    delivery.refresh_from_db()
    errors = [attempt.error for attempt in delivery.attempts_log.all()]
    assert len(errors) == 2
    assert all(error.startswith("apprise: ") and "500" in error for error in errors)
    assert all(shows_no_secret(error) and "127.0.0.1" not in error for error in [*errors, delivery.last_error])
    assert shows_no_secret(caplog.text)


def test_a_service_that_does_not_answer_is_a_failed_attempt(alice, closed_port):
    delivery = services.send_test(make_apprise_channel(alice, f"json://{USER}:{SECRET}@127.0.0.1:{closed_port}/"))
    assert deliver_now(delivery) == "retry"
    error = Delivery.objects.get(pk=delivery.pk).last_error
    assert error.startswith("apprise: A Connection error occurred") and shows_no_secret(error)


# --- The address guard --------------------------------------------------------------------


def test_a_send_to_a_private_address_is_blocked_at_connection_time(settings, alice, receiver):
    # Stored while private targets were allowed (or its host moved since).
    delivery = services.send_test(make_apprise_channel(alice, apprise_url(receiver, "json", "/hook")))
    settings.ALLOW_PRIVATE_TARGETS = False
    assert deliver_now(delivery) == "retry"
    assert Delivery.objects.get(pk=delivery.pk).last_error == "blocked: 127.0.0.1 is a private or reserved address"
    assert receiver.hits == {}


def test_the_guard_leaves_other_connections_of_the_worker_alone(settings, alice, receiver):
    """Held per send: a webhook sent after an Apprise send was blocked still goes out."""
    settings.ALLOW_PRIVATE_TARGETS = False
    blocked = services.send_test(make_apprise_channel(alice, apprise_url(receiver, "json", "/hook")))
    assert deliver_now(blocked) == "retry"
    settings.ALLOW_PRIVATE_TARGETS = True
    hook = Channel.objects.create(organization=personal(alice), name="hook", kind="webhook", url=receiver.url("/plain"))
    assert deliver_now(services.send_test(hook)) == "sent"
    assert deliver_now(blocked) == "sent"
    assert receiver.hits == {"/plain": 1, "/hook": 1}


@pytest.mark.parametrize("host", ["127.0.0.1", "10.0.0.1", "169.254.169.254", "localhost"])
def test_apprise_urls_to_private_hosts_are_refused_when_entered(settings, alice_client, host):
    settings.ALLOW_PRIVATE_TARGETS = False
    url = f"json://{USER}:{SECRET}@{host}/hook"
    response = alice_client.post("/api/channels/", {"name": "x", "kind": "apprise", "apprise_url": url}, format="json")
    assert response.status_code == 400
    (message,) = response.json()["apprise_url"]
    assert message.startswith("The URL's host is a private or reserved address")
    assert shows_no_secret(response.content.decode())


def test_schemes_the_guard_cannot_hold_are_refused_unless_private_targets_are_allowed(settings, alice_client):
    body = {"name": "x", "kind": "apprise", "apprise_url": f"mailto://{USER}:{SECRET}@gmail.com"}
    settings.ALLOW_PRIVATE_TARGETS = False
    refused = alice_client.post("/api/channels/", body, format="json")
    assert refused.status_code == 400
    assert refused.json()["apprise_url"][0].startswith("mailto:// does not send over HTTP")
    settings.ALLOW_PRIVATE_TARGETS = True
    assert alice_client.post("/api/channels/", body, format="json").status_code == 201


def test_the_list_of_schemes_the_guard_cannot_hold_is_true_to_apprise():
    """Every plugin outside UNGUARDED_SCHEMES sends through `requests` (the guard's hook);
    every one inside does not. Read from the installed Apprise's sources."""
    manager = NotificationManager()

    def uses_requests(scheme: str) -> bool:
        modules = {cls.__module__ for cls in manager[scheme].__mro__ if cls.__module__.startswith("apprise.plugins")}
        sources = [inspect.getsource(sys.modules[module]) for module in modules - {"apprise.plugins.base"}]
        return any("import requests" in source for source in sources)

    assert {scheme for scheme in manager.schemas() if not uses_requests(scheme)} == set(UNGUARDED_SCHEMES)


# --- Entering the URL ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (f"nosuch://{SECRET}@example.com", "Apprise does not know this URL's scheme"),
        (f"{SECRET}", "Apprise does not know this URL's scheme"),
        ("json://", "Apprise cannot read this json:// URL"),
        ("", "An Apprise channel needs an Apprise URL."),
    ],
)
def test_a_url_apprise_cannot_use_gets_a_message_on_its_field(alice_client, url, message):
    response = alice_client.post("/api/channels/", {"name": "x", "kind": "apprise", "apprise_url": url}, format="json")
    assert response.status_code == 400
    assert response.json()["apprise_url"][0].startswith(message)
    assert shows_no_secret(response.content.decode())


def test_the_url_is_written_never_read_and_kept_by_edits_that_leave_it_out(alice, alice_client, receiver):
    url = apprise_url(receiver, "json", "/hook")
    created = alice_client.post(
        "/api/channels/", {"name": "phone", "kind": "apprise", "apprise_url": url}, format="json"
    ).json()
    assert "apprise_url" not in created and created["apprise_url_set"] is True
    pk = created["id"]
    assert alice_client.patch(f"/api/channels/{pk}/", {"name": "pager"}, format="json").status_code == 200
    assert Channel.objects.get(pk=pk).apprise_url == url
    for page in (alice_client.get(f"/api/channels/{pk}/"), alice_client.get("/api/channels/")):
        assert shows_no_secret(page.content.decode()) and receiver.url("/") not in page.content.decode()

    # Another kind keeps no Apprise URL.
    moved = alice_client.patch(f"/api/channels/{pk}/", {"kind": "webhook", "url": receiver.url("/hook")}, format="json")
    assert moved.json()["apprise_url_set"] is False
    assert Channel.objects.get(pk=pk).apprise_url == ""


def test_the_admin_and_the_channel_page_never_show_the_url(alice, receiver):
    channel = make_apprise_channel(alice, apprise_url(receiver, "json", "/hook"))
    User.objects.create_superuser(email="root@example.com", password=PASSWORD)
    admin = Client()
    admin.login(email="root@example.com", password=PASSWORD)
    for url in (
        reverse("admin:notifications_channel_changelist"),
        reverse("admin:notifications_channel_change", args=[channel.pk]),
    ):
        page = admin.get(url).content.decode()
        assert shows_no_secret(page), url
    assert "json://…" in admin.get(reverse("admin:notifications_channel_changelist")).content.decode()

    owner = Client()
    owner.force_login(alice)
    for url in (reverse("web:channels"), reverse("web:channel-edit", args=[channel.pk])):
        page = owner.get(url).content.decode()
        assert shows_no_secret(page), url
    edit = owner.get(reverse("web:channel-edit", args=[channel.pk])).content.decode()
    assert 'name="apprise_url" type="password" value=""' in edit


def test_the_web_form_makes_an_apprise_channel_and_keeps_its_url_when_left_empty(alice, receiver):
    url = apprise_url(receiver, "form", "/hook")
    owner = Client()
    owner.force_login(alice)
    form = {"name": "phone", "kind": "apprise", "apprise_url": url, "reminder_minutes": "0"}
    assert owner.post(reverse("web:channel-create"), form).status_code == 302
    channel = Channel.objects.get(name="phone")
    assert channel.apprise_url == url
    response = owner.post(reverse("web:channel-edit", args=[channel.pk]), {**form, "name": "pager", "apprise_url": ""})
    assert response.status_code == 302
    channel.refresh_from_db()
    assert (channel.name, channel.apprise_url) == ("pager", url)

    refused = owner.post(reverse("web:channel-create"), {**form, "apprise_url": f"nosuch://{SECRET}@x"})
    assert refused.status_code == 400
    assert "Apprise does not know this URL" in refused.content.decode()
    assert shows_no_secret(refused.content.decode())


def test_the_admin_keeps_the_stored_url_when_its_field_is_left_empty(alice, receiver):
    url = apprise_url(receiver, "json", "/hook")
    channel = make_apprise_channel(alice, url)
    User.objects.create_superuser(email="root@example.com", password=PASSWORD)
    admin = Client()
    admin.login(email="root@example.com", password=PASSWORD)
    form = {
        "organization": personal(alice).pk,
        "name": "renamed",
        "kind": "apprise",
        "apprise_url": "",
        "reminder_minutes": 0,
    }
    response = admin.post(reverse("admin:notifications_channel_change", args=[channel.pk]), form)
    assert response.status_code == 302
    channel.refresh_from_db()
    assert (channel.name, channel.apprise_url) == ("renamed", url)
