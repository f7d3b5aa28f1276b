"""Lists of ids and slugs in a request body (a maintenance window's monitors, a monitor's
channels and regions): one query whatever their length, an item given twice counted once,
at most 1,000 items, and an id that is not the user's is "does not exist"."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from monitors.models import MaintenanceWindow, Monitor
from notifications.models import Channel
from tests.factories import make_monitor, personal

WINDOWS = "/api/maintenance-windows/"


def window_body(monitor_ids) -> dict:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    return {
        "name": "Upgrade",
        "monitors": monitor_ids,
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1)).isoformat(),
    }


def many_monitors(owner, count: int) -> list[int]:
    # Rows only: a maintenance window needs monitors to name, not their schedules.
    organization = personal(owner)
    monitors = Monitor.objects.bulk_create(
        Monitor(organization=organization, name=f"site {i}", url=f"https://{i}.example/") for i in range(count)
    )
    return [monitor.pk for monitor in monitors]


def queries_of(request) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = request()
    assert response.status_code in (200, 201), response.json()
    return len(queries)


def test_a_windows_monitor_list_costs_the_same_queries_at_any_length(alice, alice_client):
    ids = many_monitors(alice, 400)
    few = queries_of(lambda: alice_client.post(WINDOWS, window_body(ids[:3]), format="json"))
    many = queries_of(lambda: alice_client.post(WINDOWS, window_body(ids), format="json"))
    assert many == few
    assert MaintenanceWindow.objects.latest("id").monitors.count() == 400


def test_a_monitors_channel_list_costs_the_same_queries_at_any_length(alice, alice_client):
    organization = personal(alice)
    channels = Channel.objects.bulk_create(
        Channel(organization=organization, name=f"hook {i}", kind="webhook", url=f"https://{i}.example/hook")
        for i in range(400)
    )
    ids = [channel.pk for channel in channels]
    monitor = make_monitor(alice, "https://a.example/")
    url = f"/api/monitors/{monitor.pk}/"
    few = queries_of(lambda: alice_client.patch(url, {"channels": ids[:3]}, format="json"))
    many = queries_of(lambda: alice_client.patch(url, {"channels": ids}, format="json"))
    assert many == few
    assert monitor.channels.count() == 400


def test_an_over_long_list_is_a_400_with_the_limit(alice, alice_client):
    ids = list(range(1, 1002))
    response = alice_client.post(WINDOWS, window_body(ids), format="json")
    assert response.status_code == 400
    assert response.json() == {"monitors": ["Give at most 1000 items; this list has 1001."]}
    response = alice_client.post(
        "/api/monitors/",
        {"name": "n", "url": "https://a.example/", "interval_seconds": 60, "regions": ["india"], "channels": ids},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"channels": ["Give at most 1000 items; this list has 1001."]}
    assert not MaintenanceWindow.objects.exists() and not Monitor.objects.exists()


def test_a_list_of_the_most_ids_allowed_is_accepted(alice, alice_client):
    ids = many_monitors(alice, 1000)
    response = alice_client.post(WINDOWS, window_body(ids), format="json")
    assert response.status_code == 201, response.json()
    assert sorted(response.json()["monitors"]) == ids


def test_an_id_given_twice_counts_once(alice, alice_client):
    first, second = make_monitor(alice, "https://a.example/"), make_monitor(alice, "https://b.example/")
    response = alice_client.post(WINDOWS, window_body([first.pk, second.pk, first.pk, str(second.pk)]), format="json")
    assert response.status_code == 201, response.json()
    assert sorted(response.json()["monitors"]) == [first.pk, second.pk]


def test_a_region_given_twice_counts_once_for_the_quorum(alice_client):
    body = {"name": "n", "url": "https://a.example/", "interval_seconds": 60, "regions": ["india", "india"]}
    response = alice_client.post("/api/monitors/", {**body, "quorum": 2}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "quorum": ["Quorum must be a whole number from 1 to the number of regions (1), or empty."]
    }
    response = alice_client.post("/api/monitors/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["regions"] == ["india"]


def test_another_users_id_does_not_exist(alice, bob, alice_client):
    mine = make_monitor(alice, "https://a.example/")
    bobs = make_monitor(bob, "https://b.example/")
    response = alice_client.post(WINDOWS, window_body([mine.pk, bobs.pk]), format="json")
    assert response.status_code == 400
    assert response.json() == {"monitors": [f'Invalid pk "{bobs.pk}" - object does not exist.']}
    bobs_channel = Channel.objects.create(
        organization=personal(bob), name="bob's", kind="email", email="bob@example.com"
    )
    response = alice_client.patch(f"/api/monitors/{mine.pk}/", {"channels": [bobs_channel.pk]}, format="json")
    assert response.status_code == 400
    assert response.json() == {"channels": [f'Invalid pk "{bobs_channel.pk}" - object does not exist.']}
    assert not MaintenanceWindow.objects.exists() and not mine.channels.exists()


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (10**30, f'Invalid pk "{10**30}" - object does not exist.'),
        (-1, 'Invalid pk "-1" - object does not exist.'),
        ("abc", "Incorrect type. Expected pk value, received str."),
        (1.5, "Incorrect type. Expected pk value, received float."),
        (True, "Incorrect type. Expected pk value, received bool."),
        (None, "Incorrect type. Expected pk value, received NoneType."),
        ({"id": 1}, "Incorrect type. Expected pk value, received dict."),
    ],
    ids=repr,
)
def test_an_item_that_names_no_monitor_is_a_400(alice_client, item, message):
    response = alice_client.post(WINDOWS, window_body([item]), format="json")
    assert response.status_code == 400
    assert response.json() == {"monitors": [message]}


@pytest.mark.parametrize(
    ("regions", "message"),
    [
        (["atlantis"], "Object with slug=atlantis does not exist."),
        (["in\x00dia"], "Object with slug=in\x00dia does not exist."),
        ([7], "Object with slug=7 does not exist."),
        ([None], "Invalid value."),
        ([["india"]], "Invalid value."),
        ("india", 'Expected a list of items but got type "str".'),
    ],
    ids=repr,
)
def test_a_region_list_names_regions(alice_client, regions, message):
    body = {"name": "n", "url": "https://a.example/", "interval_seconds": 60, "regions": regions}
    response = alice_client.post("/api/monitors/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"regions": [message]}


def test_the_document_gives_each_lists_longest_length(alice_client):
    schemas = alice_client.get("/api/schema/?format=json").json()["components"]["schemas"]
    assert schemas["MaintenanceWindowRequest"]["properties"]["monitors"]["maxItems"] == 1000
    assert schemas["MonitorRequest"]["properties"]["channels"]["maxItems"] == 1000
    assert schemas["MonitorRequest"]["properties"]["regions"]["maxItems"] == 1000
