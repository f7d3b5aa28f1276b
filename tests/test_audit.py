"""The audit log as an organization's admin reads it, GET /api/audit/: one event per thing a
person (or their key, or a config file) did, with who, from where (api, web, admin, file)
and the fields that changed, secrets never shown; nothing for what the checks write; the
admins' to read, one organization's at a time, filtered."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.actors import actor_for_user
from accounts.keys import create_key
from accounts.models import Membership, Organization, User
from accounts.organizations import create_organization
from audit.models import AuditEvent
from checks.outcomes.writer import write_spooled
from checks.tasks import run_check
from monitors.models import Monitor
from monitors.services import pause_monitor, update_monitor
from notifications.models import Channel
from tests.conftest import PASSWORD, make_user
from tests.factories import admin_monitor_form, make_monitor, monitor_form, personal, signed_in

pytestmark = pytest.mark.django_db

MONITOR = {"name": "Shop", "url": "https://shop.example/", "regions": ["india"], "interval_seconds": 60}
PASSWORD_OF_THE_SITE = "s3cret-basic-auth-pw"


def api(user: User, organization: Organization | None = None) -> APIClient:
    client = APIClient()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {RefreshToken.for_user(user).access_token}"}
    if organization is not None:
        headers["HTTP_X_ORGANIZATION"] = organization.slug
    client.credentials(**headers)
    return client


def key_api(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def log(reader: APIClient, **filters) -> list[dict]:
    """The organization's events as the reader is shown them, newest first (every page)."""
    response = reader.get("/api/audit/", filters)
    assert response.status_code == 200, response.content
    body = response.json()
    events = list(body["results"])
    while body["next"]:
        body = reader.get(body["next"]).json()
        events.extend(body["results"])
    return events


def new_events(reader: APIClient, seen: list[dict]) -> list[dict]:
    known = {event["id"] for event in seen}
    return [event for event in log(reader) if event["id"] not in known]


def one_new(reader: APIClient, seen: list[dict]) -> dict:
    """The one event recorded since `seen` (fails on none or several), and `seen` grown by it."""
    fresh = new_events(reader, seen)
    assert len(fresh) == 1, json.dumps(fresh, indent=1)
    seen.extend(fresh)
    return fresh[0]


def who(event: dict) -> tuple:
    return event["user_email"], event["key_name"], event["source"]


@pytest.fixture
def reader(alice) -> APIClient:
    """Alice, owner of her personal organization, reading its log."""
    return api(alice)


# --- the API ------------------------------------------------------------------------------------


def monitor_life_over_the_api(writer: APIClient, reader: APIClient) -> list[dict]:
    """Create, change (a field, then the password), pause, resume and delete a monitor;
    the event each step made."""
    seen = log(reader)
    steps = []
    created = writer.post("/api/monitors/", {**MONITOR, "auth_username": "shop"}, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    steps.append(one_new(reader, seen))
    changed = writer.patch(f"/api/monitors/{pk}/", {"name": "Shop front", "interval_seconds": 120}, format="json")
    assert changed.status_code == 200, changed.content
    steps.append(one_new(reader, seen))
    secret = writer.patch(f"/api/monitors/{pk}/", {"auth_password": PASSWORD_OF_THE_SITE}, format="json")
    assert secret.status_code == 200, secret.content
    steps.append(one_new(reader, seen))
    assert writer.patch(f"/api/monitors/{pk}/", {"is_active": False}, format="json").status_code == 200
    steps.append(one_new(reader, seen))
    assert writer.patch(f"/api/monitors/{pk}/", {"is_active": True}, format="json").status_code == 200
    steps.append(one_new(reader, seen))
    assert writer.delete(f"/api/monitors/{pk}/").status_code == 204
    steps.append(one_new(reader, seen))
    for step in steps:
        assert (step["object_type"], step["object_id"]) == ("monitor", pk), step
    return steps


def assert_the_monitor_s_life(steps: list[dict]) -> None:
    created, changed, secret, paused, resumed, deleted = steps
    assert (created["action"], created["object_name"]) == ("created", "Shop")
    assert changed["action"] == "changed" and changed["object_name"] == "Shop front"
    assert changed["changes"] == {"name": ["Shop", "Shop front"], "interval_seconds": [60, 120]}
    assert (secret["action"], secret["changes"]) == ("changed", {"auth_password": "(changed)"})
    assert (deleted["action"], deleted["object_name"]) == ("deleted", "Shop front")
    assert PASSWORD_OF_THE_SITE not in json.dumps(steps)
    # Pausing and resuming are named so, with is_active alone: what the checks keep (the
    # status and when it changed) is not a person's change.
    assert (paused["action"], paused["changes"]) == ("paused", {"is_active": [True, False]})
    assert (resumed["action"], resumed["changes"]) == ("resumed", {"is_active": [False, True]})


def test_a_monitor_s_life_over_the_api_is_one_event_per_step(alice, reader):
    steps = monitor_life_over_the_api(api(alice), reader)
    assert {who(step) for step in steps} == {("alice@example.com", "", "api")}
    assert_the_monitor_s_life(steps)


def test_with_an_api_key_the_events_name_the_key(alice, reader):
    _, token = create_key(actor_for_user(alice), "deploy bot", "editor")
    steps = monitor_life_over_the_api(key_api(token), reader)
    assert {who(step) for step in steps} == {("alice@example.com", "deploy bot", "api")}
    assert_the_monitor_s_life(steps)


def test_a_monitor_s_password_never_reaches_the_log(alice, reader):
    body = {**MONITOR, "auth_username": "shop", "auth_password": PASSWORD_OF_THE_SITE}
    created = api(alice).post("/api/monitors/", body, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    api(alice).put(f"/api/monitors/{pk}/", {**body, "name": "Renamed", "auth_password": "another-pw"}, format="json")
    events = log(reader)
    assert len(events) == 2
    text = json.dumps(events)
    assert PASSWORD_OF_THE_SITE not in text and "another-pw" not in text
    assert events[0]["changes"]["auth_password"] == "(changed)"
    assert events[0]["changes"]["name"] == ["Shop", "Renamed"]
    # Not as a row of the table either.
    stored = json.dumps(list(AuditEvent.objects.values("changes", "object_name")))
    assert PASSWORD_OF_THE_SITE not in stored and "another-pw" not in stored


def test_a_channel_s_url_change_is_shown_as_changed_not_as_the_url(alice, reader):
    made = api(alice).post(
        "/api/channels/", {"name": "ops", "kind": "webhook", "url": "https://hooks.example/t0ken-one"}, format="json"
    )
    assert made.status_code == 201, made.content
    pk = made.json()["id"]
    seen = log(reader)
    assert [(e["action"], e["object_type"], e["object_id"]) for e in seen] == [("created", "channel", pk)]
    patched = api(alice).patch(
        f"/api/channels/{pk}/", {"url": "https://hooks.example/t0ken-two", "name": "on call"}, format="json"
    )
    assert patched.status_code == 200, patched.content
    event = one_new(reader, seen)
    assert event["action"] == "changed"
    assert event["changes"] == {"url": "(changed)", "name": ["ops", "on call"]}
    assert "t0ken" not in json.dumps(log(reader))
    assert api(alice).delete(f"/api/channels/{pk}/").status_code == 204
    assert one_new(reader, seen)["action"] == "deleted"


# --- the web pages and the admin ------------------------------------------------------------------


def test_a_monitor_s_life_on_the_web_pages_is_logged_as_web(alice, reader):
    client = signed_in(alice)
    seen = log(reader)
    created = client.post("/monitors/new/", monitor_form(auth_username="shop", auth_password=PASSWORD_OF_THE_SITE))
    assert created.status_code == 302, created.content.decode()[:2000]
    monitor = Monitor.objects.get(organization=personal(alice))
    steps = [one_new(reader, seen)]
    edited = client.post(f"/monitors/{monitor.pk}/edit/", monitor_form(name="Shop front", auth_username="shop"))
    assert edited.status_code == 302, edited.content.decode()[:2000]
    steps.append(one_new(reader, seen))
    assert client.post(f"/monitors/{monitor.pk}/pause/").status_code == 302
    steps.append(one_new(reader, seen))
    assert client.post(f"/monitors/{monitor.pk}/resume/").status_code == 302
    steps.append(one_new(reader, seen))
    assert client.post(f"/monitors/{monitor.pk}/delete/").status_code == 302
    steps.append(one_new(reader, seen))

    assert {who(step) for step in steps} == {("alice@example.com", "", "web")}
    assert {step["object_id"] for step in steps} == {monitor.pk}
    assert PASSWORD_OF_THE_SITE not in json.dumps(steps)
    assert steps[1]["changes"] == {"name": ["Shop", "Shop front"]}
    assert [step["action"] for step in steps] == ["created", "changed", "paused", "resumed", "deleted"]
    assert [step["changes"] for step in steps[2:4]] == [{"is_active": [True, False]}, {"is_active": [False, True]}]


def test_a_channel_made_on_its_page_is_logged_as_web(alice, reader):
    client = signed_in(alice)
    seen = log(reader)
    made = client.post(
        "/channels/new/",
        {"name": "On call", "kind": "email", "email": "oncall@example.com", "reminder_minutes": "0"},
    )
    assert made.status_code == 302, made.content.decode()[:2000]
    event = one_new(reader, seen)
    assert (event["action"], event["object_type"]) == ("created", "channel")
    assert event["object_name"].startswith("On call")
    assert who(event) == ("alice@example.com", "", "web")


@pytest.fixture
def root(db) -> User:
    return User.objects.create_superuser(email="root@example.com", password=PASSWORD)


@pytest.fixture
def admin_session(root) -> Client:
    client = Client()
    assert client.login(email="root@example.com", password=PASSWORD)
    return client


def test_what_the_operator_does_in_the_admin_is_logged_as_admin(alice, reader, admin_session):
    organization = personal(alice)
    seen = log(reader)
    added = admin_session.post(reverse("admin:monitors_monitor_add"), admin_monitor_form(organization))
    assert added.status_code == 302, added.content.decode()[:3000]
    monitor = Monitor.objects.get(name="From admin")
    steps = [one_new(reader, seen)]
    change = reverse("admin:monitors_monitor_change", args=[monitor.pk])
    changed = admin_session.post(change, admin_monitor_form(organization, name="Renamed in admin", retries=3))
    assert changed.status_code == 302, changed.content.decode()[:3000]
    steps.append(one_new(reader, seen))
    changelist = reverse("admin:monitors_monitor_changelist")
    admin_session.post(changelist, {"action": "pause", "_selected_action": [monitor.pk]})
    steps.append(one_new(reader, seen))
    admin_session.post(changelist, {"action": "resume", "_selected_action": [monitor.pk]})
    steps.append(one_new(reader, seen))
    deleted = admin_session.post(reverse("admin:monitors_monitor_delete", args=[monitor.pk]), {"post": "yes"})
    assert deleted.status_code == 302
    steps.append(one_new(reader, seen))

    assert {who(step) for step in steps} == {("root@example.com", "", "admin")}
    assert not Monitor.objects.filter(pk=monitor.pk).exists()
    assert steps[1]["changes"] == {"name": ["From admin", "Renamed in admin"], "retries": [2, 3]}
    assert [step["action"] for step in steps] == ["created", "changed", "paused", "resumed", "deleted"]
    assert [step["changes"] for step in steps[2:4]] == [{"is_active": [True, False]}, {"is_active": [False, True]}]


# --- config files and bulk creation: one event for the whole ------------------------------------

CONFIG = """\
version: 1
channels:
  - name: Ops hook
    kind: webhook
    url: https://hooks.example/ops-t0ken
monitors:
  - name: Shop
    url: https://shop.example.com/
    regions: [india]
    auth_username: shop
    auth_password: {password}
  - name: API
    url: https://api.example.com/health
    regions: [india, usa]
  - name: Blog
    url: https://blog.example.com/
    regions: [usa]
"""


def apply_over_api(client: APIClient, body: str):
    return client.post("/api/config/apply", data=body, content_type="application/yaml")


def test_a_config_file_applied_over_the_api_is_one_applied_event(alice, reader):
    body = CONFIG.format(password=PASSWORD_OF_THE_SITE)
    applied = apply_over_api(api(alice), body)
    assert applied.status_code == 200, applied.content
    assert Monitor.objects.filter(organization=personal(alice)).count() == 3

    (event,) = log(reader)
    assert (event["action"], event["object_type"], event["object_id"]) == ("applied", "config file", None)
    assert who(event) == ("alice@example.com", "", "file")
    assert event["changes"]["create"]["count"] == 4
    assert "monitors: Shop" in event["changes"]["create"]["names"]
    assert "summary" in event["changes"] and "change" not in event["changes"]
    text = json.dumps(event)
    assert PASSWORD_OF_THE_SITE not in text and "ops-t0ken" not in text

    # The same file again changes nothing and records nothing.
    assert apply_over_api(api(alice), body).status_code == 200
    assert len(log(reader)) == 1

    # A change: one more event, with its count.
    seen = log(reader)
    assert apply_over_api(api(alice), body.replace("regions: [usa]", "regions: [india]")).status_code == 200
    event = one_new(reader, seen)
    assert event["action"] == "applied" and event["changes"]["change"]["count"] == 1
    assert "create" not in event["changes"]

    # With a key: named.
    _, token = create_key(actor_for_user(alice), "gitops", "editor")
    assert apply_over_api(key_api(token), body).status_code == 200
    assert who(one_new(reader, seen)) == ("alice@example.com", "gitops", "file")


def test_a_config_file_applied_with_manage_py_is_one_event_by_no_one(alice, reader, tmp_path):
    path = tmp_path / "uptime.yaml"
    path.write_text(CONFIG.format(password=PASSWORD_OF_THE_SITE))
    call_command("uptime", "apply", "--organization", personal(alice).slug, "-f", str(path), stdout=StringIO())
    assert Monitor.objects.filter(organization=personal(alice)).count() == 3

    (event,) = log(reader)
    assert (event["action"], event["object_type"], event["source"]) == ("applied", "config file", "file")
    assert (event["user_email"], event["key_name"]) == ("", "")
    assert event["changes"]["create"]["count"] == 4
    stored = AuditEvent.objects.get()
    assert stored.user is None and stored.key is None
    assert PASSWORD_OF_THE_SITE not in json.dumps(event)

    # `plan` writes nothing, so records nothing.
    call_command("uptime", "plan", "--organization", personal(alice).slug, "-f", str(path), stdout=StringIO())
    assert AuditEvent.objects.count() == 1


def test_fifty_monitors_created_in_bulk_are_one_event(alice, reader):
    items = [{"name": f"site {n}", "url": f"https://site{n}.example.com/", "regions": ["india"]} for n in range(50)]
    response = api(alice).post("/api/monitors/bulk/", {"monitors": items}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["created"] == 50

    (event,) = log(reader)
    assert (event["action"], event["object_type"]) == ("created", "monitors")
    assert event["changes"]["count"] == 50
    assert event["changes"]["names"][:2] == ["site 0", "site 1"]
    assert who(event) == ("alice@example.com", "", "api")


# --- what no one did is not recorded --------------------------------------------------------------


def test_the_checks_saving_monitors_record_nothing(alice, reader, target, slot):
    monitor = make_monitor(alice, target.url("/status/500"), retries=0)
    # The test's own setup is not a person's doing either.
    assert AuditEvent.objects.count() == 0

    # A worker's check and the outcome writer move the monitor's status.
    kwargs = {"monitor_id": monitor.pk, "region": "india", "scheduled_at": slot.isoformat()}
    assert run_check.apply(kwargs=kwargs).get() == "down"
    write_spooled()
    monitor.refresh_from_db()
    assert monitor.status == "down" and monitor.last_checked_at is not None
    # A save of the monitor, and the domain functions, with no request being served.
    monitor.name = "Renamed by a script"
    monitor.save()
    pause_monitor(monitor)
    update_monitor(monitor, is_active=True)
    Channel.objects.create(organization=personal(alice), name="quiet", kind="email", email="q@example.com")

    assert AuditEvent.objects.count() == 0
    assert log(reader) == []


def test_a_team_paused_with_its_last_member_records_nothing(alice, bob, reader):
    team = create_organization(alice, "Team")
    make_monitor(team, "https://team.example/")
    alice.is_active = False
    alice.save()
    assert not Monitor.objects.get(organization=team).is_active
    assert AuditEvent.objects.count() == 0


# --- who reads it ----------------------------------------------------------------------------------


def test_the_log_is_for_admins_and_owners_only(alice, bob):
    team = create_organization(alice, "Team")
    roles = {"viewer": make_user("v@example.com"), "editor": make_user("e@example.com")}
    roles["admin"] = bob
    for role, user in roles.items():
        Membership.objects.create(organization=team, user=user, role=role)
    make_monitor(team, "https://team.example/")
    api(alice, team).post("/api/monitors/", MONITOR, format="json")

    assert api(roles["viewer"], team).get("/api/audit/").status_code == 403
    assert api(roles["editor"], team).get("/api/audit/").status_code == 403
    assert len(log(api(bob, team))) == 1
    assert len(log(api(alice, team))) == 1
    # A key: with its role, never above its maker's.
    _, viewer_key = create_key(actor_for_user(bob, team.slug), "viewer key", "viewer")
    _, admin_key = create_key(actor_for_user(bob, team.slug), "admin key", "admin")
    assert key_api(viewer_key).get("/api/audit/").status_code == 403
    assert key_api(admin_key).get("/api/audit/").status_code == 200
    Membership.objects.filter(organization=team, user=bob).update(role="editor")
    assert key_api(admin_key).get("/api/audit/").status_code == 403
    # Not signed in: 401.
    assert APIClient().get("/api/audit/").status_code == 401


def test_each_organization_s_log_holds_its_own_events_only(alice, bob):
    team = create_organization(alice, "Team")
    Membership.objects.create(organization=team, user=bob, role="admin")
    api(alice).post("/api/monitors/", {**MONITOR, "name": "alice's own"}, format="json")
    api(alice, team).post("/api/monitors/", {**MONITOR, "name": "the team's"}, format="json")
    api(bob).post("/api/monitors/", {**MONITOR, "name": "bob's own"}, format="json")

    assert [e["object_name"] for e in log(api(alice))] == ["alice's own"]
    assert [e["object_name"] for e in log(api(alice, team))] == ["the team's"]
    assert [e["object_name"] for e in log(api(bob, team))] == ["the team's"]
    assert [e["object_name"] for e in log(api(bob))] == ["bob's own"]
    # An organization one is not in has no log to read.
    assert api(bob, personal(alice)).get("/api/audit/").status_code == 404
    # Filters never reach past the organization.
    theirs = Monitor.objects.get(name="bob's own")
    assert log(api(alice), object_id=theirs.pk) == []


def test_the_filters(alice, reader):
    client = api(alice)
    first = client.post("/api/monitors/", {**MONITOR, "name": "first"}, format="json").json()["id"]
    second = client.post("/api/monitors/", {**MONITOR, "name": "second"}, format="json").json()["id"]
    client.patch(f"/api/monitors/{first}/", {"name": "first renamed"}, format="json")
    channel = client.post(
        "/api/channels/", {"name": "ops", "kind": "email", "email": "ops@example.com"}, format="json"
    ).json()["id"]
    client.delete(f"/api/monitors/{second}/")

    everything = log(reader)
    assert [(e["action"], e["object_type"]) for e in everything] == [
        ("deleted", "monitor"),
        ("created", "channel"),
        ("changed", "monitor"),
        ("created", "monitor"),
        ("created", "monitor"),
    ]
    assert [e["object_id"] for e in log(reader, action="created")] == [channel, second, first]
    assert [e["action"] for e in log(reader, object_type="channel")] == ["created"]
    assert [e["action"] for e in log(reader, object_id=first)] == ["changed", "created"]
    assert [e["object_id"] for e in log(reader, action="created", object_type="monitor")] == [second, first]

    # since: from a moment on.
    AuditEvent.objects.filter(object_id=first, action="created").update(at=timezone.now() - timedelta(days=2))
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert len(log(reader, since=since)) == 4
    assert log(reader, since=(timezone.now() + timedelta(minutes=1)).isoformat()) == []

    # A bad filter is a 400 naming it, not an empty list.
    assert reader.get("/api/audit/", {"since": "yesterday"}).status_code == 400
    assert "object_id" in reader.get("/api/audit/", {"object_id": "x"}).json()


# --- members and invitations --------------------------------------------------------------------


def test_members_and_invitations_are_logged_from_the_api_and_the_members_page(
    alice, bob, django_capture_on_commit_callbacks
):
    team = create_organization(alice, "Team")
    owner = api(alice, team)
    with django_capture_on_commit_callbacks(execute=True):
        invited = owner.post(
            f"/api/organizations/{team.slug}/invitations/", {"email": "bob@example.com", "role": "viewer"}
        )
    assert invited.status_code == 201
    from django.core import mail

    token = mail.outbox[-1].body.split("/invitations/")[1].split("/")[0]
    assert api(bob).post("/api/invitations/accept/", {"token": token}, format="json").status_code == 201
    membership = Membership.objects.get(organization=team, user=bob)
    members = f"/api/organizations/{team.slug}/members/{membership.pk}/"
    assert owner.patch(members, {"role": "editor"}, format="json").status_code == 200
    assert owner.delete(members).status_code == 204

    page = signed_in(alice)
    page.post("/organizations/switch/", {"organization": team.pk})
    with django_capture_on_commit_callbacks(execute=True):
        page.post("/members/", {"action": "invite", "email": "carol@example.com", "role": "editor"})
    invitation = team.invitations.get(email="carol@example.com")
    page.post("/members/", {"action": "revoke", "id": invitation.pk})

    events = list(reversed(log(owner)))
    assert [(e["action"], e["object_type"], e["object_name"], e["source"]) for e in events] == [
        ("invited", "member", "bob@example.com", "api"),
        ("joined", "member", "bob@example.com", "api"),
        ("role changed", "member", "bob@example.com", "api"),
        ("removed", "member", "bob@example.com", "api"),
        ("invited", "member", "carol@example.com", "web"),
        ("revoked", "invitation", "carol@example.com", "web"),
    ]
    assert events[0]["changes"] == {"role": "viewer"}
    assert events[1]["user_email"] == "bob@example.com"
    assert events[2]["changes"] == {"role": ["viewer", "editor"]}
    assert {e["user_email"] for e in events if e["action"] != "joined"} == {"alice@example.com"}
    assert token not in json.dumps(events)
