"""Organizations through the public API (real JWTs) and the domain functions: making one,
inviting by email and joining from the link in the email (once, by its addressee, until it
is revoked, replaced or expired), roles changed within the rules, members removed with
their keys, working in one of several organizations (X-Organization), the monitor quota
per organization, everyone owning exactly one organization from the start, and a team's
monitors following its people. Then the same from the web pages (Django's test client)."""

import json
import re
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import organizations
from accounts.actors import actor_for_user
from accounts.keys import create_key
from accounts.models import ApiKey, Invitation, Membership, Organization, Role, User
from accounts.organizations import OPEN_INVITATIONS_LIMIT, create_organization
from monitors.models import Monitor
from tests.conftest import PASSWORD, make_user
from tests.factories import make_monitor, monitor_form, personal, signed_in

pytestmark = pytest.mark.django_db

MONITOR = {"name": "Shop", "url": "https://shop.example/", "regions": ["india"], "interval_seconds": 60}
LINK = re.compile(r"(?P<public>\S+)/invitations/(?P<token>[A-Za-z0-9_-]+)/")


# --- helpers ---------------------------------------------------------------------------------


def api(user: User, organization: Organization | str | None = None) -> APIClient:
    """A client with `user`'s access token, working in `organization` (X-Organization)."""
    client = APIClient()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {RefreshToken.for_user(user).access_token}"}
    if organization is not None:
        headers["HTTP_X_ORGANIZATION"] = organization if isinstance(organization, str) else organization.slug
    client.credentials(**headers)
    return client


def key_api(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def team_of(owner: User, name: str = "Team", **members: str) -> Organization:
    """An organization `owner` owns, with `members` ({"bob": "editor"}: bob@example.com) in it."""
    team = create_organization(owner, name)
    for local, role in members.items():
        user = User.objects.filter(email=f"{local}@example.com").first() or make_user(f"{local}@example.com")
        Membership.objects.create(organization=team, user=user, role=role)
    return team


def member(team: Organization, user: User) -> Membership:
    return Membership.objects.get(organization=team, user=user)


def invite(client: APIClient, slug: str, email: str, role: str, capture) -> tuple[dict, str]:
    """POST an invitation (its email is sent once the transaction commits); the answer and
    the token from the link in the email."""
    from django.core import mail

    sent = len(mail.outbox)
    with capture(execute=True):
        response = client.post(f"/api/organizations/{slug}/invitations/", {"email": email, "role": role})
    assert response.status_code == 201, response.content
    assert len(mail.outbox) == sent + 1
    email_sent = mail.outbox[-1]
    assert email_sent.to == [email.lower()]
    match = LINK.search(email_sent.body)
    assert match, email_sent.body
    return response.json(), match["token"]


def accept(client: APIClient, token: str):
    return client.post("/api/invitations/accept/", {"token": token}, format="json")


def monitor_names(client: APIClient) -> list[str]:
    response = client.get("/api/monitors/")
    assert response.status_code == 200, response.content
    return sorted(m["name"] for m in response.json()["results"])


def scheduled(monitor: Monitor) -> bool:
    return PeriodicTask.objects.filter(name__startswith=f"check monitor {monitor.pk} ", enabled=True).exists()


@pytest.fixture
def carol(db) -> User:
    return make_user("carol@example.com")


# --- making an organization ---------------------------------------------------------------------


def test_a_new_organization_has_its_maker_as_owner_and_is_not_seen_by_others(alice, bob):
    made = api(alice).post("/api/organizations/", {"name": "Acme Ops"}, format="json")
    assert made.status_code == 201, made.content
    assert (made.json()["name"], made.json()["slug"], made.json()["role"]) == ("Acme Ops", "acme-ops", "owner")
    acme = Organization.objects.get(slug="acme-ops")
    assert list(acme.memberships.values_list("user__email", "role")) == [("alice@example.com", "owner")]

    listed = api(alice).get("/api/organizations/").json()
    assert sorted((o["slug"], o["role"]) for o in listed) == [("acme-ops", "owner"), (personal(alice).slug, "owner")]
    assert api(alice).get("/api/organizations/acme-ops/").status_code == 200
    assert api(alice).patch("/api/organizations/acme-ops/", {"name": "Acme"}, format="json").json()["name"] == "Acme"

    # Bob is not in it: it does not exist for him.
    assert api(bob).get("/api/organizations/acme-ops/").status_code == 404
    assert api(bob).get("/api/organizations/acme-ops/members/").status_code == 404
    assert [o["slug"] for o in api(bob).get("/api/organizations/").json()] == [personal(bob).slug]
    assert api(bob, "acme-ops").get("/api/monitors/").status_code == 404

    # A second one of the same name gets its own address.
    again = api(bob).post("/api/organizations/", {"name": "Acme Ops"}, format="json")
    assert again.status_code == 201 and again.json()["slug"] == "acme-ops-2"
    assert api(bob).post("/api/organizations/", {"name": "  "}, format="json").status_code == 400


# --- invitations ----------------------------------------------------------------------------------


def test_an_invitation_is_emailed_and_its_link_joins_the_addressee_once(
    alice, bob, carol, settings, django_capture_on_commit_callbacks
):
    settings.PUBLIC_URL = "https://uptime.example.org"
    team = team_of(alice, "Night shift")
    invitation, token = invite(api(alice), team.slug, "Bob@Example.com", "editor", django_capture_on_commit_callbacks)
    assert (invitation["email"], invitation["role"], invitation["invited_by"]) == (
        "bob@example.com",
        "editor",
        "alice@example.com",
    )
    from django.core import mail

    body = mail.outbox[-1].body
    assert f"https://uptime.example.org/invitations/{token}/" in body
    assert "Night shift" in mail.outbox[-1].subject
    # Only the hash is kept: the token is not in the database, nor in any answer.
    stored = Invitation.objects.get(pk=invitation["id"])
    assert stored.token_hash != token and token not in json.dumps(invitation)
    expires_in = stored.expires_at - timezone.now()
    assert timedelta(days=6, hours=23) < expires_in <= timedelta(days=7)

    # Not for another address, even a signed-in member of the team's world.
    refused = accept(api(carol), token)
    assert refused.status_code == 400 and "another address" in refused.json()["token"][0]
    assert not Membership.objects.filter(organization=team, user=carol).exists()

    joined = accept(api(bob), token)
    assert joined.status_code == 201, joined.content
    assert (joined.json()["organization"], joined.json()["role"], joined.json()["email"]) == (
        team.slug,
        "editor",
        "bob@example.com",
    )
    assert member(team, bob).role == "editor"
    assert sorted(o["slug"] for o in api(bob).get("/api/organizations/").json()) == sorted(
        [personal(bob).slug, team.slug]
    )
    members = api(bob).get(f"/api/organizations/{team.slug}/members/").json()["results"]
    assert [(m["email"], m["role"]) for m in members] == [("alice@example.com", "owner"), ("bob@example.com", "editor")]

    # Once: a second use, by anyone, is refused.
    assert accept(api(bob), token).status_code == 400
    assert accept(api(carol), token).status_code == 400
    assert Membership.objects.filter(organization=team).count() == 2
    # An unknown token or none.
    assert accept(api(bob), "not-a-token").status_code == 400
    assert api(bob).post("/api/invitations/accept/", {}, format="json").status_code == 400


def test_a_revoked_or_expired_invitation_does_not_join(alice, bob, django_capture_on_commit_callbacks):
    team = team_of(alice)
    revoked, token = invite(api(alice), team.slug, "bob@example.com", "viewer", django_capture_on_commit_callbacks)
    assert api(alice).delete(f"/api/organizations/{team.slug}/invitations/{revoked['id']}/").status_code == 204
    assert Invitation.objects.get(pk=revoked["id"]).revoked_at is not None
    assert accept(api(bob), token).status_code == 400
    assert organizations.invitation_for(token) is None

    expiring, token = invite(api(alice), team.slug, "bob@example.com", "viewer", django_capture_on_commit_callbacks)
    Invitation.objects.filter(pk=expiring["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert accept(api(bob), token).status_code == 400
    assert not Membership.objects.filter(organization=team, user=bob).exists()


def test_a_second_invitation_to_an_address_replaces_the_first(alice, bob, django_capture_on_commit_callbacks):
    team = team_of(alice)
    first, first_token = invite(api(alice), team.slug, "bob@example.com", "viewer", django_capture_on_commit_callbacks)
    second, second_token = invite(api(alice), team.slug, "bob@example.com", "admin", django_capture_on_commit_callbacks)
    assert Invitation.objects.get(pk=first["id"]).revoked_at is not None
    assert Invitation.objects.get(pk=second["id"]).revoked_at is None
    assert accept(api(bob), first_token).status_code == 400
    joined = accept(api(bob), second_token)
    assert joined.status_code == 201 and joined.json()["role"] == "admin"


def test_who_may_invite_and_with_which_role(alice, bob, carol, django_capture_on_commit_callbacks):
    team = team_of(alice, bob="admin", carol="editor")
    # An admin invites up to admin, not an owner.
    invite(api(bob), team.slug, "dave@example.com", "admin", django_capture_on_commit_callbacks)
    above = api(bob).post(
        f"/api/organizations/{team.slug}/invitations/", {"email": "erin@example.com", "role": "owner"}
    )
    assert above.status_code == 400 and "above yours" in above.json()["role"][0]
    # An editor neither invites nor sees the invitations.
    path = f"/api/organizations/{team.slug}/invitations/"
    assert api(carol).post(path, {"email": "erin@example.com", "role": "viewer"}).status_code == 403
    assert api(carol).get(path).status_code == 403
    # A member already is not invited again.
    again = api(alice).post(path, {"email": "carol@example.com", "role": "viewer"})
    assert again.status_code == 400 and "member already" in again.json()["email"][0]


def test_at_most_a_hundred_invitations_are_open_at_once(alice, django_capture_on_commit_callbacks):
    team = team_of(alice)
    expires = timezone.now() + timedelta(days=7)
    Invitation.objects.bulk_create(
        Invitation(
            organization=team, email=f"p{n}@example.com", role="viewer", token_hash=f"{n:064d}", expires_at=expires
        )
        for n in range(OPEN_INVITATIONS_LIMIT)
    )
    refused = api(alice).post(
        f"/api/organizations/{team.slug}/invitations/", {"email": "x@example.com", "role": "viewer"}
    )
    assert refused.status_code == 400 and "100 invitations are open" in str(refused.json())
    # An expired one no longer counts.
    Invitation.objects.filter(email="p0@example.com").update(expires_at=timezone.now() - timedelta(seconds=1))
    invite(api(alice), team.slug, "x@example.com", "viewer", django_capture_on_commit_callbacks)


# --- roles ------------------------------------------------------------------------------------------


def patch_role(client: APIClient, team: Organization, membership: Membership, role: str):
    return client.patch(f"/api/organizations/{team.slug}/members/{membership.pk}/", {"role": role}, format="json")


def remove(client: APIClient, team: Organization, membership: Membership):
    return client.delete(f"/api/organizations/{team.slug}/members/{membership.pk}/")


def test_an_admin_changes_roles_up_to_admin_and_never_touches_an_owner(alice, bob, carol):
    team = team_of(alice, bob="admin", carol="viewer", dave="editor")
    dave = User.objects.get(email="dave@example.com")
    carols = member(team, carol)

    assert patch_role(api(bob), team, carols, "editor").status_code == 200
    assert patch_role(api(bob), team, carols, "admin").json()["role"] == "admin"
    assert patch_role(api(bob), team, carols, "viewer").json()["role"] == "viewer"
    # Not an owner: neither make one nor unmake one.
    assert patch_role(api(bob), team, carols, "owner").status_code == 403
    assert patch_role(api(bob), team, member(team, alice), "admin").status_code == 403
    assert member(team, alice).role == "owner" and member(team, carol).role == "viewer"
    # An editor changes no roles, a viewer neither.
    assert patch_role(api(dave), team, carols, "editor").status_code == 403
    assert patch_role(api(carol), team, member(team, dave), "viewer").status_code == 403
    assert patch_role(api(bob), team, carols, "boss").status_code == 400


def test_the_last_owner_stays_until_another_owner_is_made(alice, bob):
    team = team_of(alice, bob="admin")
    alices = member(team, alice)
    demoted = patch_role(api(alice), team, alices, "admin")
    assert demoted.status_code == 400 and "last owner" in str(demoted.json())
    left = remove(api(alice), team, alices)
    assert left.status_code == 400 and "last owner" in str(left.json())
    assert member(team, alice).role == "owner"

    # An owner makes an owner; then the first may step down, or go.
    assert patch_role(api(alice), team, member(team, bob), "owner").json()["role"] == "owner"
    assert patch_role(api(alice), team, alices, "admin").json()["role"] == "admin"
    assert patch_role(api(bob), team, member(team, alice), "owner").status_code == 200
    assert remove(api(alice), team, member(team, alice)).status_code == 204
    assert list(team.memberships.values_list("user__email", "role")) == [("bob@example.com", "owner")]
    assert api(alice).get(f"/api/organizations/{team.slug}/").status_code == 404


def test_an_admin_removes_members_but_not_an_owner_and_anyone_may_leave(alice, bob, carol):
    team = team_of(alice, bob="admin", carol="viewer", dave="editor")
    dave = User.objects.get(email="dave@example.com")
    assert remove(api(bob), team, member(team, alice)).status_code == 403
    assert remove(api(dave), team, member(team, carol)).status_code == 403
    assert remove(api(bob), team, member(team, dave)).status_code == 204
    assert remove(api(carol), team, member(team, carol)).status_code == 204  # a viewer leaves
    assert sorted(team.memberships.values_list("user__email", flat=True)) == ["alice@example.com", "bob@example.com"]
    # The domain functions say the same to a caller of their own.
    with pytest.raises(PermissionDenied):
        organizations.remove_member(actor_for_user(bob, team.slug), member(team, alice))
    with pytest.raises(ValidationError):
        organizations.remove_member(actor_for_user(alice, team.slug), member(team, alice))


def test_a_removed_member_s_keys_for_that_organization_stop_working(alice, bob):
    team = team_of(alice, bob="admin")
    made = api(bob, team).post("/api/keys/", {"name": "bob's ci", "role": "editor"}, format="json")
    assert made.status_code == 201, made.content
    team_key = made.json()["token"]
    _, own_key = create_key(actor_for_user(bob), "bob's own", "editor")
    make_monitor(team, "https://team.example/", name="team's")
    assert monitor_names(key_api(team_key)) == ["team's"]

    assert remove(api(alice), team, member(team, bob)).status_code == 204

    assert key_api(team_key).get("/api/monitors/").status_code == 401
    assert ApiKey.objects.get(pk=made.json()["id"]).revoked_at is not None
    # Their keys elsewhere are theirs still.
    assert key_api(own_key).get("/api/monitors/").status_code == 200
    # Joining again does not bring the old key back.
    Membership.objects.create(organization=team, user=bob, role="admin")
    assert key_api(team_key).get("/api/monitors/").status_code == 401


def test_a_key_acts_no_higher_than_its_maker_s_role_now(alice, bob):
    team = team_of(alice, bob="admin")
    _, token = create_key(actor_for_user(bob, team.slug), "bob's admin key", "admin")
    assert key_api(token).get(f"/api/organizations/{team.slug}/invitations/").status_code == 200
    patch_role(api(alice), team, member(team, bob), "viewer")
    assert key_api(token).get(f"/api/organizations/{team.slug}/invitations/").status_code == 403
    assert key_api(token).post("/api/monitors/", MONITOR, format="json").status_code == 403
    assert key_api(token).get("/api/monitors/").status_code == 200


# --- working in one of several organizations ------------------------------------------------------


def test_a_member_of_two_organizations_chooses_one_with_the_header(alice, bob, carol):
    team = team_of(alice, bob="editor")
    make_monitor(bob, "https://bob.example/", name="bob's own")
    make_monitor(team, "https://team.example/", name="team's")
    make_monitor(carol, "https://carol.example/", name="carol's")

    assert monitor_names(api(bob)) == ["bob's own"]  # no header: the personal one
    assert monitor_names(api(bob, personal(bob))) == ["bob's own"]
    assert monitor_names(api(bob, team)) == ["team's"]
    assert monitor_names(api(alice, team)) == ["team's"]
    # One he is not in is not there.
    assert api(bob, personal(carol)).get("/api/monitors/").status_code == 404
    assert api(bob, "no-such-organization").get("/api/monitors/").status_code == 404

    # What he makes goes where the header says.
    created = api(bob, team).post("/api/monitors/", {**MONITOR, "name": "made in team"}, format="json")
    assert created.status_code == 201, created.content
    assert Monitor.objects.get(pk=created.json()["id"]).organization == team
    assert monitor_names(api(alice, team)) == ["made in team", "team's"]
    # And another organization's monitor is a 404 by id, too.
    teams = Monitor.objects.get(name="team's")
    assert api(bob).get(f"/api/monitors/{teams.pk}/").status_code == 404
    assert api(bob, team).get(f"/api/monitors/{teams.pk}/").status_code == 200


def test_a_key_works_in_its_own_organization_only(alice, bob):
    team = team_of(alice, bob="editor")
    _, token = create_key(actor_for_user(bob, team.slug), "team key", "editor")
    make_monitor(team, "https://team.example/", name="team's")
    assert monitor_names(key_api(token)) == ["team's"]
    client = key_api(token)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_ORGANIZATION=personal(bob).slug)
    assert client.get("/api/monitors/").status_code == 403


# --- the quota ------------------------------------------------------------------------------------


def test_the_organization_s_quota_counts_every_member_s_monitors(alice, bob, carol):
    team = team_of(alice, bob="editor", carol="admin")
    team.monitor_quota = 2
    team.save()
    assert api(alice, team).get(f"/api/organizations/{team.slug}/").json()["monitor_quota"] == 2

    assert api(alice, team).post("/api/monitors/", {**MONITOR, "name": "one"}, format="json").status_code == 201
    assert api(bob, team).post("/api/monitors/", {**MONITOR, "name": "two"}, format="json").status_code == 201
    for user in (alice, bob, carol):
        third = api(user, team).post("/api/monitors/", {**MONITOR, "name": "three"}, format="json")
        assert third.status_code == 403, user
        assert "limit of 2 monitors" in third.json()["detail"]
    assert Monitor.objects.filter(organization=team).count() == 2

    # Their own organizations are not touched by the team's quota.
    for n in range(3):
        assert api(alice).post("/api/monitors/", {**MONITOR, "name": f"own {n}"}, format="json").status_code == 201
    assert Monitor.objects.filter(organization=personal(alice)).count() == 3

    # A deleted monitor frees its place.
    gone = Monitor.objects.filter(organization=team).first()
    assert gone is not None
    assert api(bob, team).delete(f"/api/monitors/{gone.pk}/").status_code == 204
    assert api(bob, team).post("/api/monitors/", {**MONITOR, "name": "three"}, format="json").status_code == 201


def test_without_its_own_quota_the_setting_counts_and_zero_is_no_limit(alice, settings):
    settings.MONITOR_QUOTA_PER_ORGANIZATION = 1
    team = team_of(alice)
    client = api(alice, team)
    assert client.get(f"/api/organizations/{team.slug}/").json()["monitor_quota"] == 1
    assert client.post("/api/monitors/", {**MONITOR, "name": "one"}, format="json").status_code == 201
    assert client.post("/api/monitors/", {**MONITOR, "name": "two"}, format="json").status_code == 403

    # The operator's own figure for this one: 0 is no limit at all.
    team.monitor_quota = 0
    team.save()
    for n in range(3):
        assert client.post("/api/monitors/", {**MONITOR, "name": f"more {n}"}, format="json").status_code == 201
    assert client.get(f"/api/organizations/{team.slug}/").json()["monitor_quota"] == 0
    # A larger own quota beats a smaller setting, too.
    team.monitor_quota = 5
    team.save()
    assert client.post("/api/monitors/", {**MONITOR, "name": "fifth"}, format="json").status_code == 201
    assert client.post("/api/monitors/", {**MONITOR, "name": "sixth"}, format="json").status_code == 403
    # The setting of 0 is no limit for an organization without its own.
    settings.MONITOR_QUOTA_PER_ORGANIZATION = 0
    for n in range(2):
        assert api(alice).post("/api/monitors/", {**MONITOR, "name": f"own {n}"}, format="json").status_code == 201


def test_a_config_file_is_held_to_the_organization_s_quota(alice, bob):
    team = team_of(alice, bob="editor")
    team.monitor_quota = 2
    team.save()
    body = "version: 1\nmonitors:\n" + "".join(
        f"  - name: site {n}\n    url: https://site{n}.example.com/\n    regions: [india]\n" for n in range(3)
    )
    response = api(bob, team).post("/api/config/apply", data=body, content_type="application/yaml")
    assert response.status_code == 400, response.content
    assert "the limit is 2" in response.content.decode()
    assert not Monitor.objects.filter(organization=team).exists()
    two = body.rsplit("  - name: site 2", 1)[0]
    assert api(bob, team).post("/api/config/apply", data=two, content_type="application/yaml").status_code == 200
    assert Monitor.objects.filter(organization=team).count() == 2


# --- everyone owns one organization from the start -------------------------------------------


def owned(user: User) -> list[str]:
    return list(Membership.objects.filter(user=user, role=Role.OWNER).values_list("organization__slug", flat=True))


def test_every_new_user_owns_exactly_one_organization_however_they_are_made(admin_client_for_root, anon_client):
    plain = User.objects.create_user(email="plain@example.com", password=PASSWORD)
    root = User.objects.get(email="root@example.com")  # create_superuser
    registered = anon_client.post(
        "/api/auth/register/", {"email": "signed.up@example.com", "password": PASSWORD}, format="json"
    )
    assert registered.status_code == 201, registered.content
    from_admin = admin_client_for_root.post(
        "/admin/accounts/user/add/",
        {"email": "from.admin@example.com", "password1": PASSWORD, "password2": PASSWORD, "usable_password": "true"},
    )
    assert from_admin.status_code == 302, from_admin.content.decode()[:3000]
    # Two addresses with the same local part still get one each, under different slugs.
    twin = User.objects.create_user(email="plain@elsewhere.example", password=PASSWORD)

    users = [plain, root, twin, *User.objects.filter(email__in=["signed.up@example.com", "from.admin@example.com"])]
    assert len(users) == 5
    slugs = []
    for user in users:
        assert len(owned(user)) == 1, user
        assert Membership.objects.filter(user=user).count() == 1, user
        assert personal(user).slug == owned(user)[0]
        slugs.append(owned(user)[0])
    assert len(set(slugs)) == 5
    assert personal(plain).name == "plain" and personal(twin).slug == "plain-2"

    # Joining or making more keeps that one as the personal one (listed first, used by default).
    team_of(plain, "Plain team")
    assert personal(plain).slug == "plain"


def test_personal_organizations_of_alike_addresses_are_numbered(db):
    users = [make_user(f"info@{domain}.example") for domain in ("a", "b", "c")]
    assert [personal(user).slug for user in users] == ["info", "info-2", "info-3"]
    assert create_organization(users[0], "Info").slug == "info-4"
    assert create_organization(users[0], "Info 2").slug == "info-2-2"


def test_the_migration_gives_every_existing_user_one_organization_of_their_own(db):
    executor = MigrationExecutor(connection)
    executor.migrate([("accounts", "0002_api_keys")])
    old_user = executor.loader.project_state([("accounts", "0002_api_keys")]).apps.get_model("accounts", "User")
    for email in ("one@example.com", "two@example.com", "one@other.example"):
        old_user.objects.create(email=email, password="!")

    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    users = User.objects.filter(email__in=["one@example.com", "two@example.com", "one@other.example"])
    assert users.count() == 3
    slugs = set()
    for user in users:
        assert len(owned(user)) == 1, user
        assert Membership.objects.filter(user=user).count() == 1, user
        slugs.add(owned(user)[0])
    assert slugs == {"one", "two", "one-2"}


# --- a team's monitors follow its people ----------------------------------------------------------


def test_a_team_s_monitors_run_while_one_member_is_active(alice, bob):
    team = team_of(alice, bob="editor")
    teams = make_monitor(team, "https://team.example/", name="team's")

    bob.is_active = False
    bob.save()
    teams.refresh_from_db()
    assert (teams.is_active, scheduled(teams)) == (True, True)

    alice.is_active = False
    alice.save()
    teams.refresh_from_db()
    assert (teams.is_active, teams.status, scheduled(teams)) == (False, "paused", False)

    bob.is_active = True
    bob.save()
    teams.refresh_from_db()
    assert (teams.is_active, teams.status, scheduled(teams)) == (True, "pending", True)


def test_a_deleted_account_takes_its_own_organization_and_hands_a_team_over(alice, bob, carol):
    team = team_of(alice, bob="editor", carol="admin")
    teams = make_monitor(team, "https://team.example/", name="team's")
    own = personal(alice)
    make_monitor(own, "https://alice.example/", name="alice's")

    alice.delete()

    assert not Organization.objects.filter(pk=own.pk).exists()
    assert not Monitor.objects.filter(name="alice's").exists()
    assert Monitor.objects.filter(pk=teams.pk).exists()
    # The team's longest-standing admin is its owner now: an organization always has one.
    roles = dict(team.memberships.values_list("user__email", "role"))
    assert roles == {"bob@example.com": "editor", "carol@example.com": "owner"}


def test_an_api_key_neither_lists_its_maker_s_organizations_nor_makes_one(alice, bob):
    team_of(alice, bob="editor")
    _key, token = create_key(actor_for_user(alice), "ci", Role.OWNER)

    assert key_api(token).get("/api/organizations/").status_code == 403
    assert key_api(token).post("/api/organizations/", {"name": "Sneaky"}, format="json").status_code == 403
    assert not Organization.objects.filter(name="Sneaky").exists()
    assert len(api(alice).get("/api/organizations/").json()) == 2


# --- the web pages --------------------------------------------------------------------------------


def page(client: Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.content.decode()


def test_the_members_page_lists_the_members_and_their_roles(alice, bob, carol):
    team = team_of(alice, "Night shift", bob="admin", carol="viewer")
    client = signed_in(carol)
    client.post("/organizations/switch/", {"organization": team.pk})
    shown = page(client, "/members/")
    assert "Members of Night shift" in shown
    for email in ("alice@example.com", "bob@example.com", "carol@example.com"):
        assert email in shown
    # A viewer sees roles, not the forms that change them, nor the invitations.
    assert 'name="action" value="invite"' not in shown and 'value="role"' not in shown
    assert 'value="remove"' not in shown and 'value="leave"' in shown

    admin = signed_in(bob)
    admin.post("/organizations/switch/", {"organization": team.pk})
    shown = page(admin, "/members/")
    assert 'value="invite"' in shown and 'value="remove"' in shown and "Open invitations" in shown


def test_an_admin_invites_from_the_members_page(alice, bob, django_capture_on_commit_callbacks):
    from django.core import mail

    team = team_of(alice, bob="admin")
    client = signed_in(bob)
    client.post("/organizations/switch/", {"organization": team.pk})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/members/", {"action": "invite", "email": "dave@example.com", "role": "editor"})
    assert response.status_code == 302 and response["Location"] == "/members/"
    invitation = Invitation.objects.get(organization=team)
    assert (invitation.email, invitation.role, invitation.invited_by) == ("dave@example.com", "editor", bob)
    assert [m.to for m in mail.outbox] == [["dave@example.com"]]
    shown = page(client, "/members/")
    assert "Invitation sent to dave@example.com." in shown and "dave@example.com" in shown

    # The rules are the API's: not above an admin, and the message is shown.
    client.post("/members/", {"action": "invite", "email": "erin@example.com", "role": "owner"})
    assert "above yours" in page(client, "/members/")
    assert not Invitation.objects.filter(email="erin@example.com").exists()

    # Revoked from the page.
    client.post("/members/", {"action": "revoke", "id": invitation.pk})
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None


def test_roles_and_removal_from_the_members_page(alice, bob, carol):
    team = team_of(alice, bob="admin", carol="viewer")
    client = signed_in(bob)
    client.post("/organizations/switch/", {"organization": team.pk})
    assert (
        client.post("/members/", {"action": "role", "id": member(team, carol).pk, "role": "editor"}).status_code == 302
    )
    assert member(team, carol).role == "editor"
    # Not an owner's business: 403.
    assert (
        client.post("/members/", {"action": "role", "id": member(team, carol).pk, "role": "owner"}).status_code == 403
    )
    assert client.post("/members/", {"action": "remove", "id": member(team, alice).pk}).status_code == 403
    assert client.post("/members/", {"action": "remove", "id": member(team, carol).pk}).status_code == 302
    assert not Membership.objects.filter(organization=team, user=carol).exists()
    # Leaving sends one back to the personal organization.
    left = client.post("/members/", {"action": "leave", "id": member(team, bob).pk})
    assert left.status_code == 302 and left["Location"] == "/"
    assert not Membership.objects.filter(organization=team, user=bob).exists()
    assert f"Members of {personal(bob).name}" in page(client, "/members/")


def test_a_viewer_reads_the_pages_but_every_write_is_403(alice, bob):
    team = team_of(alice, bob="viewer")
    teams = make_monitor(team, "https://team.example/", name="The team site")
    client = signed_in(bob)
    client.post("/organizations/switch/", {"organization": team.pk})
    assert "The team site" in page(client, "/")
    page(client, "/members/")
    page(client, f"/monitors/{teams.pk}/")
    assert client.get("/monitors/new/").status_code == 403
    assert client.post("/monitors/new/", monitor_form(name="Viewer's")).status_code == 403
    assert client.post(f"/monitors/{teams.pk}/pause/").status_code == 403
    assert client.post(f"/monitors/{teams.pk}/delete/").status_code == 403
    for path in (
        f"/monitors/{teams.pk}/edit/",
        f"/monitors/{teams.pk}/resume/",
        f"/monitors/{teams.pk}/check/",
        "/channels/new/",
        "/maintenance/new/",
        "/status-pages/new/",
    ):
        assert client.post(path, {"name": "x"}).status_code == 403, path
    for path in ("/channels/new/", "/maintenance/new/", "/status-pages/new/", f"/monitors/{teams.pk}/edit/"):
        assert client.get(path).status_code == 403, path
    assert client.post("/members/", {"action": "invite", "email": "x@example.com", "role": "viewer"}).status_code == 403
    teams.refresh_from_db()
    assert Monitor.objects.filter(organization=team).count() == 1 and teams.is_active
    assert not Invitation.objects.exists()


def test_switching_organization_changes_what_the_dashboard_lists(alice, bob, carol):
    team = team_of(alice, "Night shift", bob="editor")
    make_monitor(bob, "https://bob.example/", name="Bobs own site")
    make_monitor(team, "https://team.example/", name="The team site")
    client = signed_in(bob)

    first = page(client, "/")
    assert "Bobs own site" in first and "The team site" not in first
    # The switcher is there for a person in two organizations.
    assert 'id="organization-choice"' in first and "Night shift" in first
    assert 'id="organization-choice"' not in page(signed_in(carol), "/")

    switched = client.post("/organizations/switch/", {"organization": team.pk})
    assert switched.status_code == 302 and switched["Location"] == "/"
    now = page(client, "/")
    assert "The team site" in now and "Bobs own site" not in now
    assert "Members of Night shift" in page(client, "/members/")
    # A new monitor from the page goes to the organization worked in.
    made = client.post("/monitors/new/", monitor_form(name="Made on the page"))
    assert made.status_code == 302, made.content.decode()[:2000]
    assert Monitor.objects.get(name="Made on the page").organization == team

    # Not into an organization one is not in: 403, and the choice stays.
    assert client.post("/organizations/switch/", {"organization": personal(carol).pk}).status_code == 403
    assert client.post("/organizations/switch/", {"organization": "nonsense"}).status_code == 403
    assert "The team site" in page(client, "/")

    # Back again.
    client.post("/organizations/switch/", {"organization": personal(bob).pk})
    assert "Bobs own site" in page(client, "/")


def test_removed_from_the_organization_worked_in_one_is_back_in_one_s_own(alice, bob):
    team = team_of(alice, bob="editor")
    make_monitor(team, "https://team.example/", name="The team site")
    client = signed_in(bob)
    client.post("/organizations/switch/", {"organization": team.pk})
    assert "The team site" in page(client, "/")
    member(team, bob).delete()
    assert "The team site" not in page(client, "/")


def test_the_invitation_page_joins_its_addressee(alice, bob, carol, django_capture_on_commit_callbacks):
    team = team_of(alice, "Night shift")
    make_monitor(team, "https://team.example/", name="The team site")
    _, token = invite(api(alice), team.slug, "bob@example.com", "editor", django_capture_on_commit_callbacks)

    # Signed out, the address has an account: the page sends it to sign in, and joins no one.
    signed_out = Client()
    shown = page(signed_out, f"/invitations/{token}/")
    assert "Night shift" in shown and "/login/?next=" in shown and "Join Night shift" not in shown
    assert signed_out.post(f"/invitations/{token}/").status_code == 400
    assert not Membership.objects.filter(organization=team, user=bob).exists()

    assert signed_in(bob).get("/invitations/not-a-real-token/").status_code == 404
    assert signed_in(bob).post("/invitations/not-a-real-token/").status_code == 404

    # Someone else is told to sign in as the address, and cannot join with it.
    other = signed_in(carol)
    shown = page(other, f"/invitations/{token}/")
    assert "bob@example.com to accept it" in shown and "Join Night shift" not in shown
    other.post(f"/invitations/{token}/")
    assert not Membership.objects.filter(organization=team, user=carol).exists()

    client = signed_in(bob)
    shown = page(client, f"/invitations/{token}/")
    assert "Night shift" in shown and "editor" in shown and "Join Night shift" in shown
    joined = client.post(f"/invitations/{token}/")
    assert joined.status_code == 302 and joined["Location"] == "/"
    assert member(team, bob).role == "editor"
    # Joined, one works in the new organization at once.
    assert "The team site" in page(client, "/")
    # The link is spent.
    assert client.get(f"/invitations/{token}/").status_code == 404


@pytest.fixture
def admin_client_for_root(db) -> Client:
    User.objects.create_superuser(email="root@example.com", password=PASSWORD)
    client = Client()
    assert client.login(email="root@example.com", password=PASSWORD)
    return client
