"""Every page passes axe-core's WCAG 2 A and AA rules (contrast, labels, names, landmarks,
ARIA) as Chromium renders it: signed out, with data, and with a form's errors showing."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.test_status_pages import seed_status_showcase
from tests.browser.test_web_pages import seed_showcase

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def violations(page) -> list[str]:
    results = Axe().run(page, options=WCAG_AA).response
    return [
        f"{rule['id']} ({rule['impact']}): {rule['help']} at {[node['target'] for node in rule['nodes'][:3]]}"
        for rule in results["violations"]
    ]


def test_axe_finds_what_it_is_here_for(page, site):
    page.set_content('<html lang="en"><title>t</title><main><input type="text"><p style="color:#ccc">faint</p></main>')
    found = " ".join(violations(page))
    assert "label" in found and "color-contrast" in found


def test_the_sign_in_and_reset_pages_pass_axe(page, site):
    for path in ("/login/", "/password-reset/"):
        page.goto(site + path)
        assert violations(page) == [], path


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/monitors/{shop}/",
        "/monitors/{shop}/?window=90d",
        "/monitors/new/",
        "/monitors/{shop}/edit/",
        "/channels/",
        "/channels/new/",
        "/maintenance/",
        "/maintenance/new/",
        "/password/",
        "/keys/",
        "/status-pages/",
        "/status-pages/new/",
    ],
)
def test_each_signed_in_page_passes_axe(page, site, sign_in, alice, path):
    shop = seed_showcase(alice)
    sign_in(page, alice)
    page.goto(site + path.format(shop=shop.pk))
    assert violations(page) == []


def test_a_form_showing_its_errors_passes_axe(page, site, sign_in, alice):
    sign_in(page, alice)
    page.goto(site + "/monitors/new/")
    page.get_by_role("button", name="Create monitor").click()
    page.locator("#form-errors").wait_for()
    assert violations(page) == []


def test_a_status_pages_incidents_page_passes_axe(page, site, sign_in, alice):
    status_page = seed_status_showcase(alice)
    sign_in(page, alice)
    page.goto(f"{site}/status-pages/{status_page.pk}/incidents/")
    assert violations(page) == []
    page.goto(f"{site}/status-pages/{status_page.pk}/edit/")
    assert violations(page) == []


def test_a_public_status_page_and_its_subscription_pages_pass_axe(page, site, alice):
    seed_status_showcase(alice)
    page.goto(site + "/status/acme/")
    assert violations(page) == []
    page.get_by_label("Email address").fill("fan@example.com")
    page.get_by_role("button", name="Subscribe").click()
    page.get_by_role("status").wait_for()
    assert violations(page) == []
