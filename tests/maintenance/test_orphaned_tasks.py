"""A task whose owner can no longer act on it (deactivated, now an auditor, no email address) needs a new owner:
nobody is reminded who cannot act, the compliance team is told once, the emailed link explains itself, and the
task shows as needing a new owner until the team reassigns it."""

import datetime
import html

import pytest
from django.core import mail
from django.urls import reverse

from isms.foundation.reach import may_own_work
from isms.foundation.roles import Role
from isms.maintenance import links, notices
from isms.maintenance.models import Occurrence, TaskLinkUse
from isms.maintenance.notices import Slot
from isms.maintenance.services import occurrence_reassign
from isms.notices import engine
from isms.notices.models import Notice
from tests.factories import UserFactory, make_schedule


@pytest.fixture
def occ(clock, owner):
    """A one-off task due in ten days: its 14-day reminder is due today."""
    schedule = make_schedule(
        owner=owner, title="Review firewall rules", rrule="", start_date=clock.today + datetime.timedelta(days=10)
    )
    return schedule.occurrences.get()


def scan(send_now, clock):
    with send_now(execute=True):
        return notices.scan(today=clock.today, now=clock.now)


def leave(user, how: str) -> None:
    """The ways a person stops being able to act on their tasks."""
    if how == "deactivated":
        user.is_active = False
    elif how == "auditor":
        user.role = Role.AUDITOR
    else:
        user.email = ""
    user.save()


WAYS = ["deactivated", "auditor", "no email"]


@pytest.mark.parametrize("how", WAYS)
def test_the_compliance_team_is_told_once_instead_of_reminding_someone_who_cannot_act(
    clock, occ, owner, compliance, admin_user, send_now, how
):
    leave(owner, how)
    for days in (0, 1, 7, 1, 2):  # the 14-day reminder's day, the next, the 3-day and 1-day ones, overdue
        clock.advance(days=days)
        scan(send_now, clock)

    assert not Notice.objects.filter(recipient=owner).exists()
    [message] = mail.outbox  # once, to the compliance team (not the administrators, as there is a team)
    assert message.to == [compliance.email]
    assert message.subject == f"Needs a new owner: Review firewall rules ({owner} can no longer act on it)"
    assert f"/calendar/occurrences/{occ.pk}/" in message.body and "/calendar/task/#" not in message.body
    assert "Reassign it" in message.body
    notice = Notice.objects.get()
    assert notice.key == f"occ:{occ.pk}:orphaned:owner:{owner.pk}:to:{compliance.pk}"


def test_a_reminder_written_before_the_owner_became_an_auditor_is_not_sent(
    clock, occ, owner, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(engine, "_enqueue", lambda ids: None)
    with django_capture_on_commit_callbacks(execute=True):
        notices.scan(today=clock.today, now=clock.now)
    reminder = Notice.objects.get(kind=Slot.REMINDER)
    leave(owner, "auditor")
    assert engine.deliver(reminder.pk, now=clock.now) == "cancelled"
    assert mail.outbox == []


@pytest.mark.parametrize("how", WAYS)
def test_the_owners_emailed_link_explains_and_completes_nothing(client, clock, occ, owner, compliance, send_now, how):
    token = links.task_link_url(occ).split("#", 1)[1]
    # Opened while the owner could still act, then the owner leaves: the open page stops working too.
    assert client.post(reverse("maintenance:task_link"), {"token": token}).status_code == 302
    leave(owner, how)

    with send_now(execute=True):
        page = client.get(reverse("maintenance:task_link_task", args=[occ.pk]))
        post = client.post(reverse("maintenance:task_link_task", args=[occ.pk]), {"note": "done", "links": ""})
        reopened = client.post(reverse("maintenance:task_link"), {"token": token})
    explanation = "This task's owner can no longer act on it; the compliance team has been told."
    for response in (page, post, reopened):
        assert response.status_code == 403 and explanation in html.unescape(response.content.decode())
    occ.refresh_from_db()
    assert occ.state == Occurrence.State.OPEN and occ.completed_by is None and not occ.events.exists()
    assert not occ.evidence.exists()
    assert list(TaskLinkUse.objects.order_by("pk").values_list("outcome", flat=True)) == [
        "opened",
        "stale",
        "stale",
        "stale",
    ]
    # What the page says is true: the team was told, once.
    assert [m.to for m in mail.outbox] == [[compliance.email]]
    assert mail.outbox[0].subject.startswith("Needs a new owner: Review firewall rules")


def test_the_task_shows_as_needing_a_new_owner_until_it_is_reassigned(
    client_as, clock, occ, owner, compliance, send_now
):
    other = make_schedule(owner=owner, title="Patch servers", rrule="", start_date=clock.today)
    leave(owner, "deactivated")
    assert set(Occurrence.objects.orphaned()) == {occ, other.occurrences.get()}

    client = client_as(compliance)
    page = client.get(reverse("maintenance:occurrence", args=[occ.pk])).content.decode()
    assert "Needs a new owner" in page and "account has been deactivated" in page
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "Needs a new owner (2)" in dashboard and "Review firewall rules" in dashboard

    newcomer = UserFactory(username="dana", first_name="Dana", last_name="Ng")
    with send_now(execute=True):
        occurrence_reassign(occurrence=occ, to=newcomer, by=compliance)
    assert set(Occurrence.objects.orphaned()) == {other.occurrences.get()}
    page = client.get(reverse("maintenance:occurrence", args=[occ.pk])).content.decode()
    assert "Needs a new owner" not in page
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "Needs a new owner (1)" in dashboard


def test_done_and_skipped_tasks_of_a_leaver_need_no_new_owner(clock, occ, owner, compliance):
    from isms.maintenance.services import occurrence_complete

    occurrence_complete(occurrence=occ, by=owner)
    leave(owner, "deactivated")
    assert not Occurrence.objects.orphaned().exists()


def test_who_can_own_work_is_decided_alike_in_queries_and_in_the_reach_rule(
    clock, admin_user, compliance, owner, viewer, auditor, inactive_user
):
    no_email = UserFactory(username="noemail", email="")
    people = [admin_user, compliance, owner, viewer, auditor, inactive_user, no_email]
    with_email = [p for p in people if p.email]
    for person in with_email:
        make_schedule(owner=person, title=f"Task of {person.username}", rrule="", start_date=clock.today)
    schedule = make_schedule(owner=owner, title="Task of noemail", rrule="", start_date=clock.today)
    Occurrence.objects.filter(schedule=schedule).update(owner=no_email)

    orphaned = set(Occurrence.objects.orphaned().values_list("owner__username", flat=True))
    assert orphaned == {p.username for p in people if not may_own_work(p)}
    assert orphaned == {"auditor", "leaver", "noemail"}
