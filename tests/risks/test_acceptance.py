"""Acceptance as a decision record: a named approver with the authority, a justification and an expiry; the risk
frozen at approval; it lapses by itself on expiry or on a material change (a higher score, a linked control
removed or no longer implemented), the risk back in the review queue and its owner and approver told."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from controls.models import Control
from isms.maintenance.models import Schedule
from isms.notices.models import Notice
from risks import selectors, services
from risks.models import Acceptance, Approvers, DepartmentManager, Matrix

D = datetime.date


@pytest.fixture
def risky(owner, make_risk, control):
    """Residual 12 (High): above the acceptance threshold of 9, so accepting it needs an approver."""
    return make_risk(owner, residual_likelihood=3, residual_impact=4, controls=[control], treatment="accept")


def ask(risk, by, approver, days=90, justification="Budget for the fix is next year's"):
    from django.utils import timezone

    return services.acceptance_request(
        risk=risk, by=by, approver=approver, justification=justification,
        expires_on=timezone.localdate() + datetime.timedelta(days=days) if days else None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("field", "kwargs", "words"),
    [
        ("approver", {"approver": None}, "Name the approver"),
        ("expires_on", {"days": None}, "Give an expiry date"),
        ("justification", {"justification": " "}, "Say why"),
    ],
)
def test_an_acceptance_needs_an_approver_an_expiry_and_a_justification(
    clock, compliance, owner, risky, field, kwargs, words
):
    values = {"approver": compliance, **kwargs}
    approver = values.pop("approver")
    with pytest.raises(ValidationError) as refused:
        ask(risky, owner, approver, **values)
    assert words in refused.value.message_dict[field][0]
    assert not Acceptance.objects.exists()


def test_only_someone_with_the_authority_may_be_named(clock, owner, other_owner, risky):
    with pytest.raises(ValidationError) as refused:
        ask(risky, owner, other_owner)
    assert "does not have the authority" in refused.value.message_dict["approver"][0]


def test_the_requester_cannot_approve_their_own(clock, client_as, compliance, admin_user, risky):
    with pytest.raises(ValidationError) as refused:
        ask(risky, compliance, compliance)
    assert "cannot approve your own" in refused.value.message_dict["approver"][0]
    # Asked by the compliance manager of the administrator: the compliance manager cannot decide it either.
    acceptance = ask(risky, compliance, admin_user)
    response = client_as(compliance).post(
        reverse("risks:acceptance_decide", args=[acceptance.pk]), {"decision": "approve"}
    )
    assert response.status_code == 403
    with pytest.raises(PermissionDenied):
        services.acceptance_decide(acceptance=acceptance, by=compliance, approve=True)
    acceptance.refresh_from_db()
    assert acceptance.state == "requested"


def test_a_department_manager_may_approve_when_the_criteria_say_so(
    clock, compliance, owner, admin_user, risky, department
):
    manager = owner.__class__.objects.create(username="mo", email="mo@example.com", role="owner", department=department)
    DepartmentManager.objects.create(department=department, manager=manager)
    with pytest.raises(ValidationError):
        ask(risky, owner, manager)  # the default criteria: the compliance team only
    Matrix.objects.update(approvers=Approvers.COMPLIANCE_OR_MANAGER)
    acceptance = ask(risky, owner, manager)
    services.acceptance_decide(acceptance=acceptance, by=manager, approve=True)
    assert Acceptance.objects.get().state == "approved"


def test_approval_freezes_the_risk_and_puts_a_renewal_task_before_the_expiry(
    clock, client_as, compliance, owner, risky
):
    acceptance = ask(risky, owner, compliance, days=90)
    response = client_as(compliance).post(
        reverse("risks:acceptance_decide", args=[acceptance.pk]), {"decision": "approve", "note": "Agreed at the board"}
    )
    assert response.status_code == 302
    acceptance.refresh_from_db()
    risky.refresh_from_db()
    assert acceptance.state == "approved" and risky.status == "accepted"
    assert acceptance.snapshot["residual_score"] == 12 and acceptance.matrix.number == 1
    assert [c["reference"] for c in acceptance.snapshot["controls"]] == ["BC-01"]
    renewal = Schedule.objects.get(purpose="renewal")
    assert renewal.start_date == clock.today + datetime.timedelta(days=60) and renewal.owner == owner
    page = client_as(owner).get(reverse("risks:detail", args=[risky.pk])).content.decode()
    assert "In force" in page


@pytest.fixture
def accepted(clock, compliance, owner, risky):
    acceptance = ask(risky, owner, compliance, days=90)
    return services.acceptance_decide(acceptance=acceptance, by=compliance, approve=True)


def _lapsed_told(acceptance) -> set[str]:
    return set(Notice.objects.filter(kind="risks.decision_lapsed").values_list("recipient__username", flat=True))


def test_it_lapses_on_expiry_and_the_risk_returns_to_the_queue(clock, compliance, owner, accepted):
    clock.move_to(accepted.expires_on)
    assert services.decisions_check() == []  # still in force on its last day
    clock.advance(days=1)
    assert services.decisions_check() == [accepted]
    accepted.refresh_from_db()
    assert accepted.state == "lapsed" and "expired" in accepted.end_reason
    risk = accepted.risk
    risk.refresh_from_db()
    assert risk.status == "open" and risk.next_review_on == clock.today
    assert [r.risk for r in selectors.queue(compliance)["requested"]] == [risk]
    assert _lapsed_told(accepted) == {"owner", "compliance"}
    assert services.decisions_check() == []  # once


def test_a_higher_score_lapses_it_at_once(clock, owner, accepted):
    services.risk_update(risk=accepted.risk, by=owner, reason="New exploit published", residual_impact=5)
    accepted.refresh_from_db()
    assert accepted.state == "lapsed" and "rose from 12 to 15" in accepted.end_reason
    assert _lapsed_told(accepted) == {"owner", "compliance"}


def test_a_lower_score_keeps_it(clock, owner, accepted):
    services.risk_update(risk=accepted.risk, by=owner, reason="Extra monitoring", residual_impact=3)
    accepted.refresh_from_db()
    assert accepted.state == "approved"


def test_removing_a_linked_control_lapses_it(clock, owner, accepted):
    services.risk_update(risk=accepted.risk, by=owner, reason="Backups moved to another control", controls=[])
    accepted.refresh_from_db()
    assert accepted.state == "lapsed" and "BC-01 is no longer linked" in accepted.end_reason


def test_a_control_no_longer_implemented_lapses_it_at_the_daily_check(clock, owner, accepted, control):
    clock.advance(days=5)
    Control.objects.filter(pk=control.pk).update(status="partial")  # changed on the control's own page
    from risks.tasks import check_decisions

    assert check_decisions() == 1
    accepted.refresh_from_db()
    assert accepted.state == "lapsed" and "BC-01 is no longer implemented" in accepted.end_reason
    assert not Schedule.objects.get(purpose="renewal").active  # its renewal task is withdrawn


def test_beat_runs_the_check_every_night():
    from isms.beat import BEAT_SCHEDULE
    from isms.celery import app

    entry = BEAT_SCHEDULE["check-risk-decisions"]
    assert entry["task"] == "risks.check_decisions" and entry["task"] in app.tasks
