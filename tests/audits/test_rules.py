"""Bad input and the rules around it: an auditor on their own area, a dismissal without a reason, minutes changed
after approval, an effectiveness check by the implementer on the page; an incident revealing a nonconformity
raises one; an overdue corrective action escalates and appears in the compliance team's weekly digest; the
nonconformity log downloads; the read API answers within reach."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.urls import reverse

from audits import services
from audits.models import Audit, NCState, Nonconformity, Source
from isms.maintenance import notices
from isms.maintenance import selectors as calendar
from isms.maintenance.services import mark_missed, occurrence_complete
from tests.audits.conftest import task_of
from tests.factories import make_control, make_requirement

pytestmark = pytest.mark.django_db


def _nc(by, owner, **extra):
    return services.nc_raise(
        by=by,
        source=Source.SELF,
        title="Access reviews skipped",
        description="Q1 review not done",
        owner=owner,
        **extra,
    )


def test_an_auditor_may_not_audit_their_own_department_or_controls(clock, client_as, compliance, owner, department):
    clause = make_requirement("iso27001-2022-clauses", "9.2", "Internal audit")
    with pytest.raises(ValidationError, match="works in IT, which this audit covers"):
        services.audit_create(
            by=compliance, kind="internal", title="IT audit", planned_on=clock.today, lead_auditor=owner,
            departments=[department], scope=[clause],
        )  # fmt: skip
    control_req = make_requirement(identifier="8.13", title="Backup")
    make_control(owner, "BC-01", "Backups", requirements=[control_req])
    with pytest.raises(ValidationError, match="owns BC-01"):
        services.audit_create(
            by=compliance, kind="internal", title="Backups", planned_on=clock.today, lead_auditor=owner,
            scope=[control_req],
        )  # fmt: skip
    # On the page: the reason beside the field, nothing saved.
    page = client_as(compliance).post(
        reverse("audits:audit_create"),
        {"kind": "internal", "title": "IT audit", "planned_on": "2026-04-01", "lead_auditor": owner.pk,
         "departments": [department.pk], "scope": [clause.pk]},
    )  # fmt: skip
    assert page.status_code == 200 and "must not audit their own area" in page.content.decode()
    assert not Audit.objects.exists()


def test_a_dismissal_needs_a_reason_and_a_proposed_nonconformity_is_decided_once(clock, compliance, owner):
    nc = _nc(compliance, owner, state=NCState.PROPOSED)
    with pytest.raises(ValidationError, match="Say why it is dismissed"):
        services.nc_decide(nc=nc, by=compliance, accept=False, reason="  ")
    nc.refresh_from_db()
    assert nc.state == NCState.PROPOSED
    services.nc_decide(nc=nc, by=compliance, accept=False, reason="Done on paper")
    with pytest.raises(ValidationError, match="already decided"):
        services.nc_decide(nc=nc, by=compliance, accept=True)
    assert Nonconformity.objects.get().dismiss_reason == "Done on paper"


def test_the_implementer_cannot_check_their_own_action_on_the_page(clock, client_as, compliance, owner, admin_user):
    nc = _nc(compliance, owner)
    services.nc_update(nc=nc, by=compliance, checker=admin_user)
    action = services.action_add(nc=nc, by=compliance, title="Fix", owner=compliance, due_on=clock.today)
    occurrence_complete(occurrence=task_of(action, services.CORRECTIVE_ACTION), by=compliance)
    check = nc.checks.get()
    assert check.checker == admin_user
    page = client_as(compliance).post(reverse("audits:check", args=[check.pk]), {"outcome": "passed", "note": "Fine"})
    assert page.status_code == 200 and "You implemented a corrective action" in page.content.decode()
    check.refresh_from_db()
    assert check.outcome == "" and Nonconformity.objects.get().state == NCState.CHECKING
    # A checker may not be named from among the implementers either.
    with pytest.raises(ValidationError, match="someone else must check"):
        services.nc_update(nc=nc, by=compliance, checker=compliance)


def test_minutes_cannot_be_changed_after_approval(clock, client_as, compliance, viewer):
    review = services.review_plan(by=compliance, planned_on=clock.today, chair=compliance)
    services.review_open(review=review, by=compliance)
    # Leadership records its decision on the page.
    client_as(viewer).post(reverse("audits:decision_create", args=[review.pk]), {"text": "Hire a second analyst"})
    assert review.decisions.get().recorded_by == viewer
    services.review_record(
        review=review, by=compliance, meeting_on=clock.today, attendees=[viewer], suitability="Yes", adequacy="Yes",
        effectiveness="Yes",
    )  # fmt: skip
    services.review_approve(review=review, by=compliance)
    page = client_as(compliance).post(
        reverse("audits:review_minutes", args=[review.pk]),
        {"meeting_on": "2026-03-09", "suitability": "Changed later", "adequacy": "x", "effectiveness": "x"},
    )
    assert "frozen and cannot be changed" in page.content.decode()
    review.refresh_from_db()
    assert review.suitability == "Yes" and review.meeting_on == clock.today
    # Approval without the meeting's essentials is refused.
    other = services.review_plan(by=compliance, planned_on=clock.today, chair=compliance)
    services.review_open(review=other, by=compliance)
    with pytest.raises(ValidationError, match="meeting date"):
        services.review_approve(review=other, by=compliance)


def test_an_incident_revealing_a_nonconformity_raises_one(clock, compliance, owner):
    from events import services as events

    severity = events.severity_scale_ensure()[0]
    control = make_control(owner, "AC-01", "Access", requirements=[make_requirement(identifier="5.15")])
    incident = events.incident_create(
        by=owner, title="Leaver kept access", description="Found in logs", occurred_on=clock.today,
        detected_on=clock.today, severity=severity, controls=[control],
    )  # fmt: skip
    events.incident_close(
        incident=incident, by=compliance, reveals_nonconformity=True, nonconformity_note="5.15 leavers not removed"
    )
    nc = Nonconformity.objects.get()
    assert nc.source == Source.INCIDENT and nc.state == NCState.PROPOSED and nc.incident == incident
    assert nc.description == "5.15 leavers not removed" and list(
        nc.requirements.values_list("identifier", flat=True)
    ) == ["5.15"]
    incident.refresh_from_db()
    assert incident.nonconformity_id == nc.pk


def test_an_overdue_corrective_action_escalates_and_is_in_the_team_digest(clock, compliance, owner):
    nc = _nc(compliance, owner)
    action = services.action_add(
        nc=nc, by=compliance, title="Name a deputy", owner=owner, due_on=clock.today + datetime.timedelta(days=5)
    )
    task = task_of(action, services.CORRECTIVE_ACTION)
    clock.move_to(clock.today + datetime.timedelta(days=6))
    digest = calendar.team_digest(clock.today)
    assert task in digest["overdue"] and digest["corrective_actions"] == [task]
    text = render_to_string(
        "maintenance/email/team_digest.txt",
        {**digest, "recipient": compliance, "today": clock.today, "digest_settings_url": "x", "site_url": ""},
    )
    assert "Corrective actions late (1)" in text and "NC-001 corrective action: Name a deputy" in text
    clock.move_to(task.grace_until + datetime.timedelta(days=1))
    mark_missed(clock.today)
    escalated = notices.plan_escalations(clock.today)
    assert any(n.subject_id == task.pk and n.recipient == compliance for n in escalated)
    assert task in calendar.team_digest(clock.today)["missed"]
    assert Nonconformity.objects.count() == 1  # a missed corrective action raises no nonconformity of its own


def test_the_nonconformity_log_downloads(clock, client_as, compliance, owner):
    _nc(compliance, owner)
    client = client_as(compliance)
    csv = client.get(reverse("audits:ncs"), {"export": "csv"})
    assert "NC-001" in csv.content.decode() and "Access reviews skipped" in csv.content.decode()
    xlsx = client.get(reverse("audits:ncs"), {"export": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def test_the_read_api_answers_within_reach(clock, compliance, owner, other_owner):
    from rest_framework.test import APIClient

    from evidence.api.services import token_create

    mine, theirs = _nc(compliance, owner), _nc(compliance, other_owner)

    def api(user, scopes):
        _, secret = token_create(user=user, by=user, name="t", scopes=scopes)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        return client

    body = api(owner, ["audits:read"]).get(reverse("audits_api:nonconformities")).json()
    assert [r["reference"] for r in body["results"]] == [mine.reference]
    assert api(owner, ["audits:read"]).get(reverse("audits_api:nonconformity", args=[theirs.pk])).status_code == 404
    assert api(owner, ["risks:read"]).get(reverse("audits_api:nonconformities")).status_code == 403


def test_themes_fill_the_scope_and_external_actions_keep_the_close_out_deadline(clock, client_as, compliance, soa):
    from audits.models import Audit
    from controls.models import Requirement

    page = client_as(compliance).post(
        reverse("audits:audit_create"),
        {"kind": "internal", "title": "People controls", "planned_on": "2026-04-01", "themes": ["People controls"]},
    )
    assert page.status_code == 302
    audit = Audit.objects.get(title="People controls")
    people = Requirement.objects.filter(framework__has_soa=True, group="People controls")
    assert set(audit.scope.all()) == set(people) and audit.rows.count() == people.count() == 8
    stage = services.audit_create(by=compliance, kind="stage_2", title="Stage 2", planned_on=clock.today)
    services.finding_add(
        audit=stage, by=compliance, grade="minor", description="Policies not approved",
        close_by=clock.today + datetime.timedelta(days=30),
    )  # fmt: skip
    nc = Nonconformity.objects.get(source=Source.EXTERNAL_AUDIT)
    with pytest.raises(ValidationError, match="close-out deadline"):
        services.action_add(
            nc=nc, by=compliance, title="Approve", owner=compliance, due_on=clock.today + datetime.timedelta(days=45)
        )
    with pytest.raises(ValidationError, match="close-out deadline"):
        services.finding_add(audit=stage, by=compliance, grade="major", description="No risk assessment")


def test_a_corrective_action_done_with_evidence_shows_it_on_the_nonconformity(clock, client_as, compliance, owner):
    from isms.maintenance import purposes

    nc = _nc(compliance, owner)
    action = services.action_add(nc=nc, by=compliance, title="Name a deputy", owner=owner, due_on=clock.today)
    purposes.complete_task(
        occurrence=task_of(action, services.CORRECTIVE_ACTION),
        by=owner,
        data={"note": "Deputy named", "links": ["https://tickets.example/ISMS-7"]},
    )
    action.refresh_from_db()
    assert action.done_on == clock.today and action.done_by == owner and action.note == "Deputy named"
    page = client_as(owner).get(reverse("audits:nc", args=[nc.pk])).content.decode()
    assert "Evidence:" in page and "tickets.example/ISMS-7" in page


def test_a_change_closed_as_revealing_a_nonconformity_raises_one(clock, client_as, compliance, owner):
    from events import services as events

    change = events.change_create(
        by=compliance, title="New payroll provider", planned_on=clock.today, owner=owner,
        **dict.fromkeys(events.QUESTION_FIELDS, False),
    )  # fmt: skip
    page = client_as(compliance).post(
        reverse("events:change_close", args=[change.pk]),
        {"reveals_nonconformity": "yes", "nonconformity_note": "15.1 no supplier assessment before signing"},
    )
    assert page.status_code == 302
    nc = Nonconformity.objects.get()
    assert nc.source == Source.CHANGE and nc.state == NCState.PROPOSED and nc.change == change
    assert nc.description == "15.1 no supplier assessment before signing" and nc.owner == owner
    # Marked without saying which requirement: refused, nothing closed.
    other = events.change_create(
        by=compliance, title="Office move", planned_on=clock.today, **dict.fromkeys(events.QUESTION_FIELDS, False)
    )
    with pytest.raises(ValidationError, match="which requirement was not met"):
        events.change_close(change=other, by=compliance, reveals_nonconformity=True)
    other.refresh_from_db()
    assert not other.is_closed and Nonconformity.objects.count() == 1
