"""Maintenance windows: checks go on and are marked, no incident opens, uptime leaves them
out; the windows API and admin. Time is set by the slots and window times passed in."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from accounts.models import User
from checks.models import Incident, StatusChange, Tick
from checks.outcomes.rollup_counts import count_ticks
from checks.outcomes.writer import write_spooled
from checks.tasks import run_check
from monitors.maintenance import create_window, in_maintenance
from monitors.models import MaintenanceWindow, Monitor, Region
from tests.conftest import PASSWORD
from tests.factories import make_monitor, personal

MINUTE = timedelta(minutes=1)
WEEK = timedelta(days=7)


def check(monitor, slot, region="india") -> str:
    run_check.apply(kwargs={"monitor_id": monitor.pk, "region": region, "scheduled_at": slot.isoformat()})
    write_spooled()
    monitor.refresh_from_db()
    return monitor.status


def tick_at(monitor, slot) -> Tick:
    return Tick.objects.get(monitor=monitor, scheduled_at=slot)


def window(owner, monitors, starts_at, ends_at, recurrence="none", name="deploy") -> MaintenanceWindow:
    return create_window(
        personal(owner), monitors, name=name, starts_at=starts_at, ends_at=ends_at, recurrence=recurrence
    )


def flips(monitor) -> list[tuple[str, str]]:
    changes = StatusChange.objects.filter(monitor=monitor).order_by("changed_at", "id")
    return list(changes.values_list("from_status", "to_status"))


@pytest.fixture
def down_site(alice, target):
    return make_monitor(alice, target.url("/status/500"))


# --- checks during a window ---------------------------------------------------------------


def test_an_outage_inside_a_window_opens_no_incident_and_its_ticks_are_marked(alice, down_site, slot):
    window(alice, [down_site], slot - 10 * MINUTE, slot + 90 * timedelta(seconds=1))
    assert check(down_site, slot) == "maintenance"
    assert check(down_site, slot + MINUTE) == "maintenance"
    assert not Incident.objects.exists()
    assert tick_at(down_site, slot).in_maintenance
    assert tick_at(down_site, slot + MINUTE).in_maintenance
    assert tick_at(down_site, slot).status == "down"  # the result itself is kept as it was
    assert flips(down_site) == [("pending", "maintenance")]


def test_an_outage_going_on_past_the_window_end_opens_an_incident_then(alice, down_site, slot):
    window(alice, [down_site], slot - 10 * MINUTE, slot + 90 * timedelta(seconds=1))
    check(down_site, slot)
    assert check(down_site, slot + 2 * MINUTE) == "down"
    after = tick_at(down_site, slot + 2 * MINUTE)
    assert not after.in_maintenance
    incident = Incident.objects.get(monitor=down_site)
    assert incident.is_open
    assert incident.started_at == after.checked_at
    assert incident.first_error == "unexpected status 500"
    assert flips(down_site) == [("pending", "maintenance"), ("maintenance", "down")]


def test_a_healthy_site_after_the_window_is_simply_up(alice, target, slot):
    monitor = make_monitor(alice, target.url("/ok"))
    window(alice, [monitor], slot - MINUTE, slot + MINUTE)
    assert check(monitor, slot) == "maintenance"
    assert check(monitor, slot + 2 * MINUTE) == "up"
    assert not Incident.objects.exists()


def test_an_incident_open_when_a_window_starts_is_resolved_as_maintenance(alice, down_site, slot):
    window(alice, [down_site], slot - 30 * timedelta(seconds=1), slot + MINUTE)
    assert check(down_site, slot - MINUTE) == "down"
    incident = Incident.objects.get(monitor=down_site)
    assert check(down_site, slot) == "maintenance"
    incident.refresh_from_db()
    assert incident.resolution == "maintenance"
    assert incident.resolved_at == tick_at(down_site, slot).checked_at
    # Still down when the window ends: a new incident, from then.
    assert check(down_site, slot + 2 * MINUTE) == "down"
    assert Incident.objects.filter(monitor=down_site).count() == 2
    assert Incident.objects.filter(monitor=down_site, resolved_at__isnull=True).count() == 1


def test_an_older_slot_finishing_late_does_not_end_the_maintenance(alice, down_site, slot):
    window(alice, [down_site], slot - 30 * timedelta(seconds=1), slot + MINUTE)
    assert check(down_site, slot) == "maintenance"
    assert check(down_site, slot - MINUTE) == "maintenance"
    assert not tick_at(down_site, slot - MINUTE).in_maintenance
    assert not Incident.objects.exists()


def test_a_window_applies_only_to_its_monitors(alice, target, down_site, slot):
    other = make_monitor(alice, target.url("/status/500"), name="other")
    window(alice, [down_site], slot - MINUTE, slot + MINUTE)
    assert check(other, slot) == "down"
    assert not tick_at(other, slot).in_maintenance
    assert Incident.objects.filter(monitor=other).count() == 1


def test_one_window_covers_several_monitors(alice, target, down_site, slot):
    other = make_monitor(alice, target.url("/status/500"), name="other")
    window(alice, [down_site, other], slot - MINUTE, slot + MINUTE)
    assert check(down_site, slot) == "maintenance"
    assert check(other, slot) == "maintenance"
    assert not Incident.objects.exists()


# --- weekly recurrence ----------------------------------------------------------------------


def test_a_weekly_window_from_last_week_applies_now(alice, down_site, slot):
    window(alice, [down_site], slot - WEEK - 5 * MINUTE, slot - WEEK + 5 * MINUTE, "weekly")
    assert check(down_site, slot) == "maintenance"
    assert tick_at(down_site, slot).in_maintenance
    assert not Incident.objects.exists()


def test_a_weekly_window_outside_its_weekly_slot_does_not_apply(alice, down_site, slot):
    window(alice, [down_site], slot - WEEK + 10 * MINUTE, slot - WEEK + 20 * MINUTE, "weekly")
    assert check(down_site, slot) == "down"
    assert not tick_at(down_site, slot).in_maintenance
    assert Incident.objects.filter(monitor=down_site).count() == 1


def test_a_one_off_window_from_last_week_does_not_apply_now(alice, down_site, slot):
    window(alice, [down_site], slot - WEEK - 5 * MINUTE, slot - WEEK + 5 * MINUTE)
    assert check(down_site, slot) == "down"


START = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)  # a Monday, 22:00 to Tuesday 01:00 UTC


@pytest.mark.parametrize(
    ("at", "weekly", "once"),
    [
        (START - timedelta(seconds=1), False, False),
        (START, True, True),  # the start is in, the end is out
        (START + timedelta(hours=2, minutes=59), True, True),
        (START + timedelta(hours=3), False, False),
        (START + timedelta(days=3), False, False),
        (START + WEEK - timedelta(seconds=1), False, False),
        (START + WEEK, True, False),
        (START + WEEK + timedelta(hours=1), True, False),
        (START + WEEK + timedelta(hours=3), False, False),
        (START + 52 * WEEK + timedelta(minutes=30), True, False),
    ],
)
def test_the_database_and_the_display_agree_on_when_a_window_is_in_force(alice, at, weekly, once):
    monitor = make_monitor(alice, "https://a.example/")
    for recurrence, expected in (("weekly", weekly), ("none", once)):
        one = window(alice, [monitor], START, START + timedelta(hours=3), recurrence)
        occurrence = one.occurrence(at)
        assert in_maintenance(monitor.pk, at) is expected, recurrence
        assert (occurrence is not None and occurrence[0] <= at < occurrence[1]) is expected, recurrence
        one.delete()


# --- uptime ---------------------------------------------------------------------------------


def add_tick(monitor, minutes_ago, status, response_time_ms, maintenance=False, region="india"):
    slot = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    tick = Tick.objects.create(
        monitor=monitor,
        region=Region.objects.get(slug=region),
        status=status,
        status_code=200 if status == "up" else 500,
        response_time_ms=response_time_ms,
        scheduled_at=slot,
        checked_at=slot,
        in_maintenance=maintenance,
    )
    count_ticks([tick])
    return tick


@pytest.fixture
def admin_client(client, db):
    User.objects.create_superuser(email="root@example.com", password=PASSWORD)
    client.login(email="root@example.com", password=PASSWORD)
    return client


def test_uptime_leaves_maintenance_ticks_out_in_the_api_and_the_admin(alice, alice_client, admin_client):
    monitor = make_monitor(alice, "https://a.example/", name="shop")
    for minutes in (1, 2, 3):
        add_tick(monitor, minutes, "up", 100)
    add_tick(monitor, 4, "down", 5000)
    # During the window: down twice, and one very slow success.
    add_tick(monitor, 10, "down", 5000, maintenance=True)
    add_tick(monitor, 11, "down", 5000, maintenance=True)
    add_tick(monitor, 12, "up", 9000, maintenance=True)

    body = alice_client.get(f"/api/monitors/{monitor.pk}/uptime/").json()
    assert body["uptime_percent"] == 75.0
    assert body["checks"] == 4
    assert body["maintenance_checks"] == 3
    assert body["avg_response_time_ms"] == 100.0
    assert body["p95_response_time_ms"] == 100.0
    assert body["regions"]["india"]["maintenance_checks"] == 3
    assert body["regions"]["india"]["uptime_percent"] == 75.0

    page = admin_client.get(reverse("admin:monitors_monitor_changelist")).content.decode()
    assert "75.00%" in page


def test_a_day_spent_in_maintenance_has_unknown_uptime(alice, alice_client):
    monitor = make_monitor(alice, "https://a.example/")
    add_tick(monitor, 1, "down", 5000, maintenance=True)
    body = alice_client.get(f"/api/monitors/{monitor.pk}/uptime/").json()
    assert (body["uptime_percent"], body["checks"], body["maintenance_checks"]) == (None, 0, 1)


def test_ticks_in_the_api_show_and_filter_the_maintenance_flag(alice, alice_client):
    monitor = make_monitor(alice, "https://a.example/")
    add_tick(monitor, 1, "up", 100)
    add_tick(monitor, 2, "down", 5000, maintenance=True)
    url = f"/api/monitors/{monitor.pk}/ticks/"
    assert [t["in_maintenance"] for t in alice_client.get(url).json()["results"]] == [False, True]
    assert [t["status"] for t in alice_client.get(url, {"in_maintenance": "true"}).json()["results"]] == ["down"]
    assert [t["status"] for t in alice_client.get(url, {"in_maintenance": "false"}).json()["results"]] == ["up"]
    assert "in_maintenance" in alice_client.get(url, {"in_maintenance": "perhaps"}).json()


# --- the API --------------------------------------------------------------------------------

LIST = "/api/maintenance-windows/"


def detail(window_id) -> str:
    return f"{LIST}{window_id}/"


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


@pytest.fixture
def monitor(alice):
    return make_monitor(alice, "https://a.example/", name="shop")


@pytest.fixture
def valid(monitor):
    now = datetime.now(UTC).replace(microsecond=0)
    return {
        "name": "Upgrade",
        "monitors": [monitor.pk],
        "starts_at": iso(now + MINUTE),
        "ends_at": iso(now + 31 * MINUTE),
    }


def test_create_read_update_and_delete_a_window(alice, alice_client, monitor, valid):
    second = make_monitor(alice, "https://b.example/", name="blog")
    created = alice_client.post(LIST, {**valid, "monitors": [monitor.pk, second.pk]}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["monitors"] == [monitor.pk, second.pk]
    assert body["recurrence"] == "none"
    assert body["active"] is False
    assert body["occurrence"] == {"starts_at": valid["starts_at"], "ends_at": valid["ends_at"]}
    assert MaintenanceWindow.objects.get(pk=body["id"]).organization == personal(alice)

    assert alice_client.get(LIST).json()["results"][0]["id"] == body["id"]
    assert alice_client.get(detail(body["id"])).json()["name"] == "Upgrade"

    patched = alice_client.patch(detail(body["id"]), {"monitors": [second.pk], "recurrence": "weekly"}, format="json")
    assert patched.status_code == 200, patched.json()
    assert (patched.json()["monitors"], patched.json()["recurrence"]) == ([second.pk], "weekly")

    put = alice_client.put(detail(body["id"]), {**valid, "name": "Renamed"}, format="json")
    assert put.status_code == 200, put.json()
    assert (put.json()["name"], put.json()["monitors"], put.json()["recurrence"]) == ("Renamed", [monitor.pk], "weekly")

    assert alice_client.delete(detail(body["id"])).status_code == 204
    assert not MaintenanceWindow.objects.exists()
    assert Monitor.objects.filter(pk=monitor.pk).exists()  # the monitors stay


def test_a_monitor_shows_whether_it_is_in_maintenance_now(alice, alice_client, monitor):
    url = f"/api/monitors/{monitor.pk}/"
    body = alice_client.get(url).json()
    assert (body["in_maintenance"], body["maintenance"]) == (False, None)

    now = datetime.now(UTC).replace(microsecond=0)
    upcoming = window(alice, [monitor], now + 10 * MINUTE, now + 20 * MINUTE, name="later")
    body = alice_client.get(url).json()
    assert body["in_maintenance"] is False
    assert body["maintenance"] == {
        "window": upcoming.pk,
        "name": "later",
        "starts_at": iso(now + 10 * MINUTE),
        "ends_at": iso(now + 20 * MINUTE),
    }

    # Last week's weekly window is in force now, and is what the list shows too.
    weekly = window(alice, [monitor], now - WEEK - MINUTE, now - WEEK + 5 * MINUTE, "weekly", name="weekly")
    listed = alice_client.get("/api/monitors/").json()["results"][0]
    assert listed["in_maintenance"] is True
    assert listed["maintenance"]["window"] == weekly.pk
    assert listed["maintenance"]["starts_at"] == iso(now - MINUTE)
    window_body = alice_client.get(detail(weekly.pk)).json()
    assert window_body["active"] is True
    assert window_body["occurrence"] == {"starts_at": iso(now - MINUTE), "ends_at": iso(now + 5 * MINUTE)}


def test_an_ended_one_off_window_shows_no_occurrence(alice, alice_client, monitor):
    now = datetime.now(UTC)
    past = window(alice, [monitor], now - 2 * MINUTE, now - MINUTE)
    assert alice_client.get(detail(past.pk)).json()["occurrence"] is None
    assert alice_client.get(f"/api/monitors/{monitor.pk}/").json()["maintenance"] is None


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (lambda start: {"ends_at": iso(start)}, "ends_at", "The end must be after the start."),
        (lambda start: {"ends_at": iso(start - MINUTE)}, "ends_at", "The end must be after the start."),
        (
            lambda start: {"ends_at": iso(start + WEEK), "recurrence": "weekly"},
            "ends_at",
            "A weekly window must last less than 7 days.",
        ),
        (lambda start: {"monitors": []}, "monitors", "Choose at least one monitor."),
        (lambda start: {"monitors": [999999]}, "monitors", 'Invalid pk "999999" - object does not exist.'),
        (lambda start: {"recurrence": "daily"}, "recurrence", '"daily" is not a valid choice.'),
        (lambda start: {"starts_at": "soon"}, "starts_at", None),
        (lambda start: {"name": ""}, "name", None),
    ],
)
def test_bad_windows_are_400_with_a_message_on_the_field(alice_client, valid, changes, field, message):
    data = {**valid, **changes(datetime.fromisoformat(valid["starts_at"]))}
    response = alice_client.post(LIST, data, format="json")
    assert response.status_code == 400
    assert field in response.json()
    if message:
        assert response.json()[field] == [message]
    assert not MaintenanceWindow.objects.exists()


def test_a_weekly_window_just_under_a_week_is_accepted(alice_client, valid):
    start = datetime.fromisoformat(valid["starts_at"])
    data = {**valid, "ends_at": iso(start + WEEK - MINUTE), "recurrence": "weekly"}
    assert alice_client.post(LIST, data, format="json").status_code == 201


def test_missing_fields_are_each_reported(alice_client):
    response = alice_client.post(LIST, {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"name", "monitors", "starts_at", "ends_at"}


def test_a_patch_is_judged_with_the_stored_values(alice, alice_client, monitor):
    now = datetime.now(UTC)
    stored = window(alice, [monitor], now + 10 * MINUTE, now + 20 * MINUTE)
    response = alice_client.patch(detail(stored.pk), {"ends_at": iso(now + 5 * MINUTE)}, format="json")
    assert response.status_code == 400
    assert response.json() == {"ends_at": ["The end must be after the start."]}
    response = alice_client.patch(detail(stored.pk), {"starts_at": iso(now - WEEK)}, format="json")
    assert response.status_code == 200, response.json()
    response = alice_client.patch(detail(stored.pk), {"recurrence": "weekly"}, format="json")
    assert response.json() == {"ends_at": ["A weekly window must last less than 7 days."]}


def test_another_users_monitor_ids_are_refused(alice, alice_client, bob, valid):
    bobs = make_monitor(bob, "https://bob.example/")
    response = alice_client.post(LIST, {**valid, "monitors": [valid["monitors"][0], bobs.pk]}, format="json")
    assert response.status_code == 400
    assert response.json() == {"monitors": [f'Invalid pk "{bobs.pk}" - object does not exist.']}
    assert not MaintenanceWindow.objects.exists()
    mine = window(alice, [Monitor.objects.get(pk=valid["monitors"][0])], datetime.now(UTC), datetime.now(UTC) + MINUTE)
    response = alice_client.patch(detail(mine.pk), {"monitors": [bobs.pk]}, format="json")
    assert response.status_code == 400
    assert list(mine.monitors.values_list("pk", flat=True)) == valid["monitors"]


@pytest.fixture
def alices_window(alice, monitor):
    now = datetime.now(UTC)
    return window(alice, [monitor], now + MINUTE, now + 2 * MINUTE)


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_another_users_window_is_404_for_every_method(bob, bob_client, alices_window, method, valid):
    bobs = make_monitor(bob, "https://bob.example/")
    response = getattr(bob_client, method)(detail(alices_window.pk), {**valid, "monitors": [bobs.pk]}, format="json")
    assert response.status_code == 404
    alices_window.refresh_from_db()
    assert alices_window.name == "deploy"


def test_another_users_windows_are_not_listed(bob_client, alices_window):
    response = bob_client.get(LIST)
    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "list"),
        ("post", "list"),
        ("get", "detail"),
        ("put", "detail"),
        ("patch", "detail"),
        ("delete", "detail"),
    ],
)
def test_anonymous_requests_are_401(anon_client, alices_window, valid, method, path):
    url = LIST if path == "list" else detail(alices_window.pk)
    assert getattr(anon_client, method)(url, valid, format="json").status_code == 401
    assert MaintenanceWindow.objects.count() == 1


# --- the admin ------------------------------------------------------------------------------


def test_admin_filters_windows_by_state(alice, admin_client, monitor):
    now = datetime.now(UTC)
    window(alice, [monitor], now - MINUTE, now + MINUTE, name="window-active")
    window(alice, [monitor], now + MINUTE, now + 2 * MINUTE, name="window-upcoming")
    window(alice, [monitor], now - WEEK + MINUTE, now - WEEK + 2 * MINUTE, "weekly", name="window-weekly")
    window(alice, [monitor], now - 2 * MINUTE, now - MINUTE, name="window-over")
    changelist = reverse("admin:monitors_maintenancewindow_changelist")

    def names(state):
        page = admin_client.get(changelist, {"state": state})
        assert page.status_code == 200
        return {name for name in ("active", "upcoming", "weekly", "over") if f"window-{name}" in page.content.decode()}

    assert names("active") == {"active"}
    assert names("upcoming") == {"upcoming", "weekly"}
    assert names("over") == {"over"}
    change = admin_client.get(
        reverse("admin:monitors_maintenancewindow_change", args=[monitor.maintenance_windows.first().pk])
    )
    assert change.status_code == 200


def admin_form(owner, monitors, **changes) -> dict:
    return {
        "organization": personal(owner).pk,
        "name": "From admin",
        "monitors": [m.pk for m in monitors],
        "starts_at_0": "2026-03-02",
        "starts_at_1": "22:00:00",
        "ends_at_0": "2026-03-03",
        "ends_at_1": "01:00:00",
        "recurrence": "weekly",
        **changes,
    }


def test_admin_adds_a_window(alice, admin_client, monitor):
    response = admin_client.post(reverse("admin:monitors_maintenancewindow_add"), admin_form(alice, [monitor]))
    assert response.status_code == 302, response.content.decode()[:3000]
    added = MaintenanceWindow.objects.get(name="From admin")
    assert (added.organization, list(added.monitors.all())) == (personal(alice), [monitor])
    assert added.starts_at == START


def test_admin_refuses_other_owners_monitors_and_bad_times(alice, bob, admin_client, monitor):
    bobs = make_monitor(bob, "https://bob.example/", name="bobs-site")
    add = reverse("admin:monitors_maintenancewindow_add")
    page = admin_client.post(add, admin_form(alice, [monitor, bobs])).content.decode()
    assert f"Not monitors of {personal(alice)}: bobs-site." in page
    page = admin_client.post(add, admin_form(alice, [monitor], ends_at_0="2026-03-10")).content.decode()
    assert "A weekly window must last less than 7 days." in page
    page = admin_client.post(add, admin_form(alice, [monitor], ends_at_0="2026-03-01")).content.decode()
    assert "The end must be after the start." in page
    assert not MaintenanceWindow.objects.exists()


def test_admin_tick_list_shows_and_filters_the_maintenance_flag(alice, admin_client, monitor):
    add_tick(monitor, 1, "up", 100)
    add_tick(monitor, 2, "down", 5000, maintenance=True)
    changelist = reverse("admin:checks_tick_changelist")
    assert admin_client.get(changelist, {"in_maintenance__exact": "1"}).context["cl"].result_count == 1
    assert admin_client.get(changelist).context["cl"].result_count == 2


# --- a window that begins ---------------------------------------------------------------


def test_a_window_that_begins_moves_a_down_monitor_to_maintenance_without_waiting_for_a_check(alice, target, slot):
    """An hourly monitor down when its window begins: its status, and its open incident,
    must not wait an hour for the next check."""
    from checks.tasks import enter_maintenance

    down = make_monitor(alice, target.url("/status/500"), interval_seconds=3600)
    assert check(down, slot) == "down"
    outside = make_monitor(alice, target.url("/status/500"), interval_seconds=3600)
    assert check(outside, slot) == "down"
    paused = make_monitor(alice, target.url("/ok"), is_active=False)
    now = datetime.now(UTC)
    window(alice, [down, paused], now - MINUTE, now + 30 * MINUTE)

    assert enter_maintenance.apply().get() == 1
    down.refresh_from_db()
    assert down.status == "maintenance"
    incident = Incident.objects.get(monitor=down)
    assert (incident.resolution, incident.is_open) == ("maintenance", False)
    assert flips(down)[-1] == ("down", "maintenance")
    assert Monitor.objects.get(pk=outside.pk).status == "down"
    assert Monitor.objects.get(pk=paused.pk).status == "paused"
    # Nothing more to move on the next run.
    assert enter_maintenance.apply().get() == 0
