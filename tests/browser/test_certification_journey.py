"""A compliance manager signs in, opens the certification timeline and signs out, in a real browser."""

import pytest

from isms.web.demo import demo_load

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_compliance_manager_sees_the_certification_timeline(live_server, page, screenshot, sign_in):
    demo_load(password="browser-test-pass")

    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    sign_in("compliance", "browser-test-pass")
    assert page.get_by_role("heading", name="Northwind Analytics Ltd").is_visible()
    screenshot("dashboard-compliance")

    page.get_by_role("link", name="Open the certification timeline").click()
    page.wait_for_url("**/organisation/cycle/")
    assert page.get_by_role("heading", name="Certification timeline").is_visible()
    assert page.get_by_test_id("today-marker").is_visible()
    assert page.get_by_role("cell", name="Surveillance audit (year 1)").is_visible()
    assert page.get_by_role("link", name="Adjust date").count() == 3
    screenshot("certification-timeline")

    page.locator("#user-menu").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/")
    assert page.get_by_text("You have signed out.").is_visible()
    page.goto(f"{live_server.url}/organisation/cycle/")
    assert "/accounts/login/" in page.url


def test_wrong_password_shows_a_message_in_the_browser(live_server, page):
    demo_load(password="browser-test-pass")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("compliance")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_text("Please enter a correct username and password").is_visible()
