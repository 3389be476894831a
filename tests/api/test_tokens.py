"""Token lifecycle: made in the UI with the secret shown once and only its hash kept; revoked, expired,
unknown tokens, inactive accounts and browser sessions are refused with a 401 that says why."""

import datetime
import hashlib
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from evidence.api.services import token_create
from evidence.models import ApiToken
from tests.factories import UserFactory

TASKS = "/api/v1/tasks/"


def _service_account():
    bot = UserFactory(username="scanner-bot", role="owner")
    bot.set_unusable_password()
    bot.save()
    return bot


def _secret_from(page: str) -> str:
    return re.search(r'id="token-secret" type="text" readonly value="([^"]+)"', page).group(1)


def test_a_token_made_in_the_ui_shows_its_secret_once_and_keeps_only_its_hash(client_as, owner):
    client = client_as(owner)
    response = client.post(
        reverse("api:token_create"),
        {"name": "Scanner upload", "scopes": ["evidence:write", "tasks:read"], "expires_on": ""},
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    page = response.content.decode()
    secret = _secret_from(page)
    assert "shown only this once" in page

    token = ApiToken.objects.get()
    assert token.user == owner and token.created_by == owner
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.prefix == secret[:8]
    assert token.scopes == ["evidence:write", "tasks:read"]
    assert token.expires_at is None
    assert not ApiToken.objects.filter(key_hash=secret).exists()  # the secret itself is nowhere

    listing = client.get(reverse("api:tokens")).content.decode()
    assert "Scanner upload" in listing and token.prefix in listing
    assert secret not in listing  # never shown again

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get(TASKS).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_the_form_turns_an_expiry_date_into_the_end_of_that_day(client_as, owner):
    day = timezone.localdate() + datetime.timedelta(days=30)
    client_as(owner).post(
        reverse("api:token_create"), {"name": "CI", "scopes": ["tasks:read"], "expires_on": day.isoformat()}
    )
    token = ApiToken.objects.get()
    assert timezone.localtime(token.expires_at) == timezone.make_aware(
        datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min)
    )


def test_the_form_refuses_no_scope_and_a_past_expiry(client_as, owner):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    response = client_as(owner).post(
        reverse("api:token_create"), {"name": "CI", "scopes": [], "expires_on": yesterday.isoformat()}
    )
    assert response.status_code == 200
    assert "That day is in the past." in response.content.decode()
    assert not ApiToken.objects.exists()


def test_a_revoked_token_is_refused_with_the_date_it_was_revoked(client_as, api, owner, clock):
    client = api(owner)
    assert client.get(TASKS).status_code == 200
    clock.move_to(datetime.datetime(2026, 3, 3, 10, 0, tzinfo=datetime.UTC))
    response = client_as(owner).post(reverse("api:token_revoke", args=[client.token.pk]))
    assert response.status_code == 302
    client.token.refresh_from_db()
    assert client.token.revoked_by == owner

    response = client.get(TASKS)
    assert response.status_code == 401
    assert response.json()["detail"].startswith("This token was revoked on 03 March 2026 at 10:00.")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_an_expired_token_is_refused_with_the_date_it_expired(api, owner, clock):
    client = api(owner, expires_at=timezone.now() + datetime.timedelta(days=1))
    assert client.get(TASKS).status_code == 200
    clock.advance(days=2)
    response = client.get(TASKS)
    assert response.status_code == 401
    expected = f"This token expired on {timezone.localtime(client.token.expires_at):%d %B %Y at %H:%M}."
    assert response.json()["detail"].startswith(expected)


def test_a_deactivated_account_and_an_account_that_became_an_auditor_are_refused(api, owner):
    client = api(owner)
    owner.role = "auditor"
    owner.save()
    response = client.get(TASKS)
    assert response.status_code == 401 and "no longer has API access" in response.json()["detail"]
    owner.role = "owner"
    owner.is_active = False
    owner.save()
    response = client.get(TASKS)
    assert response.status_code == 401 and "deactivated" in response.json()["detail"]


@pytest.mark.parametrize(
    "header, message",
    [
        (None, "This API needs a token. Send the token as: Authorization: Bearer <token>."),
        ("Bearer not-a-real-token", "This token is not recognised."),
        ("Token abc", "This API takes a token, not Token."),
        ("Basic dXNlcjpwYXNz", "This API takes a token, not Basic."),
        ("Bearer", "The Authorization header is malformed."),
        ("Bearer a b", "The Authorization header is malformed."),
    ],
)
def test_missing_unknown_or_malformed_credentials_get_a_401_saying_what_to_send(db, header, message):
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(TASKS)
    assert response.status_code == 401
    assert response.json()["detail"].startswith(message)


def test_a_signed_in_browser_session_is_not_a_credential_for_the_api(client_as, owner):
    client = client_as(owner)
    assert client.get(TASKS).status_code == 401
    assert client.post("/api/v1/evidence/", {"type": "note", "note": "x"}).status_code == 401


def test_an_owner_may_not_revoke_someone_elses_token_but_a_manager_may(client_as, compliance, owner, viewer):
    token, _ = token_create(user=owner, by=owner, name="mine", scopes=["tasks:read"])
    response = client_as(viewer).post(reverse("api:token_revoke", args=[token.pk]))
    assert response.status_code == 404  # someone else's token is outside their reach: not even its id answers
    token.refresh_from_db()
    assert token.revoked_at is None

    response = client_as(compliance).get(reverse("api:tokens"))
    assert "mine" in response.content.decode()  # managers see everyone's tokens
    client_as(compliance).post(reverse("api:token_revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == compliance


def test_others_do_not_see_my_tokens(client_as, owner, viewer):
    token_create(user=owner, by=owner, name="owner's scanner", scopes=["tasks:read"])
    page = client_as(viewer).get(reverse("api:tokens")).content.decode()
    assert "owner&#x27;s scanner" not in page and "owner's scanner" not in page


def test_a_manager_makes_a_token_for_a_service_account_but_never_for_a_person(client_as, compliance, owner):
    bot = _service_account()
    client = client_as(compliance)
    form = client.get(reverse("api:token_create")).content.decode()
    assert "scanner-bot" in form and f'value="{owner.pk}"' not in form

    response = client.post(
        reverse("api:token_create"), {"name": "Scanner", "scopes": ["evidence:write"], "acts_as": bot.pk}
    )
    assert response.status_code == 200
    token = ApiToken.objects.get()
    assert token.user == bot and token.created_by == compliance

    response = client.post(
        reverse("api:token_create"), {"name": "Impersonate", "scopes": ["evidence:write"], "acts_as": owner.pk}
    )
    assert "Select a valid choice" in response.content.decode()
    assert ApiToken.objects.count() == 1


def test_an_owner_cannot_choose_whom_the_token_acts_as(client_as, owner):
    bot = _service_account()
    client_as(owner).post(reverse("api:token_create"), {"name": "x", "scopes": ["tasks:read"], "acts_as": bot.pk})
    assert ApiToken.objects.get().user == owner
