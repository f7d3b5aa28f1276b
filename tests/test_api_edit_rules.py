"""What an edit is judged on, and the one message a numeric setting gets when it is wrong.

A stored URL that the deployment refuses now (private targets switched off, or its host
moved into the network) does not block edits that leave it alone: the monitor can still be
paused. A number out of its range, huge, negative or not whole, is told the rule's range,
never a database column's limit."""

import pytest
from django.urls import reverse

from monitors.models import Monitor
from notifications.models import Channel
from tests.factories import admin_monitor_form, make_monitor, personal
from tests.test_admin import admin_client  # noqa: F401  (fixture)

PRIVATE_URL = "http://127.0.0.1:9/health"  # entered while private targets were allowed


@pytest.fixture
def refused_monitor(alice, settings) -> Monitor:
    monitor = make_monitor(alice, PRIVATE_URL, regions=("india", "usa"))
    settings.ALLOW_PRIVATE_TARGETS = False
    return monitor


def test_a_monitor_whose_url_is_refused_now_can_still_be_paused_and_renamed(alice_client, refused_monitor):
    url = f"/api/monitors/{refused_monitor.pk}/"
    paused = alice_client.patch(url, {"is_active": False}, format="json")
    assert paused.status_code == 200, paused.json()
    assert paused.json()["status"] == "paused"

    renamed = alice_client.patch(url, {"name": "Old intranet page", "interval_seconds": 120}, format="json")
    assert renamed.status_code == 200, renamed.json()
    # The same URL sent back, as a PUT does, is no change either.
    body = {**renamed.json(), "url": PRIVATE_URL}
    body.pop("auth_password_set")
    put = alice_client.put(url, {k: v for k, v in body.items() if v is not None}, format="json")
    assert put.status_code == 200, put.json()

    refused_monitor.refresh_from_db()
    assert (refused_monitor.name, refused_monitor.is_active, refused_monitor.url) == (
        "Old intranet page",
        False,
        PRIVATE_URL,
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"url": "http://10.0.0.5/"},
        {"url": "http://127.0.0.1:8080/health"},
        # Another kind judges the same target by other rules: judged again.
        {"kind": "tcp", "url": "tcp://127.0.0.1:9"},
    ],
)
def test_a_changed_url_is_judged_again(alice_client, refused_monitor, changes):
    response = alice_client.patch(f"/api/monitors/{refused_monitor.pk}/", changes, format="json")
    assert response.status_code == 400
    assert "private or reserved address" in response.json()["url"][0]
    refused_monitor.refresh_from_db()
    assert refused_monitor.url == PRIVATE_URL


def test_a_stored_interval_under_a_raised_minimum_does_not_block_pausing(alice_client, alice, settings):
    monitor = make_monitor(alice, "https://a.example/", interval_seconds=10)
    settings.MONITOR_MIN_INTERVAL_SECONDS = 30
    url = f"/api/monitors/{monitor.pk}/"
    assert alice_client.patch(url, {"is_active": False}, format="json").status_code == 200
    response = alice_client.patch(url, {"interval_seconds": 20}, format="json")
    assert response.status_code == 400
    assert response.json() == {"interval_seconds": ["Interval must be a whole number of seconds from 30 to 86400."]}


def test_a_channel_whose_url_is_refused_now_can_still_be_edited(alice_client, alice, settings):
    channel = Channel.objects.create(
        organization=personal(alice), name="intranet hook", kind="webhook", url="http://127.0.0.1:9/hook"
    )
    settings.ALLOW_PRIVATE_TARGETS = False
    url = f"/api/channels/{channel.pk}/"
    response = alice_client.patch(url, {"name": "old hook", "reminder_minutes": 60}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["name"], response.json()["reminder_minutes"]) == ("old hook", 60)

    response = alice_client.patch(url, {"url": "http://10.0.0.5/hook"}, format="json")
    assert response.status_code == 400
    assert "private or reserved address" in response.json()["url"][0]
    channel.refresh_from_db()
    assert channel.url == "http://127.0.0.1:9/hook"


def test_the_admin_can_pause_a_monitor_whose_url_is_refused_now(admin_client, alice, refused_monitor):  # noqa: F811
    form = admin_monitor_form(
        personal(alice),
        name="site",
        url=PRIVATE_URL,
        regions=list(refused_monitor.regions.values_list("pk", flat=True)),
    )
    del form["is_active"]  # unticked
    change = reverse("admin:monitors_monitor_change", args=[refused_monitor.pk])
    response = admin_client.post(change, form)
    assert response.status_code == 302, response.content.decode()[:3000]
    refused_monitor.refresh_from_db()
    assert (refused_monitor.is_active, refused_monitor.status) == (False, "paused")

    # A URL changed in the admin is judged again.
    response = admin_client.post(change, {**form, "url": "http://10.0.0.5/"})
    assert response.status_code == 200
    assert "private or reserved address" in response.content.decode()
    refused_monitor.refresh_from_db()
    assert refused_monitor.url == PRIVATE_URL


# --- one message per numeric field: the rule's --------------------------------------------

VALID = {"name": "Example", "url": "https://example.com/health", "interval_seconds": 60, "regions": ["india", "usa"]}
BAD_NUMBERS = [10**12, 2**31, 10**30, -5, "abc", 1.5, "60.5", True]
MONITOR_MESSAGES = {
    "interval_seconds": "Interval must be a whole number of seconds from 30 to 86400.",
    "timeout_seconds": "Timeout must be a whole number of seconds from 1 to 60.",
    "retries": "Retries must be a whole number from 0 to 5.",
    "retry_interval_seconds": "Retry interval must be a whole number of seconds from 1 to 300.",
    "tls_expiry_warning_days": "Give 0 (no warning) to 365 days.",
}
COLUMN_WORDS = ("2147483647", "32767", "less than or equal", "greater than or equal", "valid integer")


@pytest.mark.parametrize("value", BAD_NUMBERS, ids=repr)
@pytest.mark.parametrize("field", sorted(MONITOR_MESSAGES))
def test_a_bad_number_gets_the_rules_one_message(alice_client, settings, field, value):
    settings.MONITOR_MIN_INTERVAL_SECONDS = 30
    response = alice_client.post("/api/monitors/", {**VALID, field: value}, format="json")
    assert response.status_code == 400
    assert response.json()[field] == [MONITOR_MESSAGES[field]]
    assert not Monitor.objects.exists()


@pytest.mark.parametrize("value", BAD_NUMBERS, ids=repr)
def test_a_bad_quorum_gets_the_rules_one_message(alice_client, alice, value):
    monitor = make_monitor(alice, "https://a.example/", regions=("india", "usa"))
    response = alice_client.patch(f"/api/monitors/{monitor.pk}/", {"quorum": value}, format="json")
    assert response.status_code == 400
    [message] = response.json()["quorum"]
    assert message.startswith("Quorum must be a whole number from 1 to the number of regions")
    assert not any(words in message for words in COLUMN_WORDS)


@pytest.mark.parametrize("value", BAD_NUMBERS, ids=repr)
def test_a_patch_with_a_bad_number_gets_the_rules_message_too(alice_client, alice, value):
    monitor = make_monitor(alice, "https://a.example/")
    response = alice_client.patch(f"/api/monitors/{monitor.pk}/", {"retry_interval_seconds": value}, format="json")
    assert response.status_code == 400
    assert response.json() == {"retry_interval_seconds": [MONITOR_MESSAGES["retry_interval_seconds"]]}


@pytest.mark.parametrize("value", BAD_NUMBERS, ids=repr)
def test_a_bad_reminder_interval_gets_the_rules_one_message(alice_client, value):
    channel = {"name": "ops", "kind": "email", "email": "ops@example.com", "reminder_minutes": value}
    response = alice_client.post("/api/channels/", channel, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "reminder_minutes": ["Reminders run from 1 to 10080 minutes apart (a whole number); 0 turns them off."]
    }
    assert not Channel.objects.exists()


def test_the_document_gives_the_rules_ranges_not_the_columns(alice_client):
    schemas = alice_client.get("/api/schema/?format=json").json()["components"]["schemas"]
    monitor = schemas["MonitorRequest"]["properties"]
    assert (monitor["tls_expiry_warning_days"]["minimum"], monitor["tls_expiry_warning_days"]["maximum"]) == (0, 365)
    assert monitor["quorum"]["minimum"] == 1 and "maximum" not in monitor["quorum"]
    channel = schemas["ChannelRequest"]["properties"]
    assert (channel["reminder_minutes"]["minimum"], channel["reminder_minutes"]["maximum"]) == (0, 10080)


def test_the_admin_can_rename_a_channel_whose_url_is_refused_now(admin_client, alice, settings):  # noqa: F811
    channel = Channel.objects.create(
        organization=personal(alice), name="intranet hook", kind="webhook", url="http://127.0.0.1:9/hook"
    )
    settings.ALLOW_PRIVATE_TARGETS = False
    change = reverse("admin:notifications_channel_change", args=[channel.pk])
    form = {"organization": personal(alice).pk, "name": "old hook", "kind": "webhook", "url": channel.url, "email": ""}
    form |= {"reminder_minutes": 0, "monitors": []}
    response = admin_client.post(change, form)
    assert response.status_code == 302, response.content.decode()[:3000]
    channel.refresh_from_db()
    assert channel.name == "old hook"
