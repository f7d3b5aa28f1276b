"""An organization's members in Chromium: an admin invites an address from the Members page,
the invitee opens the link from the email in a browser of their own, signs in, joins, and
finds the team's monitor beside their own through the organization switcher; a viewer sees
no way to change anything, and a form posted anyway is refused. Also the screenshots of the
Members page (docs/screenshots/members-desktop.png and members-375.png)."""

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts.models import Membership, Role, User
from accounts.organizations import create_organization
from tests.browser.conftest import TIMEOUT_MS, VIEWPORT, _console_error, fail_on_js_errors
from tests.browser.test_accessibility import violations
from tests.browser.test_web_pages import scrolls_sideways_by
from tests.conftest import PASSWORD, make_user
from tests.factories import make_monitor

LINK = re.compile(r"\S+(/invitations/[A-Za-z0-9_-]+/)")


@pytest.fixture
def second_page(browser, tmp_path):
    """Another person's browser: a context of its own (no cookies shared with `page`),
    failing the test on a JavaScript error as `page` does."""
    errors: list[str] = []
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    context.on("console", lambda message: _console_error(message, errors))
    context.on("weberror", lambda error: errors.append(f"uncaught {error.error.name}: {error.error.message}"))
    yield context.new_page()
    context.close()
    fail_on_js_errors(errors)


@pytest.fixture
def team(alice):
    """Alice's "Night shift", with a monitor, and Dave its admin."""
    night_shift = create_organization(alice, "Night shift")
    dave = make_user("dave@example.com")
    Membership.objects.create(organization=night_shift, user=dave, role=Role.ADMIN)
    make_monitor(night_shift, "https://night.example/", name="Night shop")
    return night_shift


def switch_to(page, name: str) -> None:
    """Work in the organization `name` through the switcher in the header."""
    page.get_by_label("Organization", exact=True).select_option(label=name)
    with page.expect_navigation():
        page.get_by_role("button", name="Switch").click()
    expect(page.get_by_text(f"Now working in “{name}”.")).to_be_visible()


def dashboard_row(page, name: str):
    return page.locator("tr", has=page.get_by_role("link", name=name, exact=True))


def test_an_admin_invites_and_the_invitee_joins_from_the_email(page, second_page, site, sign_in, team, bob, shoot):
    make_monitor(bob, "https://bob.example/", name="Bob's blog")
    dave = User.objects.get(email="dave@example.com")

    # Dave, an admin of the team, works in it and invites Bob.
    sign_in(page, dave)
    switch_to(page, "Night shift")
    page.get_by_role("link", name="Members").click()
    expect(page.get_by_role("heading", name="Members of Night shift")).to_be_visible()
    members = page.locator("table").first
    expect(members.get_by_role("rowheader")).to_have_text(["alice@example.com", "dave@example.com"])
    page.get_by_label("Email address").fill("bob@example.com")
    page.get_by_label("Role", exact=True).select_option("editor")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to bob@example.com.")).to_be_visible()
    invitations = page.locator("table").nth(1)
    expect(invitations.get_by_role("row", name=re.compile("bob@example.com"))).to_contain_text("editor")

    for width, name in ((1280, "members-desktop"), (375, "members-375")):
        page.set_viewport_size({"width": width, "height": 900 if width > 400 else 812})
        page.goto(f"{site}/members/")
        expect(page.get_by_role("heading", name="Members of Night shift")).to_be_visible()
        assert violations(page) == [], width
        assert scrolls_sideways_by(page) == 0, width
        shoot(page, name)

    # The email: to Bob only, with the link.
    (email,) = mail.outbox
    assert email.to == ["bob@example.com"]
    match = LINK.search(email.body)
    assert match, email.body
    link = site + match[1]

    # Bob, in his own browser, opens it signed out, signs in from it and joins.
    bobs = second_page
    bobs.goto(link)
    expect(bobs.get_by_text("invites bob@example.com to the organization Night shift as editor")).to_be_visible()
    bobs.get_by_role("link", name="Sign in as bob@example.com").click()
    bobs.locator('input[name="username"]').fill(bob.email)
    bobs.locator('input[name="password"]').fill(PASSWORD)
    with bobs.expect_navigation():
        bobs.locator("form").filter(has=bobs.locator('input[name="username"]')).get_by_role("button").click()
    assert urlsplit(bobs.url).path == urlsplit(link).path
    bobs.get_by_role("button", name="Join Night shift").click()
    expect(bobs.get_by_text("You joined “Night shift” as editor.")).to_be_visible()
    assert Membership.objects.get(organization=team, user=bob).role == Role.EDITOR

    # Working in the team now: its monitor, not his own; the switcher offers both.
    expect(dashboard_row(bobs, "Night shop")).to_be_visible()
    expect(dashboard_row(bobs, "Bob's blog")).to_have_count(0)
    switcher = bobs.get_by_label("Organization", exact=True)
    expect(switcher).to_be_visible()
    expect(switcher.locator("option")).to_have_text(["bob", "Night shift"])
    switch_to(bobs, "bob")
    expect(dashboard_row(bobs, "Bob's blog")).to_be_visible()
    expect(dashboard_row(bobs, "Night shop")).to_have_count(0)
    switch_to(bobs, "Night shift")
    expect(dashboard_row(bobs, "Night shop")).to_be_visible()

    # The link is spent.
    response = bobs.goto(link)
    assert response is not None and response.status == 404
    expect(bobs.get_by_text("This invitation is unknown, used, revoked or expired.")).to_be_visible()

    # Dave sees Bob among the members, the invitation no longer open.
    page.goto(f"{site}/members/")
    expect(page.locator("table").first.get_by_role("rowheader")).to_have_text(
        ["alice@example.com", "dave@example.com", "bob@example.com"]
    )
    expect(page.get_by_text("No open invitations.")).to_be_visible()


def post_anyway(page, action: str, fields: dict[str, str] | None = None) -> int:
    """Post `fields` to `action` from the page, with its CSRF token, as a crafted form would;
    the status of the page it leads to."""
    with page.expect_navigation() as navigation:
        page.evaluate(
            """([action, fields]) => {
                const form = document.createElement('form');
                form.method = 'post';
                form.action = action;
                form.appendChild(document.querySelector('input[name=csrfmiddlewaretoken]').cloneNode());
                for (const [name, value] of Object.entries(fields)) {
                    const input = document.createElement('input');
                    input.type = 'hidden';
                    input.name = name;
                    input.value = value;
                    form.appendChild(input);
                }
                document.body.appendChild(form);
                form.submit();
            }""",
            [action, fields or {}],
        )
    return navigation.value.status


def test_a_viewer_sees_no_way_to_change_anything_and_a_post_is_refused(page, site, sign_in, team, carol_viewer):
    monitor = team.monitors.get()
    sign_in(page, carol_viewer)
    switch_to(page, "Night shift")
    expect(dashboard_row(page, "Night shop")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="New monitor")).to_have_count(0)

    page.get_by_role("link", name="Members").click()
    expect(page.get_by_role("heading", name="Members of Night shift")).to_be_visible()
    expect(page.get_by_text("Your role: viewer")).to_be_visible()
    expect(page.get_by_role("button", name="Send invitation")).to_have_count(0)
    expect(page.get_by_role("button", name="Change")).to_have_count(0)
    expect(page.get_by_role("button", name="Remove")).to_have_count(0)
    expect(page.get_by_role("combobox", name=re.compile("^Role"))).to_have_count(0)
    expect(page.get_by_role("button", name="Leave")).to_have_count(1)  # only herself

    page.goto(f"{site}/monitors/{monitor.pk}/")
    expect(page.get_by_role("heading", name=re.compile("Night shop"))).to_be_visible()
    for control in ("Edit", "Pause", "Delete", "Check now"):
        expect(page.get_by_role("button", name=control)).to_have_count(0)
        expect(page.get_by_role("link", name=control, exact=True)).to_have_count(0)

    # Posted anyway, from the page with its token: refused, nothing changed.
    assert post_anyway(page, f"/monitors/{monitor.pk}/pause/") == 403
    page.goto(f"{site}/members/")
    invite = {"action": "invite", "email": "mallory@example.com", "role": "viewer"}
    assert post_anyway(page, "/members/", invite) == 403
    response = page.goto(f"{site}/monitors/new/")
    assert response is not None and response.status == 403
    monitor.refresh_from_db()
    assert monitor.is_active
    assert team.invitations.count() == 0


@pytest.fixture
def carol_viewer(team) -> User:
    carol = make_user("carol@example.com")
    Membership.objects.create(organization=team, user=carol, role=Role.VIEWER)
    return carol
