"""A session ends at once when its person is deactivated or given another role; the login page says why."""

import pytest
from django.urls import reverse

from isms.accounts import services
from isms.foundation.roles import Role
from tests.factories import UserFactory

PASSWORD = "correct horse battery staple"


@pytest.fixture
def bob_signed_in(client, db):
    bob = UserFactory(username="bob", role=Role.COMPLIANCE)
    assert client.post(reverse("login"), {"username": "bob", "password": PASSWORD}).status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200
    return bob


def test_deactivating_ends_the_session(client, bob_signed_in, admin_user):
    services.user_set_active(user=bob_signed_in, by=admin_user, active=False)
    response = client.get(reverse("dashboard"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("login"))
    assert "your account was deactivated" in response.content.decode()
    assert "_auth_user_id" not in client.session
    services.user_set_active(user=bob_signed_in, by=admin_user, active=True)  # back again: still signed out
    assert client.get(reverse("dashboard")).status_code == 302


def test_a_role_change_ends_the_session(client, bob_signed_in, admin_user):
    services.user_update(
        user=bob_signed_in, by=admin_user, role=Role.VIEWER, department=None, first_name="Bob", last_name="", email=""
    )
    response = client.get(reverse("dashboard"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("login"))
    assert "your role was changed" in response.content.decode()
    assert client.post(reverse("login"), {"username": "bob", "password": PASSWORD}).status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200  # signed in again with the new role


def test_other_changes_keep_the_session(client, bob_signed_in, admin_user):
    services.user_update(
        user=bob_signed_in,
        by=admin_user,
        role=Role.COMPLIANCE,
        department=None,
        first_name="Robert",
        last_name="B",
        email="rob@example.com",
    )
    assert client.get(reverse("dashboard")).status_code == 200


def test_a_password_changed_elsewhere_ends_the_session(client, bob_signed_in):
    bob_signed_in.set_password("another long passphrase 2026")
    bob_signed_in.save()
    assert client.get(reverse("dashboard")).status_code == 302
