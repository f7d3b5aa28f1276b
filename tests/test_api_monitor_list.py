"""The monitor list's query parameters: filters, search, ordering and page size, each value
it does not know a 400 on that parameter, and all of them in the OpenAPI document."""

import pytest

from monitors.models import Monitor
from tests.factories import make_monitor

LIST = "/api/monitors/"


def names(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [monitor["name"] for monitor in response.json()["results"]]


@pytest.fixture
def fleet(alice, bob):
    """Alice's monitors in every shape the filters tell apart, and one of Bob's."""
    shop = make_monitor(alice, "https://shop.example/health", name="Shop", regions=("india", "usa"))
    blog = make_monitor(alice, "https://blog.example/", name="blog", regions=("usa",))
    db = make_monitor(alice, "tcp://db.example:5432", name="Database", kind="tcp", regions=("india",))
    old = make_monitor(alice, "https://old.example/", name="Archive", is_active=False)
    for monitor, status in ((shop, "down"), (blog, "up"), (db, "degraded")):
        Monitor.objects.filter(pk=monitor.pk).update(status=status)
    make_monitor(bob, "https://shop.example/bob", name="Bob's shop", regions=("india", "usa"))
    return {"shop": shop, "blog": blog, "db": db, "old": old}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["Shop", "blog", "Database", "Archive"]),
        ({"status": "down"}, ["Shop"]),
        ({"status": "paused"}, ["Archive"]),
        ({"region": "usa"}, ["Shop", "blog"]),
        ({"region": "europe"}, []),
        ({"kind": "tcp"}, ["Database"]),
        ({"is_active": "false"}, ["Archive"]),
        ({"is_active": "true", "region": "india"}, ["Shop", "Database"]),
        ({"search": "SHOP"}, ["Shop"]),  # the name, any case; never Bob's
        ({"search": "db.example"}, ["Database"]),  # the URL
        ({"search": "100%_"}, []),  # wildcards are plain text
        ({"search": "example", "kind": "http", "status": "up"}, ["blog"]),
        ({"ordering": "name"}, ["Archive", "blog", "Database", "Shop"]),  # any case
        ({"ordering": "-name"}, ["Shop", "Database", "blog", "Archive"]),
        ({"ordering": "status"}, ["Shop", "Database", "Archive", "blog"]),  # worst first
        ({"ordering": "-status"}, ["blog", "Archive", "Database", "Shop"]),
        ({"ordering": "created_at"}, ["Shop", "blog", "Database", "Archive"]),
        ({"ordering": "-created_at"}, ["Archive", "Database", "blog", "Shop"]),
        ({"ordering": "-id", "page_size": "2"}, ["Archive", "Database"]),
        ({"status": ""}, ["Shop", "blog", "Database", "Archive"]),  # empty: not given
    ],
    ids=str,
)
def test_the_list_is_filtered_searched_and_ordered(alice_client, fleet, query, expected):
    assert names(alice_client.get(LIST, query)) == expected


def test_last_checked_at_orders_the_never_checked_last(alice_client, fleet):
    from django.utils import timezone

    Monitor.objects.filter(pk=fleet["db"].pk).update(last_checked_at=timezone.now())
    assert names(alice_client.get(LIST, {"ordering": "last_checked_at"}))[0] == "Database"
    assert names(alice_client.get(LIST, {"ordering": "-last_checked_at"}))[0] == "Database"


def test_page_size_cuts_pages_up_to_its_maximum(alice_client, alice):
    for i in range(5):
        make_monitor(alice, f"https://{i}.example/", name=f"site {i}")
    first = alice_client.get(LIST, {"page_size": 2, "ordering": "name"})
    assert names(first) == ["site 0", "site 1"]
    assert first.json()["count"] == 5
    assert "page_size=2" in first.json()["next"]
    assert names(alice_client.get(first.json()["next"])) == ["site 2", "site 3"]
    assert len(names(alice_client.get(LIST, {"page_size": 200}))) == 5


@pytest.mark.parametrize(
    ("query", "parameter", "message"),
    [
        ({"status": "sideways"}, "status", '"sideways" is not a valid choice.'),
        ({"region": "atlantis"}, "region", "Object with slug=atlantis does not exist."),
        ({"kind": "ftp"}, "kind", '"ftp" is not a valid choice.'),
        ({"is_active": "maybe"}, "is_active", "Must be a valid boolean."),
        ({"ordering": "owner"}, "ordering", '"owner" is not a valid choice.'),
        ({"ordering": "--name"}, "ordering", '"--name" is not a valid choice.'),
        ({"page_size": "201"}, "page_size", "page_size must be a whole number from 1 to 200."),
        ({"page_size": "0"}, "page_size", "page_size must be a whole number from 1 to 200."),
        ({"page_size": "ten"}, "page_size", "page_size must be a whole number from 1 to 200."),
        ({"search": "a\x00b"}, "search", "Null characters are not allowed."),
    ],
    ids=str,
)
def test_a_value_the_list_does_not_know_is_a_400_on_its_parameter(alice_client, fleet, query, parameter, message):
    response = alice_client.get(LIST, query)
    assert response.status_code == 400
    assert response.json() == {parameter: [message]}


def test_the_parameters_do_not_touch_one_monitor(alice_client, fleet):
    # Only the list reads them: a detail page with a stray ?status= is the monitor.
    response = alice_client.get(f"{LIST}{fleet['shop'].pk}/", {"status": "sideways"})
    assert response.status_code == 200


def test_the_document_lists_the_parameters(alice_client):
    schema = alice_client.get("/api/schema/?format=json").json()
    parameters = {p["name"]: p for p in schema["paths"]["/api/monitors/"]["get"]["parameters"]}
    assert set(parameters) == {
        "status",
        "region",
        "kind",
        "is_active",
        "search",
        "ordering",
        "page_size",
        "page",
        "X-Organization",
    }
    assert parameters["page_size"]["schema"]["maximum"] == 200
    assert "-created_at" in parameters["ordering"]["schema"]["enum"]
    assert "down" in parameters["status"]["schema"]["enum"]
    assert "400" in schema["paths"]["/api/monitors/"]["get"]["responses"]


def test_a_parameter_given_twice_is_a_400_on_it(alice_client, alice):
    """Which of two values wins is no answer: the client is told."""
    monitor = make_monitor(alice, "https://example.com/")
    for url, name in (
        ("/api/monitors/?search=a&search=b", "search"),
        ("/api/monitors/?is_active=true&is_active=false", "is_active"),
        (f"/api/monitors/{monitor.pk}/ticks/?status=up&status=down", "status"),
        (f"/api/monitors/{monitor.pk}/uptime/?window=24h&window=7d", "window"),
        ("/api/incidents/?state=open&state=resolved", "state"),
    ):
        response = alice_client.get(url)
        assert response.status_code == 400, url
        assert response.json()[name] == [f"Give {name} once."], url
