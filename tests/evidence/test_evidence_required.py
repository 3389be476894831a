"""A task whose schedule asks for evidence is not marked done without it unless its owner says why; and "done
without evidence" shows on the dashboard, in the compliance team's weekly digest and on the coverage strips."""

import datetime
import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.urls import reverse

from controls.services import activity_adopt
from evidence.calendar import done_without_evidence
from evidence.services import occurrence_complete_with_evidence
from isms.maintenance import links
from isms.maintenance.forms import ScheduleForm
from isms.maintenance.models import Occurrence, Schedule
from isms.maintenance.selectors import team_digest
from tests.evidence.conftest import upload
from tests.factories import make_control, make_schedule

D = datetime.date
REFUSAL = "This task asks for evidence"


@pytest.fixture
def task(clock, owner):
    control = make_control(owner, reference="OPS-07", name="Backups")
    schedule = make_schedule(owner=owner, title="Backup restore test", subject=control, evidence_required=True)
    return schedule.occurrences.order_by("due_date").first()


def test_control_activities_require_evidence_by_default(clock, owner):
    assert ScheduleForm()["evidence_required"].value() is True
    control = make_control(owner, reference="OPS-07", name="Backups")
    adopted = activity_adopt(control=control, template="backup_restore_test", owner=owner, start_date=clock.today)
    assert adopted.evidence_required
    # Existing control activities are switched on by the migration; renewals and other kinds are not.
    activity = make_schedule(owner=owner, title="Old activity")
    review = make_schedule(owner=owner, title="Management review", kind="management_review")
    Schedule.objects.update(evidence_required=False)
    migration = importlib.import_module("isms.maintenance.migrations.0003_schedule_evidence_required")
    migration.require_evidence_for_control_activities(apps, None)
    activity.refresh_from_db(), review.refresh_from_db()
    assert activity.evidence_required and not review.evidence_required


def test_the_service_refuses_to_complete_without_evidence_or_a_reason(task, owner):
    with pytest.raises(ValidationError, match=REFUSAL):
        occurrence_complete_with_evidence(occurrence=task, by=owner, note="done")
    task.refresh_from_db()
    assert task.state == Occurrence.State.OPEN
    done = occurrence_complete_with_evidence(
        occurrence=task, by=owner, without_evidence_reason="The restore log is on paper in the server room."
    )
    assert done.state == Occurrence.State.DONE
    event = done.events.get(action="completed")
    assert event.data["without_evidence"] == "The restore log is on paper in the server room."
    assert list(done_without_evidence(Occurrence.objects.all())) == [done]


def test_with_a_file_it_is_done_with_evidence(task, owner):
    occurrence_complete_with_evidence(occurrence=task, by=owner, files=[upload("restore.txt")])
    assert not done_without_evidence(Occurrence.objects.all()).exists()


def test_a_task_that_asks_for_no_evidence_is_done_without_a_question(clock, owner):
    occ = make_schedule(owner=owner).occurrences.first()
    occurrence_complete_with_evidence(occurrence=occ, by=owner)
    assert not done_without_evidence(Occurrence.objects.all()).exists()


def test_the_task_page_asks_before_completing_without_evidence(client, owner, task):
    client.force_login(owner)
    page = client.get(reverse("maintenance:occurrence", args=[task.pk])).content.decode()
    assert "This task asks for evidence" in page and "Mark done without evidence" in page
    url = reverse("maintenance:complete", args=[task.pk])
    response = client.post(url, {"note": "done"}, follow=True)
    assert REFUSAL in response.content.decode()
    response = client.post(url, {"note": "done", "without_evidence": "on"}, follow=True)
    assert "Say why there is no evidence" in response.content.decode()
    task.refresh_from_db()
    assert task.state == Occurrence.State.OPEN
    client.post(url, {"without_evidence": "on", "without_evidence_reason": "Logged on paper."})
    task.refresh_from_db()
    assert task.state == Occurrence.State.DONE
    page = client.get(reverse("maintenance:occurrence", args=[task.pk])).content.decode()
    assert "Done without evidence" in page and "Logged on paper." in page


def test_the_emailed_task_link_page_asks_too(client, task, owner):
    client.post(reverse("maintenance:task_link"), {"token": links.make_token(task)})
    url = reverse("maintenance:task_link_task", args=[task.pk])
    response = client.post(url, {"note": "done"})
    assert REFUSAL in response.content.decode()
    task.refresh_from_db()
    assert task.state == Occurrence.State.OPEN
    client.post(url, {"without_evidence": "on", "without_evidence_reason": "Logged on paper."})
    task.refresh_from_db()
    assert task.state == Occurrence.State.DONE


def test_done_without_evidence_shows_on_the_dashboard_and_in_the_team_digest(client, compliance, owner, task, clock):
    occurrence_complete_with_evidence(occurrence=task, by=owner, without_evidence_reason="Logged on paper.")
    client.force_login(compliance)
    page = client.get(reverse("dashboard")).content.decode()
    section = page.split('data-testid="done-without-evidence"')[1].split("</section>")[0]
    assert task.title in section and "Logged on paper." in section and str(owner) in section
    clock.advance(days=3)
    digest = team_digest(clock.today)
    assert [occ.pk for occ in digest["done_without_evidence"]] == [task.pk]
    assert digest["done_without_evidence"][0].without_evidence_reason == "Logged on paper."
    clock.advance(days=7)  # last week's is not repeated
    assert team_digest(clock.today)["done_without_evidence"] == []


def test_the_team_digest_email_lists_them(compliance, owner, task, clock):
    from django.template.loader import render_to_string

    occurrence_complete_with_evidence(occurrence=task, by=owner, without_evidence_reason="Logged on paper.")
    clock.advance(days=1)  # the digest covers the week up to yesterday
    context = {
        "recipient": compliance,
        "today": clock.today,
        "site_url": "https://isms.example",
        **team_digest(clock.today),
    }
    for name in ("team_digest.txt", "team_digest.html"):
        body = render_to_string(f"maintenance/email/{name}", context)
        assert "Done without evidence" in body and task.title in body and "Logged on paper." in body


def test_coverage_marks_done_without_evidence_apart_from_done_with_it(client, compliance, owner, task, clock):
    occurrence_complete_with_evidence(occurrence=task, by=owner, without_evidence_reason="Logged on paper.")
    control = task.schedule.subject
    client.force_login(compliance)
    page = client.get(reverse("evidence:control_coverage", args=[control.pk])).content.decode()
    assert "Done without evidence" in page.split('aria-label="Legend"')[1].split("</ul>")[0]
    mark = page.split('class="cov-mark cov-done_on_time no-evidence"')[-1].split(">")[0]  # after the legend's
    assert "done without evidence: Logged on paper." in mark
