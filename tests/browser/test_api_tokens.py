"""API tokens and docs (evidence/api/) in a real browser: make a token, copy its secret, use it, revoke it;
the Swagger docs render from our own static files without a single request leaving the server."""

import json
import urllib.error
import urllib.request

import pytest

from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _tasks(url: str, secret: str) -> tuple[int, dict]:
    # The live test server's own address.
    request = urllib.request.Request(f"{url}/api/v1/tasks/", headers={"Authorization": f"Bearer {secret}"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def test_make_use_and_revoke_a_token_in_the_browser(live_server, page, screenshot, sign_in):
    UserFactory(username="owner", role="owner")
    page.goto(f"{live_server.url}/api/tokens/")
    sign_in("owner", lands_on="/api/tokens/")
    assert page.get_by_text("You have no tokens yet.").is_visible()

    page.get_by_role("link", name="New token").click()
    page.get_by_label("Name").fill("Monthly scan upload")
    page.get_by_label("Read my open tasks").check()
    screenshot("api-token-form")
    page.get_by_role("button", name="Make the token").click()
    assert page.get_by_text("Copy the secret now: it is shown only this once.").is_visible()
    secret = page.get_by_label("Secret").input_value()
    screenshot("api-token-created")

    assert _tasks(live_server.url, secret) == (200, {"count": 0, "next": None, "previous": None, "results": []})

    page.get_by_role("link", name="Done").click()
    assert page.get_by_role("cell", name="Monthly scan upload", exact=True).is_visible()
    assert secret not in page.content()
    page.get_by_role("button", name="Revoke Monthly scan upload").click()
    assert page.get_by_text("Revoked “Monthly scan upload”: it stops working at once.").is_visible()
    screenshot("api-tokens-revoked")

    status, body = _tasks(live_server.url, secret)
    assert status == 401 and body["detail"].startswith("This token was revoked on ")


def test_the_swagger_docs_render_from_local_files_only(live_server, page, screenshot):
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{live_server.url}/api/docs/")
    page.locator(".opblock-summary-path", has_text="/api/v1/evidence/").first.wait_for()
    assert page.get_by_role("button", name="Authorize").is_visible()
    screenshot("api-docs")
    outside = [url for url in requested if not url.startswith(live_server.url) and not url.startswith("data:")]
    assert outside == []
