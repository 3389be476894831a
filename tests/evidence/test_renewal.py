"""Expiring evidence: the renewal task is due before the expiry (by the lead time), and a correction carries the
renewal over to the new version: one schedule per piece of evidence, no skipped tasks and no stopped schedules
left behind, and a renewal that was asked for and done shows as done."""

import datetime

import pytest

from evidence.models import EvidenceItem
from evidence.services import RENEWAL_LEAD_DAYS, evidence_add_file, evidence_add_note
from isms.maintenance.models import Occurrence, Schedule
from tests.evidence.conftest import upload

D = datetime.date


def renewals():
    return Occurrence.objects.filter(schedule__purpose="renewal").order_by("due_date")


@pytest.fixture
def pentest(owner, world, clock):
    return evidence_add_file(
        upload=upload("pentest-2026.txt"), by=owner, source="web", control=world["mine"], expires_on=D(2026, 9, 1)
    )


def test_the_renewal_is_due_before_the_evidence_expires(pentest, owner):
    assert RENEWAL_LEAD_DAYS == 14
    task = renewals().get()
    assert task.due_date == D(2026, 8, 18)  # 14 days before 1 September
    assert task.remind_from == D(2026, 7, 19)  # the first reminder, 30 days before it is due
    assert task.grace_until < D(2026, 9, 1)  # missed (and escalated) while the evidence is still valid
    assert task.owner == owner
    assert "expires on 1 September 2026" in task.schedule.description


def test_evidence_about_to_expire_is_due_for_renewal_today(owner, world, clock):
    evidence_add_note(note="Certificate", by=owner, source="web", control=world["mine"], expires_on=D(2026, 3, 20))
    assert renewals().get().due_date == clock.today


def test_a_correction_before_the_renewal_is_asked_for_moves_it_to_the_new_version(pentest, owner):
    second = evidence_add_file(
        upload=upload("pentest-2026-fixed.txt"),
        by=owner,
        source="web",
        supersedes=pentest,
        correction_reason="The summary page was missing.",
        expires_on=D(2026, 10, 1),
    )
    task = renewals().get()  # still one task: moved, not skipped and replaced
    assert task.state == Occurrence.State.OPEN and task.due_date == D(2026, 9, 17)
    assert not Occurrence.objects.filter(state=Occurrence.State.SKIPPED).exists()
    assert Schedule.objects.filter(purpose="renewal").count() == 1
    assert not Schedule.objects.filter(purpose="renewal", active=False).exists()
    assert "Evidence: pentest-2026-fixed.txt" in _label(task)
    assert second.title in task.schedule.description


def test_renewing_when_the_task_is_due_marks_it_done_and_plans_the_next(pentest, owner, clock):
    clock.move_to(D(2026, 8, 10))  # the owner was reminded; the renewal is due on 18 August
    second = evidence_add_file(
        upload=upload("pentest-2027.txt"),
        by=owner,
        source="web",
        supersedes=pentest,
        correction_reason="The 2027 test.",
        expires_on=D(2027, 6, 1),
    )
    done, following = renewals()
    assert done.state == Occurrence.State.DONE and done.completed_by == owner and done.due_date == D(2026, 8, 18)
    assert f"version {second.version}" in done.completion_note
    assert following.state == Occurrence.State.OPEN and following.due_date == D(2027, 5, 18)
    assert not Occurrence.objects.filter(state=Occurrence.State.SKIPPED).exists()
    assert Schedule.objects.filter(purpose="renewal", active=True).count() == 1


def test_a_correction_that_no_longer_expires_takes_the_renewal_off_the_calendar(pentest, owner):
    evidence_add_note(
        note="Replaced by a contract clause", by=owner, source="web", supersedes=pentest, correction_reason="No expiry"
    )
    assert not renewals().filter(state=Occurrence.State.OPEN).exists()
    assert not Schedule.objects.filter(purpose="renewal", active=True).exists()


def _label(task) -> str:
    from isms.maintenance.purposes import subject_link

    link = subject_link(task.schedule)
    newest = EvidenceItem.objects.live().get(title__startswith="pentest")
    assert link.url.endswith(f"/{newest.pk}/")
    return link.label
