"""Creating monitors in bulk: POST /api/monitors/bulk and monitors.bulk.create_monitors. All
or nothing, each item judged as a single create, with the owner's default channels and
the quota counted for the batch, and the first checks spread over one interval."""

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_celery_beat.models import PeriodicTask

from checks.beat.scheduler import SlotScheduler
from monitors.bulk import InvalidSpecs, create_monitors
from monitors.models import Monitor, Region
from monitors.services import MonitorQuotaExceeded
from notifications.models import Channel
from tests.conftest import queued_checks
from tests.factories import make_monitor, personal
from tests.test_api_keys import key_client, make_key
from tests.test_scheduling import beat_until
from uptime.celery import app

pytestmark = pytest.mark.django_db

BULK = "/api/monitors/bulk/"


def item(n: int, **fields) -> dict:
    return {"name": f"site {n}", "url": f"https://site{n}.example.com/", "regions": ["india"], **fields}


def post(client, items: list) -> tuple[int, dict]:
    response = client.post(BULK, {"monitors": items}, format="json")
    return response.status_code, response.json()


def schedule_rows() -> list[PeriodicTask]:
    return list(PeriodicTask.objects.filter(name__startswith="check monitor ").select_related("interval"))


def test_a_batch_gets_one_schedule_entry_per_monitor_and_region(alice, alice_client):
    status, body = post(
        alice_client,
        [item(n, regions=["india", "usa"], interval_seconds=120, timeout_seconds=5) for n in range(5)]
        + [item(9, is_active=False, request_headers={"Accept": "text/html"}, keyword="Welcome")],
    )
    assert status == 201, body
    assert body["created"] == 6 and len(body["ids"]) == 6
    monitors = {monitor.pk: monitor for monitor in Monitor.objects.filter(organization=personal(alice))}
    assert list(monitors) == body["ids"]  # in the order sent
    tasks = schedule_rows()
    assert len(tasks) == 5 * 2 + 1
    for task in tasks:
        kwargs = json.loads(task.kwargs)
        monitor = monitors[kwargs["monitor_id"]]
        slug = kwargs["region"]
        assert task.name == f"check monitor {monitor.pk} in {slug}"
        assert task.task == "checks.run_check"
        assert (task.queue, task.exchange, task.routing_key) == (slug, slug, slug)
        assert (task.interval.every, task.interval.period) == (monitor.interval_seconds, "seconds")
        assert task.expire_seconds == monitor.interval_seconds
        assert task.enabled == monitor.is_active
    paused = Monitor.objects.get(name="site 9")
    assert paused.status == "paused"
    assert (paused.request_headers, paused.keyword, paused.late_regions) == ({"Accept": "text/html"}, "Welcome", [])
    assert len({monitor.badge_key for monitor in monitors.values()}) == 6
    assert PeriodicTask.objects.get(name=f"check monitor {paused.pk} in india").last_run_at is None
    assert {m.status for m in monitors.values() if m.is_active} == {"pending"}
    assert set(Monitor.objects.get(name="site 0").regions.values_list("slug", flat=True)) == {"india", "usa"}


def test_one_bad_item_refuses_the_batch_and_writes_nothing(alice, alice_client):
    items = [item(n) for n in range(10)]
    items[6]["interval_seconds"] = "often"
    status, body = post(alice_client, items)
    assert status == 400
    errors = body["monitors"]
    assert len(errors) == 10
    assert [index for index, error in enumerate(errors) if error] == [6]
    assert list(errors[6]) == ["interval_seconds"]
    assert not Monitor.objects.exists()
    assert not schedule_rows()


def test_errors_name_each_item_and_field_as_a_single_create_would(alice_client):
    items = [
        item(0),
        item(1, interval_seconds="soon"),
        item(2, timeout_seconds=30, interval_seconds=20, url="ftp://files.example.com/"),
        "not a monitor",
        item(4, regions=["mars"]),
        None,
    ]
    status, body = post(alice_client, items)
    assert status == 400
    errors = body["monitors"]
    assert errors[0] == {}
    for index in (1, 2, 4):
        single = alice_client.post("/api/monitors/", items[index], format="json")
        assert single.status_code == 400
        assert errors[index] == single.json(), index
    assert set(errors[2]) == {"timeout_seconds", "url"}
    assert list(errors[3]) == list(errors[5]) == ["non_field_errors"]


def test_more_than_the_limit_is_refused_naming_it(alice_client, monkeypatch):
    monkeypatch.setattr("monitors.api.bulk.MAX_BULK_MONITORS", 3)
    status, body = post(alice_client, [item(n) for n in range(4)])
    assert status == 400
    assert body == {"monitors": ["Give at most 3 monitors per request; this has 4."]}
    assert post(alice_client, [])[0] == 400
    assert alice_client.post(BULK, {"monitors": {"name": "x"}}, format="json").status_code == 400
    assert not Monitor.objects.exists()


def test_the_quota_counts_the_whole_batch(alice, alice_client, settings):
    settings.MONITOR_QUOTA_PER_ORGANIZATION = 5
    for n in range(3):
        make_monitor(alice, f"https://old{n}.example.com/")
    status, body = post(alice_client, [item(n) for n in range(3)])
    assert status == 403
    assert "limit of 5" in body["detail"]
    assert Monitor.objects.count() == 3
    assert post(alice_client, [item(n) for n in range(2)])[0] == 201
    assert Monitor.objects.count() == 5
    with pytest.raises(MonitorQuotaExceeded):
        create_monitors(personal(alice), [{**item(9), "regions": Region.objects.filter(slug="india")}])


def test_another_users_channel_or_parent_is_refused_like_an_unknown_one(alice_client, bob):
    bobs_channel = Channel.objects.create(
        organization=personal(bob), name="bob's", kind="email", email="bob@example.com"
    )
    bobs_monitor = make_monitor(bob, "https://bob.example.com/")
    unknown = 10**9
    status, body = post(
        alice_client,
        [
            item(0, channels=[bobs_channel.pk]),
            item(1, channels=[unknown]),
            item(2, parents=[bobs_monitor.pk]),
            item(3, parents=[unknown]),
        ],
    )
    assert status == 400
    errors = body["monitors"]

    def without_id(message: str, pk: int) -> str:
        return message.replace(str(pk), "<id>")

    assert without_id(errors[0]["channels"][0], bobs_channel.pk) == without_id(errors[1]["channels"][0], unknown)
    assert without_id(errors[2]["parents"][0], bobs_monitor.pk) == without_id(errors[3]["parents"][0], unknown)
    assert Monitor.objects.filter(organization__memberships__user__email="alice@example.com").count() == 0


def test_default_channels_go_on_monitors_given_none(alice, alice_client):
    default = Channel.objects.create(
        organization=personal(alice), name="on call", kind="email", email="a@example.com", is_default=True
    )
    other = Channel.objects.create(organization=personal(alice), name="team", kind="email", email="t@example.com")
    status, body = post(alice_client, [item(0), item(1, channels=[]), item(2, channels=[other.pk, other.pk])])
    assert status == 201, body
    channels = [set(Monitor.objects.get(pk=pk).channels.all()) for pk in body["ids"]]
    assert channels == [{default}, set(), {other}]


def test_parents_may_be_existing_monitors_under_the_dependency_rules(alice, alice_client, bob):
    lb = make_monitor(alice, "https://lb.example.com/")
    status, body = post(alice_client, [item(0, parents=[lb.pk]), item(1, parents=[lb.pk])])
    assert status == 201, body
    assert [list(Monitor.objects.get(pk=pk).parents.all()) for pk in body["ids"]] == [[lb], [lb]]
    # The domain function refuses what the API's fields would not let through.
    bobs = make_monitor(bob, "https://bob.example.com/")
    india = Region.objects.filter(slug="india")
    spec = {"regions": india, "name": "x", "url": "https://x.example.com/"}
    with pytest.raises(InvalidSpecs) as refused:
        create_monitors(personal(alice), [spec, {**spec, "parents": [bobs]}])
    assert list(refused.value.by_index) == [1]
    assert Monitor.objects.filter(organization=personal(alice)).count() == 3


def test_a_viewer_key_may_not_create_in_bulk_and_an_editor_key_may(alice_client):
    viewer = key_client(make_key(alice_client, "viewer")["token"])
    editor = key_client(make_key(alice_client, "editor")["token"])
    assert post(viewer, [item(0)])[0] == 403
    assert not Monitor.objects.exists()
    assert post(editor, [item(0)])[0] == 201


def test_a_private_address_is_refused_as_in_a_single_create(alice_client, settings):
    settings.ALLOW_PRIVATE_TARGETS = False
    private = item(1, url="http://127.0.0.1:8080/")
    status, body = post(alice_client, [item(0), private, item(2, url="http://localhost/")])
    assert status == 400
    single = alice_client.post("/api/monitors/", private, format="json").json()
    assert body["monitors"][1] == single
    assert "url" in body["monitors"][2]
    assert not Monitor.objects.exists()


def test_validation_queries_do_not_grow_with_the_batch(alice, alice_client, settings):
    lb = make_monitor(alice, "https://lb.example.com/")
    channel = Channel.objects.create(organization=personal(alice), name="team", kind="email", email="t@example.com")

    def queries_for(count: int) -> int:
        # A rule broken by the last item: everything is judged, nothing written.
        items = [item(n, channels=[channel.pk], parents=[lb.pk], regions=["india", "usa"]) for n in range(count)]
        items[-1]["interval_seconds"] = 0
        with CaptureQueriesContext(connection) as queries:
            assert post(alice_client, items)[0] == 400
        return len(queries)

    assert queries_for(10) == queries_for(200)


def test_first_checks_are_spread_over_one_interval_and_none_is_sent_at_once(
    alice, broker, django_capture_on_commit_callbacks
):
    india_usa = list(Region.objects.filter(slug__in=["india", "usa"]))
    specs = [
        {"regions": india_usa, "name": f"s{n}", "url": f"https://s{n}.example.com/", "interval_seconds": 60}
        for n in range(60)
    ]
    before = datetime.now(UTC)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        monitors = create_monitors(personal(alice), specs)
    assert callbacks == []  # no check sent at once
    assert queued_checks(broker, "india") == []
    due = {}
    for task in schedule_rows():
        first = task.last_run_at + timedelta(seconds=60)
        due.setdefault(json.loads(task.kwargs)["monitor_id"], set()).add(first)
    assert all(len(slots) == 1 for slots in due.values())  # a monitor's regions share its slots
    firsts = sorted(slot for [slot] in map(list, due.values()))
    assert len(firsts) == 60
    assert before <= firsts[0] and firsts[-1] < before + timedelta(seconds=60)
    # One a second: no second of the interval has more than one monitor's first check.
    gaps = [(b - a).total_seconds() for a, b in zip(firsts, firsts[1:], strict=False)]
    assert min(gaps) == pytest.approx(1.0, abs=0.01)
    # The watchdog expects nothing of a monitor before its first slot.
    for monitor in monitors:
        monitor.refresh_from_db()
        assert monitor.checking_since in due[monitor.pk]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_running_beat_checks_every_new_monitor_within_one_interval_spread_over_it(alice, broker):
    interval = 3
    scheduler = SlotScheduler(app=app)
    scheduler.tick()  # leading, with the schedule read before the batch
    regions = list(Region.objects.filter(slug="india"))
    specs = [
        {"regions": regions, "name": f"s{n}", "url": f"https://s{n}.example.com/", "interval_seconds": interval}
        for n in range(30)
    ]
    created_at = datetime.now(UTC)
    monitors = create_monitors(personal(alice), specs)
    sent_at: dict[int, float] = {}

    def all_sent() -> bool:
        for check in queued_checks(broker, "india"):
            sent_at.setdefault(check["kwargs"]["monitor_id"], time.monotonic())
        return len(sent_at) == len(monitors)

    try:
        took = beat_until(scheduler, all_sent, seconds=interval + 2)
    finally:
        scheduler.close()
    assert took <= interval + 1  # within one interval, and beat's pick-up of the change
    first = {}
    for check in queued_checks(broker, "india"):
        first.setdefault(check["kwargs"]["monitor_id"], datetime.fromisoformat(check["kwargs"]["scheduled_at"]))
    assert set(first) == {monitor.pk for monitor in monitors}
    assert all(created_at <= slot < created_at + timedelta(seconds=interval) for slot in first.values())
    # Sent over the interval, not at once: the sends span most of it.
    assert max(sent_at.values()) - min(sent_at.values()) >= interval * 0.6
