"""The web pages as a person uses them, in Chromium: sign in, add a monitor against a real
local site, watch it go up, take the site down and watch the dashboard turn down without a
reload, edit and pause it; other people's monitors do not exist. Also the screenshots of
docs/ and the README, and keyboard and labelling checks."""

import math
import re
import time
from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from checks.models import Gap, RegionImpairment, Tick
from checks.outcomes.rollup_counts import count_ticks
from checks.state.transitions import change_status
from monitors.models import Monitor, Region
from notifications.models import Channel
from tests.factories import make_monitor, personal

# The live part of the dashboard refreshes this often (data-live-seconds).
REFRESH_SECONDS = 5


def field(page, label: str):
    """The control labelled `label` (a required one's label ends in an asterisk)."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}( \*)?$"))


def row(page, name: str):
    return page.locator("tr", has=page.get_by_role("link", name=name, exact=True))


def test_a_person_adds_a_monitor_sees_it_up_then_down_edits_and_pauses_it(
    page, site, sign_in, pipeline, target, alice, bob, shoot
):
    bobs = make_monitor(bob, target.url("/ok"), name="Bob's shop")
    sign_in(page, alice)
    expect(page.get_by_role("heading", name="Monitors")).to_be_visible()
    expect(page.get_by_text("No monitors yet.")).to_be_visible()

    page.get_by_role("link", name="New monitor").first.click()
    field(page, "Name").fill("Local shop")
    field(page, "URL").fill(target.url("/ok"))
    # This test runs India's workers only.
    for region in ("Europe", "USA"):
        page.get_by_label(region, exact=True).uncheck()
    page.get_by_label("India", exact=True).check()
    field(page, "Interval (seconds)").fill("3")
    field(page, "Timeout (seconds)").fill("1")
    field(page, "Retries").fill("1")
    field(page, "Retry interval (seconds)").fill("1")
    page.get_by_role("button", name="Create monitor").click()
    expect(page.get_by_role("heading", name=re.compile("Local shop"))).to_be_visible()
    expect(page.get_by_text("its first check is on its way")).to_be_visible()
    monitor = Monitor.objects.get(organization=personal(alice))

    # Up: the first check goes at once; the dashboard shows it without being reloaded.
    page.get_by_role("link", name="Dashboard").click()
    expect(row(page, "Local shop").locator(".status")).to_have_text(re.compile("Up"), timeout=20_000)

    # Down: within one interval plus the retry window (and one refresh of the page).
    target.shutdown()
    target.server_close()
    went_down = time.monotonic()
    retry_window = (monitor.retries + 1) * monitor.timeout_seconds + monitor.retries * monitor.retry_interval_seconds
    allowed = monitor.interval_seconds + retry_window + REFRESH_SECONDS + 3
    expect(row(page, "Local shop").locator(".status")).to_have_text(
        re.compile("Down"), timeout=math.ceil(allowed * 1000)
    )
    assert time.monotonic() - went_down <= allowed
    expect(row(page, "Local shop")).to_contain_text("✕")  # the symbol, not only the colour

    # The monitor's page: the failed checks with their error, and the incident.
    row(page, "Local shop").get_by_role("link", name="Local shop").click()
    expect(page.locator("table").filter(has_text="Error")).to_contain_text("refused")
    expect(page.locator(".incident.open")).to_contain_text("Ongoing")

    # Edit, with a bad value first: the API's message stands next to the field.
    page.get_by_role("link", name="Edit").click()
    field(page, "Interval (seconds)").fill("0")
    field(page, "Name").fill("Local shop (renamed)")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#id_interval_seconds_error")).to_have_text(re.compile("Interval must be a whole number"))
    expect(field(page, "Interval (seconds)")).to_have_attribute("aria-invalid", "true")
    field(page, "Interval (seconds)").fill("3")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Changes saved.")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"Local shop \(renamed\)"))).to_be_visible()

    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_text("is paused")).to_be_visible()
    expect(page.locator("h1 .status")).to_have_text(re.compile("Paused"))
    monitor.refresh_from_db()
    assert (monitor.is_active, monitor.status) == (False, "paused")

    # Bob's monitor is not there for Alice: not listed, and its page is a 404.
    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("link", name="Bob's shop")).to_have_count(0)
    response = page.goto(f"{site}/monitors/{bobs.pk}/")
    assert response is not None and response.status == 404


def test_channels_and_maintenance_windows_from_their_pages(page, site, sign_in, alice):
    monitor = make_monitor(alice, "https://shop.example/", name="Shop")
    sign_in(page, alice)

    page.get_by_role("link", name="Channels").click()
    page.get_by_role("link", name="New channel").first.click()
    field(page, "Name").fill("On call")
    field(page, "Kind").select_option("email")
    field(page, "Email").fill("not an address")
    page.get_by_role("button", name="Create channel").click()
    expect(page.locator("#id_email_error")).to_be_visible()
    field(page, "Email").fill("oncall@example.com")
    page.get_by_role("button", name="Create channel").click()
    expect(page.get_by_role("heading", name="On call")).to_be_visible()
    page.get_by_role("button", name="Send test").click()
    expect(page.get_by_text("Test message queued")).to_be_visible()
    expect(page.locator("[data-channel] table")).to_contain_text("channel.test")
    assert Channel.objects.get(organization=personal(alice)).email == "oncall@example.com"

    page.get_by_role("link", name="Maintenance").click()
    page.get_by_role("link", name="New window").click()
    field(page, "Name").fill("Deploy")
    page.get_by_role("checkbox", name="Shop", exact=True).check()
    start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=1)
    field(page, "Starts (UTC)").fill(start.strftime("%Y-%m-%dT%H:%M"))
    field(page, "Ends (UTC)").fill((start - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Create window").click()
    expect(page.locator("#id_ends_at_error")).to_be_visible()
    field(page, "Ends (UTC)").fill((start + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Create window").click()
    expect(page.get_by_role("row", name=re.compile("Deploy"))).to_contain_text("Shop")
    assert list(monitor.maintenance_windows.values_list("name", flat=True)) == ["Deploy"]


def test_every_control_is_labelled_and_the_keyboard_reaches_the_content(page, site, sign_in, alice):
    make_monitor(alice, "https://shop.example/", name="Shop")
    sign_in(page, alice)
    for path in ("/", "/monitors/new/", "/channels/new/", "/maintenance/new/", "/password/"):
        page.goto(site + path)
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
                .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                              && !(el.textContent || '').trim())
                .map(el => el.outerHTML)"""
        )
        assert unlabelled == [], path
    page.goto(site + "/")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to content")
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")


def seed_showcase(owner) -> Monitor:
    """A few monitors with a day of history, for the screenshots."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    sites = [
        ("Shop", "https://shop.example/", ("india", "usa"), "up", 180),
        ("API", "https://api.example/health", ("india", "usa", "europe"), "up", 95),
        ("Blog", "https://blog.example/", ("usa",), "down", 420),
        ("Status", "https://status.example/", ("europe",), "up", 60),
        ("Billing", "https://billing.example/", ("india",), "degraded", 260),
        ("Docs", "https://docs.example/", ("usa",), "paused", 130),
    ]
    Region.objects.get_or_create(slug="europe", defaults={"name": "Europe"})
    shown = None
    for name, url, regions, status, base_ms in sites:
        monitor = make_monitor(owner, url, regions=regions, name=name, interval_seconds=300)
        ticks = []
        for region in regions:
            region_row = Region.objects.get(slug=region)
            for n in range(288):
                slot = now - timedelta(minutes=5 * n)
                failing = (status == "down" and n < 6) or (name == "Shop" and 100 <= n < 104)
                wobble = (n * 37 % 23) * 4 + (60 if region == "usa" else 0)
                ticks.append(
                    Tick(
                        monitor=monitor,
                        region=region_row,
                        status="down" if failing else "up",
                        status_code=None if failing else 200,
                        response_time_ms=None if failing else base_ms + wobble,
                        error="connection timed out after 10 s" if failing else "",
                        scheduled_at=slot,
                        checked_at=slot + timedelta(milliseconds=40),
                    )
                )
        count_ticks(Tick.objects.bulk_create(ticks))
        if name == "Shop":
            change_status(monitor, "down", now - timedelta(minutes=520), "connection timed out after 10 s", ["india"])
            change_status(monitor, "up", now - timedelta(minutes=500), "", [])
            Gap.objects.create(
                monitor=monitor,
                region=Region.objects.get(slug="usa"),
                starts_at=now - timedelta(hours=3),
                ends_at=now - timedelta(hours=3) + timedelta(minutes=10),
                slots_missed=2,
                detected_at=now - timedelta(hours=3),
            )
            shown = monitor
        if status != "up":
            reason = "connection timed out after 10 s"
            change_status(monitor, status, now - timedelta(minutes=30), reason, list(regions))
        else:
            change_status(monitor, "up", now - timedelta(days=1), "", [])
        monitor.last_checked_at = now
        if status == "paused":
            monitor.is_active = False
        monitor.save()
    assert shown is not None
    return shown


def scrolls_sideways_by(page) -> int:
    """How many pixels the page is wider than the window (0: it fits)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_screenshots_of_the_dashboard_and_a_monitor_page(page, site, sign_in, alice, shoot):
    shop = seed_showcase(alice)
    sign_in(page, alice)
    for width, suffix in ((1280, ""), (375, "-375")):
        page.set_viewport_size({"width": width, "height": 900 if width > 400 else 812})
        page.goto(site + "/")
        expect(page.locator("tr[data-monitor]")).to_have_count(6)
        assert scrolls_sideways_by(page) == 0, "the dashboard is wider than the screen"
        shoot(page, f"dashboard{suffix}")
        page.goto(f"{site}/monitors/{shop.pk}/")
        expect(page.locator(".chart svg").first).to_be_visible()
        # Wide tables scroll inside their box; the page itself never scrolls sideways.
        assert scrolls_sideways_by(page) == 0, "the monitor page is wider than the screen"
        shoot(page, f"monitor{suffix}")


def test_the_monitor_page_says_which_region_cannot_reach_its_canaries(page, site, sign_in, alice):
    # India's network failed an hour ago and is still failing; usa's failed for 5 minutes
    # earlier in the day (checks/state/impairments.py keeps these rows).
    shop = make_monitor(alice, "https://shop.example/", regions=("india", "usa"), name="Shop")
    now = datetime.now(UTC)
    india, usa = Region.objects.get(slug="india"), Region.objects.get(slug="usa")
    RegionImpairment.objects.create(region=india, started_at=now - timedelta(hours=1), detail="3 of 4 canaries")
    RegionImpairment.objects.create(
        region=usa, started_at=now - timedelta(hours=5), ended_at=now - timedelta(hours=5) + timedelta(minutes=5)
    )
    sign_in(page, alice)
    page.goto(f"{site}/monitors/{shop.pk}/")
    expect(page.locator(".notice.warn")).to_contain_text("India cannot reach its canaries since")
    expect(page.locator(".notice.warn")).to_contain_text("Its failed checks are not counted")
    impaired = page.get_by_role("heading", name="Regions impaired").locator("xpath=following-sibling::ol[1]")
    expect(impaired.locator("li")).to_have_count(2)
    expect(impaired.locator("li").first).to_contain_text("india: from")
    expect(impaired.locator("li").first).to_contain_text("still impaired")
    expect(impaired.locator("li").nth(1)).to_contain_text("usa: from")
    # The detail names the operator's canaries: for the admin, not the page.
    expect(page.locator("body")).not_to_contain_text("3 of 4 canaries")
