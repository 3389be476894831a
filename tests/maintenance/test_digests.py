"""The weekly digests say what each task is (late, due today, coming up; overdue or missed) and link to it, and a
new owner hears about a reassigned task once, not twice within a minute."""

import datetime

from django.conf import settings
from django.core import mail
from django.urls import reverse

from isms.foundation.roles import Role
from isms.maintenance import notices
from isms.maintenance.services import occurrence_reassign
from tests.factories import UserFactory, make_schedule


def one_off(owner, title: str, due: datetime.date, **fields):
    return make_schedule(owner=owner, title=title, rrule="", start_date=due, **fields).occurrences.get()


def digests(send_now, clock):
    with send_now(execute=True):
        notices.plan_digests(today=clock.today)
    return {m.to[0]: m for m in mail.outbox}


def task_address(occ) -> str:
    return settings.SITE_URL + reverse("maintenance:occurrence", args=[occ.pk])


def test_the_team_digest_tells_overdue_from_missed_and_links_each_task(clock, owner, compliance, send_now):
    today = clock.today
    clock.move_to(today - datetime.timedelta(days=60))
    overdue = one_off(owner, "Access review", today - datetime.timedelta(days=2), grace_days=7)
    missed = one_off(owner, "Backup restore test", today - datetime.timedelta(days=20), grace_days=7)
    clock.move_to(today)
    with send_now(execute=True):
        notices.scan(today=today, now=clock.now)  # marks the older one missed and escalates it
    mail.outbox.clear()

    team = digests(send_now, clock)[compliance.email]
    assert team.subject == "ISMS weekly: 1 overdue task, 1 missed"
    assert "1 overdue (past the due date) and 1 missed (past the grace period)" in team.body
    assert "Access review: due 8 Mar 2026 (overdue)" in team.body
    assert "Backup restore test: due 18 Feb 2026 (missed)" in team.body
    html = team.alternatives[0][0]
    for occ in (overdue, missed):
        assert task_address(occ) in team.body
        assert f'<a href="{task_address(occ)}">{occ.title}</a>' in html


def test_the_team_digest_lists_tasks_that_need_a_new_owner(clock, owner, compliance, send_now):
    occ = one_off(owner, "Access review", clock.today + datetime.timedelta(days=40))
    owner.is_active = False
    owner.save()
    team = digests(send_now, clock)[compliance.email]
    assert "Needs a new owner (1)" in team.body and task_address(occ) in team.body
    assert team.subject == "ISMS weekly: 0 overdue tasks, 1 needs a new owner"


def test_the_owner_digest_puts_a_task_due_today_under_due_today(clock, owner, compliance, send_now):
    today = clock.today
    clock.move_to(today - datetime.timedelta(days=30))
    one_off(owner, "Access review", today - datetime.timedelta(days=2))
    one_off(owner, "Firewall review", today)
    one_off(owner, "Backup restore test", today + datetime.timedelta(days=5))
    clock.move_to(today)

    mine = digests(send_now, clock)[owner.email]
    assert mine.subject == "Your ISMS tasks this week: 1 late, 1 due today, 1 coming up"
    late, rest = mine.body.split("DUE TODAY", 1)
    due_today, coming = rest.split("COMING UP", 1)
    assert "Access review" in late
    assert "Firewall review" in due_today and "Firewall review" not in coming
    assert "Backup restore test" in coming
    html = mine.alternatives[0][0]
    assert html.index("Due today") < html.index("Firewall review") < html.index("Coming up")


def test_no_owner_digest_for_someone_who_can_no_longer_act(clock, owner, compliance, send_now):
    one_off(owner, "Access review", clock.today + datetime.timedelta(days=5))
    owner.role = Role.AUDITOR
    owner.save()
    assert owner.email not in digests(send_now, clock)


def test_a_new_owner_gets_the_assignment_and_no_reminder_on_top(clock, owner, compliance, send_now):
    occ = one_off(owner, "Access review", clock.today + datetime.timedelta(days=10), reminder_days=[14, 3, 1])
    with send_now(execute=True):
        notices.scan(today=clock.today, now=clock.now)
    assert [m.to for m in mail.outbox] == [[owner.email]]  # the 14-day reminder
    mail.outbox.clear()

    newcomer = UserFactory(username="dana", first_name="Dana", last_name="Ng")
    with send_now(execute=True):
        occurrence_reassign(occurrence=occ, to=newcomer, by=compliance)
    clock.advance(minutes=1)
    with send_now(execute=True):
        notices.scan(today=clock.today, now=clock.now)
    clock.advance(days=1)
    with send_now(execute=True):
        notices.scan(today=clock.today, now=clock.now)
    [assigned] = mail.outbox
    assert assigned.to == [newcomer.email] and assigned.subject.startswith("Assigned to you: Access review")
    assert "It is due in 10 days" in assigned.body and "/calendar/task/#" in assigned.body

    mail.outbox.clear()
    clock.move_to(occ.due_date - datetime.timedelta(days=3))  # the next reminder still comes on its day
    with send_now(execute=True):
        notices.scan(today=clock.today, now=clock.now)
    assert [(m.to, m.subject) for m in mail.outbox] == [([newcomer.email], "Due in 3 days: Access review")]


def test_a_new_owner_of_a_late_task_is_not_sent_an_overdue_notice_on_top(clock, owner, compliance, send_now):
    today = clock.today
    clock.move_to(today - datetime.timedelta(days=30))
    occ = one_off(owner, "Access review", today - datetime.timedelta(days=2), grace_days=7)
    clock.move_to(today)
    newcomer = UserFactory(username="dana", first_name="Dana", last_name="Ng")
    with send_now(execute=True):
        occurrence_reassign(occurrence=occ, to=newcomer, by=compliance)
        notices.scan(today=today, now=clock.now)
    assert [m.to for m in mail.outbox if m.to == [newcomer.email]] == [[newcomer.email]]
    [assigned] = [m for m in mail.outbox if m.to == [newcomer.email]]
    assert "It was due on 8 March 2026 and is late" in assigned.body


def test_a_new_owner_of_a_missed_task_is_told_it_still_needs_doing(clock, owner, compliance, send_now):
    today = clock.today
    clock.move_to(today - datetime.timedelta(days=60))
    occ = one_off(owner, "Access review", today - datetime.timedelta(days=20), grace_days=7)
    clock.move_to(today)
    with send_now(execute=True):
        notices.scan(today=today, now=clock.now)  # missed, escalated to the team
    occ.refresh_from_db()
    assert occ.state == "missed"
    newcomer = UserFactory(username="dana", first_name="Dana", last_name="Ng")
    with send_now(execute=True):
        occurrence_reassign(occurrence=occ, to=newcomer, by=compliance)
    [assigned] = [m for m in mail.outbox if m.to == [newcomer.email]]
    assert "It was due on 18 February 2026 and is missed: it still needs doing." in assigned.body
