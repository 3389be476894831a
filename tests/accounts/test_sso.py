"""OpenID Connect single sign-on against a real provider: the npm package oidc-provider, run on this machine's
Node.js for the module (tests/accounts/oidc_provider.mjs). Nothing of the protocol is mocked: the browser's way
through the provider is driven with `requests`, the app exchanges the code, checks the signed ID token against the
provider's published keys and reads the userinfo endpoint over HTTP."""

import json
import shutil
import socket
import subprocess
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
from django.urls import reverse

from isms.accounts.models import User
from isms.foundation.roles import Role
from tests.conftest import skip_or_fail
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("oidc_provider.mjs")
CLIENT_ID, CLIENT_SECRET = "isms-tests", "a-client-secret-for-tests-only"
ACCOUNTS = {
    "ada": {"email": "Ada@Example.com", "email_verified": True, "given_name": "Ada", "family_name": "L"},
    "newbie": {"email": "newbie@example.com", "email_verified": True, "given_name": "New", "groups": ["compliance"]},
    "unverified": {"email": "ada@example.com", "email_verified": False},
    "boss": {"email": "bob@example.com", "email_verified": True, "groups": ["admin"]},
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def provider():
    """The provider on a free port for this module's tests; its issuer address."""
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "oidc-provider").is_dir():
        skip_or_fail("Node.js and the npm package oidc-provider are needed (npm ci) for the single sign-on tests")
    port = _free_port()
    config = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": ["http://testserver/accounts/sso/callback/"],
        "accounts": ACCOUNTS,
        "role_claim": "groups",
    }
    proc = subprocess.Popen(
        [node, str(SCRIPT), str(port), json.dumps(config)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        if not line.startswith("ready "):
            pytest.fail(f"the OpenID Connect provider did not start: {line!r}")
        yield line.split()[1]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def sso(provider, settings):
    """Single sign-on turned on, configured from the provider's discovery document as an administrator would."""
    discovery = requests.get(f"{provider}/.well-known/openid-configuration", timeout=5).json()
    settings.OIDC_ENABLED = True
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = discovery["authorization_endpoint"]
    settings.OIDC_OP_TOKEN_ENDPOINT = discovery["token_endpoint"]
    settings.OIDC_OP_USER_ENDPOINT = discovery["userinfo_endpoint"]
    settings.OIDC_OP_JWKS_ENDPOINT = discovery["jwks_uri"]
    settings.OIDC_PROVIDER_NAME = "Northwind sign-in"
    return settings


def sign_in_through_provider(client, login: str, next_url: str = ""):
    """Start at the app, sign in at the provider as `login`, come back: the app's answer to the callback."""
    start = client.get(reverse("sso_start") + (f"?next={next_url}" if next_url else ""))
    assert start.status_code == 302
    url = start["Location"]
    browser = requests.Session()
    for _ in range(10):
        answer = browser.get(url, allow_redirects=False, timeout=10)
        if answer.is_redirect:
            url = urljoin(url, answer.headers["Location"])
            if url.startswith("http://testserver/"):
                return client.get(url.removeprefix("http://testserver"))
        elif answer.status_code == 200 and answer.text == "login required":
            url = f"{url}?login={login}"
        else:
            pytest.fail(f"the provider answered {answer.status_code}: {answer.text[:200]}")
    pytest.fail("too many redirects at the provider")


def test_the_login_page_offers_single_sign_on_only_when_it_is_set_up(client, db, sso):
    assert "Sign in with Northwind sign-in" in client.get(reverse("login")).content.decode()
    sso.OIDC_ENABLED = False
    assert "Sign in with" not in client.get(reverse("login")).content.decode()
    assert client.get(reverse("sso_start")).status_code == 404


def test_an_existing_account_is_matched_by_email_and_keeps_its_role(client, db, sso):
    ada = UserFactory(username="ada", email="ada@example.com", role=Role.VIEWER)
    response = sign_in_through_provider(client, "ada", next_url=reverse("controls:index"))
    assert response.status_code == 302 and response["Location"] == reverse("controls:index")
    assert client.get(reverse("dashboard")).context["user"] == ada
    ada.refresh_from_db()
    assert ada.role == Role.VIEWER  # the provider says nothing about roles unless OIDC_ROLE_CLAIM names a claim


def test_an_unknown_address_is_refused_unless_accounts_may_be_made(client, db, sso):
    response = sign_in_through_provider(client, "newbie")
    assert response.status_code == 302 and response["Location"] == reverse("login")
    page = client.get(reverse("login")).content.decode()
    assert "no account here has the email address newbie@example.com" in page
    assert not User.objects.filter(email="newbie@example.com").exists()
    assert client.get(reverse("dashboard")).status_code == 302  # not signed in

    sso.OIDC_CREATE_USERS = True
    sign_in_through_provider(client, "newbie")
    made = User.objects.get(email="newbie@example.com")
    assert made.role == Role.OWNER and made.first_name == "New"  # the provider's groups are not read
    assert not made.has_usable_password()


def test_the_role_is_taken_from_the_provider_only_when_configured(client, db, sso):
    bob = UserFactory(username="bob", email="bob@example.com", role=Role.OWNER)
    sign_in_through_provider(client, "boss")
    bob.refresh_from_db()
    assert bob.role == Role.OWNER
    client.post(reverse("logout"))

    sso.OIDC_ROLE_CLAIM = "groups"
    sign_in_through_provider(client, "boss")
    bob.refresh_from_db()
    assert bob.role == Role.ADMIN


def test_an_unverified_address_or_a_deactivated_account_is_refused(client, db, sso):
    UserFactory(username="ada", email="ada@example.com", role=Role.OWNER)
    sign_in_through_provider(client, "unverified")
    assert "has not verified your email address" in client.get(reverse("login")).content.decode()

    User.objects.filter(username="ada").update(is_active=False)
    sign_in_through_provider(client, "ada")
    assert "Your account here is deactivated" in client.get(reverse("login")).content.decode()
    assert client.get(reverse("dashboard")).status_code == 302


def test_two_step_sign_in_still_applies_after_the_provider(client, db, sso):
    sso.MFA_REQUIRED_ROLES = ["compliance"]
    UserFactory(username="ada", email="ada@example.com", role=Role.COMPLIANCE)
    sign_in_through_provider(client, "ada")
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("mfa_enrol"))


def test_a_forged_callback_signs_nobody_in(client, db, sso):
    UserFactory(username="ada", email="ada@example.com")
    response = client.get(reverse("sso_callback") + "?code=made-up&state=made-up")
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert client.get(reverse("dashboard")).status_code == 302


def test_a_code_the_provider_refuses_is_a_message_not_an_error(client, db, sso):
    """The state is this browser's, but the code is not one the provider issued: the token request fails."""
    start = client.get(reverse("sso_start"))
    state = dict(p.split("=", 1) for p in start["Location"].split("?", 1)[1].split("&"))["state"]
    response = client.get(reverse("sso_callback") + f"?code=made-up&state={state}")
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert "Single sign-on did not complete" in client.get(reverse("login")).content.decode()


def test_a_password_sign_in_is_untouched_by_single_sign_on(client, db, sso):
    UserFactory(username="ada", email="ada@example.com")
    url = reverse("login") + "?code=x&state=y"
    response = client.post(url, {"username": "ada", "password": "correct horse battery staple"})
    assert response.status_code == 302
