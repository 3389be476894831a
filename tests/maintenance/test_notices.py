"""Reminders, overdue notices, escalation and digests across a year of schedules, each sent exactly once."""

import datetime
import threading
from smtplib import SMTPException
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.utils import timezone

from isms.maintenance import notices
from isms.maintenance.models import Occurrence
from isms.maintenance.notices import Slot
from isms.maintenance.services import occurrence_complete
from isms.notices import engine
from isms.notices.models import Notice
from tests.factories import UserFactory, make_schedule

START = datetime.date(2027, 1, 10)


def at(day: datetime.date, hour: int = 9) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


@pytest.fixture
def send_now(monkeypatch, django_capture_on_commit_callbacks):
    """Deliver queued notices in-process, as the worker would, instead of through a broker."""
    queued = []

    def enqueue(ids):
        queued.extend(ids)
        for pk in ids:
            engine.deliver(pk, now=timezone.now())

    monkeypatch.setattr(engine, "_enqueue", enqueue)
    return queued


def run_scan(day, capture):
    with time_machine.travel(at(day), tick=False), capture(execute=True):
        return notices.scan(today=day, now=at(day))


def keys_for(occ):
    return sorted(Notice.objects.filter(occurrence=occ).values_list("kind", "data__days_before"))


@pytest.mark.django_db
def test_a_year_of_monthly_reminders(owner, compliance, send_now, django_capture_on_commit_callbacks):
    with time_machine.travel(at(START - datetime.timedelta(days=30)), tick=False):
        schedule = make_schedule(owner=owner, start_date=START, rrule="FREQ=MONTHLY", reminder_days=[14, 3, 1])
    occs = list(schedule.occurrences.order_by("due_date")[:12])
    assert len(occs) == 12
    plan = {
        0: "on_time",
        1: "on_time",
        2: "late",  # done three days after the due date
        3: "on_time",
        4: "missed",  # never done
    }
    day = START - datetime.timedelta(days=20)
    end = occs[-1].due_date + datetime.timedelta(days=10)
    while day <= end:
        run_scan(day, django_capture_on_commit_callbacks)
        run_scan(day, django_capture_on_commit_callbacks)  # beat twice a day changes nothing
        for i, occ in enumerate(occs):
            what = plan.get(i, "on_time")
            occ.refresh_from_db()
            if what == "on_time" and day == occ.due_date - datetime.timedelta(days=1) and occ.state == "open":
                occurrence_complete(occurrence=occ, by=owner, now=at(day, 15))
            if what == "late" and day == occ.due_date + datetime.timedelta(days=3):
                occurrence_complete(occurrence=occ, by=owner, now=at(day, 15))
        day += datetime.timedelta(days=1)

    for occ in occs:
        occ.refresh_from_db()
    on_time = [(Slot.REMINDER, 1), (Slot.REMINDER, 3), (Slot.REMINDER, 14)]
    assert keys_for(occs[0]) == on_time
    assert occs[0].status() == Occurrence.Status.DONE_ON_TIME
    assert keys_for(occs[2]) == [(Slot.OVERDUE, None), *on_time]
    assert occs[2].status() == Occurrence.Status.DONE_LATE
    assert keys_for(occs[4]) == [(Slot.ESCALATED, None), (Slot.OVERDUE, None), *on_time]
    assert occs[4].state == Occurrence.State.MISSED
    escalation = Notice.objects.get(occurrence=occs[4], kind=Slot.ESCALATED)
    assert escalation.recipient == compliance  # no escalation contact on the schedule: the compliance team

    # Every notice row became exactly one email, and every one was sent.
    assert Notice.objects.filter(sent_at__isnull=True).count() == 0
    assert len(mail.outbox) == Notice.objects.count() == 12 * 3 + 1 + 2  # late: overdue; missed: overdue, escalated
    subjects = [m.subject for m in mail.outbox]
    assert subjects.count(f"Overdue: {occs[2].title} was due {occs[2].due_date:%d %b %Y}") == 1
    assert any(s.startswith("Missed: ") for s in subjects)
    assert any(s.startswith("Due in 14 days") for s in subjects)
    assert any(s.startswith("Due in 1 day: ") for s in subjects)


@pytest.mark.django_db
def test_reminder_email_carries_a_task_link_and_the_instructions(owner, send_now, django_capture_on_commit_callbacks):
    with time_machine.travel(at(START - datetime.timedelta(days=30)), tick=False):
        make_schedule(owner=owner, start_date=START, description="Export the user list and review it.")
    run_scan(START - datetime.timedelta(days=3), django_capture_on_commit_callbacks)
    [message] = mail.outbox
    assert message.to == [owner.email]
    assert message.subject == "Due in 3 days: Monthly vulnerability scan"
    assert "/calendar/task/#" in message.body and "Export the user list and review it." in message.body
    html = message.alternatives[0][0]
    assert "Open the task" in html and "/calendar/task/#" in html


@pytest.mark.django_db
def test_catch_up_after_beat_was_down_sends_the_latest_reminder_only(
    owner, send_now, django_capture_on_commit_callbacks
):
    with time_machine.travel(at(START - datetime.timedelta(days=30)), tick=False):
        schedule = make_schedule(owner=owner, start_date=START, rrule="", reminder_days=[14, 3, 1])
    occ = schedule.occurrences.get()
    run_scan(START - datetime.timedelta(days=2), django_capture_on_commit_callbacks)  # first scan in 4 weeks
    assert keys_for(occ) == [(Slot.REMINDER, 3)]
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_catch_up_after_the_grace_period_escalates_once_without_a_flood(
    owner, compliance, send_now, django_capture_on_commit_callbacks
):
    with time_machine.travel(at(START - datetime.timedelta(days=30)), tick=False):
        schedule = make_schedule(owner=owner, start_date=START, rrule="", grace_days=7)
    occ = schedule.occurrences.get()
    for day in (START + datetime.timedelta(days=10), START + datetime.timedelta(days=11)):
        run_scan(day, django_capture_on_commit_callbacks)
    occ.refresh_from_db()
    assert occ.state == Occurrence.State.MISSED
    assert keys_for(occ) == [(Slot.ESCALATED, None)]
    assert [m.to for m in mail.outbox] == [[compliance.email]]


@pytest.mark.django_db
def test_escalation_goes_to_the_schedules_contact(owner, viewer, send_now, django_capture_on_commit_callbacks):
    with time_machine.travel(at(START - datetime.timedelta(days=30)), tick=False):
        make_schedule(owner=owner, start_date=START, rrule="", grace_days=2, escalate_to=viewer)
    run_scan(START + datetime.timedelta(days=3), django_capture_on_commit_callbacks)
    assert [m.to for m in mail.outbox] == [[viewer.email]]
    assert "You are its escalation contact" in mail.outbox[0].body


@pytest.mark.django_db
def test_a_task_done_before_its_notice_is_delivered_is_not_announced(owner, django_capture_on_commit_callbacks):
    with time_machine.travel(at(START - datetime.timedelta(days=30)), tick=False):
        schedule = make_schedule(owner=owner, start_date=START, rrule="")
    day = START - datetime.timedelta(days=1)
    with mock.patch.object(engine, "_enqueue"), django_capture_on_commit_callbacks(execute=True):
        notices.scan(today=day, now=at(day))
    occurrence_complete(occurrence=schedule.occurrences.get(), by=owner, now=at(day, 8))
    notice = Notice.objects.get()
    assert engine.deliver(notice.pk, now=at(day, 10)) == "cancelled"
    assert mail.outbox == []
    notice.refresh_from_db()
    assert notice.cancelled_at and not notice.sent_at


@pytest.mark.django_db
def test_smtp_failure_is_recorded_and_the_notice_stays_unsent_until_it_goes(owner, django_capture_on_commit_callbacks):
    with time_machine.travel(at(START - datetime.timedelta(days=30)), tick=False):
        make_schedule(owner=owner, start_date=START, rrule="")
    day = START - datetime.timedelta(days=1)
    with mock.patch.object(engine, "_enqueue"), django_capture_on_commit_callbacks(execute=True):
        notices.scan(today=day, now=at(day))
    notice = Notice.objects.get()
    with mock.patch("django.core.mail.message.EmailMessage.send", side_effect=SMTPException("451 try later")):
        assert engine.deliver(notice.pk, now=at(day)) == "failed"
    notice.refresh_from_db()
    assert notice.sent_at is None and notice.attempts == 1 and "451 try later" in notice.last_error
    # Not retried before the pause is over, neither by a worker nor by the scan.
    assert engine.deliver(notice.pk, now=at(day) + datetime.timedelta(minutes=2)) == "skipped"
    assert engine.requeue_stale(at(day) + datetime.timedelta(minutes=2)) == []
    assert engine.requeue_stale(at(day) + datetime.timedelta(minutes=6)) == [notice.pk]
    assert engine.deliver(notice.pk, now=at(day, 10)) == "sent"
    assert engine.deliver(notice.pk, now=at(day, 11)) == "skipped"
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_unsent_notices_are_requeued_when_their_delivery_was_lost(owner, django_capture_on_commit_callbacks):
    with time_machine.travel(at(START - datetime.timedelta(days=30)), tick=False):
        make_schedule(owner=owner, start_date=START, rrule="")
    day = START - datetime.timedelta(days=1)
    with (
        time_machine.travel(at(day), tick=False),
        mock.patch.object(engine, "_enqueue") as lost,
        django_capture_on_commit_callbacks(execute=True),
    ):
        notices.scan(today=day, now=at(day))  # the broker lost the message
    notice = Notice.objects.get()
    later = at(day) + datetime.timedelta(minutes=10)
    with (
        time_machine.travel(later, tick=False),
        mock.patch.object(engine, "_enqueue") as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        engine.requeue_stale(later)
    assert lost.call_count == 1
    assert [c.args[0] for c in enqueue.call_args_list] == [[notice.pk]]


@pytest.mark.django_db(transaction=True)
def test_concurrent_scans_and_deliveries_send_each_notice_once(owner):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite's in-memory test database locks whole tables; CI runs this on PostgreSQL")
    other = UserFactory(username="other-owner")
    with time_machine.travel(at(START - datetime.timedelta(days=30)), tick=False):
        for i in range(5):
            make_schedule(owner=owner if i % 2 else other, title=f"Task {i}", start_date=START, rrule="")
    day = START - datetime.timedelta(days=3)
    queued, errors = [], []

    def enqueue(ids):
        queued.extend(ids)

    def work(fn):
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    with mock.patch.object(engine, "_enqueue", enqueue):
        threads = [
            threading.Thread(target=work, args=(lambda: notices.scan(today=day, now=at(day)),)) for _ in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors, errors
    assert Notice.objects.count() == 5
    # Every queued copy is delivered, several at once: the claim lets exactly one through per notice.
    deliveries = [
        threading.Thread(target=work, args=(lambda pk=pk: engine.deliver(pk, now=at(day)),)) for pk in queued * 2
    ]
    for t in deliveries:
        t.start()
    for t in deliveries:
        t.join()
    assert not errors, errors
    assert len(mail.outbox) == 5
    assert Notice.objects.filter(sent_at__isnull=False).count() == 5


@pytest.mark.django_db
def test_weekly_digests_once_per_week(owner, compliance, viewer, send_now, django_capture_on_commit_callbacks):
    monday = datetime.date(2027, 3, 1)
    with time_machine.travel(at(monday - datetime.timedelta(days=60)), tick=False):
        make_schedule(
            owner=owner, title="Backup restore test", start_date=monday + datetime.timedelta(days=5), rrule=""
        )
        make_schedule(owner=owner, title="Access review", start_date=monday - datetime.timedelta(days=2), rrule="")
        make_schedule(owner=viewer, title="Far away", start_date=monday + datetime.timedelta(days=90), rrule="")
    for _ in range(2):
        with time_machine.travel(at(monday, 7), tick=False), django_capture_on_commit_callbacks(execute=True):
            notices.plan_digests(today=monday)
    by_recipient = {m.to[0]: m for m in mail.outbox}
    assert set(by_recipient) == {owner.email, compliance.email}  # the viewer has nothing within four weeks
    mine = by_recipient[owner.email]
    assert mine.subject == "Your ISMS tasks this week: 1 late, 1 coming up"
    assert "Access review" in mine.body and "Backup restore test" in mine.body and "/calendar/task/#" in mine.body
    team = by_recipient[compliance.email]
    assert team.subject == "ISMS weekly: 1 overdue task"
    assert "IT: 1" in team.body and "Access review" in team.body

    next_monday = monday + datetime.timedelta(days=7)
    with time_machine.travel(at(next_monday, 7), tick=False), django_capture_on_commit_callbacks(execute=True):
        notices.plan_digests(today=next_monday)
    assert len(mail.outbox) == 4


@pytest.mark.django_db
def test_plain_text_email_is_not_html_escaped(owner, send_now, django_capture_on_commit_callbacks):
    with time_machine.travel(at(START - datetime.timedelta(days=30)), tick=False):
        make_schedule(owner=owner, start_date=START, rrule="", title="Review <admin> & 'root' access")
    run_scan(START - datetime.timedelta(days=1), django_capture_on_commit_callbacks)
    [message] = mail.outbox
    assert message.subject == "Due in 1 day: Review <admin> & 'root' access"
    assert "Review <admin> & 'root' access" in message.body
    assert "Review &lt;admin&gt; &amp; &#x27;root&#x27; access" in message.alternatives[0][0]
