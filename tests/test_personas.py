"""Personas on every route of the API: one organization with an owner, an admin, an editor
and a viewer, and an outsider who is not in it, each trying every method of every route.

ROWS says, per route and method, the lowest role that may do it. A member with that role or
above gets a 2xx; a member below it gets 403 and nothing changes; the outsider gets 404
whether they name the organization (header or path) or ask from their own organization for
one of its objects by id. API keys act with their own role, never above their maker's.
A route of the API that ROWS does not name, and EXEMPT does not excuse, fails
test_every_api_route_and_method_has_a_row: no endpoint is added without persona coverage.

Each test builds its own team (the database is rolled back after each), so a DELETE row
deletes an object of its own.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from string import Formatter
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.actors import actor_for_user
from accounts.keys import create_key
from accounts.models import ApiKey, Invitation, Membership, Organization, Role, User
from accounts.organizations import create_organization, invite
from accounts.tokens import RefreshToken
from checks.models import Incident
from monitors.maintenance import create_window
from monitors.models import MaintenanceWindow, Monitor
from notifications.messages import CHANNEL_TEST, channel_test_payload
from notifications.models import Channel, Delivery
from statuspages.models import PageIncident, StatusPage, Subscriber
from statuspages.services import open_incident, save_page, subscribe
from tests.conftest import make_user
from tests.factories import make_monitor, personal

pytestmark = pytest.mark.django_db

VIEWER, EDITOR, ADMIN, OWNER = Role.VIEWER, Role.EDITOR, Role.ADMIN, Role.OWNER
ROLES = (OWNER, ADMIN, EDITOR, VIEWER)
RANK = {role: n for n, role in enumerate(reversed(ROLES))}

NEW_MONITOR = {"name": "Checkout", "url": "https://example.com/checkout", "regions": ["india"]}
CONFIG_FILE = """\
version: 1
monitors:
  - name: Shop
    url: https://shop.example.com/
    regions: [india]
"""


def window_body(team: "Team", **fields) -> dict:
    starts = timezone.now() + timedelta(days=2)
    return {
        "name": "Release",
        "monitors": [team.ids["monitor"]],
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=1)).isoformat(),
        **fields,
    }


@dataclass(frozen=True)
class Row:
    """One method of one route: its URL (placeholders filled from the team), a valid body for
    a write, and the lowest role that may do it."""

    name: str  # the route's URL name
    method: str
    path: str
    role: str
    body: dict | str | Callable[["Team"], dict] | None = None
    queues_checks: bool = False  # puts messages on the broker's queues

    @property
    def id(self) -> str:
        return f"{self.method}-{self.path}"

    @property
    def names_objects(self) -> bool:
        """The URL holds an id of one of the organization's objects."""
        return any(field not in (None, "org") for _, field, _, _ in Formatter().parse(self.path))

    def body_for(self, team: "Team") -> Any:
        return self.body(team) if callable(self.body) else self.body


ROWS = [
    Row("api-root", "GET", "/api/", VIEWER),
    Row("region-list", "GET", "/api/regions/", VIEWER),
    # Monitors and what hangs off one.
    Row("monitor-list", "GET", "/api/monitors/", VIEWER),
    Row("monitor-list", "POST", "/api/monitors/", EDITOR, NEW_MONITOR),
    Row("monitor-bulk", "POST", "/api/monitors/bulk/", EDITOR, {"monitors": [NEW_MONITOR]}),
    Row("monitor-detail", "GET", "/api/monitors/{monitor}/", VIEWER),
    Row("monitor-detail", "PUT", "/api/monitors/{monitor}/", EDITOR, {**NEW_MONITOR, "name": "Renamed"}),
    Row("monitor-detail", "PATCH", "/api/monitors/{monitor}/", EDITOR, {"name": "Renamed"}),
    Row("monitor-detail", "DELETE", "/api/monitors/{monitor}/", EDITOR),
    Row("monitor-check", "POST", "/api/monitors/{monitor}/check/", EDITOR, queues_checks=True),
    Row("monitor-rotate-badge-key", "POST", "/api/monitors/{monitor}/rotate-badge-key/", EDITOR),
    Row("monitor-ticks", "GET", "/api/monitors/{monitor}/ticks/", VIEWER),
    Row("monitor-uptime", "GET", "/api/monitors/{monitor}/uptime/", VIEWER),
    Row("monitor-incidents", "GET", "/api/monitors/{monitor}/incidents/", VIEWER),
    Row("monitor-gaps", "GET", "/api/monitors/{monitor}/gaps/", VIEWER),
    Row("monitor-status-changes", "GET", "/api/monitors/{monitor}/status-changes/", VIEWER),
    Row("incident-list", "GET", "/api/incidents/", VIEWER),
    Row("incident-detail", "GET", "/api/incidents/{incident}/", VIEWER),
    # Maintenance windows.
    Row("maintenance-window-list", "GET", "/api/maintenance-windows/", VIEWER),
    Row("maintenance-window-list", "POST", "/api/maintenance-windows/", EDITOR, window_body),
    Row("maintenance-window-detail", "GET", "/api/maintenance-windows/{window}/", VIEWER),
    Row(
        "maintenance-window-detail",
        "PUT",
        "/api/maintenance-windows/{window}/",
        EDITOR,
        lambda team: window_body(team, name="Moved"),
    ),
    Row("maintenance-window-detail", "PATCH", "/api/maintenance-windows/{window}/", EDITOR, {"name": "Renamed"}),
    Row("maintenance-window-detail", "DELETE", "/api/maintenance-windows/{window}/", EDITOR),
    # Alert channels and their deliveries.
    Row("channel-list", "GET", "/api/channels/", VIEWER),
    Row(
        "channel-list",
        "POST",
        "/api/channels/",
        EDITOR,
        {"name": "On call", "kind": "webhook", "url": "https://example.com/on-call"},
    ),
    Row("channel-dead-deliveries", "GET", "/api/channels/dead-deliveries/", VIEWER),
    Row("channel-detail", "GET", "/api/channels/{channel}/", VIEWER),
    Row(
        "channel-detail",
        "PUT",
        "/api/channels/{channel}/",
        EDITOR,
        {"name": "Renamed", "kind": "webhook", "url": "https://example.com/renamed"},
    ),
    Row("channel-detail", "PATCH", "/api/channels/{channel}/", EDITOR, {"name": "Renamed"}),
    Row("channel-detail", "DELETE", "/api/channels/{channel}/", EDITOR),
    Row("channel-deliveries", "GET", "/api/channels/{channel}/deliveries/", VIEWER),
    Row("channel-replay", "POST", "/api/channels/{channel}/deliveries/{dead_delivery}/replay/", EDITOR),
    Row("channel-replay-dead", "POST", "/api/channels/{channel}/replay-dead/", EDITOR),
    Row("channel-rotate-secret", "POST", "/api/channels/{channel}/rotate-secret/", EDITOR),
    Row("channel-test", "POST", "/api/channels/{channel}/test/", EDITOR),
    # Status pages, their incidents and subscribers.
    Row("status-page-list", "GET", "/api/status-pages/", VIEWER),
    Row("status-page-list", "POST", "/api/status-pages/", EDITOR, {"slug": "acme-two", "title": "Acme two"}),
    Row("status-page-detail", "GET", "/api/status-pages/{page}/", VIEWER),
    Row("status-page-detail", "PUT", "/api/status-pages/{page}/", EDITOR, {"slug": "acme", "title": "Renamed"}),
    Row("status-page-detail", "PATCH", "/api/status-pages/{page}/", EDITOR, {"title": "Renamed"}),
    Row("status-page-detail", "DELETE", "/api/status-pages/{page}/", EDITOR),
    Row("status-page-incident-list", "GET", "/api/status-pages/{page}/incidents/", VIEWER),
    Row(
        "status-page-incident-list",
        "POST",
        "/api/status-pages/{page}/incidents/",
        EDITOR,
        {"title": "Slow search", "status": "investigating", "message": "Looking into it."},
    ),
    Row("status-page-incident-detail", "GET", "/api/status-pages/{page}/incidents/{page_incident}/", VIEWER),
    Row(
        "status-page-incident-detail",
        "PATCH",
        "/api/status-pages/{page}/incidents/{page_incident}/",
        EDITOR,
        {"title": "Renamed"},
    ),
    Row("status-page-incident-detail", "DELETE", "/api/status-pages/{page}/incidents/{page_incident}/", EDITOR),
    Row(
        "status-page-incident-updates",
        "POST",
        "/api/status-pages/{page}/incidents/{page_incident}/updates/",
        EDITOR,
        {"status": "identified", "message": "Found it."},
    ),
    Row("status-page-subscriber-list", "GET", "/api/status-pages/{page}/subscribers/", VIEWER),
    Row("status-page-subscriber-detail", "GET", "/api/status-pages/{page}/subscribers/{subscriber}/", VIEWER),
    Row("status-page-subscriber-detail", "DELETE", "/api/status-pages/{page}/subscribers/{subscriber}/", EDITOR),
    # API keys: any member makes, sees and revokes their own (admins everyone's: below).
    Row("api-key-list", "GET", "/api/keys/", VIEWER),
    Row("api-key-list", "POST", "/api/keys/", VIEWER, {"name": "mine", "role": "viewer"}),
    Row("api-key-detail", "GET", "/api/keys/{own_key}/", VIEWER),
    Row("api-key-detail", "DELETE", "/api/keys/{own_key}/", VIEWER),
    # The organization, named in the path.
    Row("organization-detail", "GET", "/api/organizations/{org}/", VIEWER),
    Row("organization-detail", "PATCH", "/api/organizations/{org}/", ADMIN, {"name": "Acme Inc"}),
    Row("member-list", "GET", "/api/organizations/{org}/members/", VIEWER),
    Row("member-detail", "GET", "/api/organizations/{org}/members/{member}/", VIEWER),
    Row("member-detail", "PATCH", "/api/organizations/{org}/members/{member}/", ADMIN, {"role": "editor"}),
    Row("member-detail", "DELETE", "/api/organizations/{org}/members/{member}/", ADMIN),
    # Leaving: one's own membership, whatever one's role (the team has a second owner).
    Row("member-detail", "DELETE", "/api/organizations/{org}/members/{own_membership}/", VIEWER),
    Row("invitation-list", "GET", "/api/organizations/{org}/invitations/", ADMIN),
    Row(
        "invitation-list",
        "POST",
        "/api/organizations/{org}/invitations/",
        ADMIN,
        {"email": "newcomer@example.com", "role": "viewer"},
    ),
    Row("invitation-detail", "GET", "/api/organizations/{org}/invitations/{invitation}/", ADMIN),
    Row("invitation-detail", "DELETE", "/api/organizations/{org}/invitations/{invitation}/", ADMIN),
    Row("audit-events", "GET", "/api/audit/", ADMIN),
    # The config file (a plan writes nothing: a viewer may ask for one).
    Row("config-plan", "POST", "/api/config/plan", VIEWER, CONFIG_FILE),
    Row("config-apply", "POST", "/api/config/apply", EDITOR, CONFIG_FILE),
    Row("config-export", "GET", "/api/config/export", VIEWER),
]

# Routes under /api/ that act in no organization, so have no persona to test.
EXEMPT = {
    "register": "signing up: no account yet, no organization",
    "token": "signing in: no account acting yet",
    "token-refresh": "a refresh token of one's own, no organization",
    "logout": "one's own refresh token, no organization",
    "me": "one's own account, no organization",
    "password-change": "one's own password, no organization",
    "health": "open to all, for load balancers: no account",
    "schema": "the OpenAPI document: holds no data",
    "api-docs": "the OpenAPI document's page: holds no data",
    "config-schema": "the config file's JSON Schema: holds no data",
    "organization-list": "one's own organizations, and making a new one: before any organization",
    "invitation-accept": "joining: the invited person is not a member yet",
}

MEMBERS = ROLES  # each member persona has the role of their name


@dataclass
class Team:
    organization: Organization
    people: dict[str, User]  # owner, admin, editor, viewer, outsider
    ids: dict[str, int]  # the organization's objects, by the name the rows' paths use
    keys: dict[str, int]  # each member's own API key
    memberships: dict[str, int]  # each member's own membership

    @property
    def slug(self) -> str:
        return self.organization.slug

    def path(self, row: Row, persona: str, organization: str | None = None) -> str:
        """The row's URL for `persona`: their own key and membership (the outsider has none
        here, so gets the team's), in `organization` (default: the team's)."""
        return row.path.format(
            org=organization or self.slug,
            own_key=self.keys.get(persona, self.keys[OWNER]),
            own_membership=self.memberships.get(persona, self.ids["member"]),
            **self.ids,
        )

    def state(self) -> tuple:
        """What a refused request must leave as it was."""
        organization = self.organization
        organization.refresh_from_db()
        return (
            organization.name,
            list(Monitor.objects.filter(organization=organization).values_list("id", "name", "badge_key", "url")),
            list(Channel.objects.filter(organization=organization).values_list("id", "name", "secret", "url")),
            list(MaintenanceWindow.objects.filter(organization=organization).values_list("id", "name", "starts_at")),
            list(StatusPage.objects.filter(organization=organization).values_list("id", "slug", "title")),
            list(PageIncident.objects.filter(page__organization=organization).values_list("id", "title", "status")),
            list(Subscriber.objects.filter(page__organization=organization).values_list("id")),
            list(Membership.objects.filter(organization=organization).values_list("id", "user_id", "role")),
            list(Invitation.objects.filter(organization=organization).values_list("id", "revoked_at")),
            list(ApiKey.objects.filter(organization=organization).values_list("id", "revoked_at")),
            list(Delivery.objects.filter(channel__organization=organization).values_list("id", "replayed_at")),
        )


@pytest.fixture
def team(db) -> Team:
    people = {persona: make_user(f"{persona}@example.com") for persona in (*ROLES, "outsider")}
    organization = create_organization(people[OWNER], "Acme")
    memberships = {OWNER: Membership.objects.get(organization=organization, user=people[OWNER]).pk}
    for role in (ADMIN, EDITOR, VIEWER):
        memberships[role] = Membership.objects.create(organization=organization, user=people[role], role=role).pk
    # Not personas: a member for the admins to change and remove, and a second owner, so
    # that the owner may leave (the last one may not).
    member = Membership.objects.create(organization=organization, user=make_user("member@example.com"), role=VIEWER)
    Membership.objects.create(organization=organization, user=make_user("co-owner@example.com"), role=OWNER)

    now = timezone.now()
    monitor = make_monitor(organization, "https://example.com/", name="Shop")
    channel = Channel.objects.create(
        organization=organization, name="Ops", kind="webhook", url="https://example.com/hook"
    )
    window = create_window(
        organization,
        [monitor],
        name="Deploy",
        starts_at=now + timedelta(days=1),
        ends_at=now + timedelta(days=1, hours=1),
    )
    page = save_page(
        organization, None, {"slug": "acme", "title": "Acme"}, [{"name": "", "components": [{"monitor": monitor}]}]
    )
    page_incident = open_incident(page, "Slow checkout", PageIncident.Status.INVESTIGATING, "Looking into it.")
    subscriber = subscribe(page, Subscriber.Kind.WEBHOOK, "https://example.com/subscriber")
    incident = Incident.objects.create(
        monitor=monitor, started_at=now - timedelta(minutes=5), regions=["india"], first_error="unexpected status 500"
    )
    dead = Delivery.objects.create(
        channel=channel,
        event=CHANNEL_TEST,
        payload=channel_test_payload(channel.name),
        status=Delivery.Status.DEAD,
        attempts=5,
        next_attempt_at=now,
        finished_at=now,
        last_error="connection refused",
    )
    invitation, _token = invite(actor_for_user(people[OWNER], organization.slug), "guest@example.com", VIEWER)
    keys = {}
    for role in ROLES:
        actor = actor_for_user(people[role], organization.slug)
        keys[role] = create_key(actor, f"{role}'s key", role)[0].pk
    return Team(
        organization=organization,
        people=people,
        ids={
            "monitor": monitor.pk,
            "channel": channel.pk,
            "window": window.pk,
            "page": page.pk,
            "page_incident": page_incident.pk,
            "subscriber": subscriber.pk,
            "incident": incident.pk,
            "dead_delivery": dead.pk,
            "invitation": invitation.pk,
            "member": member.pk,
        },
        keys=keys,
        memberships=memberships,
    )


def person(user: User, organization: str | None = None) -> APIClient:
    """A client signed in as `user` with a real JWT, acting in `organization` (a slug; None:
    their personal one)."""
    client = APIClient()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {RefreshToken.for_user(user).access_token}"}
    if organization:
        headers["HTTP_X_ORGANIZATION"] = organization
    client.credentials(**headers)
    return client


def key_client(token: str, organization: str | None = None) -> APIClient:
    client = APIClient()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if organization:
        headers["HTTP_X_ORGANIZATION"] = organization
    client.credentials(**headers)
    return client


def send(client: APIClient, row: Row, path: str, team: Team):
    call = getattr(client, row.method.lower())
    body = row.body_for(team)
    if isinstance(body, str):
        return call(path, data=body, content_type="application/yaml")
    if body is None:
        return call(path)
    return call(path, body, format="json")


def shown(response) -> str:
    try:
        return repr(response.json())
    except ValueError:
        return response.content[:300].decode(errors="replace")


def assert_refused(response, status: int, team: Team, before: tuple) -> None:
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {shown(response)}"
    assert team.state() == before, "a refused request changed something"


@pytest.fixture
def queues(request, team):
    """Empties the broker's queues around a row that puts checks on them."""

    def use(row: Row) -> None:
        if row.queues_checks:
            request.getfixturevalue("broker")

    return use


@pytest.mark.parametrize(
    "persona, row",
    [(persona, row) for row in ROWS for persona in MEMBERS],
    ids=[f"{persona}-{row.id}" for row in ROWS for persona in MEMBERS],
)
def test_a_member_may_do_what_their_role_allows_and_gets_403_below_it(team, queues, persona, row):
    queues(row)
    client = person(team.people[persona], team.slug)
    path = team.path(row, persona)
    if RANK[persona] >= RANK[row.role]:
        response = send(client, row, path, team)
        assert 200 <= response.status_code < 300, f"{response.status_code}: {shown(response)}"
    else:
        before = team.state()
        response = send(client, row, path, team)
        assert_refused(response, 403, team, before)
        assert row.role in response.json()["detail"]


@pytest.mark.parametrize("row", ROWS, ids=[f"outsider-{row.id}" for row in ROWS])
def test_an_outsider_naming_the_organization_gets_404(team, queues, row):
    queues(row)
    before = team.state()
    response = send(person(team.people["outsider"], team.slug), row, team.path(row, "outsider"), team)
    assert_refused(response, 404, team, before)


OBJECT_ROWS = [row for row in ROWS if row.names_objects]


@pytest.mark.parametrize("row", OBJECT_ROWS, ids=[f"outsider-own-org-{row.id}" for row in OBJECT_ROWS])
def test_an_outsider_asking_from_their_own_organization_for_its_objects_gets_404(team, queues, row):
    queues(row)
    outsider = team.people["outsider"]
    own = personal(outsider).slug
    before = team.state()
    response = send(person(outsider), row, team.path(row, "outsider", organization=own), team)
    assert_refused(response, 404, team, before)


def test_an_outsiders_own_lists_show_none_of_the_organizations_objects(team):
    client = person(team.people["outsider"])
    lists = {
        "/api/monitors/": team.ids["monitor"],
        "/api/incidents/": team.ids["incident"],
        "/api/maintenance-windows/": team.ids["window"],
        "/api/channels/": team.ids["channel"],
        "/api/channels/dead-deliveries/": team.ids["dead_delivery"],
        "/api/status-pages/": team.ids["page"],
        "/api/keys/": team.keys[OWNER],
    }
    for path, team_object in lists.items():
        response = client.get(path)
        assert response.status_code == 200, path
        assert team_object not in [item["id"] for item in response.json()["results"]], path
    # Each list does show the team's object to a member: the check above can fail.
    member = person(team.people[OWNER], team.slug)
    for path, team_object in lists.items():
        assert team_object in [item["id"] for item in member.get(path).json()["results"]], path


@pytest.mark.parametrize("persona", MEMBERS)
def test_admins_see_and_revoke_everyones_keys_others_only_their_own(team, persona):
    """Another member's key does not exist for an editor or a viewer (404, as in the
    personal organization), rather than being refused."""
    client = person(team.people[persona], team.slug)
    others = team.keys[EDITOR if persona != EDITOR else VIEWER]
    listed = {key["id"] for key in client.get("/api/keys/").json()["results"]}
    if RANK[persona] >= RANK[ADMIN]:
        assert listed == set(team.keys.values())
        assert client.get(f"/api/keys/{others}/").status_code == 200
        assert client.delete(f"/api/keys/{others}/").status_code == 204
        assert ApiKey.objects.get(pk=others).revoked_at is not None
    else:
        assert listed == {team.keys[persona]}
        assert client.get(f"/api/keys/{others}/").status_code == 404
        assert client.delete(f"/api/keys/{others}/").status_code == 404
        assert ApiKey.objects.get(pk=others).revoked_at is None


# --- API keys --------------------------------------------------------------------------

KEY_ROUTES = {
    ("monitor-list", "GET"),
    ("monitor-list", "POST"),
    ("monitor-detail", "GET"),
    ("monitor-detail", "DELETE"),
    ("channel-list", "POST"),
    ("config-apply", "POST"),
    ("api-key-list", "GET"),
    ("api-key-list", "POST"),
    ("api-key-detail", "GET"),
    ("api-key-detail", "DELETE"),
    ("organization-detail", "PATCH"),
    ("invitation-list", "GET"),
    ("audit-events", "GET"),
}
KEY_ROWS = [row for row in ROWS if (row.name, row.method) in KEY_ROUTES]


def role_for_key(row: Row) -> str:
    # A key lists, makes and revokes keys only as an admin or owner.
    return ADMIN if row.name.startswith("api-key-") else row.role


def owners_key(team: Team, role: str) -> str:
    _key, token = create_key(actor_for_user(team.people[OWNER], team.slug), f"ci {role}", role)
    return token


@pytest.mark.parametrize(
    "key_role, row",
    [(role, row) for row in KEY_ROWS for role in ROLES],
    ids=[f"{role}-key-{row.id}" for row in KEY_ROWS for role in ROLES],
)
def test_an_owners_key_acts_with_its_own_role(team, key_role, row):
    # The key names no organization: it acts in its own. "own_key" is the owner's other key.
    client = key_client(owners_key(team, key_role))
    path = team.path(row, OWNER)
    if RANK[key_role] >= RANK[role_for_key(row)]:
        response = send(client, row, path, team)
        assert 200 <= response.status_code < 300, f"{response.status_code}: {shown(response)}"
    else:
        before = team.state()
        assert_refused(send(client, row, path, team), 403, team, before)


def test_an_admin_key_of_a_member_now_viewer_acts_as_a_viewer(team):
    admin = team.people[ADMIN]
    _key, token = create_key(actor_for_user(admin, team.slug), "ci", ADMIN)
    Membership.objects.filter(organization=team.organization, user=admin).update(role=VIEWER)
    client = key_client(token)
    monitor = team.ids["monitor"]
    assert client.get("/api/monitors/").status_code == 200
    assert client.get(f"/api/monitors/{monitor}/").status_code == 200
    before = team.state()
    assert_refused(client.post("/api/monitors/", NEW_MONITOR, format="json"), 403, team, before)
    assert_refused(client.delete(f"/api/monitors/{monitor}/"), 403, team, before)
    assert_refused(client.patch(f"/api/organizations/{team.slug}/", {"name": "Mine"}), 403, team, before)
    assert_refused(client.get("/api/keys/"), 403, team, before)
    assert_refused(client.post("/api/keys/", {"name": "more", "role": "viewer"}), 403, team, before)


@pytest.mark.parametrize("other", ["owners-personal", "outsiders-personal", "no-such-organization"])
def test_a_key_sent_to_another_organization_is_403(team, other):
    slug = {
        "owners-personal": personal(team.people[OWNER]).slug,
        "outsiders-personal": personal(team.people["outsider"]).slug,
        "no-such-organization": "no-such-organization",
    }[other]
    client = key_client(owners_key(team, OWNER), slug)
    before = team.state()
    assert_refused(client.get("/api/monitors/"), 403, team, before)
    assert_refused(client.post("/api/monitors/", NEW_MONITOR, format="json"), 403, team, before)
    assert_refused(client.get(f"/api/monitors/{team.ids['monitor']}/"), 403, team, before)
    assert_refused(client.get(f"/api/organizations/{slug}/members/"), 403, team, before)
    assert key_client(owners_key(team, OWNER), team.slug).get("/api/monitors/").status_code == 200


def test_a_key_whose_maker_is_no_longer_a_member_is_401(team):
    editor = team.people[EDITOR]
    _key, token = create_key(actor_for_user(editor, team.slug), "ci", EDITOR)
    client = key_client(token)
    assert client.get("/api/monitors/").status_code == 200
    Membership.objects.filter(organization=team.organization, user=editor).delete()
    before = team.state()
    refused = client.get("/api/monitors/")
    assert refused.status_code == 401 and refused["WWW-Authenticate"].startswith("Bearer")
    assert_refused(client.post("/api/monitors/", NEW_MONITOR, format="json"), 401, team, before)
    assert_refused(client.delete(f"/api/monitors/{team.ids['monitor']}/"), 401, team, before)


def test_a_key_whose_maker_left_through_the_api_is_401(team):
    viewer = team.people[VIEWER]
    _key, token = create_key(actor_for_user(viewer, team.slug), "ci", VIEWER)
    left = person(viewer).delete(f"/api/organizations/{team.slug}/members/{team.memberships[VIEWER]}/")
    assert left.status_code == 204
    assert key_client(token).get("/api/monitors/").status_code == 401


# --- Coverage --------------------------------------------------------------------------

HANDLERS = ("get", "post", "put", "patch", "delete")


def api_routes() -> dict[str, set[str]]:
    """Every named route under /api/ with the methods it answers (HEAD and OPTIONS aside)."""
    routes: dict[str, set[str]] = {}

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
                continue
            assert isinstance(pattern, URLPattern)
            if not route.lstrip("^").startswith("api/"):
                continue
            view = pattern.callback
            cls = getattr(view, "cls", None) or getattr(view, "view_class", None)
            if cls is None:  # a function: which methods it answers is its own affair
                methods = {method.upper() for method in HANDLERS}
            else:
                allowed = set(getattr(cls, "http_method_names", HANDLERS))
                actions = getattr(view, "actions", None)
                handlers = actions.keys() if actions else [m for m in HANDLERS if hasattr(cls, m)]
                methods = {method.upper() for method in handlers if method in allowed and method in HANDLERS}
            routes.setdefault(pattern.name or route, set()).update(methods)

    walk(get_resolver().url_patterns, "")
    return routes


def test_every_api_route_and_method_has_a_row():
    covered = {(row.name, row.method) for row in ROWS}
    routes = api_routes()
    missing = sorted((name, method) for name, methods in routes.items() if name not in EXEMPT for method in methods)
    missing = [pair for pair in missing if pair not in covered]
    assert not missing, f"API routes without persona rows (add them to ROWS, or to EXEMPT with a reason): {missing}"
    stale = sorted(pair for pair in covered if pair[1] not in routes.get(pair[0], set()))
    assert not stale, f"rows for routes or methods that do not exist: {stale}"
    assert not set(EXEMPT) - set(routes), f"exemptions for routes that do not exist: {set(EXEMPT) - set(routes)}"
    assert not set(EXEMPT) & {row.name for row in ROWS}, "a route is both exempt and in ROWS"


def test_each_rows_path_reaches_the_route_it_names():
    for row in ROWS:
        names = {field for _, field, _, _ in Formatter().parse(row.path) if field}
        path = row.path.format(**{name: "acme" if name == "org" else 7 for name in names})
        assert resolve(path).url_name == row.name, row.path
