"""Audit readiness (issue 13, item 7): the figures on a small organisation built here, the page as the compliance
team and leadership see it, the department view, and a constant number of queries whatever the data."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audits.models import Severity
from audits.services import nc_raise
from evidence.services import evidence_add_note
from isms.maintenance.models import Occurrence
from portal.readiness import WEIGHTS, readiness
from risks.models import Acceptance, ControlException, Decision, Risk
from risks.services import risk_create
from tests.factories import make_certificate, make_control, make_requirement, make_schedule

TODAY = datetime.date(2026, 3, 10)  # the clock fixture's day


def _risk(by, owner, title="Ransomware on file servers"):
    return risk_create(
        by=by,
        title=title,
        asset="File servers",
        threat="Ransomware",
        vulnerability="Unpatched servers",
        owner=owner,
        inherent_likelihood=4,
        inherent_impact=4,
        residual_likelihood=3,
        residual_impact=3,
        treatment="mitigate",
    )


def _soa_entries():
    """Every Annex A requirement a working SoA line, applicable (the default)."""
    from controls.models import Framework
    from controls.services import soa_entries_ensure

    soa_entries_ensure(Framework.objects.get(code="iso27001-2022-annex-a"))


@pytest.fixture
def org(clock, compliance, owner, other_owner):
    """A certificate issued 1 Mar 2025: surveillance 1 on 2 Feb 2026 (past), surveillance 2 on 1 Feb 2027 (next),
    so the period under audit runs 2 Feb 2026 – 1 Feb 2027. The owner (IT) has a control with a monthly activity
    from 5 Feb: the February task missed, the March one overdue; the other owner (HR) a control with no activity
    and no evidence, and a task done on time."""
    certificate = make_certificate(issue_date=datetime.date(2025, 3, 1))
    # The first surveillance audit's own task (the compliance team's, IT) was done on the day.
    Occurrence.objects.filter(due_date=datetime.date(2026, 2, 2)).update(
        state=Occurrence.State.DONE, completed_on=datetime.date(2026, 2, 2)
    )
    requirement = make_requirement(identifier="5.15")
    control = make_control(owner, "AC-01", "User access management", requirements=[requirement])
    make_schedule(owner, subject=control, title="Access review", start_date=datetime.date(2026, 2, 5), backfill=True)
    Occurrence.objects.filter(due_date=datetime.date(2026, 2, 5), owner=owner).update(state=Occurrence.State.MISSED)
    hr_control = make_control(other_owner, "HR-01", "Screening", requirements=[make_requirement(identifier="6.1")])
    hr_schedule = make_schedule(other_owner, title="Leaver check", start_date=datetime.date(2026, 2, 20), backfill=True)
    Occurrence.objects.filter(schedule=hr_schedule, due_date=datetime.date(2026, 2, 20)).update(
        state=Occurrence.State.DONE, completed_on=datetime.date(2026, 2, 19)
    )
    unmapped = make_requirement(identifier="5.1", title="Policies for information security")
    _soa_entries()
    return {
        "certificate": certificate,
        "control": control,
        "hr_control": hr_control,
        "requirement": requirement,
        "unmapped": unmapped,
    }


def test_period_is_since_the_previous_external_audit_until_the_next(org, compliance):
    r = readiness(compliance)
    assert r.next_audit.planned_date == datetime.date(2027, 2, 1)
    assert (r.period.start, r.period.end) == (datetime.date(2026, 2, 2), datetime.date(2027, 2, 1))
    assert "surveillance audit (year 1)" in r.period.since


def test_overdue_work_by_owner_and_department(org, compliance, owner, other_owner):
    r = readiness(compliance)
    assert (r.overdue, r.missed) == (1, 1)  # March's task overdue, February's missed
    rows = {row.name: (row.overdue, row.missed) for row in r.by_owner}
    assert rows == {str(owner): (1, 1)}
    assert {row.name: row.total for row in r.by_department} == {"IT": 2}
    # Work on time: four tasks fell due in the period so far: the audit's task and the HR check done on time, the
    # access reviews of February (missed) and March (overdue) not.
    assert (r.tasks_on_time, r.tasks_due) == (2, 4)


def test_evidence_gap_found_and_cleared_by_evidence(org, compliance):
    r = readiness(compliance)
    gaps = {g.obj.reference: g.reason for g in r.control_gaps}
    assert "none done" in gaps["AC-01"] and "no evidence" in gaps["AC-01"]
    assert gaps["HR-01"] == "no evidence dated in the period"
    reqs = {g.obj.identifier: g.reason for g in r.requirement_gaps}
    assert "no control is mapped" in reqs["5.1"]
    assert "no evidence" in reqs["5.15"]

    evidence_add_note(note="Access reviewed by hand", by=compliance, source="web", control=org["control"])
    Occurrence.objects.filter(due_date=datetime.date(2026, 3, 5), owner=org["control"].owner).update(
        state=Occurrence.State.DONE, completed_on=datetime.date(2026, 3, 6)
    )
    r = readiness(compliance)
    assert "AC-01" not in {g.obj.reference for g in r.control_gaps}
    assert "5.15" not in {g.obj.identifier for g in r.requirement_gaps}
    assert "5.1" in {g.obj.identifier for g in r.requirement_gaps}


def test_nonconformities_by_age_and_severity(org, compliance, owner):
    for days, severity in ((3, Severity.MINOR), (45, Severity.MAJOR), (120, Severity.MINOR), (200, Severity.MINOR)):
        nc_raise(
            by=compliance,
            source="self",
            title=f"NC {days}",
            description="Found",
            owner=owner,
            severity=severity,
            raised_on=TODAY - datetime.timedelta(days=days),
        )
    r = readiness(compliance)
    table = {row["key"]: row["cells"] for row in r.nc_table}
    assert table == {"minor": [1, 0, 2], "major": [0, 1, 0]}
    assert r.nc_open == 4
    nc = next(c for c in r.components if c.key == "nonconformities")
    assert nc.score == 100 - 25 - 2 * 10 - 5


def test_overdue_risk_review_and_expiring_acceptance_and_exception(org, compliance, owner):
    late = _risk(compliance, owner, "Late review")
    Risk.objects.filter(pk=late.pk).update(next_review_on=TODAY - datetime.timedelta(days=5))
    fine = _risk(compliance, owner, "On time")
    Risk.objects.filter(pk=fine.pk).update(next_review_on=TODAY + datetime.timedelta(days=30))
    Acceptance.objects.create(
        risk=fine,
        state=Decision.APPROVED,
        justification="Low value",
        expires_on=datetime.date(2026, 6, 1),
        requested_by=owner,
        approver=compliance,
    )
    Acceptance.objects.create(
        risk=late,
        state=Decision.APPROVED,
        justification="Later",
        expires_on=datetime.date(2027, 6, 1),  # after the audit: not listed
        requested_by=owner,
        approver=compliance,
    )
    ControlException.objects.create(
        control=org["control"],
        title="Legacy server: no MFA",
        reason="Vendor",
        compensating="Network isolation",
        owner=owner,
        approver=compliance,
        expires_on=datetime.date(2026, 4, 1),
        state=Decision.APPROVED,
        requested_by=owner,
    )
    r = readiness(compliance)
    assert [g.obj.title for g in r.risks_overdue] == ["Late review"]
    assert "5 days late" in r.risks_overdue[0].reason
    assert [g.obj.risk.title for g in r.acceptances] == ["On time"]
    assert [g.obj.title for g in r.exceptions] == ["Legacy server: no MFA"]
    risk_component = next(c for c in r.components if c.key == "risk_reviews")
    assert risk_component.score == 50


def test_figure_is_the_weighted_sum_of_its_breakdown(org, compliance, owner):
    _risk(compliance, owner)
    r = readiness(compliance)
    counted = [c for c in r.components if c.counted]
    assert sum(c.weight for c in r.components) == sum(WEIGHTS.values()) == 100
    assert r.weights_counted == sum(c.weight for c in counted)
    assert sum(c.points for c in counted) == pytest.approx(sum(c.score * c.weight for c in counted) / r.weights_counted)
    assert r.figure == round(sum(c.points for c in counted))
    assert 0 <= r.figure <= 100
    # Work on time 2 of 4 → 50; evidence 0 of 2 controls → 0; no NC → 100; risk on time → 100; internal audits:
    # no area (no clauses loaded) → left out; no management review → 0.
    scores = {c.key: c.score for c in r.components}
    assert scores == {
        "tasks": 50,
        "controls": 0,
        "nonconformities": 100,
        "risk_reviews": 100,
        "internal_audits": None,
        "management_review": 0,
    }
    assert r.figure == round((50 * 25 + 0 * 25 + 100 * 15 + 100 * 15 + 0 * 10) / 90)


def test_page_for_the_compliance_team_has_fix_links(client, org, compliance, owner):
    late = _risk(compliance, owner, "Late review")
    Risk.objects.filter(pk=late.pk).update(next_review_on=TODAY - datetime.timedelta(days=5))
    client.force_login(compliance)
    page = client.get(reverse("portal:readiness")).content.decode()
    assert "Period under audit: 2 Feb 2026 to 1 Feb 2027" in page
    assert reverse("evidence:create", args=["control", org["control"].pk]) in page
    assert reverse("risks:review", args=[late.pk]) in page
    assert "How it is computed" in page
    assert reverse("portal:readiness_department", args=[owner.department.pk]) in page


def test_viewer_reads_without_fix_buttons(client, org, compliance, owner, viewer):
    late = _risk(compliance, owner, "Late review")
    Risk.objects.filter(pk=late.pk).update(next_review_on=TODAY - datetime.timedelta(days=5))
    nc = nc_raise(by=compliance, source="self", title="Open NC", description="Found", owner=owner)
    client.force_login(viewer)
    response = client.get(reverse("portal:readiness"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Late review" in page and "Open NC" in page and "AC-01" in page
    for fix in (
        reverse("evidence:create", args=["control", org["control"].pk]),
        reverse("risks:review", args=[late.pk]),
        reverse("audits:nc_edit", args=[nc.pk]),
        reverse("audits:review_create"),
        reverse("audits:programme_plan"),
    ):
        assert fix not in page
    assert reverse("audits:nc", args=[nc.pk]) in page  # reading stays


@pytest.mark.parametrize("who", ["owner", "auditor"])
def test_owner_and_auditor_are_refused(client, org, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("portal:readiness")).status_code == 403
    dept = request.getfixturevalue("owner").department
    assert client.get(reverse("portal:readiness_department", args=[dept.pk])).status_code == 403


def test_department_view_is_limited_to_the_department(client, org, compliance, owner, other_owner):
    nc_raise(by=compliance, source="self", title="IT finding", description="Found", owner=owner)
    nc_raise(by=compliance, source="self", title="HR finding", description="Found", owner=other_owner)
    _risk(compliance, other_owner, "HR risk")
    it = owner.department
    r = readiness(compliance, department=it)
    assert [g.obj.reference for g in r.control_gaps] == ["AC-01"]
    assert [g.obj.identifier for g in r.requirement_gaps] == ["5.15"]
    assert [g.obj.title for g in r.nc_list] == ["IT finding"]
    assert r.risks_open == 0
    assert (r.tasks_on_time, r.tasks_due) == (1, 3)  # the audit's task is IT's too
    client.force_login(compliance)
    page = client.get(reverse("portal:readiness_department", args=[it.pk])).content.decode()
    assert "Audit readiness: IT" in page
    assert "HR finding" not in page and "HR-01" not in page
    assert client.get(reverse("portal:readiness_department", args=[99999])).status_code == 404


def test_without_certificate_the_page_says_how_to_add_one(client, clock, compliance, owner, viewer):
    make_control(owner, "AC-01", "User access management")
    client.force_login(compliance)
    page = client.get(reverse("portal:readiness")).content.decode()
    assert "No certificate is recorded yet" in page
    assert reverse("organisation:certificate") in page
    assert "the last 12 months" in page
    r = readiness(compliance)
    assert r.period.end == TODAY and r.controls_in_scope == 1
    client.force_login(viewer)
    page = client.get(reverse("portal:readiness")).content.decode()
    assert "No certificate is recorded yet" in page and reverse("organisation:certificate") not in page


def _grow(first: int, n: int, owner, compliance):
    """n more controls (on applicable requirements) with an activity, evidence and an expiring exception each, n
    risks overdue for review with an expiring acceptance, and n open nonconformities."""
    for i in range(first, first + n):
        control = make_control(
            owner, f"X-{i:03d}", f"Control {i}", requirements=[make_requirement(identifier=f"8.{i}")]
        )
        make_schedule(owner, subject=control, title=f"Check {i}", start_date=datetime.date(2026, 2, 10), backfill=True)
        evidence_add_note(note="Seen", by=compliance, source="web", control=control)
        risk = _risk(compliance, owner, f"Risk {i}")
        Risk.objects.filter(pk=risk.pk).update(next_review_on=TODAY - datetime.timedelta(days=i + 1))
        nc_raise(by=compliance, source="self", title=f"NC {i}", description="Found", owner=owner)
        Acceptance.objects.create(
            risk=risk,
            state=Decision.APPROVED,
            justification="Low value",
            expires_on=TODAY + datetime.timedelta(days=i),
            requested_by=owner,
            approver=compliance,
        )
        ControlException.objects.create(
            control=control,
            title=f"Exception {i}",
            reason="Vendor",
            compensating="Isolation",
            owner=owner,
            approver=compliance,
            expires_on=TODAY + datetime.timedelta(days=i),
            state=Decision.APPROVED,
            requested_by=owner,
        )
    _soa_entries()


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_constant_queries_for_few_and_many_rows(client, org, compliance, owner):
    client.force_login(compliance)
    urls = [reverse("portal:readiness"), reverse("portal:readiness_department", args=[owner.department.pk])]
    for url in urls:
        client.get(url)  # warm the content-type and session caches
    _grow(0, 2, owner, compliance)
    few = [_queries(client, url) for url in urls]
    _grow(2, 30, owner, compliance)
    many = [_queries(client, url) for url in urls]
    assert few == many
    assert max(many) <= 45, many  # the page's own queries: about thirty, with the session and user


def test_pages_with_content_are_valid_html(client, org, compliance, owner, viewer):
    """The matrix checks the pages on empty data; here with every section filled, as the team and leadership."""
    from tests import htmlcheck
    from tests.conftest import skip_or_fail

    if not htmlcheck.VNU_JAR.exists() or not htmlcheck.java():
        skip_or_fail("the HTML checker (vnu.jar, Java 17) is not installed: run `make test` once")
    late = _risk(compliance, owner, "Late review")
    Risk.objects.filter(pk=late.pk).update(next_review_on=TODAY - datetime.timedelta(days=5))
    nc_raise(by=compliance, source="self", title="Open NC", description="Found", owner=owner, severity=Severity.MAJOR)
    pages = []
    for user in (compliance, viewer):
        client.force_login(user)
        for url in (reverse("portal:readiness"), reverse("portal:readiness_department", args=[owner.department.pk])):
            response = client.get(url)
            pages.append(htmlcheck.Page(f"readiness-{user.username}-{url}", url, response.content))
    errors = htmlcheck.validate(pages)
    assert not errors, "\n".join(errors)


def test_dashboard_links_to_readiness_for_its_readers_only(client, clock, compliance, viewer, owner):
    url = reverse("portal:readiness")
    for user, shown in ((compliance, True), (viewer, True), (owner, False)):
        client.force_login(user)
        assert (url in client.get(reverse("dashboard")).content.decode()) is shown, user.username


def test_internal_audit_coverage_and_management_review(org, compliance, viewer):
    from audits.models import Audit, AuditStatus, ChecklistRow, ManagementReview, Result, ReviewStatus
    from audits.services import programme_ensure

    clauses = [make_requirement("iso27001-2022-clauses", ident, f"Clause {ident}") for ident in ("4.1", "5.2")]
    programme = programme_ensure(certificate=org["certificate"], by=compliance)
    audit = Audit.objects.create(
        programme=programme,
        number=901,
        reference="IA-901",
        title="Context and policy",
        planned_on=datetime.date(2026, 2, 20),
        status=AuditStatus.IN_PROGRESS,
    )
    ChecklistRow.objects.create(audit=audit, requirement=clauses[0], result=Result.CONFORMING)
    r = readiness(compliance)
    # The areas: clauses 4.1 and 5.2 (Annex A controls join once a SoA is approved); the audit covered 4.1.
    assert r.has_programme and (r.audit_covered, r.audit_areas) == (1, 2)
    assert {c.key: c.score for c in r.components}["internal_audits"] == 50
    review = ManagementReview.objects.create(
        number=901,
        reference="MR-901",
        planned_on=datetime.date(2026, 1, 15),
        chair=viewer,
        status=ReviewStatus.OPEN,
        meeting_on=datetime.date(2026, 1, 15),
        input_notes={"a": "All done", "b": "None", "c": "New customer", "d1": "Two minors", "e": ""},
    )
    r = readiness(compliance)
    assert r.review == review and r.review_recent
    assert r.review_inputs_noted == 4
    scores = {c.key: c.score for c in r.components}
    assert scores["management_review"] == 50 + 0 + round(20 * 4 / 10)
    ManagementReview.objects.filter(pk=review.pk).update(status=ReviewStatus.APPROVED)
    assert {c.key: c.score for c in readiness(compliance).components}["management_review"] == 50 + 30 + 8


def test_evidence_on_a_controls_task_counts_for_the_control(org, compliance):
    """Evidence filed on a task of the control's activity, even where the item does not name the control (older
    items, imports): the control's coverage page counts it through the task, and so does readiness."""
    from django.utils import timezone

    from evidence.models import EvidenceItem

    task = Occurrence.objects.get(owner=org["control"].owner, due_date=datetime.date(2026, 3, 5))
    EvidenceItem.objects.create(
        type="note", title="Review notes", note="Seen", occurrence=task, submitted_at=timezone.now(), source="web"
    )
    gaps = {g.obj.reference: g.reason for g in readiness(compliance).control_gaps}
    assert gaps["AC-01"] == "2 activities due in the period, none done"
