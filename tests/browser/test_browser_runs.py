"""The browser tests' own machinery works: Chromium signs a staff user in to the admin on the
live server (its static files served), and a JavaScript error on a page fails the test."""

from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from accounts.models import User
from tests.browser.conftest import fail_on_js_errors
from tests.conftest import PASSWORD


def test_a_staff_user_signs_in_to_the_admin_in_chromium(page, site):
    User.objects.create_superuser(email="staff@example.com", password=PASSWORD)
    static = []
    page.on("response", lambda response: "/static/" in response.url and static.append(response))

    page.goto(f"{site}/admin/login/")
    page.locator("#id_username").fill("staff@example.com")
    page.locator("#id_password").fill(PASSWORD)
    page.locator('input[type="submit"]').click()

    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    expect(page.get_by_title("Models in the Monitors application")).to_be_visible()
    assert page.url == f"{site}/admin/"
    # The admin's stylesheets and scripts came from the live server, not a 404.
    assert static, "the admin pages loaded no static files"
    assert {(response.url, response.status) for response in static if response.status != 200} == set()
    assert page.locator("#header").evaluate("el => getComputedStyle(el).display") == "flex"


def test_a_javascript_error_on_the_page_fails_the_test(page, js_errors):
    html = "<title>broken</title><script>console.error('shown to nobody'); window.noSuchFunction();</script>"
    with page.expect_event("pageerror"), page.expect_console_message(lambda message: message.type == "error"):
        page.goto("data:text/html," + quote(html))

    assert len(js_errors) == 2, js_errors
    assert any("console.error" in error and "shown to nobody" in error for error in js_errors), js_errors
    assert any(error.startswith("uncaught TypeError") and "noSuchFunction" in error for error in js_errors), js_errors
    # What the page fixture does with them at teardown:
    with pytest.raises(pytest.fail.Exception, match="JavaScript errors on the page"):
        fail_on_js_errors(js_errors)
    js_errors.clear()  # expected here; left in the list, they would fail this test


def test_a_file_of_the_page_that_fails_to_load_counts_but_the_pages_own_status_does_not(page, site, js_errors):
    response = page.goto(f"{site}/no-such-page/")
    assert response.status == 404
    assert js_errors == []  # the page's own status: its test's to judge

    with page.expect_console_message(lambda message: message.type == "error"):
        page.set_content(f'<link rel="stylesheet" href="{site}/static/no-such.css"><p>unstyled</p>')
    assert len(js_errors) == 1 and "/static/no-such.css" in js_errors[0] and "404" in js_errors[0], js_errors
    js_errors.clear()
