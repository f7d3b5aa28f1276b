"""API keys as a person makes them in Chromium: the key is shown once, works against the
API at once, is listed afterwards without its secret, and stops working when revoked."""

import re

import requests
from playwright.sync_api import expect

from tests.browser.test_accessibility import violations


def test_a_person_makes_a_key_uses_it_and_revokes_it(page, site, sign_in, alice, shoot):
    sign_in(page, alice)
    page.get_by_role("link", name="API keys").click()
    expect(page.get_by_role("heading", name="API keys")).to_be_visible()
    expect(page.get_by_text("No API keys yet.")).to_be_visible()

    page.get_by_label(re.compile(r"^Name")).fill("CI deploys")
    page.get_by_label(re.compile(r"^Role")).select_option("viewer")
    page.get_by_role("button", name="Make key").click()
    token = page.get_by_label("Key", exact=True).input_value()
    assert token.startswith("upt_")
    assert violations(page) == []
    shoot(page, "api-keys")

    headers = {"Authorization": f"Bearer {token}"}
    assert requests.get(f"{site}/api/monitors/", headers=headers, timeout=10).status_code == 200
    write = requests.post(f"{site}/api/monitors/", json={"name": "x"}, headers=headers, timeout=10)
    assert write.status_code == 403  # a viewer key reads only

    page.goto(f"{site}/keys/")  # the key is never shown again
    expect(page.get_by_label("Key", exact=True)).to_have_count(0)
    assert token not in page.content()
    row = page.locator("tr", has=page.get_by_role("rowheader", name="CI deploys"))
    expect(row).to_contain_text("Viewer")
    row.get_by_role("link", name="Revoke").click()
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("API key “CI deploys” is revoked.")).to_be_visible()
    expect(page.locator("tr", has_text="CI deploys")).to_contain_text("revoked")
    assert requests.get(f"{site}/api/monitors/", headers=headers, timeout=10).status_code == 401


def test_a_bad_expiry_is_shown_next_to_its_field(page, site, sign_in, alice):
    sign_in(page, alice)
    page.goto(f"{site}/keys/")
    page.get_by_label(re.compile(r"^Name")).fill("old")
    page.get_by_label("Expires (UTC)").fill("2001-01-01T00:00")
    page.get_by_role("button", name="Make key").click()
    expect(page.locator("#id_expires_at_error")).to_have_text("The expiry must be in the future.")
    expect(page.get_by_text("No API keys yet.")).to_be_visible()
