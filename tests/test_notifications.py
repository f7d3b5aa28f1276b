"""Alerts: channels, deliveries driven by real checks, real local receivers for webhooks and
Slack, Django's mail outbox for email, the real broker, and one real worker process."""

import base64
import json
import threading
from datetime import datetime, timedelta

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from checks.models import Incident, StatusChange
from checks.outcomes.writer import write_spooled
from checks.tasks import run_check
from monitors.models import Monitor
from notifications import services
from notifications.models import Channel, Delivery
from notifications.tasks import deliver
from tests.conftest import PASSWORD
from tests.factories import make_monitor, personal
from tests.receivers import verified_json

# --- A real receiver ---------------------------------------------------------------------


# --- Helpers -----------------------------------------------------------------------------


def make_channel(owner, kind="webhook", target="", **fields) -> Channel:
    address = {"email": target} if kind == "email" else {"url": target}
    return Channel.objects.create(organization=personal(owner), name=f"{kind} channel", kind=kind, **address, **fields)


def check(monitor, slot, seconds=0):
    at = slot + timedelta(seconds=seconds)
    run_check.apply(kwargs={"monitor_id": monitor.pk, "region": "india", "scheduled_at": at.isoformat()})
    write_spooled()
    monitor.refresh_from_db()
    return monitor.status


def point_at(monitor, url):
    Monitor.objects.filter(pk=monitor.pk).update(url=url)


def deliver_due() -> list[str]:
    """What the notifications worker would do with the messages queued so far."""
    due = Delivery.objects.filter(status="pending", next_attempt_at__lte=timezone.now()).order_by("id")
    return [deliver.apply(args=[pk]).get() for pk in due.values_list("pk", flat=True)]


def make_due(delivery: Delivery) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def queued_deliveries(broker) -> list[dict]:
    messages = []
    for raw in reversed(broker.lrange("notifications", 0, -1)):
        envelope = json.loads(raw)
        args, kwargs, _ = json.loads(base64.b64decode(envelope["body"]))
        messages.append({"task": envelope["headers"]["task"], "args": args, "eta": envelope["headers"].get("eta")})
    return messages


@pytest.fixture
def down_then_up(alice, target, receiver, slot):
    """One outage of a monitor alerting a webhook, a Slack and an email channel, driven
    through the real check path: down, still down, up again."""
    webhook = make_channel(alice, "webhook", receiver.url("/hook"))
    slack = make_channel(alice, "slack", receiver.url("/slack"))
    email = make_channel(alice, "email", "oncall@example.com")
    monitor = make_monitor(alice, target.url("/status/503"), name="Shop", channels=[webhook, slack, email])
    assert check(monitor, slot) == "down"
    assert check(monitor, slot, 60) == "down"
    # Incidents are timed by the checks' real clock: make this one look 125 s long.
    incident = Incident.objects.get(monitor=monitor)
    Incident.objects.filter(pk=incident.pk).update(started_at=incident.started_at - timedelta(seconds=125))
    point_at(monitor, target.url("/ok"))
    assert check(monitor, slot, 120) == "up"
    return monitor, webhook


# --- Alerts for an outage ----------------------------------------------------------------


def test_an_outage_alerts_each_channel_once_when_it_opens_and_once_when_it_resolves(down_then_up, receiver):
    monitor, webhook = down_then_up
    assert deliver_due() == ["sent"] * 6

    hooks = receiver.at("/hook")
    bodies = [verified_json(r, webhook.secret) for r in hooks]
    assert [b["event"] for b in bodies] == ["incident.opened", "incident.resolved"]
    opened, resolved = bodies
    assert opened["monitor"]["name"] == "Shop"
    assert opened["monitor"]["url"] == monitor.url.replace("/ok", "/status/503")
    assert opened["incident"]["regions"] == ["india"]
    assert opened["incident"]["error"] == "unexpected status 503"
    assert opened["monitor"]["link"] == f"{django_settings.PUBLIC_URL}/monitors/{monitor.pk}/"
    assert 125 <= resolved["incident"]["duration_seconds"] <= 135
    assert "is up again after 2 min" in resolved["text"]
    # The delivery id header matches the body, so a receiver can drop a repeat.
    assert [r["headers"]["X-Uptime-Delivery"] for r in hooks] == [b["delivery_id"] for b in bodies]
    assert [r["headers"]["X-Uptime-Event"] for r in hooks] == ["incident.opened", "incident.resolved"]

    slack_texts = [json.loads(r["body"])["text"] for r in receiver.at("/slack")]
    assert len(slack_texts) == 2
    assert slack_texts[0].startswith("*Shop is DOWN*") and "Error: unexpected status 503" in slack_texts[0]
    assert slack_texts[1].startswith("*Shop is up again*")

    assert [m.subject for m in mail.outbox] == ["Shop is DOWN", "Shop is up again"]
    assert mail.outbox[0].to == ["oncall@example.com"]
    assert "Regions: india" in mail.outbox[0].body
    assert f"{django_settings.PUBLIC_URL}/monitors/{monitor.pk}/" in mail.outbox[0].body


def test_many_monitors_going_down_and_up_in_one_batch_each_get_their_own_incident_and_alerts(
    alice, target, receiver, slot
):
    """A provider that many monitors share goes away: the writer records all their outcomes
    in one batch, and each monitor still gets its own status change, incident and alerts,
    naming it, on its own channels only."""
    ops = make_channel(alice, "webhook", receiver.url("/ops"))
    team = make_channel(alice, "webhook", receiver.url("/team"))
    monitors = [
        make_monitor(alice, target.url(f"/status/503?site={i}"), name=f"Site {i}", channels=channels)
        for i, channels in enumerate([[ops], [ops, team], [team], []])
    ]

    def check_all(seconds):
        at = (slot + timedelta(seconds=seconds)).isoformat()
        for monitor in monitors:
            run_check.apply(kwargs={"monitor_id": monitor.pk, "region": "india", "scheduled_at": at})
        assert write_spooled() == len(monitors)  # one batch: the writer's is far larger

    check_all(0)
    assert set(Monitor.objects.filter(pk__in=[m.pk for m in monitors]).values_list("status", flat=True)) == {"down"}
    incidents = {i.monitor_id: i for i in Incident.objects.filter(resolved_at__isnull=True)}
    assert set(incidents) == {m.pk for m in monitors}
    assert {i.first_error for i in incidents.values()} == {"unexpected status 503"}
    for monitor in monitors:
        changes = StatusChange.objects.filter(monitor=monitor)
        assert [(c.from_status, c.to_status) for c in changes] == [("pending", "down")]

    for monitor in monitors:
        point_at(monitor, target.url("/ok"))
    check_all(60)
    assert set(Monitor.objects.filter(pk__in=[m.pk for m in monitors]).values_list("status", flat=True)) == {"up"}
    assert not Incident.objects.filter(resolved_at__isnull=True).exists()
    assert {i.resolution for i in Incident.objects.all()} == {"up"}
    assert Incident.objects.count() == len(monitors)

    assert deliver_due() == ["sent"] * 8  # (1 + 2 + 1 + 0 channels) x opened and resolved

    def alerts_at(path, channel):
        bodies = [verified_json(request, channel.secret) for request in receiver.at(path)]
        return sorted((body["monitor"]["name"], body["event"], body["incident"]["id"]) for body in bodies)

    def alerts_of(*sites):
        return sorted(
            (monitors[site].name, event, incidents[monitors[site].pk].pk)
            for site in sites
            for event in ("incident.opened", "incident.resolved")
        )

    assert alerts_at("/ops", ops) == alerts_of(0, 1)
    assert alerts_at("/team", team) == alerts_of(1, 2)


def test_a_batch_moving_many_monitors_takes_the_writer_no_more_statements_than_moving_one(
    alice, target, receiver, slot
):
    """Status changes, incidents and alerts are written per batch, not per monitor: a mass
    outage costs the writer what one monitor's does."""
    channel = make_channel(alice, "webhook", receiver.url("/hook"))

    def statements_to_write(monitors, seconds):
        at = (slot + timedelta(seconds=seconds)).isoformat()
        for monitor in monitors:
            run_check.apply(kwargs={"monitor_id": monitor.pk, "region": "india", "scheduled_at": at})
        with CaptureQueriesContext(connection) as queries:
            assert write_spooled() == len(monitors)
        return len(queries)

    def down_then_up(count):
        monitors = [
            make_monitor(alice, target.url(f"/status/500?n={count}-{i}"), channels=[channel]) for i in range(count)
        ]
        down = statements_to_write(monitors, 0)
        for monitor in monitors:
            point_at(monitor, target.url(f"/ok?n={count}"))
        up = statements_to_write(monitors, 60)
        return down, up

    one, many = down_then_up(1), down_then_up(6)
    assert many == one
    assert Delivery.objects.count() == 2 * (1 + 6)
    assert not Incident.objects.filter(resolved_at__isnull=True).exists()


def test_a_monitor_without_channels_alerts_nobody(alice, target, slot):
    monitor = make_monitor(alice, target.url("/status/500"))
    assert check(monitor, slot) == "down"
    assert Incident.objects.filter(monitor=monitor).exists()
    assert not Delivery.objects.exists()


def test_alerts_are_queued_on_the_notifications_queue_once_the_status_change_commits(
    alice, target, receiver, slot, broker, django_capture_on_commit_callbacks
):
    channel = make_channel(alice, "webhook", receiver.url("/hook"))
    monitor = make_monitor(alice, target.url("/status/500"), channels=[channel])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        check(monitor, slot)
    # Written with the incident, sent only after the commit.
    delivery = Delivery.objects.get(channel=channel)
    assert delivery.incident == Incident.objects.get(monitor=monitor)
    assert queued_deliveries(broker) == []
    for callback in callbacks:
        callback()
    assert queued_deliveries(broker) == [{"task": "notifications.deliver", "args": [delivery.pk], "eta": None}]
    assert broker.llen("india") == 0


# --- Retries, failures, duplicates -------------------------------------------------------


def test_a_failing_receiver_is_retried_with_backoff_and_every_attempt_is_logged(alice, receiver, alice_client):
    channel = make_channel(alice, "webhook", receiver.url("/flaky/a?failures=1"))
    delivery = services.send_test(channel)

    assert deliver.apply(args=[delivery.pk]).get() == "retry"
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    wait = (delivery.next_attempt_at - delivery.attempts_log.get().at).total_seconds()
    assert 29 <= wait <= 31  # NOTIFY_RETRY_BASE_SECONDS
    # Not due yet: a message arriving early sends nothing.
    assert deliver.apply(args=[delivery.pk]).get() == "waiting"
    assert receiver.hits["/flaky/a"] == 1

    make_due(delivery)
    assert deliver.apply(args=[delivery.pk]).get() == "sent"
    assert receiver.hits["/flaky/a"] == 2

    page = alice_client.get(f"/api/channels/{channel.pk}/deliveries/").json()
    assert page["count"] == 1
    shown = page["results"][0]
    assert shown["status"] == "sent"
    assert shown["event"] == "channel.test"
    assert [(a["ok"], a["status_code"], a["error"]) for a in shown["attempts"]] == [
        (False, 500, "unexpected status 500"),
        (True, 200, ""),
    ]
    assert all(a["duration_ms"] >= 0 for a in shown["attempts"])


def test_a_channel_that_keeps_failing_ends_dead_after_the_last_attempt(settings, alice, receiver):
    settings.NOTIFY_MAX_ATTEMPTS = 3
    delivery = services.send_test(make_channel(alice, "slack", receiver.url("/fail")))
    waits = []
    outcomes = []
    for _ in range(3):
        make_due(delivery)
        outcomes.append(deliver.apply(args=[delivery.pk]).get())
        delivery.refresh_from_db()
        waits.append((delivery.next_attempt_at - timezone.now()).total_seconds())
    assert outcomes == ["retry", "retry", "dead"]
    assert 55 <= waits[1] <= 61  # the second wait is twice the first
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("dead", 3, "unexpected status 500")
    assert delivery.finished_at is not None
    # Nothing more is tried, whatever messages still arrive.
    make_due(delivery)
    assert deliver.apply(args=[delivery.pk]).get() == "skipped"
    assert receiver.hits["/fail"] == 3
    assert delivery.attempts_log.count() == 3


def test_a_retry_waits_on_the_broker_for_less_than_its_visibility_timeout(
    settings, alice, receiver, broker, django_capture_on_commit_callbacks
):
    settings.NOTIFY_RETRY_BASE_SECONDS = 3000
    delivery = services.send_test(make_channel(alice, "webhook", receiver.url("/fail")))
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver.apply(args=[delivery.pk]).get() == "retry"
    (message,) = queued_deliveries(broker)
    countdown = (datetime.fromisoformat(message["eta"]) - timezone.now()).total_seconds()
    visibility = django_settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert 0 < countdown <= visibility / 2
    # That early message waits on in hops; the attempt is made 3000 s after the failure.
    broker.delete("notifications")
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver.apply(args=[delivery.pk]).get() == "waiting"
    assert len(queued_deliveries(broker)) == 1
    assert receiver.hits["/fail"] == 1


def test_a_duplicated_message_sends_once(alice, receiver):
    channel = make_channel(alice, "webhook", receiver.url("/hook"))
    delivery = services.send_test(channel)
    assert deliver.apply(args=[delivery.pk]).get() == "sent"
    assert deliver.apply(args=[delivery.pk]).get() == "skipped"
    assert receiver.hits["/hook"] == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_running_the_same_delivery_at_once_send_it_once(receiver, broker):
    alice = User.objects.create_user(email="alice@example.com", password=PASSWORD)
    delivery = services.send_test(make_channel(alice, "webhook", receiver.url("/slow?seconds=0.5")))
    outcomes = []

    def run():
        outcomes.append(services.deliver(delivery.pk))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) in (["sent", "skipped"], ["sent"])
    assert receiver.hits.get("/slow", 0) == 1


def test_a_misconfigured_mail_backend_is_a_logged_failed_attempt_not_a_stuck_delivery(settings, alice):
    settings.EMAIL_BACKEND = "no.such.EmailBackend"
    delivery = services.send_test(make_channel(alice, "email", "oncall@example.com"))
    assert deliver.apply(args=[delivery.pk]).get() == "retry"
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    assert delivery.attempts_log.get().error.startswith("internal error: ModuleNotFoundError")


# --- Crash safety ------------------------------------------------------------------------


def test_the_sweeper_resends_deliveries_whose_message_was_lost(alice, receiver, broker):
    delivery = services.send_test(make_channel(alice, "webhook", receiver.url("/hook")))
    broker.delete("notifications")  # the message is lost
    assert services.sweep_deliveries(timezone.now()) == 0  # only just due: its message may be on the way
    assert services.sweep_deliveries(timezone.now() + timedelta(minutes=2)) == 1
    assert queued_deliveries(broker) == [{"task": "notifications.deliver", "args": [delivery.pk], "eta": None}]
    assert deliver_due() == ["sent"]


def test_the_sweeper_takes_back_a_send_whose_worker_died(alice, receiver):
    delivery = services.send_test(make_channel(alice, "webhook", receiver.url("/hook")))
    # A worker claimed it and died before it could record anything.
    Delivery.objects.filter(pk=delivery.pk).update(status="sending", claimed_at=timezone.now())
    services.sweep_deliveries(timezone.now() + timedelta(seconds=30))
    assert Delivery.objects.get(pk=delivery.pk).status == "sending"  # could still be sending
    services.sweep_deliveries(timezone.now() + timedelta(minutes=5))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.attempts_log.get().error == "interrupted: the worker stopped during the attempt"
    make_due(delivery)
    assert deliver_due() == ["sent"]
    assert receiver.hits["/hook"] == 1


# --- Reminders ---------------------------------------------------------------------------


def test_reminders_come_once_per_period_while_the_incident_stays_open(alice, target, receiver, slot):
    reminding = make_channel(alice, "webhook", receiver.url("/hook"), reminder_minutes=10)
    quiet = make_channel(alice, "slack", receiver.url("/slack"))
    monitor = make_monitor(alice, target.url("/status/500"), name="API", channels=[reminding, quiet])
    assert check(monitor, slot) == "down"
    now = timezone.now()
    assert services.send_reminders(now + timedelta(minutes=5)) == 0
    assert services.send_reminders(now + timedelta(minutes=11)) == 1
    assert services.send_reminders(now + timedelta(minutes=12)) == 0  # one per period
    # A reminder run that was held up for an hour sends one, not six.
    assert services.send_reminders(now + timedelta(minutes=80)) == 1
    Delivery.objects.update(next_attempt_at=now)
    assert deliver_due() == ["sent"] * 4  # opened x 2, reminder x 2
    reminders = [verified_json(r, reminding.secret) for r in receiver.at("/hook")][1:]
    assert [r["event"] for r in reminders] == ["incident.reminder", "incident.reminder"]
    assert reminders[0]["title"] == "API is still DOWN"
    assert len(receiver.at("/slack")) == 1

    point_at(monitor, target.url("/ok"))
    assert check(monitor, slot, 60) == "up"
    assert services.send_reminders(now + timedelta(minutes=200)) == 0


# --- Other events ------------------------------------------------------------------------


def test_notify_monitor_sends_any_event_to_the_monitors_channels(alice, receiver):
    channel = make_channel(alice, "webhook", receiver.url("/hook"))
    monitor = make_monitor(alice, "https://shop.example/", name="Shop", channels=[channel])
    make_monitor(alice, "https://other.example/", name="Other", channels=[])
    with transaction.atomic():
        services.notify_monitor(
            monitor,
            "certificate.expiring",
            {"title": "Shop: certificate expires in 7 days", "text": "Renew it.", "days_left": 7},
        )
    assert deliver_due() == ["sent"]
    (body,) = [verified_json(r, channel.secret) for r in receiver.at("/hook")]
    assert body["event"] == "certificate.expiring"
    assert body["title"] == "Shop: certificate expires in 7 days"
    assert body["context"]["days_left"] == 7
    assert body["monitor"]["name"] == "Shop"
    with pytest.raises(ValueError):
        services.notify_monitor(monitor, "", {})


# --- Channels API ------------------------------------------------------------------------


def test_alice_creates_reads_edits_tests_and_deletes_a_channel(alice_client, receiver):
    created = alice_client.post(
        "/api/channels/",
        {"name": "ops hook", "kind": "webhook", "url": receiver.url("/hook"), "is_default": True},
        format="json",
    )
    assert created.status_code == 201, created.json()
    channel = created.json()
    assert len(channel["secret"]) == 64
    assert channel["is_default"] is True and channel["reminder_minutes"] == 0
    pk = channel["id"]

    assert alice_client.get("/api/channels/").json()["results"][0]["id"] == pk
    patched = alice_client.patch(f"/api/channels/{pk}/", {"reminder_minutes": 30}, format="json")
    assert patched.status_code == 200 and patched.json()["reminder_minutes"] == 30

    rotated = alice_client.post(f"/api/channels/{pk}/rotate-secret/").json()["secret"]
    assert rotated != channel["secret"]

    response = alice_client.post(f"/api/channels/{pk}/test/")
    assert response.status_code == 202
    assert deliver_due() == ["sent"]
    (request,) = receiver.at("/hook")
    assert verified_json(request, rotated)["event"] == "channel.test"
    assert request["headers"]["X-Uptime-Delivery"] == response.json()["uid"]

    assert alice_client.delete(f"/api/channels/{pk}/").status_code == 204
    assert not Channel.objects.exists()


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"kind": "webhook"}, "url", "A webhook channel needs a URL."),
        ({"kind": "slack", "url": "ftp://hooks.example/x"}, "url", "URL must start with http:// or https://."),
        ({"kind": "email", "email": "not-an-address"}, "email", "Enter a valid email address."),
        ({"kind": "email"}, "email", "An email channel needs an address."),
        ({"kind": "pager"}, "kind", '"pager" is not a valid choice.'),
        ({"kind": "apprise"}, "apprise_url", "An Apprise channel needs an Apprise URL."),
        ({"kind": "email", "email": "a@example.com", "reminder_minutes": 20000}, "reminder_minutes", "Reminders"),
    ],
)
def test_bad_channels_get_a_message_per_field(alice_client, body, field, message):
    response = alice_client.post("/api/channels/", {"name": "x", **body}, format="json")
    assert response.status_code == 400
    assert response.json()[field][0].startswith(message)


@pytest.mark.parametrize(
    "url", ["http://10.0.0.1/hook", "http://169.254.169.254/latest/meta-data/", "http://localhost:8000/"]
)
@pytest.mark.parametrize("kind", ["webhook", "slack"])
def test_urls_into_private_networks_are_refused(settings, alice_client, kind, url):
    settings.ALLOW_PRIVATE_TARGETS = False
    response = alice_client.post("/api/channels/", {"name": "x", "kind": kind, "url": url}, format="json")
    assert response.status_code == 400
    assert "private or reserved address" in response.json()["url"][0]


def test_a_send_to_a_private_address_is_blocked_at_connection_time(settings, alice, receiver):
    # Stored while allowed (or its DNS answer changed since): the send itself refuses it.
    delivery = services.send_test(make_channel(alice, "webhook", receiver.url("/hook")))
    settings.ALLOW_PRIVATE_TARGETS = False
    assert deliver.apply(args=[delivery.pk]).get() == "retry"
    assert delivery.attempts_log.get().error == "blocked: 127.0.0.1 is a private or reserved address"
    assert receiver.hits == {}


def test_nobody_else_sees_or_touches_a_channel(alice, bob_client, anon_client, receiver):
    channel = make_channel(alice, "webhook", receiver.url("/hook"))
    services.send_test(channel)
    base = f"/api/channels/{channel.pk}/"
    for client, expected in ((bob_client, 404), (anon_client, 401)):
        assert client.get(base).status_code == expected
        assert client.patch(base, {"name": "mine"}, format="json").status_code == expected
        assert client.delete(base).status_code == expected
        assert client.post(base + "test/").status_code == expected
        assert client.post(base + "rotate-secret/").status_code == expected
        assert client.get(base + "deliveries/").status_code == expected
    assert bob_client.get("/api/channels/").json()["count"] == 0
    assert anon_client.get("/api/channels/").status_code == 401
    assert anon_client.post("/api/channels/", {}, format="json").status_code == 401
    channel.refresh_from_db()
    assert channel.name == "webhook channel"
    assert Delivery.objects.count() == 1


def test_deliveries_are_listed_newest_first_a_page_at_a_time(alice, alice_client, receiver):
    channel = make_channel(alice, "webhook", receiver.url("/hook"))
    ids = [d.pk for d in services.queue_deliveries([channel] * 51, "channel.test", {"title": "t", "text": "t"})]
    page = alice_client.get(f"/api/channels/{channel.pk}/deliveries/").json()
    assert page["count"] == 51
    assert [d["id"] for d in page["results"]] == ids[::-1][:50]
    assert page["results"][0]["title"] == "t"
    assert alice_client.get(page["next"]).json()["results"][0]["id"] == ids[0]


# --- Monitors' channels ------------------------------------------------------------------


def test_new_monitors_get_the_default_channels_unless_told_otherwise(alice, bob, alice_client):
    default = make_channel(alice, "email", "a@example.com", is_default=True)
    other = make_channel(alice, "email", "b@example.com")
    make_channel(bob, "email", "bob@example.com", is_default=True)
    monitor = {"name": "x", "url": "https://x.example/", "interval_seconds": 60, "regions": ["india"]}

    assert alice_client.post("/api/monitors/", monitor, format="json").json()["channels"] == [default.pk]
    assert alice_client.post("/api/monitors/", {**monitor, "channels": []}, format="json").json()["channels"] == []
    created = alice_client.post("/api/monitors/", {**monitor, "channels": [other.pk]}, format="json").json()
    assert created["channels"] == [other.pk]

    # Editing the monitor's other fields leaves its channels alone; giving them replaces them.
    url = f"/api/monitors/{created['id']}/"
    assert alice_client.patch(url, {"name": "y"}, format="json").json()["channels"] == [other.pk]
    both = sorted([default.pk, other.pk])
    assert sorted(alice_client.patch(url, {"channels": both}, format="json").json()["channels"]) == both
    assert alice_client.get(f"/api/channels/{other.pk}/").json()["monitors"] == [created["id"]]


def test_another_users_channel_cannot_be_put_on_a_monitor(alice, bob, alice_client):
    bobs = make_channel(bob, "email", "bob@example.com")
    monitor = {"name": "x", "url": "https://x.example/", "interval_seconds": 60, "regions": ["india"]}
    response = alice_client.post("/api/monitors/", {**monitor, "channels": [bobs.pk]}, format="json")
    assert response.status_code == 400
    assert "does not exist" in response.json()["channels"][0]
    existing = make_monitor(alice, "https://x.example/")
    response = alice_client.patch(f"/api/monitors/{existing.pk}/", {"channels": [bobs.pk]}, format="json")
    assert response.status_code == 400
    assert not bobs.monitors.exists()


# --- Admin -------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, db):
    User.objects.create_superuser(email="root@example.com", password=PASSWORD)
    client.login(email="root@example.com", password=PASSWORD)
    return client


def test_admin_shows_deliveries_with_their_attempts(admin_client, alice, receiver):
    channel = make_channel(alice, "webhook", receiver.url("/flaky/b?failures=1"))
    delivery = services.send_test(channel)
    deliver_due()
    make_due(delivery)
    deliver_due()
    page = admin_client.get(reverse("admin:notifications_delivery_change", args=[delivery.pk])).content.decode()
    assert "unexpected status 500" in page and "sent" in page
    listing = admin_client.get(reverse("admin:notifications_delivery_changelist")).content.decode()
    assert "channel.test" in listing
    assert admin_client.get(reverse("admin:notifications_channel_change", args=[channel.pk])).status_code == 200


def test_admin_refuses_a_private_webhook_url(settings, admin_client, alice):
    settings.ALLOW_PRIVATE_TARGETS = False
    form = {
        "organization": personal(alice).pk,
        "name": "x",
        "kind": "webhook",
        "url": "http://10.0.0.1/",
        "reminder_minutes": 0,
    }
    response = admin_client.post(reverse("admin:notifications_channel_add"), form)
    assert response.status_code == 200
    assert "private or reserved address" in response.content.decode()
    assert not Channel.objects.exists()


def test_admin_test_action_queues_a_test_message(admin_client, alice, receiver):
    channel = make_channel(alice, "webhook", receiver.url("/hook"))
    admin_client.post(
        reverse("admin:notifications_channel_changelist"), {"action": "send_test", "_selected_action": [channel.pk]}
    )
    assert deliver_due() == ["sent"]


# --- The real worker path ----------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_on_the_notifications_queue_delivers_an_alert_after_the_commit(receiver, broker):
    from tests.processes import start, stop, wait_for

    alice = User.objects.create_user(email="alice@example.com", password=PASSWORD)
    channel = make_channel(alice, "webhook", receiver.url("/hook"))
    monitor = make_monitor(alice, "https://shop.example/", name="Shop", channels=[channel])
    worker = start("worker", "-Q", "notifications", "-n", "notifications@e2e", "--without-mingle", "--without-gossip")
    try:
        with transaction.atomic():
            (delivery,) = services.notify_monitor(monitor, "certificate.expiring", {"days_left": 3})
        wait_for(lambda: receiver.at("/hook"), timeout=30, what="the alert to arrive")
        wait_for(lambda: Delivery.objects.filter(pk=delivery.pk, status="sent").exists(), timeout=10, what="sent")
    finally:
        log = stop(worker)
    (request,) = receiver.at("/hook")
    assert verified_json(request, channel.secret)["context"] == {"days_left": 3}, log
    assert Delivery.objects.get(pk=delivery.pk).attempts_log.get().status_code == 200


def test_an_alerts_words_and_its_data_give_the_same_duration(alice, target, slot):
    """An outage of 29.6 s: "after 29 s down" beside duration_seconds 30 read as two answers."""
    from notifications.messages import INCIDENT_RESOLVED, incident_payload

    monitor = make_monitor(alice, target.url("/ok"), name="shop")
    incident = Incident.objects.create(
        monitor=monitor,
        started_at=slot,
        resolved_at=slot + timedelta(seconds=29.6),
        resolution="up",
        first_error="unexpected status 500",
        regions=["india"],
    )
    payload = incident_payload(incident, INCIDENT_RESOLVED, slot + timedelta(minutes=1))
    assert payload["incident"]["duration_seconds"] == 30
    assert "after 30 s down" in payload["text"]
