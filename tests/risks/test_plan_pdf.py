"""The treatment plan: actions as calendar tasks with owners and due dates, done with evidence, progress per risk;
a version frozen for the risk owners to approve, and its PDF read back."""

import datetime
import io

from django.urls import reverse
from pypdf import PdfReader

from isms.maintenance import purposes
from isms.organisation.models import Organisation
from risks import services
from risks.demo import action_task
from risks.models import PlanVersion


def test_an_action_is_a_task_and_done_with_evidence_counts_as_progress(clock, client_as, compliance, owner, make_risk):
    risk = make_risk(owner)
    action = services.action_save(
        risk=risk,
        by=compliance,
        title="Segment the network",
        owner=owner,
        due_date=clock.today + datetime.timedelta(days=20),
    )
    task = action_task(action)
    assert task.owner == owner and task.due_date == datetime.date(2026, 3, 30) and task.schedule.evidence_required
    purposes.complete_task(occurrence=task, by=owner, data={"note": "Done", "links": ["https://tickets.example/SEC-1"]})
    action.refresh_from_db()
    assert action.done_on == clock.today
    assert task.evidence.count() == 1
    page = client_as(owner).get(reverse("risks:detail", args=[risk.pk])).content.decode()
    assert "1 of 1 done" in page


def test_the_plan_is_frozen_approved_by_each_owner_and_printed(
    clock, client_as, compliance, owner, other_owner, make_risk
):
    org = Organisation.current()
    org.name = "Northwind Ltd"
    org.save()
    mine = make_risk(owner, title="Ransomware", treatment_plan="Immutable backups")
    make_risk(other_owner, title="Leaver keeps access")
    services.action_save(risk=mine, by=compliance, title="Deploy EDR", owner=owner, due_date=datetime.date(2026, 5, 1))
    response = client_as(compliance).post(reverse("risks:plan_freeze"), {"note": "After the annual assessment"})
    version = PlanVersion.objects.get()
    assert response.status_code == 302 and version.number == 1
    assert client_as(owner).post(reverse("risks:plan_signoff", args=[version.pk])).status_code == 302
    version.refresh_from_db()
    assert version.approved_at is None  # Olga has not approved yet
    client_as(other_owner).post(reverse("risks:plan_signoff", args=[version.pk]))
    version.refresh_from_db()
    assert version.approved_at is not None
    # Later changes to the risk do not change the frozen version.
    services.risk_update(risk=mine, by=owner, title="Ransomware on servers")
    pdf = client_as(owner).get(reverse("risks:plan_version_pdf", args=[version.pk]))
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"] == 'attachment; filename="risk-treatment-plan-v1.pdf"'
    reader = PdfReader(io.BytesIO(pdf.content))
    text = "\n".join(" ".join(page.extract_text().split()) for page in reader.pages)
    for expected in ["Northwind Ltd", "Risk treatment plan", "Version 1", "After the annual assessment", "R-01",
                     "Ransomware", "Immutable backups", "Deploy EDR", "Leaver keeps access", "approved",
                     f"Page 1 of {len(reader.pages)}"]:  # fmt: skip
        assert expected in text, expected
    assert "Ransomware on servers" not in text


def test_only_owners_in_the_version_approve_it_once(clock, client_as, compliance, owner, viewer, make_risk):
    make_risk(owner)
    version = services.plan_freeze(by=compliance)
    assert client_as(viewer).post(reverse("risks:plan_signoff", args=[version.pk])).status_code == 403
    client_as(owner).post(reverse("risks:plan_signoff", args=[version.pk]))
    again = client_as(owner).post(reverse("risks:plan_signoff", args=[version.pk]), follow=True)
    assert "already approved" in again.content.decode()
