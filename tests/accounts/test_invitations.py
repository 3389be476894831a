"""An administrator invites a person: the email's link lets them choose a password once, until INVITATION_DAYS
have passed; an expired, used or replaced link is refused saying what to do."""

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.urls import reverse

from isms.accounts.models import User
from isms.foundation.roles import Role
from isms.notices import engine
from isms.notices.models import Notice

NEW_PASSWORD = "a long and private passphrase 2026"


def invite(client, admin_user, **fields):
    client.force_login(admin_user)
    data = {"first_name": "Nia", "last_name": "Okafor", "email": "nia@example.com", "role": "auditor", **fields}
    return client.post(reverse("accounts:person_invite"), data)


def sent_link() -> str:
    """Deliver the invitations waiting (as the worker would) and return the link of the last email."""
    for notice in Notice.objects.filter(kind="accounts.invitation", sent_at__isnull=True):
        engine.deliver(notice.pk)
    body = mail.outbox[-1].body
    return re.search(r"http://\S+/accounts/invitation/\?token=\S+", body).group(0)


def open_link(client, link: str):
    parts = urlsplit(link)
    return client.get(f"{parts.path}?{parts.query}")


@pytest.fixture
def invited(client, admin_user, clock):
    response = invite(client, admin_user)
    assert response.status_code == 302
    client.post(reverse("logout"))
    return User.objects.get(email="nia@example.com")


def test_the_invited_person_chooses_a_password_and_signs_in(client, invited, clock):
    assert invited.role == Role.AUDITOR and not invited.has_usable_password()
    link = sent_link()
    assert mail.outbox[-1].to == ["nia@example.com"] and "nia" in mail.outbox[-1].body  # the username to sign in with
    page = open_link(client, link)
    assert page.status_code == 200 and "Choose a password" in page.content.decode()
    token = page.context["token"]
    done = client.post(reverse("invitation"), {"token": token, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == f"{reverse('login')}?username=nia"
    assert client.post(reverse("login"), {"username": "nia", "password": NEW_PASSWORD}).status_code == 302
    assert client.get(reverse("dashboard")).status_code in (200, 302)
    assert "_auth_user_id" in client.session


def test_a_used_link_is_refused(client, invited, clock):
    link = sent_link()
    token = open_link(client, link).context["token"]
    client.post(reverse("invitation"), {"token": token, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    again = open_link(client, link)
    assert again.status_code == 410 and "has been used already" in again.content.decode()
    post = client.post(reverse("invitation"), {"token": token, "password1": "x" * 20, "password2": "x" * 20})
    assert post.status_code == 410
    signed_in = client.post(reverse("login"), {"username": "nia", "password": NEW_PASSWORD})
    assert signed_in.status_code == 302  # the first password stands


def test_an_expired_link_is_refused(client, invited, clock, settings):
    link = sent_link()
    clock.advance(days=settings.INVITATION_DAYS, minutes=1)
    page = open_link(client, link)
    assert page.status_code == 410 and "This invitation has expired. Ask your administrator" in page.content.decode()


def test_a_link_still_works_on_its_last_day(client, invited, clock, settings):
    link = sent_link()
    clock.advance(days=settings.INVITATION_DAYS, minutes=-1)
    assert open_link(client, link).status_code == 200


def test_a_new_invitation_replaces_the_earlier_link(client, invited, admin_user, clock):
    first = sent_link()
    client.force_login(admin_user)
    client.post(reverse("accounts:person_invitation_resend", args=[invited.pk]))
    client.post(reverse("logout"))
    second = sent_link()
    assert second != first
    assert "A newer invitation was sent" in open_link(client, first).content.decode()
    assert open_link(client, second).status_code == 200


def test_a_tampered_link_is_refused(client, invited, clock):
    link = sent_link()
    page = open_link(client, link[:-3] + "xyz")
    assert page.status_code == 410 and "not valid" in page.content.decode()


def test_a_deactivated_person_cannot_use_their_invitation(client, invited, admin_user, clock):
    link = sent_link()
    User.objects.filter(pk=invited.pk).update(is_active=False)
    assert "no longer active" in open_link(client, link).content.decode()


def test_the_password_must_be_typed_twice_the_same_and_be_strong(client, invited, clock):
    token = open_link(client, sent_link()).context["token"]
    differ = client.post(reverse("invitation"), {"token": token, "password1": NEW_PASSWORD, "password2": "other"})
    assert "The two passwords differ" in differ.content.decode()
    weak = client.post(reverse("invitation"), {"token": token, "password1": "12345678", "password2": "12345678"})
    assert weak.status_code == 200 and "too common" in weak.content.decode()
    assert not User.objects.get(pk=invited.pk).has_usable_password()


def test_an_email_address_someone_has_is_refused(client, admin_user, owner, clock):
    response = invite(client, admin_user, email=owner.email.upper())
    assert response.status_code == 200
    assert "Someone already has this email address" in response.content.decode()
    bad = invite(client, admin_user, email="not-an-address", role="boss")
    assert "Enter a valid email address" in bad.content.decode()
    assert "Select a valid choice" in bad.content.decode()


def test_the_link_s_token_is_hidden_in_logs(invited, clock):
    from isms.foundation.logs import redact

    link = sent_link()
    token = link.split("token=", 1)[1]
    assert token not in redact(f'"GET {link} HTTP/1.1" 200')
