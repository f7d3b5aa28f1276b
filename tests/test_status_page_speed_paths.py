"""The status page's fast paths read what the ORM used to: each monitor's days summed over its
regions with the missing ones as zeros, and the owner's incidents (open ones first, their
components in the page's order, their updates newest first) from one query each."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from checks.figures.series import days_of
from statuspages.services import open_incident, post_update, save_page
from tests.factories import make_monitor, make_tick, personal


@pytest.fixture(autouse=True)
def uncached(settings):
    settings.STATUS_PAGE_CACHE_SECONDS = 0


def test_days_of_adds_the_regions_and_counts_a_day_without_rollups_as_zeros(alice):
    shop = make_monitor(alice, "https://shop.example/", regions=("india", "usa"))
    idle = make_monitor(alice, "https://idle.example/")
    now = timezone.now()
    make_tick(shop, "india", now, "up")
    make_tick(shop, "usa", now, "down")
    make_tick(shop, "india", now - timedelta(days=2), "up")
    make_tick(shop, "india", now - timedelta(days=5), "up")  # before the 3 days asked for

    found = days_of([shop.pk, idle.pk], 3, now)

    assert found[shop.pk].first == now.date() - timedelta(days=2)
    assert (found[shop.pk].checks, found[shop.pk].up, found[shop.pk].maintenance_checks) == (
        [1, 0, 2],
        [1, 0, 1],
        [0] * 3,
    )
    assert (found[idle.pk].checks, found[idle.pk].up) == ([0] * 3, [0] * 3)


def test_the_page_shows_open_incidents_first_with_components_in_page_order_and_updates_newest_first(alice):
    shop = make_monitor(alice, "https://shop.example/", name="shop-private")
    api = make_monitor(alice, "https://api.example/", name="api-private")
    sections = [
        {"name": "Website", "components": [{"monitor": shop, "name": "Shop <b>"}]},
        {"name": "Developers", "components": [{"monitor": api, "name": "API"}]},
    ]
    page = save_page(personal(alice), None, {"slug": "acme", "title": "Acme", "description": ""}, sections)
    shop_c, api_c = (page.sections.get(name=name).components.get() for name in ("Website", "Developers"))
    now = timezone.now()
    old = open_incident(
        page, "Old and open", "investigating", "Looking.", [api_c, shop_c], now=now - timedelta(days=30)
    )
    recent = open_incident(page, "Recent", "investigating", "First.", [], now=now - timedelta(hours=2))
    post_update(recent, "monitoring", "Second.", now=now - timedelta(hours=1))
    post_update(recent, "resolved", "Third.", now=now - timedelta(minutes=30))
    gone = open_incident(page, "Long gone", "investigating", "x", [shop_c], now=now - timedelta(days=20))
    post_update(gone, "resolved", "y", now=now - timedelta(days=19))

    data = Client().get("/status/acme/status.json").json()
    html = Client().get("/status/acme/").content.decode()

    assert [incident["title"] for incident in data["incidents"]] == ["Old and open", "Recent"]
    assert data["incidents"][0]["components"] == ["Shop <b>", "API"]
    assert data["incidents"][1]["components"] == []
    assert [update["message"] for update in data["incidents"][1]["updates"]] == ["Third.", "Second.", "First."]
    assert data["incidents"][1]["status"] == "resolved" and data["incidents"][1]["resolved_at"]
    assert f'id="incident-{old.pk}"' in html and f'id="incident-{recent.pk}"' in html
    assert "Affected: Shop &lt;b&gt;, API" in html and "Shop <b>" not in html
    assert "<strong>Monitoring</strong>" in html
    assert "Long gone" not in html
