"""Monitor dependencies: children failing behind a parent that is down are `unreachable`,
with no incident or alert of their own, driven by real checks of real local servers; and
the rules on parents, through the API, the admin and the web form."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils.html import escape

from checks.models import Incident, StatusChange
from monitors.models import Monitor
from monitors.services import pause_monitor, update_monitor
from monitors.validation import MAX_DEPENDENCY_DEPTH, MAX_PARENTS
from notifications.models import Channel, Delivery
from tests.conftest import PASSWORD, queued_checks
from tests.factories import make_monitor, personal
from tests.test_incidents import check, point_at

VALID = {"name": "Example", "url": "https://example.com/health", "interval_seconds": 60, "regions": ["india"]}


@pytest.fixture
def family(alice, target):
    """A load balancer and the two sites behind it, all up, each alerting one webhook."""
    Channel.objects.create(
        organization=personal(alice), name="hook", kind="webhook", url="http://127.0.0.1:9/hook", is_default=True
    )
    balancer = make_monitor(alice, target.url("/ok"), name="balancer")
    shop = make_monitor(alice, target.url("/ok"), name="shop", parents=[balancer])
    blog = make_monitor(alice, target.url("/ok"), name="blog", parents=[balancer])
    return balancer, shop, blog


def status_of(monitor) -> str:
    monitor.refresh_from_db()
    return monitor.status


def opened_alerts() -> list[Delivery]:
    return list(Delivery.objects.filter(event="incident.opened").select_related("monitor").order_by("id"))


def all_up(family, slot):
    for monitor in family:
        assert check(monitor, "india", slot) == "up"


def all_failing(family, target):
    for monitor in family:
        point_at(monitor, target.url("/status/503"))


def test_children_failing_before_their_parent_is_checked_are_unreachable_under_its_one_incident(
    family, target, slot, alice_client
):
    balancer, shop, blog = family
    all_up(family, slot)
    all_failing(family, target)
    # The children fail first: held (still up), not down, until the parent's verdict is known.
    assert check(shop, "india", slot, 60) == "up"
    assert check(blog, "india", slot, 60) == "up"
    assert not Incident.objects.exists()

    assert check(balancer, "india", slot, 61) == "down"
    assert (status_of(shop), status_of(blog)) == ("unreachable", "unreachable")
    incident = Incident.objects.get()
    assert incident.monitor == balancer
    alerts = opened_alerts()
    assert [alert.monitor for alert in alerts] == [balancer]
    listed = alerts[0].payload["incident"]["unreachable_children"]
    assert [child["name"] for child in listed] == ["blog", "shop"]
    assert "Unreachable behind it: blog, shop" in alerts[0].payload["text"]
    change = StatusChange.objects.get(monitor=shop, to_status="unreachable")
    assert (change.from_status, change.reason) == ("up", "unexpected status 503")

    body = alice_client.get(f"/api/incidents/{incident.pk}/").json()
    assert [child["id"] for child in body["unreachable_children"]] == [blog.pk, shop.pk]
    # Ticks are kept as they are: the children's failures are recorded.
    assert shop.ticks.filter(status="down").count() == 1


def test_the_incident_list_reads_the_children_of_a_whole_page_at_once(
    family, target, slot, alice, alice_client, django_assert_max_num_queries
):
    balancer, shop, blog = family
    all_up(family, slot)
    all_failing(family, target)
    check(balancer, "india", slot, 60)
    check(shop, "india", slot, 61)
    # More incidents on the page (other monitors' outages) cost no more queries.
    for n in range(5):
        other = make_monitor(alice, target.url("/ok"), name=f"other {n}")
        Incident.objects.create(monitor=other, started_at=slot, first_error="refused")
    with django_assert_max_num_queries(6):
        listed = alice_client.get("/api/incidents/").json()["results"]
    children = {incident["monitor_name"]: incident["unreachable_children"] for incident in listed}
    assert [child["name"] for child in children["balancer"]] == ["shop"]
    assert children["other 0"] == []


def test_a_child_failing_while_its_parent_is_down_is_unreachable_at_once(family, target, slot):
    balancer, shop, blog = family
    all_up(family, slot)
    all_failing(family, target)
    assert check(balancer, "india", slot, 60) == "down"
    assert check(shop, "india", slot, 61) == "unreachable"
    assert check(shop, "india", slot, 121) == "unreachable"
    assert Incident.objects.count() == 1
    assert len(opened_alerts()) == 1


def test_a_child_failing_while_its_parents_are_up_goes_down_once_they_are_checked(family, target, slot):
    balancer, shop, blog = family
    all_up(family, slot)
    point_at(shop, target.url("/status/500"))
    assert check(shop, "india", slot, 60) == "up"  # held for the balancer's next result
    assert status_of(shop) == "up"
    assert check(balancer, "india", slot, 61) == "up"
    assert status_of(shop) == "down"
    assert Incident.objects.get().monitor == shop
    assert [alert.monitor for alert in opened_alerts()] == [shop]


def test_a_held_child_has_its_parent_checked_at_once_and_only_once(
    family, target, slot, broker, django_capture_on_commit_callbacks
):
    balancer, shop, blog = family
    all_up(family, slot)
    all_failing(family, target)
    with django_capture_on_commit_callbacks(execute=True):
        check(shop, "india", slot, 60)
    with django_capture_on_commit_callbacks(execute=True):
        check(blog, "india", slot, 60)
    queued = queued_checks(broker, "india")
    assert [message["kwargs"]["monitor_id"] for message in queued] == [balancer.pk]


def test_a_hold_ends_after_the_parents_interval_and_retry_window(family, target, slot):
    balancer, shop, blog = family
    all_up(family, slot)
    point_at(shop, target.url("/status/500"))
    assert check(shop, "india", slot, 60) == "up"
    # The balancer is never checked again (its workers stopped): once held longer than its
    # interval + check budget + 5 s, the child goes down as usual.
    Monitor.objects.filter(pk=shop.pk).update(held_since=shop.held_since - timedelta(seconds=70))
    assert check(shop, "india", slot, 120) == "down"
    assert Incident.objects.get().monitor == shop


def test_a_paused_parent_makes_no_child_unreachable(family, target, slot):
    balancer, shop, blog = family
    all_up(family, slot)
    pause_monitor(balancer)
    point_at(shop, target.url("/status/500"))
    assert check(shop, "india", slot, 60) == "down"
    assert Incident.objects.get().monitor == shop


def test_when_the_parent_recovers_a_child_still_failing_opens_its_own_incident(family, target, slot):
    balancer, shop, blog = family
    all_up(family, slot)
    all_failing(family, target)
    assert check(balancer, "india", slot, 60) == "down"
    assert check(shop, "india", slot, 61) == "unreachable"

    point_at(balancer, target.url("/ok"))
    assert check(balancer, "india", slot, 120) == "up"
    # Its latest check is from before the recovery: its next one decides.
    assert status_of(shop) == "unreachable"
    check(shop, "india", slot, 121)
    check(balancer, "india", slot, 180)
    assert status_of(shop) == "down"
    assert [alert.monitor for alert in opened_alerts()] == [balancer, shop]
    assert Incident.objects.get(monitor=shop).is_open
    assert not Incident.objects.get(monitor=balancer).is_open


def test_when_the_parent_recovers_a_child_that_recovered_goes_up_without_an_alert(family, target, slot):
    balancer, shop, blog = family
    all_up(family, slot)
    all_failing(family, target)
    assert check(balancer, "india", slot, 60) == "down"
    assert check(shop, "india", slot, 61) == "unreachable"
    for monitor in family:
        point_at(monitor, target.url("/ok"))
    assert check(balancer, "india", slot, 120) == "up"
    assert check(shop, "india", slot, 121) == "up"
    assert Incident.objects.count() == 1
    assert not Delivery.objects.filter(monitor=shop).exists()
    assert list(
        StatusChange.objects.filter(monitor=shop).order_by("changed_at", "id").values_list("from_status", "to_status")
    ) == [("pending", "up"), ("up", "unreachable"), ("unreachable", "up")]


def test_unreachable_is_a_status_filter_and_sorts_after_down(family, target, slot, alice_client):
    balancer, shop, blog = family
    all_up(family, slot)
    all_failing(family, target)
    check(balancer, "india", slot, 60)
    check(shop, "india", slot, 61)
    listed = alice_client.get("/api/monitors/", {"status": "unreachable"}).json()["results"]
    assert [monitor["name"] for monitor in listed] == ["shop"]
    ordered = alice_client.get("/api/monitors/", {"ordering": "status"}).json()["results"]
    assert [monitor["status"] for monitor in ordered] == ["down", "unreachable", "up"]


# --- The rules on parents ------------------------------------------------------------------


def test_parents_are_set_and_shown_through_the_api(alice_client, alice):
    parent = make_monitor(alice, "https://lb.example/", name="lb")
    response = alice_client.post("/api/monitors/", {**VALID, "parents": [parent.pk]}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["parents"] == [parent.pk]
    child = Monitor.objects.get(pk=response.json()["id"])
    assert list(parent.children.all()) == [child]
    cleared = alice_client.patch(f"/api/monitors/{child.pk}/", {"parents": []}, format="json")
    assert cleared.json()["parents"] == []


def test_another_users_monitor_is_refused_as_an_unknown_id(alice_client, bob):
    bobs = make_monitor(bob, "https://bob.example/")
    foreign = alice_client.post("/api/monitors/", {**VALID, "parents": [bobs.pk]}, format="json")
    unknown = alice_client.post("/api/monitors/", {**VALID, "parents": [bobs.pk + 1000]}, format="json")
    assert foreign.status_code == unknown.status_code == 400
    assert foreign.json()["parents"] == [
        m.replace(str(bobs.pk + 1000), str(bobs.pk)) for m in unknown.json()["parents"]
    ]


def test_a_cycle_is_refused_with_a_message_on_parents(alice_client, alice):
    first = make_monitor(alice, "https://a.example/", name="first")
    second = make_monitor(alice, "https://b.example/", name="second", parents=[first])
    response = alice_client.patch(f"/api/monitors/{first.pk}/", {"parents": [second.pk]}, format="json")
    assert response.status_code == 400
    assert "cycle" in response.json()["parents"][0]
    itself = alice_client.patch(f"/api/monitors/{first.pk}/", {"parents": [first.pk]}, format="json")
    assert itself.json()["parents"] == ["A monitor cannot depend on itself."]
    assert not first.parents.exists()


def test_too_many_parents_or_too_deep_a_chain_is_refused(alice_client, alice):
    many = [make_monitor(alice, f"https://{n}.example/", name=f"m{n}").pk for n in range(MAX_PARENTS + 1)]
    response = alice_client.post("/api/monitors/", {**VALID, "parents": many}, format="json")
    assert response.json()["parents"] == [f"Give at most {MAX_PARENTS} parent monitors."]

    chain = [make_monitor(alice, "https://top.example/", name="top")]
    for level in range(MAX_DEPENDENCY_DEPTH):
        chain.append(make_monitor(alice, f"https://l{level}.example/", name=f"l{level}", parents=[chain[-1]]))
    response = alice_client.post("/api/monitors/", {**VALID, "parents": [chain[-1].pk]}, format="json")
    assert response.status_code == 400
    assert response.json()["parents"] == [f"Dependencies may be at most {MAX_DEPENDENCY_DEPTH} levels deep."]
    ok = alice_client.post("/api/monitors/", {**VALID, "parents": [chain[-2].pk]}, format="json")
    assert ok.status_code == 201, ok.json()


def test_the_admin_refuses_a_cycle_and_another_owners_parent(client, alice, bob):
    from accounts.models import User

    User.objects.create_superuser(email="root@example.com", password=PASSWORD)
    client.login(email="root@example.com", password=PASSWORD)
    first = make_monitor(alice, "https://a.example/", name="first")
    second = make_monitor(alice, "https://b.example/", name="second", parents=[first])
    bobs = make_monitor(bob, "https://bob.example/", name="bobs")
    form = {
        "organization": personal(alice).pk,
        "name": "first",
        "kind": "http",
        "url": "https://a.example/",
        "regions": [r.pk for r in first.regions.all()],
        "is_active": "on",
        "interval_seconds": 60,
        "timeout_seconds": 2,
        "retries": 0,
        "retry_interval_seconds": 1,
        "failures_before_down": 1,
        "successes_before_up": 1,
        "method": "GET",
        "expected_status": "200-399",
        "follow_redirects": "on",
        "request_headers": "{}",
        "keyword_mode": "present",
        "tls_expiry_warning_days": 14,
    }
    url = reverse("admin:monitors_monitor_change", args=[first.pk])
    page = client.post(url, {**form, "parents": [second.pk]})
    assert page.status_code == 200
    assert "That would make a cycle" in page.content.decode()
    page = client.post(url, {**form, "parents": [bobs.pk]})
    assert escape("Parent monitors must be the same organization's: not bobs") in page.content.decode()
    assert not first.parents.exists()


def test_the_web_form_sets_parents_and_confirmations(client, alice):
    client.login(email=alice.email, password=PASSWORD)
    parent = make_monitor(alice, "https://lb.example/", name="lb")
    child = make_monitor(alice, "https://shop.example/", name="shop")
    form = client.get(reverse("web:monitor-edit", args=[child.pk])).content.decode()
    assert "Depends on" in form and "Failures before down" in form
    posted = {**VALID, "name": "shop", "url": "https://shop.example/", "timeout_seconds": 2, "retries": 0}
    posted.update(retry_interval_seconds=1, expected_status="200-399", method="GET", keyword_mode="present")
    posted.update(tls_expiry_warning_days=14, follow_redirects="on", kind="http", quorum="")
    response = client.post(
        reverse("web:monitor-edit", args=[child.pk]),
        {**posted, "parents": [str(parent.pk)], "failures_before_down": 3, "successes_before_up": 2},
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    child.refresh_from_db()
    assert list(child.parents.all()) == [parent]
    assert (child.failures_before_down, child.successes_before_up) == (3, 2)
    confirmations = {"failures_before_down": 3, "successes_before_up": 2}
    refused = client.post(
        reverse("web:monitor-edit", args=[child.pk]), {**posted, **confirmations, "parents": [str(child.pk)]}
    )
    assert "A monitor cannot depend on itself." in refused.content.decode()


def test_removing_a_parent_is_an_edit_like_any_other(alice, target):
    parent = make_monitor(alice, target.url("/ok"), name="lb")
    child = make_monitor(alice, target.url("/ok"), name="shop", parents=[parent])
    update_monitor(child, parents=[])
    assert not child.parents.exists()
