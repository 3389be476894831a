"""The demo shows every kind of notice the calendar sends, written by the real planning functions on the days
they would have been due; `manage.py send_digests` sends the weekly digests now, for trying them."""

from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command

from isms.maintenance.notices import Slot
from isms.notices import engine
from isms.notices.models import Notice
from isms.web.demo import demo_load

SHOWN = {
    Slot.REMINDER,
    Slot.OVERDUE,
    Slot.ESCALATED,
    Slot.ASSIGNED,
    Slot.ORPHANED,
    Slot.OWNER_DIGEST,
    Slot.TEAM_DIGEST,
}


@pytest.mark.django_db
def test_the_demo_shows_every_kind_of_notice_once_loaded(clock):
    demo_load(password="demo-pass", today=clock.today)
    kinds = set(Notice.objects.values_list("kind", flat=True))
    assert kinds >= SHOWN, SHOWN - kinds
    for kind in SHOWN:  # each can be written as an email, as the worker will
        notice = Notice.objects.filter(kind=kind).select_related("recipient").first()
        message = engine.build_notice_email(notice, clock.today)
        assert message.subject and message.to == [notice.recipient.email]
    escalated = Notice.objects.filter(kind=Slot.ESCALATED).first()
    assert escalated.recipient.username == "compliance"  # the team hears of the missed one-off

    count = Notice.objects.count()
    demo_load(password="demo-pass", today=clock.today)
    assert Notice.objects.count() == count  # loading again adds none


@pytest.mark.django_db
def test_send_digests_sends_this_weeks_digests_now_and_says_so(clock):
    demo_load(password="demo-pass", today=clock.today)
    Notice.objects.filter(kind__in=[Slot.OWNER_DIGEST, Slot.TEAM_DIGEST]).delete()  # as before Monday's run
    mail.outbox.clear()
    out = StringIO()
    call_command("send_digests", stdout=out)
    digests = Notice.objects.filter(kind__in=[Slot.OWNER_DIGEST, Slot.TEAM_DIGEST])
    sent = digests.count()
    assert sent >= 2 and not digests.filter(sent_at__isnull=True).exists()
    assert len(mail.outbox) == sent
    assert "Sent" in out.getvalue() and "owner digest" in out.getvalue() and "compliance digest" in out.getvalue()

    again = StringIO()
    call_command("send_digests", stdout=again)
    assert "already sent this week" in again.getvalue() and len(mail.outbox) == sent

    call_command("send_digests", "--again", stdout=StringIO())
    assert len(mail.outbox) == 2 * sent
