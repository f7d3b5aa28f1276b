"""A public status page as a visitor meets it, in Chromium, signed out: a component goes
down (the real pipeline checking a real local site) and the owner's incident update
appears without a reload; subscribing by email from the form and confirming from the mail;
unsubscribing; the badges; keyboard use; and the screenshots of docs/ and the README."""

import math
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from playwright.sync_api import expect

from checks.models import DailyRollup, DayTotal, Incident
from monitors.models import Monitor, Region
from statuspages import services
from statuspages.models import Subscriber
from tests.factories import make_monitor, personal
from tests.test_notifications import deliver_due

SECRET = "s3cret-token"


@pytest.fixture
def quick_cache(settings):
    # The page's cache (and so its refresh) at the shortest the page allows.
    settings.STATUS_PAGE_CACHE_SECONDS = 1


def make_page(owner, monitors: dict[str, list[tuple[Monitor, str]]], slug="acme", **fields):
    sections = [
        {"name": name, "components": [{"monitor": m, "name": shown} for m, shown in components]}
        for name, components in monitors.items()
    ]
    fields = {"slug": slug, "title": "Acme status", "description": "Everything Acme runs.", **fields}
    return services.save_page(personal(owner), None, fields, sections)


def component(page, name: str):
    return page.locator(".component", has=page.locator(".component-name", has_text=name))


def test_a_visitor_sees_a_component_go_down_and_the_owners_update_appear(
    page, site, pipeline, target, alice, quick_cache
):
    shop = make_monitor(
        alice,
        target.url(f"/ok?token={SECRET}"),
        name="shop-eu-prod",
        interval_seconds=3,
        timeout_seconds=1,
        retries=1,
        retry_interval_seconds=1,
    )
    status_page = make_page(alice, {"Website": [(shop, "Shop")]})

    page.goto(f"{site}/status/acme/")
    expect(page.get_by_role("heading", name="Acme status")).to_be_visible()
    expect(component(page, "Shop").locator(".state")).to_have_text("Operational", timeout=30_000)
    expect(page.locator(".overall")).to_have_text("All systems operational")

    target.shutdown()
    target.server_close()
    went_down = time.monotonic()
    retry_window = (shop.retries + 1) * shop.timeout_seconds + shop.retries * shop.retry_interval_seconds
    # One interval and the retries, then at most one turn of the page's refresh (10 s).
    allowed = shop.interval_seconds + retry_window + 10 + 3
    expect(component(page, "Shop").locator(".state")).to_have_text("Major outage", timeout=math.ceil(allowed * 1000))
    assert time.monotonic() - went_down <= allowed
    expect(page.locator(".overall")).to_have_text("Major outage")
    expect(page.get_by_role("heading", name="Happening now")).to_be_visible()
    expect(page.locator(".incident.outage").first).to_contain_text("Shop: outage detected")

    incident = services.open_incident(
        status_page,
        "Shop unreachable",
        "identified",
        "A failed deploy; rolling back.",
        components=status_page.sections.get().components.all(),
    )
    shown = page.locator(f"#incident-{incident.pk}")
    expect(shown).to_contain_text("A failed deploy; rolling back.", timeout=15_000)
    expect(shown).to_contain_text("Identified")
    expect(shown).to_contain_text("Affected: Shop")

    # Nothing private: not the monitor's name, URL or token, nor the check's error.
    html = page.content()
    for private in ("shop-eu-prod", "127.0.0.1", SECRET, "refused", "india"):
        assert private not in html, private
    assert Incident.objects.filter(monitor=shop, resolved_at__isnull=True).exists()


def test_a_visitor_subscribes_confirms_from_the_mail_and_unsubscribes(page, site, alice):
    shop = make_monitor(alice, "https://shop.example/", name="shop")
    status_page = make_page(alice, {"Website": [(shop, "Shop")]})

    page.goto(f"{site}/status/acme/")
    page.get_by_label("Email address").fill("fan@example.com")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("status")).to_contain_text("we have sent a link to confirm")

    deliver_due()
    (confirmation,) = mail.outbox
    link = re.search(r"https?://\S+/confirm/", confirmation.body).group(0)
    page.goto(site + link.split("127.0.0.1:8000", 1)[-1])
    expect(page.get_by_role("heading", name="You are subscribed")).to_be_visible()
    assert Subscriber.objects.get().confirmed_at is not None

    services.open_incident(status_page, "Slow checkout", "investigating", "We are looking into it.")
    deliver_due()
    update = mail.outbox[-1]
    assert update.subject == "[Acme status] Slow checkout: Investigating"
    unsubscribe = update.extra_headers["List-Unsubscribe"].strip("<>")
    page.goto(site + unsubscribe.split("127.0.0.1:8000", 1)[-1])
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", name="Unsubscribed")).to_be_visible()
    assert not Subscriber.objects.exists()


def test_each_badge_loads_and_the_keyboard_walks_the_days(page, site, alice):
    shop = make_monitor(alice, "https://shop.example/", name="shop")
    Monitor.objects.filter(pk=shop.pk).update(status="up")
    status_page = make_page(alice, {"Website": [(shop, "Shop")]})
    (shown,) = status_page.sections.get().components.all()
    seed_days(shop, 90)

    for kind in ("status", "uptime-24h", "uptime-7d", "uptime-30d", "response-time"):
        for path in (f"/status/acme/badges/{shown.pk}/{kind}.svg", f"/badge/{shop.badge_key}/{kind}.svg"):
            response = page.goto(site + path)
            assert response is not None and response.status == 200, path
            assert response.headers["content-type"] == "image/svg+xml"
            expect(page.locator("svg")).to_have_attribute("role", "img")

    page.goto(f"{site}/status/acme/")
    # One keyboard stop per component: a slider over its 90 days, on today at first.
    days = component(page, "Shop").locator(".day-bars")
    expect(days).to_have_attribute("role", "slider")
    today = datetime.now(UTC).date()
    expect(days).to_have_attribute("aria-valuetext", re.compile(rf"^{today:%Y-%m-%d}: 100% up, 1,440 of 1,440 checks$"))
    days.focus()
    legend = component(page, "Shop").locator(".day-focused")
    expect(legend).to_have_text(f"{today:%Y-%m-%d}: 100% up, 1,440 of 1,440 checks")
    page.keyboard.press("ArrowLeft")
    expect(legend).to_have_text(f"{today - timedelta(days=1):%Y-%m-%d}: 100% up, 1,440 of 1,440 checks")
    expect(days).to_have_attribute("aria-valuenow", "88")
    page.keyboard.press("Home")
    expect(days).to_have_attribute("aria-valuetext", re.compile(rf"^{today - timedelta(days=89):%Y-%m-%d}: "))
    # The pointer names the day under it: the middle of the row is 45 days ago.
    box = days.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 44.5 / 90, box["y"] + box["height"] / 2)
    expect(legend).to_have_text(re.compile(rf"^{today - timedelta(days=45):%Y-%m-%d}: "))


def test_a_day_is_worded_on_the_page_as_the_server_words_it(page, site, alice):
    shop = make_monitor(alice, "https://shop.example/", name="shop")
    make_page(alice, {"Website": [(shop, "Shop")]})
    seed_days(shop, 3, {1: 1})  # yesterday: 1,439 of 1,440
    page.goto(f"{site}/status/acme/")
    days = component(page, "Shop").locator(".day-bars")
    days.focus()
    page.keyboard.press("ArrowLeft")
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    expect(days).to_have_attribute("aria-valuetext", f"{yesterday:%Y-%m-%d}: 99.93% up, 1,439 of 1,440 checks")


def seed_days(monitor: Monitor, days: int, bad_days: dict[int, int] | None = None) -> None:
    """`days` days of rollups for the monitor's regions: 1,440 checks a day, all up but for
    `bad_days` (days ago -> checks down)."""
    today = datetime.now(UTC).date()
    for region in monitor.regions.all():
        DailyRollup.objects.bulk_create(
            DailyRollup(
                monitor=monitor,
                region=region,
                day=today - timedelta(days=n),
                checks=1440,
                up=1440 - (bad_days or {}).get(n, 0),
                response_time_sum_ms=1440 * 180,
                response_time_min_ms=90,
                response_time_max_ms=900,
                response_time_histogram=_histogram(1440 - (bad_days or {}).get(n, 0)),
            )
            for n in range(days)
        )
    # The days' totals over the regions, as the outcome writer keeps them beside the rollups.
    regions = monitor.regions.count()
    DayTotal.objects.bulk_create(
        DayTotal(
            monitor=monitor,
            day=today - timedelta(days=n),
            checks=1440 * regions,
            up=(1440 - (bad_days or {}).get(n, 0)) * regions,
        )
        for n in range(days)
    )


def _histogram(count: int) -> list[int]:
    from checks.outcomes.rollup_counts import BUCKETS

    return [0] * 10 + [count] + [0] * (BUCKETS - 11)


def seed_status_showcase(owner):
    """A page of six components with 90 days behind them, an outage now, one two days ago,
    and an incident with two updates: for the screenshots and the accessibility checks."""
    Region.objects.get_or_create(slug="europe", defaults={"name": "Europe"})
    names = [
        ("Website", "www"),
        ("Checkout", "pay"),
        ("Public API", "api"),
        ("Webhooks", "hooks"),
        ("Dashboard", "app"),
        ("Email delivery", "smtp"),
    ]
    monitors = {
        name: make_monitor(owner, f"https://{slug}.example/", name=slug, regions=("india", "usa"))
        for name, slug in names
    }
    statuses = {"Checkout": "down", "Webhooks": "degraded"}
    bad_days = {"Checkout": {3: 30, 17: 400}, "Public API": {40: 5}}
    for name, monitor in monitors.items():
        Monitor.objects.filter(pk=monitor.pk).update(status=statuses.get(name, "up"))
        seed_days(monitor, 90, bad_days.get(name))
    status_page = make_page(
        owner,
        {
            "Customers": [(monitors[n], n) for n in ("Website", "Checkout", "Dashboard")],
            "Developers": [(monitors[n], n) for n in ("Public API", "Webhooks", "Email delivery")],
        },
    )
    now = datetime.now(UTC)
    Incident.objects.create(monitor=monitors["Checkout"], started_at=now - timedelta(minutes=12))
    Incident.objects.create(
        monitor=monitors["Website"],
        started_at=now - timedelta(days=2, hours=3),
        resolved_at=now - timedelta(days=2, hours=2, minutes=41),
        resolution="up",
    )
    checkout = status_page.sections.first().components.get(name="Checkout")
    incident = services.open_incident(
        status_page,
        "Card payments failing",
        "investigating",
        "Some card payments fail at checkout. We are looking into it.",
        components=[checkout],
        now=now - timedelta(minutes=10),
    )
    services.post_update(
        incident, "identified", "A provider's outage; we are switching to the backup.", now=now - timedelta(minutes=4)
    )
    return status_page


def test_screenshots_of_a_status_page(page, site, alice, shoot):
    seed_status_showcase(alice)
    for width, suffix in ((1280, ""), (375, "-375")):
        page.set_viewport_size({"width": width, "height": 900 if width > 400 else 812})
        page.goto(f"{site}/status/acme/")
        expect(page.locator(".component")).to_have_count(6)
        shoot(page, f"status-page{suffix}")
