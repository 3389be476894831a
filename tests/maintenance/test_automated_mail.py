"""Every notice says it is automated mail (no out-of-office replies come back) with a Message-ID on the site's domain;
the weekly digests are lists a person can leave: a List-Id, a List-Unsubscribe (one-click too) and a link in the
email to a page that turns their digest off, and on again."""

import datetime
import re

from django.core import mail
from django.test import override_settings

from isms.maintenance import notices
from isms.maintenance.digests import digest_token
from isms.notices import engine
from isms.notices.models import Notice
from tests.factories import make_schedule


def digests(send_now, clock) -> dict:
    with send_now(execute=True):
        notices.plan_digests(today=clock.today)
    return {m.to[0]: m for m in mail.outbox}


def headers(message):
    return message.message()


def open_work(owner, clock):
    make_schedule(owner=owner, title="Access review", rrule="", start_date=clock.today + datetime.timedelta(days=3))


@override_settings(SITE_URL="https://isms.example.org")
def test_every_notice_is_automated_mail_with_a_message_id_on_the_site(clock, owner, compliance, send_now):
    clock.move_to(clock.today - datetime.timedelta(days=20))
    make_schedule(owner=owner, title="Access review", rrule="", start_date=clock.today + datetime.timedelta(days=14))
    clock.advance(days=20)
    with send_now(execute=True):
        notices.scan(today=clock.today, now=clock.now)  # overdue notice (and reminders caught up)
        notices.plan_digests(today=clock.today)
    kinds = set(Notice.objects.filter(sent_at__isnull=False).values_list("kind", flat=True))
    assert {"maintenance.overdue", "maintenance.owner_digest", "maintenance.team_digest"} <= kinds
    assert len(mail.outbox) == Notice.objects.filter(sent_at__isnull=False).count()
    for message in mail.outbox:
        sent = headers(message)
        assert sent["Auto-Submitted"] == "auto-generated", message.subject
        assert sent["X-Auto-Response-Suppress"] == "All"
        assert re.fullmatch(r"<notice\.[0-9a-f]{40}@isms\.example\.org>", sent["Message-ID"]), sent["Message-ID"]


@override_settings(SITE_URL="https://isms.example.org")
def test_digests_are_lists_with_an_unsubscribe_link(clock, owner, compliance, send_now):
    open_work(owner, clock)
    sent = digests(send_now, clock)
    own, team = headers(sent[owner.email]), headers(sent[compliance.email])
    assert own["List-Id"] == "Weekly ISMS digest <owner-digest.isms.example.org>"
    assert team["List-Id"] == "Weekly compliance digest <team-digest.isms.example.org>"
    for message, sent_headers in ((sent[owner.email], own), (sent[compliance.email], team)):
        link = sent_headers["List-Unsubscribe"].strip("<>")
        assert link.startswith("https://isms.example.org/calendar/digest/")
        assert sent_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert link in message.body  # the same link in the text
        assert f'href="{link}"' in message.alternatives[0][0]  # and in the HTML
    assert own["List-Unsubscribe"] != team["List-Unsubscribe"]  # each person's own


def test_the_link_turns_the_digest_off_and_on_again(client, clock, owner, compliance, send_now):
    open_work(owner, clock)
    link = headers(digests(send_now, clock)[owner.email])["List-Unsubscribe"].strip("<>")
    path = link[link.index("/calendar/") :]

    page = client.get(path)  # signed out, as from a mail client
    assert page.status_code == 200
    assert "Stop my weekly digest" in page.content.decode()
    owner.refresh_from_db()
    assert owner.receives_digests  # opening the page changes nothing (link scanners open links)

    after = client.post(path, {"receive": "off"}, follow=True)
    assert "Your weekly digest is off." in after.content.decode()
    assert "Send me the weekly digest again" in after.content.decode()
    owner.refresh_from_db()
    assert not owner.receives_digests

    mail.outbox.clear()
    clock.advance(days=7)
    sent = digests(send_now, clock)
    assert owner.email not in sent and compliance.email in sent  # only that person's digest stops

    client.post(path, {"receive": "on"})
    owner.refresh_from_db()
    assert owner.receives_digests
    clock.advance(days=7)
    mail.outbox.clear()
    assert owner.email in digests(send_now, clock)


def test_one_click_unsubscribe_from_the_mail_client(client, clock, compliance, send_now):
    link = headers(digests(send_now, clock)[compliance.email])["List-Unsubscribe"].strip("<>")
    path = link[link.index("/calendar/") :]
    answer = client.post(path, {"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    compliance.refresh_from_db()
    assert not compliance.receives_digests


def test_a_digest_planned_before_it_was_turned_off_is_not_sent(
    clock, owner, send_now, django_capture_on_commit_callbacks
):
    open_work(owner, clock)
    with django_capture_on_commit_callbacks(execute=False):
        notices.plan_digests(today=clock.today)  # planned, not yet delivered
    owner.receives_digests = False
    owner.save()
    notice = Notice.objects.get(recipient=owner, kind="maintenance.owner_digest")
    assert engine.deliver(notice.pk) == "cancelled"


def test_an_altered_link_opens_nothing(client, owner):
    token = digest_token(owner)
    assert client.get(f"/calendar/digest/{token}x/").status_code == 404
    assert client.post(f"/calendar/digest/{token}x/", {"receive": "off"}).status_code == 404
    owner.refresh_from_db()
    assert owner.receives_digests
