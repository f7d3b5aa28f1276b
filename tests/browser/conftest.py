"""Browser tests: Debian's Chromium (uptime/browser.py finds it; `make test` installs it when
it may), driven by Playwright's sync API, against a live Django server over the test database.

Fixtures: `browser` (one Chromium for the session), `page` (a fresh context and page per
test that fails the test on any JavaScript error; `js_errors` is the list it checks), `site`
(the live server's base URL), `sign_in(page, user)`, `pipeline` (beat and the workers as real
processes) and `shoot(page, name)` (a screenshot). Every test here is marked `browser`.
"""

import asyncio
import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import PASSWORD
from tests.processes import Pipeline
from uptime.browser import INSTALL_HINT, chromium_path

HERE = Path(__file__).resolve().parent
SCREENSHOTS = HERE.parent.parent / "docs" / "screenshots"
# What this machine's Chromium needs (no sandbox as root, no GPU, and none of the background
# connections a closed network refuses); Playwright adds --headless and a new --user-data-dir.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}
TIMEOUT_MS = 10_000


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives Debian's Chromium through Playwright (tests/browser/)")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Mark every test here `browser`; one that touches the database gets the access real
    servers need (they see only committed data), with the seeded regions restored after it,
    unless it chose its own. First, so pytest-django orders them with the transactional tests."""
    for item in items:
        if HERE not in item.path.parents:
            continue
        item.add_marker(pytest.mark.browser)
        uses_db = {"db", "transactional_db", "live_server"} & set(item.fixturenames)
        if uses_db and item.get_closest_marker("django_db") is None:
            item.add_marker(pytest.mark.django_db(transaction=True, serialized_rollback=True))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test's report carries a screenshot of its page and the pipeline's logs."""
    report = yield
    if report.when == "call" and report.failed:
        page, tmp_path = item.funcargs.get("page"), item.funcargs.get("tmp_path")
        if page is not None and tmp_path is not None:
            path = tmp_path / "failure.png"
            try:
                page.screenshot(path=path, full_page=True)
                report.sections.append(("browser", f"the page at failure ({page.url}): {path}"))
            except Exception as exc:  # the browser itself may be what failed
                report.sections.append(("browser", f"no screenshot of the page at failure: {exc}"))
        pipeline = item.funcargs.get("pipeline")
        if pipeline is not None:
            report.sections.append(("pipeline logs", pipeline.logs()))
    return report


class PlaywrightLoop:
    """Playwright's sync API runs its event loop in a greenlet and leaves that loop marked as
    running in this thread between calls, which it needs when it resumes. Django refuses the
    ORM in a thread with a running loop (SynchronousOnlyOperation), and the tests after the
    browser tests expect none. So the mark is set only while browser tests run: restored
    before each one, cleared after it (and the ORM check, pointless here, lifted during it)."""

    loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def mark_running(cls) -> None:
        asyncio.events._set_running_loop(cls.loop)

    @staticmethod
    def clear() -> None:
        asyncio.events._set_running_loop(None)


@pytest.fixture(autouse=True)
def _orm_beside_sync_playwright(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    PlaywrightLoop.mark_running()
    yield
    PlaywrightLoop.clear()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, for the whole session; a missing binary fails each
    browser test with how to install it, never passes or skips it."""
    executable = chromium_path()
    if executable is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_FLAGS)
        PlaywrightLoop.loop = asyncio.get_running_loop()
        yield chromium
        PlaywrightLoop.mark_running()
        chromium.close()
    PlaywrightLoop.loop = None
    PlaywrightLoop.clear()


@pytest.fixture
def js_errors() -> list[str]:
    """The JavaScript errors of this test's pages: uncaught exceptions and console.error,
    which is also where Chromium reports a stylesheet, script, image or fetch of the page
    that failed to load. `page` fails the test if any is left at teardown; a test expecting
    one asserts it and clears the list."""
    return []


@pytest.fixture
def page(browser, js_errors, tmp_path):
    """A fresh context (no cookies, 1280x900) and page, closed after the test."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    context.on("console", lambda message: _console_error(message, js_errors))
    context.on("weberror", lambda error: js_errors.append(f"uncaught {error.error.name}: {error.error.message}"))
    page = context.new_page()
    yield page
    context.close()
    fail_on_js_errors(js_errors)


def _console_error(message, js_errors: list[str]) -> None:
    if message.type != "error":
        return
    url = message.location.get("url", "")
    if message.text.startswith("Failed to load resource"):
        # Chromium logs an HTTP error of every load here. A page's own status (a form sent back
        # with a 400, a 404 page) is what its test asserts, and Chromium asks for /favicon.ico
        # by itself; what counts is a file or request of the page's that failed.
        page = message.page
        if urlsplit(url).path == "/favicon.ico" or (page and url in {frame.url for frame in page.frames}):
            return
    js_errors.append(f"console.error at {url}:{message.location.get('lineNumber')}: {message.text}")


def fail_on_js_errors(js_errors: list[str]) -> None:
    if js_errors:
        pytest.fail("JavaScript errors on the page (users would see it broken):\n" + "\n".join(js_errors), False)


@pytest.fixture
def site(live_server, django_db_serialized_rollback) -> str:
    """The base URL (no trailing slash) of pytest-django's live server: a threaded server in
    this process over the test database, so a test's committed rows are what the pages show
    and its settings fixture applies. Static files are served by that server's
    StaticFilesHandler straight from the apps' static folders (pytest-django wraps it so when
    django.contrib.staticfiles is installed), so no collectstatic is needed."""
    return live_server.url


@pytest.fixture
def sign_in(site):
    """sign_in(page, user): sign in through the session login form at /login/ (fields
    `username`, the email, and `password`); the page is left where the login sent it."""

    def sign_in(page, user, password: str = PASSWORD) -> None:
        page.goto(f"{site}/login/")
        form = page.locator("form").filter(has=page.locator('input[name="username"]'))
        form.locator('input[name="username"]').fill(user.email)
        form.locator('input[name="password"]').fill(password)
        with page.expect_navigation():
            form.locator('[type="submit"], button:not([type])').click()
        if urlsplit(page.url).path == "/login/":
            shown = " ".join(page.locator(".errorlist, [role=alert]").all_inner_texts())
            pytest.fail(f"signing in as {user.email} failed: still on /login/ ({shown or 'no error shown'})")

    return sign_in


@pytest.fixture
def pipeline(transactional_db, django_db_serialized_rollback, broker, tmp_path):
    """Beat, a `-Q india` worker and the housekeeping worker (the outcome writer), as `make
    run` starts them, against the test database and an emptied broker, with the suite's
    short intervals allowed; ready once the health report shows all three. Stopped after
    the test; a failed test's report shows their logs."""
    pipeline = Pipeline(tmp_path / "pipeline")
    pipeline.start()
    try:
        pipeline.wait_until_ready()
        yield pipeline
    finally:
        pipeline.stop()


@pytest.fixture
def shoot(tmp_path):
    """shoot(page, name): a full-page PNG in docs/screenshots/<name>.png when
    UPTIME_SCREENSHOTS=1 (to refresh the committed ones), else in the test's tmp dir.
    Returns its path."""

    def shoot(page, name: str, full_page: bool = True) -> Path:
        folder = SCREENSHOTS if os.environ.get("UPTIME_SCREENSHOTS") == "1" else tmp_path
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        page.screenshot(path=path, full_page=full_page, animations="disabled")
        return path

    return shoot
