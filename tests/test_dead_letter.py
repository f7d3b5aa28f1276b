"""The dead letter: a delivery whose every attempt failed is dead, listed with every
attempt's error, counted in /metrics and health, and replayed once, as one more delivery."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from notifications import dead_letter, services
from notifications.models import Channel, Delivery
from notifications.tasks import deliver
from tests.conftest import PASSWORD
from tests.factories import personal
from tests.receivers import verified_json


def make_channel(owner, url: str, **fields) -> Channel:
    return Channel.objects.create(organization=personal(owner), name="ops hook", kind="webhook", url=url, **fields)


def attempt(delivery: Delivery) -> str:
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    return deliver.apply(args=[delivery.pk]).get()


def dead_delivery(channel: Channel) -> Delivery:
    """A test message sent until its attempts run out (NOTIFY_MAX_ATTEMPTS, 2 here)."""
    delivery = services.send_test(channel)
    assert [attempt(delivery), attempt(delivery)] == ["retry", "dead"]
    delivery.refresh_from_db()
    return delivery


@pytest.fixture(autouse=True)
def two_attempts(settings):
    settings.NOTIFY_MAX_ATTEMPTS = 2


def test_a_delivery_that_exhausts_its_retries_is_dead_and_listed_with_every_error(alice, alice_client, receiver):
    channel = make_channel(alice, receiver.url("/fail"))
    delivery = dead_delivery(channel)
    assert (delivery.status, delivery.attempts, delivery.replayed_at) == ("dead", 2, None)

    listed = alice_client.get("/api/channels/dead-deliveries/").json()
    assert listed["count"] == 1
    (shown,) = listed["results"]
    assert (shown["id"], shown["channel"], shown["status"], shown["replay"]) == (delivery.pk, channel.pk, "dead", None)
    assert [(a["ok"], a["status_code"], a["error"]) for a in shown["attempts"]] == [
        (False, 500, "unexpected status 500"),
        (False, 500, "unexpected status 500"),
    ]


def test_a_replay_is_one_more_delivery_of_the_same_message_and_only_once(alice, alice_client, receiver):
    channel = make_channel(alice, receiver.url("/flaky/k?failures=2"))
    dead = dead_delivery(channel)
    url = f"/api/channels/{channel.pk}/deliveries/{dead.pk}/replay/"

    response = alice_client.post(url)
    assert response.status_code == 202
    assert response.json()["replayed"] == 1
    (new,) = response.json()["deliveries"]
    assert (new["status"], new["replay_of"], new["event"]) == ("pending", dead.pk, "channel.test")
    assert attempt(Delivery.objects.get(pk=new["id"])) == "sent"
    (_, _, arrived) = receiver.at("/flaky/k")
    # The same message, under the new delivery's id: a receiver dedupes on it.
    assert verified_json(arrived, channel.secret)["text"] == dead.payload["text"]
    assert arrived["headers"]["X-Uptime-Delivery"] == new["uid"] != str(dead.uid)

    again = alice_client.post(url)
    assert again.status_code == 409
    assert again.json()["detail"] == "Only a dead delivery not replayed yet can be replayed."
    assert Delivery.objects.filter(channel=channel).count() == 2
    assert alice_client.get("/api/channels/dead-deliveries/").json()["count"] == 0
    shown = alice_client.get(f"/api/channels/{channel.pk}/deliveries/").json()["results"]
    assert [(d["status"], d["replay"]) for d in shown] == [("sent", None), ("dead", new["id"])]


def test_a_delivery_that_was_sent_or_is_still_trying_is_never_replayed(alice, alice_client, receiver):
    channel = make_channel(alice, receiver.url("/hook"))
    sent = services.send_test(channel)
    assert attempt(sent) == "sent"
    pending = services.send_test(channel)
    for delivery in (sent, pending):
        response = alice_client.post(f"/api/channels/{channel.pk}/deliveries/{delivery.pk}/replay/")
        assert response.status_code == 409
    assert alice_client.post(f"/api/channels/{channel.pk}/replay-dead/").json() == {"replayed": 0, "deliveries": []}
    assert Delivery.objects.count() == 2
    assert receiver.hits == {"/hook": 1}


def test_replaying_a_channels_dead_deliveries_replays_each_once(alice, alice_client, receiver):
    channel = make_channel(alice, receiver.url("/fail"))
    other = make_channel(alice, receiver.url("/fail"))
    dead = [dead_delivery(channel), dead_delivery(channel)]
    dead_delivery(other)

    response = alice_client.post(f"/api/channels/{channel.pk}/replay-dead/")
    assert response.status_code == 202
    assert sorted(d["replay_of"] for d in response.json()["deliveries"]) == [d.pk for d in dead]
    assert alice_client.post(f"/api/channels/{channel.pk}/replay-dead/").json()["replayed"] == 0
    # The other channel's dead delivery waits for its own replay.
    assert [d["channel"] for d in alice_client.get("/api/channels/dead-deliveries/").json()["results"]] == [other.pk]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_replays_of_one_dead_delivery_at_once_make_one_new_delivery(receiver, broker, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 1
    alice = User.objects.create_user(email="alice@example.com", password=PASSWORD)
    delivery = services.send_test(make_channel(alice, receiver.url("/fail")))
    assert services.deliver(delivery.pk) == "dead"
    start = threading.Barrier(4)
    replays, errors = [], []

    def replay():
        start.wait()
        try:
            replays.append(dead_letter.replay(delivery))
        except Exception as exc:  # noqa: BLE001 - a losing replay must lose quietly, not raise
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=replay) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(replays) == 4
    assert sum(new is not None for new in replays) == 1
    assert Delivery.objects.filter(replay_of=delivery).count() == 1


def test_nobody_else_sees_or_replays_a_dead_delivery(alice, bob_client, anon_client, receiver):
    channel = make_channel(alice, receiver.url("/fail"))
    dead = dead_delivery(channel)
    for client, expected in ((bob_client, 404), (anon_client, 401)):
        assert client.post(f"/api/channels/{channel.pk}/deliveries/{dead.pk}/replay/").status_code == expected
        assert client.post(f"/api/channels/{channel.pk}/replay-dead/").status_code == expected
    assert bob_client.get("/api/channels/dead-deliveries/").json()["count"] == 0
    assert anon_client.get("/api/channels/dead-deliveries/").status_code == 401
    assert Delivery.objects.count() == 1


def test_a_delivery_is_replayed_only_through_its_own_channel(alice, alice_client, receiver):
    channel = make_channel(alice, receiver.url("/fail"))
    mine = make_channel(alice, receiver.url("/hook"))
    dead = dead_delivery(channel)
    assert alice_client.post(f"/api/channels/{mine.pk}/deliveries/{dead.pk}/replay/").status_code == 404


# --- /metrics and health ------------------------------------------------------------------


def test_metrics_count_the_dead_deliveries_not_replayed_by_audience(alice, client, receiver, settings):
    settings.METRICS_TOKEN = ""
    channel = make_channel(alice, receiver.url("/fail"))
    dead = dead_delivery(channel)
    dead_delivery(channel)

    def gauge() -> str:
        text = client.get("/metrics").content.decode()
        return "\n".join(line for line in text.splitlines() if line.startswith("uptime_dead_deliveries{"))

    assert gauge() == 'uptime_dead_deliveries{audience="owner"} 2.0\nuptime_dead_deliveries{audience="subscriber"} 0.0'
    dead_letter.replay(dead)
    assert 'uptime_dead_deliveries{audience="owner"} 1.0' in gauge()


def test_health_counts_dead_deliveries_and_is_degraded_when_several_channels_lose_alerts(
    alice, anon_client, broker, receiver
):
    channels = [make_channel(alice, receiver.url("/fail")) for _ in range(dead_letter.DEGRADED_CHANNELS)]
    dead = [dead_delivery(channel) for channel in channels[:-1]]

    body = anon_client.get("/api/health/").json()
    assert body["status"] == "ok"
    assert body["deliveries"] == {"dead": 2, "channels_dead_last_hour": 2, "degraded": False}

    dead.append(dead_delivery(channels[-1]))
    response = anon_client.get("/api/health/")
    assert response.status_code == 200  # still serving: a restart would not bring an alert through
    assert response.json()["status"] == "degraded"
    assert response.json()["deliveries"]["degraded"] is True

    dead_letter.replay(dead[0])
    assert anon_client.get("/api/health/").json()["status"] == "ok"
    # Deaths older than the hour count, but no longer degrade.
    Delivery.objects.filter(status="dead").update(finished_at=timezone.now() - timedelta(hours=2))
    assert anon_client.get("/api/health/").json()["deliveries"] == {
        "dead": 2,
        "channels_dead_last_hour": 0,
        "degraded": False,
    }


def test_subscribers_dead_deliveries_do_not_degrade_health(alice, anon_client, broker, receiver):
    for _ in range(dead_letter.DEGRADED_CHANNELS):
        channel = make_channel(alice, receiver.url("/fail"))
        Channel.objects.filter(pk=channel.pk).update(audience=Channel.Audience.SUBSCRIBER)
        channel.refresh_from_db()
        dead_delivery(channel)
    body = anon_client.get("/api/health/").json()
    assert (body["status"], body["deliveries"]["dead"]) == ("ok", 0)


# --- The admin and the channel page -------------------------------------------------------


@pytest.fixture
def admin_client(db):
    User.objects.create_superuser(email="root@example.com", password=PASSWORD)
    client = Client()
    client.login(email="root@example.com", password=PASSWORD)
    return client


def test_the_admin_lists_dead_deliveries_with_their_attempts_and_replays_them(admin_client, alice, receiver):
    channel = make_channel(alice, receiver.url("/fail"))
    dead = dead_delivery(channel)
    sent = services.send_test(make_channel(alice, receiver.url("/hook")))
    assert attempt(sent) == "sent"

    changelist = reverse("admin:notifications_delivery_changelist")
    listing = admin_client.get(changelist, {"dead_letter": "waiting"}).content.decode()
    assert f"/{dead.pk}/change/" in listing and f"/{sent.pk}/change/" not in listing
    page = admin_client.get(reverse("admin:notifications_delivery_change", args=[dead.pk])).content.decode()
    assert page.count("unexpected status 500") >= 2  # each attempt, inline

    admin_client.post(changelist, {"action": "replay", "_selected_action": [dead.pk, sent.pk]})
    assert Delivery.objects.filter(replay_of=dead).count() == 1
    assert not Delivery.objects.filter(replay_of=sent).exists()
    admin_client.post(changelist, {"action": "replay", "_selected_action": [dead.pk]})
    assert Delivery.objects.filter(replay_of__isnull=False).count() == 1


def test_the_channel_page_shows_a_dead_delivery_with_a_replay_button(alice, receiver):
    channel = make_channel(alice, receiver.url("/fail"))
    dead = dead_delivery(channel)
    owner = Client()
    owner.force_login(alice)
    replay_url = reverse("web:channel-delivery-replay", args=[channel.pk, dead.pk])
    assert replay_url in owner.get(reverse("web:channels")).content.decode()

    assert owner.post(replay_url).status_code == 302
    assert Delivery.objects.filter(replay_of=dead).count() == 1
    page = owner.get(reverse("web:channels")).content.decode()
    assert replay_url not in page and "replayed " in page
    assert owner.post(replay_url).status_code == 302
    assert Delivery.objects.filter(replay_of=dead).count() == 1

    outsider = Client()
    outsider.force_login(User.objects.create_user(email="eve@example.com", password=PASSWORD))
    assert outsider.post(replay_url).status_code == 404
