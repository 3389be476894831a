"""A session ends after SESSION_IDLE_MINUTES without a request and, however busy, SESSION_MAX_HOURS after sign-in;
the person lands on the login page told why, in words they can act on."""

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import UserFactory

PASSWORD = "correct horse battery staple"


@pytest.fixture
def signed_in(client, clock, db):
    UserFactory(username="alice")
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_the_defaults_are_an_hour_idle_and_twelve_hours_in_all():
    assert settings.SESSION_IDLE_MINUTES == 60 and settings.SESSION_MAX_HOURS == 12
    assert settings.SESSION_COOKIE_AGE <= 12 * 3600  # the stored session dies with it too


def test_a_session_survives_activity_within_the_idle_limit(signed_in, clock):
    for _ in range(4):
        clock.advance(minutes=50)
        assert signed_in.get(reverse("dashboard")).status_code == 200


def test_an_idle_session_ends_with_a_message(signed_in, clock):
    assert signed_in.get(reverse("dashboard")).status_code == 200
    clock.advance(minutes=61)
    response = signed_in.get(reverse("dashboard"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("login"))
    assert "signed out after 60 minutes without activity" in response.content.decode()
    assert "_auth_user_id" not in signed_in.session


def test_a_busy_session_still_ends_after_the_absolute_limit(signed_in, clock):
    for _ in range(12 * 2 - 1):
        clock.advance(minutes=30)
        assert signed_in.get(reverse("dashboard")).status_code == 200
    clock.advance(minutes=31)  # 12 hours and a minute after signing in
    response = signed_in.get(reverse("dashboard"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("login"))
    assert "signed in for 12 hours" in response.content.decode()


def test_the_limits_follow_the_settings(signed_in, clock, settings):
    settings.SESSION_IDLE_MINUTES = 5
    clock.advance(minutes=6)
    assert signed_in.get(reverse("dashboard")).status_code == 302
