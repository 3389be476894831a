"""A crash between the mail server's "accepted" and our record: the notice is in doubt, visible, and sent again
with the same Message-ID once its claim is over, so none is lost and the repeat collapses in the mail client."""

import datetime
from smtplib import SMTPDataError
from unittest import mock

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.test import override_settings

from isms.maintenance.services import occurrence_complete
from isms.notices import engine
from isms.notices.models import Notice
from tests.notices.conftest import WorkerKilled

pytestmark = pytest.mark.django_db


def test_the_hand_over_is_recorded_before_the_mail_server_is_asked(make_notice, clock):
    notice = make_notice()
    seen = {}
    accept = EmailMessage.send

    def send(self, fail_silently=False):
        seen["row"] = Notice.objects.get(pk=notice.pk)
        seen["in_doubt"] = list(Notice.objects.in_doubt())
        return accept(self, fail_silently)

    with mock.patch.object(EmailMessage, "send", send):
        assert engine.deliver(notice.pk) == "sent"
    assert seen["row"].handed_at == clock.now and seen["row"].sent_at is None
    assert seen["row"].attempts == 1
    assert seen["in_doubt"] == [seen["row"]]
    notice.refresh_from_db()
    assert notice.sent_at and notice.attempts == 1 and notice.unconfirmed_sends == 0
    assert list(Notice.objects.in_doubt()) == []
    assert notice.delivery() == "Sent"


def test_a_crash_after_acceptance_is_in_doubt_then_sent_again_with_the_same_message_id(
    make_notice, clock, killed_after_acceptance
):
    notice = make_notice()
    with killed_after_acceptance, pytest.raises(WorkerKilled):
        engine.deliver(notice.pk)
    assert len(mail.outbox) == 1  # the server has it; our record does not say so
    notice.refresh_from_db()
    assert notice.sent_at is None and notice.handed_at == clock.now
    assert list(Notice.objects.in_doubt()) == [notice]
    assert notice.delivery() == "In doubt: handed to the mail server, no answer recorded"

    # Held by the dead worker's claim for a short while, then queued again by beat's job and sent again.
    clock.advance(minutes=1)
    assert engine.requeue_stale() == []
    assert engine.deliver(notice.pk) == "skipped"
    clock.advance(minutes=2, seconds=1)
    assert engine.requeue_stale() == [notice.pk]
    assert engine.deliver(notice.pk) == "sent"

    assert len(mail.outbox) == 2
    assert mail.outbox[0].message()["Message-ID"] == mail.outbox[1].message()["Message-ID"]
    notice.refresh_from_db()
    assert notice.sent_at == clock.now and notice.attempts == 2 and notice.unconfirmed_sends == 1
    assert list(Notice.objects.in_doubt()) == []
    assert notice.delivery() == "Sent (an earlier attempt may also have arrived)"
    assert engine.requeue_stale(clock.now + datetime.timedelta(hours=1)) == []


def test_a_crash_before_the_hand_over_is_not_in_doubt(make_notice, clock):
    notice = make_notice()
    with mock.patch.object(engine, "build_notice_email", side_effect=WorkerKilled), pytest.raises(WorkerKilled):
        engine.deliver(notice.pk)
    notice.refresh_from_db()
    assert notice.handed_at is None and list(Notice.objects.in_doubt()) == []
    clock.advance(minutes=3, seconds=1)
    assert engine.deliver(notice.pk) == "sent"
    notice.refresh_from_db()
    assert notice.attempts == 1 and notice.unconfirmed_sends == 0 and len(mail.outbox) == 1


def test_a_refused_email_is_not_in_doubt(make_notice, clock):
    notice = make_notice()
    with mock.patch.object(EmailMessage, "send", side_effect=SMTPDataError(451, "Try again later")):
        assert engine.deliver(notice.pk) == "failed"
    notice.refresh_from_db()
    assert notice.handed_at is None and notice.attempts == 1 and "Try again later" in notice.last_error
    assert list(Notice.objects.in_doubt()) == []
    assert notice.delivery() == "Waiting to try again"
    clock.advance(minutes=6)
    assert engine.deliver(notice.pk) == "sent"
    notice.refresh_from_db()
    assert notice.attempts == 2 and notice.unconfirmed_sends == 0
    assert notice.delivery() == "Sent"


def test_a_timeout_while_sending_leaves_the_notice_in_doubt(make_notice, clock):
    """The server may have taken the email before the connection went quiet: the next attempt is a possible
    repeat, sent with the same Message-ID and counted."""
    notice = make_notice()
    with mock.patch.object(EmailMessage, "send", side_effect=TimeoutError("timed out")):
        assert engine.deliver(notice.pk) == "failed"
    notice.refresh_from_db()
    assert list(Notice.objects.in_doubt()) == [notice] and "timed out" in notice.last_error
    clock.advance(minutes=6)
    assert engine.deliver(notice.pk) == "sent"
    notice.refresh_from_db()
    assert notice.attempts == 2 and notice.unconfirmed_sends == 1


def test_a_notice_in_doubt_whose_task_was_done_meanwhile_is_not_sent_again(
    make_notice, owner, clock, killed_after_acceptance
):
    notice = make_notice()
    with killed_after_acceptance, pytest.raises(WorkerKilled):
        engine.deliver(notice.pk)
    occurrence_complete(occurrence=notice.subject, by=owner, now=clock.now)
    clock.advance(minutes=3, seconds=1)
    assert engine.deliver(notice.pk) == "cancelled"
    assert len(mail.outbox) == 1
    notice.refresh_from_db()
    assert notice.delivery() == "Not sent again: no longer applied (an earlier attempt may have arrived)"


def test_a_worker_that_lost_its_claim_does_not_send(make_notice, clock):
    """A worker stalled past its claim (a long pause, a slow template) must not send once another took over."""
    notice = make_notice()
    build = engine.build_notice_email
    other_worker = {}

    def stalled(n, today):
        if not other_worker:
            # While this worker stalls, its claim runs out and another worker sends the notice.
            other_worker["at"] = clock.now + engine.CLAIM + datetime.timedelta(seconds=1)
            other_worker["result"] = engine.deliver(n.pk, now=other_worker["at"])
        return build(n, today)

    with mock.patch.object(engine, "build_notice_email", side_effect=stalled):
        assert engine.deliver(notice.pk) == "skipped"
    assert other_worker["result"] == "sent"
    assert len(mail.outbox) == 1


def test_a_send_cannot_outlast_its_claim(make_notice, clock):
    """Each wait on the mail server is bounded, so a claim is not over while its worker is still sending."""
    notice = make_notice()
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_TIMEOUT=None):
        message = engine.build_notice_email(notice, clock.today)
    # A send waits on the server some eight times: greeting, hello, sender, recipient, data, end of data, quit,
    # and TLS or sign-in where used. After a crash the notice is free again within minutes.
    assert message.connection.timeout * 8 < engine.CLAIM.total_seconds() <= 180
