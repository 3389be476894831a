"""Signing in and out, lockout after repeated failures, password change."""

import pytest
from django.conf import settings
from django.urls import reverse

import isms.settings as production_settings
from tests.factories import UserFactory

PASSWORD = "correct horse battery staple"


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


def login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_login_with_right_password_opens_dashboard(client, alice):
    response = login(client, "alice", PASSWORD)
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")
    assert client.get(reverse("dashboard")).status_code == 200


@pytest.mark.parametrize("username", ["alice", "nobody"])
def test_wrong_password_and_unknown_user_get_the_same_clear_message(client, alice, username):
    response = login(client, username, "wrong password")
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    assert "_auth_user_id" not in client.session


def test_inactive_user_cannot_sign_in(client, db):
    UserFactory(username="gone", is_active=False)
    response = login(client, "gone", PASSWORD)
    assert b"Please enter a correct username and password" in response.content
    assert "_auth_user_id" not in client.session


def test_lockout_after_repeated_failures_even_with_the_right_password(client, alice):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "alice", "wrong password")
    response = login(client, "alice", PASSWORD)
    assert response.status_code == 429
    assert b"Too many failed sign-in attempts" in response.content
    # How long, in words a person reads (never an ISO duration such as PT15M).
    assert b"blocked for 15 minutes after" in response.content and b"PT15M" not in response.content
    assert "_auth_user_id" not in client.session


def test_logout_ends_the_session(client_as, alice):
    client = client_as(alice)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 302  # back to login


def test_password_change(client_as, alice):
    client = client_as(alice)
    new = "a brand new passphrase 42"
    response = client.post(
        reverse("password_change"), {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(new)


def test_password_change_rejects_wrong_old_password(client_as, alice):
    client = client_as(alice)
    new = "a brand new passphrase 42"
    response = client.post(
        reverse("password_change"), {"old_password": "nope", "new_password1": new, "new_password2": new}
    )
    assert response.status_code == 200
    assert b"Your old password was entered incorrectly" in response.content


def test_production_hashes_passwords_with_argon2():
    assert production_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
