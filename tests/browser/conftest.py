"""A real Chromium (Debian's /usr/bin/chromium) driven by Playwright against the live test server.

Screenshots go to test-artifacts/screenshots/ (git-ignored) so a person can look at what the test saw. Every page a
test's browser shows is checked by axe-core for WCAG 2.1 A/AA (tests/browser/axe.py): a serious or critical
violation fails the test, naming the rule, the element, the page and who was signed in."""

import os
from pathlib import Path

import pytest

from tests.browser.axe import AXE_JS, AxeWatch
from tests.conftest import skip_or_fail

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
# Without these Chromium tries to reach Google's hosts, which this network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)")
    # Playwright's sync API runs an event loop in this thread; Django's ORM in the same thread is safe here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh browser tab; each document it shows is checked by axe-core (see tests/browser/axe.py)."""
    if not AXE_JS.exists():
        skip_or_fail(f"axe-core not found at {AXE_JS}: run `make test` (npm ci) once")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    watch = AxeWatch(page)
    yield page
    watch.wait()  # the last page the test saw
    context.close()
    if watch.findings or watch.errors:
        pytest.fail(watch.report(), pytrace=False)


@pytest.fixture
def screenshot(page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str):
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return take


#: The password UserFactory gives every user (tests/factories.py); demo_load takes its own.
PASSWORD = "correct horse battery staple"


@pytest.fixture
def sign_in(page, live_server):
    """sign_in(username, password=PASSWORD, lands_on="/"): sign in through the login page, as a person does, and
    wait until the browser lands on `lands_on` (a path; a page opened before signing in returns there)."""

    def go(username: str, password: str = PASSWORD, *, lands_on: str = "/") -> None:
        if "/accounts/login/" not in page.url:
            page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server.url}{lands_on}")

    return go
