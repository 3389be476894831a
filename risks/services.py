"""Writes for the risk register: `<entity>_<action>(*, …)`, atomic, validated before anything is written.

Every change to a risk's scores, treatment or controls is an assessment (`_assess`): the risk row carries the
latest values, the assessment keeps who, when, why and the snapshot. A review is an assessment even when
nothing changed. Reviews are tasks on the calendar (`schedule_for(purpose="review")`), moved after each
review to the next date the risk's interval gives; an out-of-cycle review (`risk_review_request`) brings the
task forward to today. Acceptances and exceptions lapse by themselves (`decisions_check`, run daily by beat
and after every assessment)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from controls.models import Control, ImplementationStatus, Requirement
from isms.foundation import reach
from isms.maintenance.models import Kind, Occurrence
from isms.maintenance.services import occurrence_complete, occurrence_lock, schedule_for, schedule_retire

from .models import (
    ASSESSED,
    Acceptance,
    Approvers,
    Assessment,
    ControlException,
    Counter,
    Decision,
    DepartmentManager,
    Matrix,
    PlanSignoff,
    PlanVersion,
    ReviewRequest,
    Risk,
    Status,
    Treatment,
    TreatmentAction,
)

REVIEW = "review"
RENEWAL = "renewal"
ACTION = "treatment"
#: How long before an acceptance or exception expires its renewal task falls due.
RENEWAL_LEAD = datetime.timedelta(days=30)

DESCRIPTIVE = ("title", "asset", "threat", "vulnerability", "owner", "department", "review_months", "status")
LEVELS = (
    "inherent_likelihood",
    "inherent_impact",
    "residual_likelihood",
    "residual_impact",
    "target_likelihood",
    "target_impact",
)


# --------------------------------------------------------------------------------------------------- numbers


def _next(name: str) -> int:
    """The next number of a sequence, under a row lock (never max()+1: two writers at once get two numbers)."""
    Counter.objects.get_or_create(name=name)
    counter = Counter.objects.select_for_update().get(name=name)
    counter.value += 1
    counter.save(update_fields=["value"])
    return counter.value


def reference_for(number: int) -> str:
    return f"R-{number:02d}"


# --------------------------------------------------------------------------------------------------- criteria

DEFAULT_5X5 = {
    "size": 5,
    "likelihood_levels": [
        {"label": "Rare", "description": "Less than once in ten years", "colour": "#e8f5e9"},
        {"label": "Unlikely", "description": "Once in five to ten years", "colour": "#f1f8e9"},
        {"label": "Possible", "description": "Once in one to five years", "colour": "#fff8e1"},
        {"label": "Likely", "description": "Once or more a year", "colour": "#fff3e0"},
        {"label": "Almost certain", "description": "Several times a year", "colour": "#ffebee"},
    ],
    "impact_levels": [
        {"label": "Negligible", "description": "No customer notices; under £1k", "colour": "#e8f5e9"},
        {"label": "Minor", "description": "A few customers notice; under £10k", "colour": "#f1f8e9"},
        {"label": "Moderate", "description": "Customer complaints; under £100k", "colour": "#fff8e1"},
        {"label": "Major", "description": "Breach to report; contracts at risk; under £1m", "colour": "#fff3e0"},
        {"label": "Severe", "description": "Regulator action; loss of certification; over £1m", "colour": "#ffebee"},
    ],
    "bands": [
        {"key": "low", "label": "Low", "upto": 4, "colour": "#2e7d32", "review_months": 12},
        {"key": "medium", "label": "Medium", "upto": 9, "colour": "#f9a825", "review_months": 6},
        {"key": "high", "label": "High", "upto": 15, "colour": "#ef6c00", "review_months": 3},
        {"key": "critical", "label": "Critical", "upto": 25, "colour": "#c62828", "review_months": 1},
    ],
    "acceptance_threshold": 9,
    "approvers": Approvers.COMPLIANCE,
}


@transaction.atomic
def matrix_save(
    *,
    by,
    size: int,
    likelihood_levels: list[dict],
    impact_levels: list[dict],
    bands: list[dict],
    acceptance_threshold: int,
    approvers: str = Approvers.COMPLIANCE,
    note: str = "",
) -> Matrix:
    """Make the next version of the risk criteria (a version is never edited). Risks keep the version of their
    latest assessment until they are next assessed."""
    for i, band in enumerate(bands):
        band.setdefault("key", f"band{i + 1}")
    matrix = Matrix(
        size=size,
        likelihood_levels=likelihood_levels,
        impact_levels=impact_levels,
        bands=bands,
        acceptance_threshold=acceptance_threshold,
        approvers=approvers,
        note=note.strip(),
        created_by=by,
        number=0,
    )
    matrix.clean()
    matrix.number = _next("matrix")
    matrix.save()
    return matrix


def matrix_ensure(*, by=None) -> Matrix:
    """The current criteria; the default 5×5 matrix on first use."""
    return Matrix.current() or matrix_save(by=by, note="Default 5×5 criteria.", **_copy(DEFAULT_5X5))


def _copy(value):
    import copy

    return copy.deepcopy(value)


# --------------------------------------------------------------------------------------------------- snapshots


def snapshot(risk: Risk) -> dict:
    """The assessed fields of `risk` as plain JSON (what an assessment keeps and an acceptance freezes)."""
    controls = sorted(risk.controls.all(), key=lambda c: c.reference)
    requirements = sorted(risk.requirements.all(), key=lambda r: (r.framework_id, r.position, r.identifier))
    return {
        "title": risk.title,
        "owner": str(risk.owner),
        "matrix": risk.matrix.number,
        "inherent_likelihood": risk.inherent_likelihood,
        "inherent_impact": risk.inherent_impact,
        "inherent_score": risk.inherent_score,
        "residual_likelihood": risk.residual_likelihood,
        "residual_impact": risk.residual_impact,
        "residual_score": risk.residual_score,
        "target_likelihood": risk.target_likelihood,
        "target_impact": risk.target_impact,
        "target_score": risk.target_score,
        "treatment": risk.treatment,
        "treatment_plan": risk.treatment_plan,
        "target_date": risk.target_date.isoformat() if risk.target_date else None,
        "status": risk.status,
        "controls": [{"id": c.pk, "reference": c.reference, "name": c.name, "status": c.status} for c in controls],
        "requirements": [{"id": r.pk, "identifier": r.identifier, "title": r.title} for r in requirements],
    }


def _plain(value):
    """A field's value as a snapshot holds it (dates as ISO text)."""
    return value.isoformat() if isinstance(value, datetime.date) else value


def _comparable(snap: dict, field: str):
    value = snap.get(field)
    if field in ("controls", "requirements"):
        return sorted(item["id"] for item in value or [])
    return value


def changed_fields(before: dict | None, after: dict) -> list[str]:
    """The assessed fields that differ between two snapshots (all of them when there is no `before`)."""
    if before is None:
        return list(ASSESSED)
    return [f for f in ASSESSED if _comparable(before, f) != _comparable(after, f)]


def _assess(
    risk: Risk,
    *,
    by,
    kind: str,
    reason: str,
    reviewed_on: datetime.date | None = None,
    via: str = "web",
    occurrence: Occurrence | None = None,
) -> Assessment:
    """Record the risk's current state as its next assessment (the risk row is locked by the caller)."""
    today = timezone.localdate()
    reviewed_on = reviewed_on or today
    if reviewed_on > today:
        raise ValidationError({"reviewed_on": "A review cannot be dated in the future: give today's date or earlier."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why (or, for a review with no change, what you checked)."})
    previous = risk.assessments.order_by("-number").first()
    snap = snapshot(risk)
    risk.assessment_count += 1
    risk.save(update_fields=["assessment_count", "updated_at"])
    return Assessment.objects.create(
        risk=risk,
        number=risk.assessment_count,
        kind=kind,
        matrix=risk.matrix,
        snapshot=snap,
        changed=changed_fields(previous.snapshot if previous else None, snap),
        inherent_score=risk.inherent_score,
        residual_score=risk.residual_score,
        reason=reason.strip(),
        reviewed_on=reviewed_on,
        by=by,
        by_name=(by.get_full_name() or by.username) if by else "the system",
        at=timezone.now(),
        occurrence=occurrence,
        via=via,
    )


# --------------------------------------------------------------------------------------------------- register


def _apply(risk: Risk, fields: dict) -> tuple[list, list]:
    """Set plain fields on the risk; return the many-to-many values to set after saving."""
    controls = fields.pop("controls", None)
    requirements = fields.pop("requirements", None)
    for name, value in fields.items():
        if name not in DESCRIPTIVE and name not in ASSESSED:
            raise TypeError(f"unknown risk field {name}")
        setattr(risk, name, value)
    return controls, requirements


def _check_owner(owner) -> None:
    if not reach.may_own_work(owner):
        raise ValidationError({"owner": f"{owner} cannot own a risk (an active staff member with an email address)."})


@transaction.atomic
def risk_create(
    *,
    by,
    reason: str = "Risk identified.",
    kind: str = Assessment.Kind.IDENTIFIED,
    via: str = "web",
    matrix: Matrix | None = None,
    **fields,
) -> Risk:
    """Add a risk to the register with its first assessment and its review task on the calendar."""
    matrix = matrix or matrix_ensure(by=by)
    if not fields.get("department") and fields.get("owner"):
        fields["department"] = fields["owner"].department  # a risk belongs to its owner's department by default
    risk = Risk(matrix=matrix, number=0, reference="")
    controls, requirements = _apply(risk, dict(fields))
    _check_owner(risk.owner)
    risk.full_clean(exclude=["number", "reference", "inherent_score", "residual_score", "target_score"])
    risk.set_scores()
    risk.number = _next("risk")
    risk.reference = reference_for(risk.number)
    if (
        risk.treatment == Treatment.MITIGATE
        and risk.status == Status.OPEN
        and risk.residual_score > (risk.target_score or risk.residual_score)
    ):
        risk.status = Status.TREATING
    risk.save()
    risk.controls.set(controls or [])
    risk.requirements.set(requirements or [])
    _assess(risk, by=by, kind=kind, reason=reason, via=via)
    _schedule_review(risk, by=by, after=timezone.localdate())
    return risk


def _lock(risk: Risk) -> Risk:
    return Risk.objects.select_for_update().select_related("matrix", "owner").get(pk=risk.pk)


@transaction.atomic
def risk_update(
    *,
    risk: Risk,
    by,
    reason: str = "",
    kind: str = Assessment.Kind.CHANGE,
    reviewed_on: datetime.date | None = None,
    via: str = "web",
    rematrix: bool = True,
    **fields,
) -> tuple[Risk, Assessment | None]:
    """Change a risk. A change to any assessed field (scores, treatment, controls, Annex A entries) is a new
    assessment, which needs a reason; a change of title or owner alone is not. Assessed under the current
    criteria (`rematrix`), whose scale the scores must fit."""
    risk = _lock(risk)
    before = snapshot(risk)
    controls, requirements = _apply(risk, dict(fields))
    if "owner" in fields:
        _check_owner(risk.owner)
    current = Matrix.current()
    # A form posts every assessed field: only a value that differs is a change (and moves the risk onto the
    # criteria in force, whose scale its levels must then fit).
    scalars = [f for f in ASSESSED if f in fields and f not in ("controls", "requirements")]
    assessed_change = any(before[f] != _plain(getattr(risk, f)) for f in scalars)
    if controls is not None:
        assessed_change |= sorted(c.pk for c in controls) != _comparable(before, "controls")
    if requirements is not None:
        assessed_change |= sorted(r.pk for r in requirements) != _comparable(before, "requirements")
    if rematrix and assessed_change and current and current.pk != risk.matrix_id:
        risk.matrix = current
    risk.full_clean(exclude=["number", "reference", "inherent_score", "residual_score", "target_score"])
    risk.set_scores()
    risk.save()
    if controls is not None:
        risk.controls.set(controls)
    if requirements is not None:
        risk.requirements.set(requirements)
    after = snapshot(risk)
    assessment = None
    if changed_fields(before, after) or kind != Assessment.Kind.CHANGE:
        assessment = _assess(risk, by=by, kind=kind, reason=reason, reviewed_on=reviewed_on, via=via)
    if before["residual_score"] != after["residual_score"] or {"review_months", "owner", "status"} & set(fields):
        _schedule_review(risk, by=by, after=risk.last_reviewed_on or timezone.localdate())
    decisions_check(risks=[risk])
    return risk, assessment


@transaction.atomic
def risk_review(
    *,
    risk: Risk,
    by,
    note: str,
    reviewed_on: datetime.date | None = None,
    via: str = "web",
    occurrence: Occurrence | None = None,
    **changes,
) -> Assessment:
    """Record a review of the risk: an assessment even when nothing changed (the note says what was checked).
    Completes the open review task, answers any out-of-cycle request, and puts the next review on the calendar
    one interval after the review's date."""
    today = timezone.localdate()
    reviewed_on = reviewed_on or today
    if reviewed_on > today:
        raise ValidationError({"reviewed_on": "A review cannot be dated in the future: give today's date or earlier."})
    if reviewed_on < today - relativedelta(years=1):
        raise ValidationError({"reviewed_on": "Record a review within a year of making it."})
    if not note.strip():
        raise ValidationError({"note": "Say what you reviewed, even when nothing changed."})
    task = occurrence or open_review_task(risk)
    # The reviewer completes the task if they may (its owner, the compliance team); else the system does.
    task_by = by if task is not None and reach.may(by, "complete", task) else None
    if task is not None and occurrence is None:
        task = occurrence_lock(task, by=task_by)
    risk, assessment = risk_update(
        risk=risk, by=by, reason=note, kind=Assessment.Kind.REVIEW, reviewed_on=reviewed_on, via=via, **changes
    )
    Assessment.objects.filter(pk=assessment.pk).update(occurrence=task)
    risk.last_reviewed_on = max(reviewed_on, risk.last_reviewed_on or reviewed_on)
    risk.save(update_fields=["last_reviewed_on", "updated_at"])
    ReviewRequest.objects.filter(risk=risk, answered_by__isnull=True).update(answered_by=assessment)
    if task is not None and occurrence is None and task.is_actionable:
        occurrence_complete(occurrence=task, by=task_by, note=f"Reviewed in the risk register: {note.strip()}", via=via)
    _schedule_review(risk, by=by, after=risk.last_reviewed_on)
    return assessment


@transaction.atomic
def risk_reassess(*, risk: Risk, by, reason: str, **changes) -> Assessment:
    """ "Reassess for this year": a new assessment starting from the last one with every field carried over
    (inherent included); what the form changed is changed, the rest stays as it was."""
    _, assessment = risk_update(risk=risk, by=by, reason=reason, kind=Assessment.Kind.REASSESSMENT, **changes)
    return assessment


def open_review_task(risk: Risk) -> Occurrence | None:
    """The risk's open (or missed) review task, if any."""
    from django.contrib.contenttypes.models import ContentType

    return (
        Occurrence.objects.filter(
            schedule__subject_type=ContentType.objects.get_for_model(Risk),
            schedule__subject_id=risk.pk,
            schedule__purpose=REVIEW,
            state__in=[Occurrence.State.OPEN, Occurrence.State.MISSED],
        )
        .order_by("due_date")
        .first()
    )


def _schedule_review(risk: Risk, *, by=None, after: datetime.date, due: datetime.date | None = None) -> None:
    """Put the risk's next review on the calendar for its owner: `due`, or one interval after `after`."""
    if risk.status == Status.CLOSED:
        schedule_retire(subject=risk, purpose=REVIEW, reason="The risk is closed.", by=by)
        Risk.objects.filter(pk=risk.pk).update(next_review_on=None)
        return
    due = due or after + relativedelta(months=risk.review_interval())
    risk.next_review_on = due
    Risk.objects.filter(pk=risk.pk).update(next_review_on=due)
    schedule_for(
        subject=risk,
        purpose=REVIEW,
        title=f"Review risk {risk.reference}: {risk.title}"[:200],
        owner=risk.owner,
        start_date=due,
        kind=Kind.RISK_REVIEW,
        by=by,
        description="Review the risk in the register: are the scores, the treatment and the controls still right? "
        "Record the review on the risk's page (even when nothing changed).",
        reminder_days=[14, 3, 1],
        grace_days=14,
    )


@transaction.atomic
def risk_review_request(*, risk: Risk, reason: str, source: str = "manual", by=None) -> ReviewRequest:
    """Ask for a review out of cycle (by hand; incidents and changes will call this too): the risk's review task
    is brought forward to today and the request waits in the queue until a review answers it."""
    if not reason.strip():
        raise ValidationError({"reason": "Say why the risk needs a review now."})
    risk = _lock(risk)
    request = ReviewRequest.objects.create(
        risk=risk, reason=reason.strip(), source=source, requested_by=by, requested_at=timezone.now()
    )
    today = timezone.localdate()
    if risk.next_review_on is None or risk.next_review_on > today:
        _schedule_review(risk, by=by, after=today, due=today)
    return request


def review_from_task(*, occurrence: Occurrence, by) -> None:
    """The review task was marked done on the calendar: that is a review with no change, with its note."""
    if Assessment.objects.filter(occurrence=occurrence).exists():
        return  # recorded in the register, which completed the task
    risk = Risk.objects.filter(pk=occurrence.schedule.subject_id).first()
    if risk is None:
        return
    note = occurrence.completion_note.strip() or "Reviewed on the calendar; no change."
    risk_review(risk=risk, by=by, note=note, reviewed_on=occurrence.completed_on, occurrence=occurrence, via="task")


# --------------------------------------------------------------------------------------------------- treatment


@transaction.atomic
def action_save(
    *, risk: Risk, by, title: str, owner, due_date: datetime.date, description: str = "", action=None
) -> TreatmentAction:
    """A treatment action: a task on the calendar for its owner, due on its date, done with evidence."""
    _check_owner(owner)
    action = action or TreatmentAction(risk=risk, created_by=by)
    action.title, action.description, action.owner, action.due_date = (
        title.strip(),
        description.strip(),
        owner,
        due_date,
    )
    if not action.title:
        raise ValidationError({"title": "Say what is to be done."})
    action.save()
    schedule_for(
        subject=action,
        purpose=ACTION,
        title=f"{risk.reference} treatment: {action.title}"[:200],
        owner=owner,
        start_date=due_date,
        kind=Kind.CORRECTIVE_ACTION,
        by=by,
        description=(action.description or f"Treatment action for risk {risk.reference}.")[:2000],
        evidence_required=True,
    )
    if risk.treatment != Treatment.ACCEPT and risk.status == Status.OPEN:
        Risk.objects.filter(pk=risk.pk).update(status=Status.TREATING)
    return action


def action_done(*, occurrence: Occurrence, by) -> None:
    """The action's task was done on the calendar (with its evidence)."""
    TreatmentAction.objects.filter(pk=occurrence.schedule.subject_id).update(done_on=occurrence.completed_on)


@transaction.atomic
def plan_freeze(*, by, note: str = "") -> PlanVersion:
    """Freeze the treatment plan as the next version, for the risk owners to approve (each their own risks)."""
    from .selectors import plan_entries

    if not reach.may(by, "freeze", PlanVersion):
        raise PermissionDenied("Only the compliance team can put the treatment plan up for approval.")
    entries = plan_entries()
    if not entries:
        raise ValidationError("There is nothing in the treatment plan yet: add risks to the register first.")
    version = PlanVersion.objects.create(
        number=_next("plan"), created_by=by, created_at=timezone.now(), note=note.strip(), entries=entries
    )
    owners = {}
    for entry in entries:
        owners[entry["owner_id"]] = entry["owner"]
    PlanSignoff.objects.bulk_create(
        [PlanSignoff(version=version, owner_id=pk, owner_name=name) for pk, name in owners.items()]
    )
    return version


@transaction.atomic
def plan_signoff(*, version: PlanVersion, by) -> PlanSignoff:
    """A risk owner approves their part of a frozen plan; the version is approved when every owner has."""
    signoff = PlanSignoff.objects.select_for_update().filter(version=version, owner=by).first()
    if signoff is None:
        raise PermissionDenied("You own no risk in this version of the plan: only their owners approve it.")
    if signoff.signed_at:
        raise ValidationError("You have already approved this version.")
    signoff.signed_at = timezone.now()
    signoff.save(update_fields=["signed_at"])
    if not version.signoffs.filter(signed_at__isnull=True).exists():
        PlanVersion.objects.filter(pk=version.pk).update(approved_at=signoff.signed_at)
    return signoff


# --------------------------------------------------------------------------------------------------- decisions


def approver_ids(owner_department_id: int | None, matrix: Matrix) -> tuple[set[str], set[int]]:
    """Who has the authority to accept a risk: roles (the compliance team) and users (the owner's department
    manager, when the criteria allow it)."""
    from isms.foundation.roles import MANAGERS

    users: set[int] = set()
    if matrix.approvers == Approvers.COMPLIANCE_OR_MANAGER and owner_department_id:
        users = set(
            DepartmentManager.objects.filter(department_id=owner_department_id).values_list("manager_id", flat=True)
        )
    return set(MANAGERS), users


def has_authority(user, *, department_id: int | None, matrix: Matrix | None = None) -> bool:
    """May `user` approve an acceptance (or an exception) for an owner of this department under the criteria?"""
    if not reach.is_staff_member(user):
        return False
    matrix = matrix or Matrix.current()
    if matrix is None:
        return reach.is_manager(user)
    roles, users = approver_ids(department_id, matrix)
    return user.role in roles or user.pk in users


def approver_choices(*, department_id: int | None, exclude=None):
    """The people who may be named as approver (the form's list)."""
    from django.db.models import Q

    from isms.accounts.models import User
    from isms.foundation.roles import MANAGERS

    matrix = Matrix.current()
    roles, users = approver_ids(department_id, matrix) if matrix else (set(MANAGERS), set())

    qs = User.objects.filter(is_active=True).filter(Q(role__in=roles) | Q(pk__in=users))
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    return qs.order_by("first_name", "last_name", "username")


def _check_decision(*, by, approver, expires_on, justification: str, department_id, what: str) -> None:
    errors = {}
    today = timezone.localdate()
    if approver is None:
        errors["approver"] = f"Name the approver: {what} needs someone with the authority to approve it."
    elif approver.pk == by.pk:
        errors["approver"] = "You cannot approve your own request: name someone else with the authority."
    elif not has_authority(approver, department_id=department_id):
        errors["approver"] = f"{approver} does not have the authority to approve this under the risk criteria."
    if expires_on is None:
        errors["expires_on"] = "Give an expiry date: a decision like this is never open-ended."
    elif expires_on <= today:
        errors["expires_on"] = "The expiry must be after today."
    elif expires_on > today + relativedelta(years=3):
        errors["expires_on"] = "At most three years ahead: review it at least once a certification cycle."
    if not justification.strip():
        errors["justification"] = "Say why: the justification is what an auditor reads."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def acceptance_request(*, risk: Risk, by, approver, justification: str, expires_on: datetime.date | None) -> Acceptance:
    """Ask a named approver to accept the risk's residual level until `expires_on`."""
    _check_decision(
        by=by,
        approver=approver,
        expires_on=expires_on,
        justification=justification,
        department_id=risk.owner.department_id,
        what="accepting a risk",
    )
    if risk.acceptances.filter(state=Decision.REQUESTED).exists():
        raise ValidationError("An acceptance of this risk is already waiting for approval.")
    return Acceptance.objects.create(
        risk=risk,
        requested_by=by,
        approver=approver,
        justification=justification.strip(),
        expires_on=expires_on,
        requested_at=timezone.now(),
    )


@transaction.atomic
def acceptance_decide(*, acceptance: Acceptance, by, approve: bool, note: str = "") -> Acceptance:
    """The named approver approves (freezing the risk as it stands) or refuses. Never the requester."""
    acceptance = Acceptance.objects.select_for_update().select_related("risk").get(pk=acceptance.pk)
    if acceptance.state != Decision.REQUESTED:
        raise ValidationError(f"This acceptance is already {acceptance.get_state_display().lower()}.")
    reach.check(by, "decide", acceptance)
    risk = _lock(acceptance.risk)
    now = timezone.now()
    acceptance.decided_at, acceptance.decision_note = now, note.strip()
    if not approve:
        if not note.strip():
            raise ValidationError({"note": "Say why it is refused, so the owner knows what to do."})
        acceptance.state = Decision.REFUSED
        acceptance.save()
        return acceptance
    # One acceptance in force at a time: an earlier one is superseded.
    Acceptance.objects.filter(risk=risk, state=Decision.APPROVED).update(
        state=Decision.WITHDRAWN, ended_at=now, end_reason="Superseded by a new acceptance."
    )
    acceptance.state = Decision.APPROVED
    acceptance.matrix = risk.matrix
    acceptance.snapshot = snapshot(risk)
    acceptance.save()
    Risk.objects.filter(pk=risk.pk).update(status=Status.ACCEPTED)
    _renewal_task(acceptance, title=f"Renew the acceptance of risk {risk.reference}", owner=risk.owner, by=by)
    return acceptance


def _renewal_task(decision, *, title: str, owner, by) -> None:
    due = max(decision.expires_on - RENEWAL_LEAD, timezone.localdate())
    schedule_for(
        subject=decision,
        purpose=RENEWAL,
        title=title[:200],
        owner=owner,
        start_date=due,
        kind=Kind.RISK_REVIEW,
        by=by,
        description=f"It expires on {decision.expires_on:%d %B %Y}: review it and ask for a renewal, or treat the "
        "risk another way.",
    )


def material_change(acceptance: Acceptance, risk: Risk, control_status: dict[int, str]) -> str | None:
    """Why the risk has changed materially since the acceptance froze it, or None: a higher score, a linked
    control removed, or one no longer implemented."""
    frozen = acceptance.snapshot
    if risk.residual_score > frozen.get("residual_score", 0):
        return f"its residual score rose from {frozen['residual_score']} to {risk.residual_score}"
    if risk.inherent_score > frozen.get("inherent_score", 0):
        return f"its inherent score rose from {frozen['inherent_score']} to {risk.inherent_score}"
    linked = set(control_status)
    for control in frozen.get("controls", []):
        if control["id"] not in linked:
            return f"control {control['reference']} is no longer linked to it"
        if control["status"] == ImplementationStatus.IMPLEMENTED and control_status[control["id"]] != control["status"]:
            return f"control {control['reference']} is no longer implemented"
    return None


@transaction.atomic
def decisions_check(*, today: datetime.date | None = None, risks: Iterable[Risk] | None = None) -> list:
    """Lapse every acceptance that expired or whose risk changed materially, and every exception that expired:
    the risk goes back to the review queue and its owner and the approver are told. Run daily by beat, and
    after each change to a risk. Returns what lapsed."""
    from .notices import decision_lapsed_notify

    today = today or timezone.localdate()
    lapsed = []
    acceptances = Acceptance.objects.filter(state=Decision.APPROVED).select_related("risk", "risk__owner", "approver")
    if risks is not None:
        acceptances = acceptances.filter(risk__in=[r.pk for r in risks])
    acceptances = list(acceptances)
    links: dict[int, dict[int, str]] = {}
    for risk_id, control_id, status in Risk.controls.through.objects.filter(
        risk_id__in=[a.risk_id for a in acceptances]
    ).values_list("risk_id", "control_id", "control__status"):
        links.setdefault(risk_id, {})[control_id] = status
    for acceptance in acceptances:
        risk = Risk.objects.get(pk=acceptance.risk_id)
        if acceptance.expires_on < today:
            why = f"it expired on {acceptance.expires_on:%d %B %Y}"
        else:
            why = material_change(acceptance, risk, links.get(risk.pk, {}))
        if why is None:
            continue
        acceptance.state, acceptance.ended_at, acceptance.end_reason = Decision.LAPSED, timezone.now(), why
        acceptance.save(update_fields=["state", "ended_at", "end_reason"])
        Risk.objects.filter(pk=risk.pk, status=Status.ACCEPTED).update(status=Status.OPEN)
        schedule_retire(subject=acceptance, purpose=RENEWAL, reason=f"The acceptance lapsed: {why}.")
        risk_review_request(risk=risk, reason=f"The acceptance of the risk lapsed: {why}.", source="acceptance")
        decision_lapsed_notify(acceptance, why)
        lapsed.append(acceptance)
    if risks is None:
        for exception in ControlException.objects.filter(state=Decision.APPROVED, expires_on__lt=today).select_related(
            "control", "owner", "approver"
        ):
            why = f"it expired on {exception.expires_on:%d %B %Y}"
            exception.state, exception.ended_at, exception.end_reason = Decision.LAPSED, timezone.now(), why
            exception.save(update_fields=["state", "ended_at", "end_reason"])
            schedule_retire(subject=exception, purpose=RENEWAL, reason=f"The exception lapsed: {why}.")
            decision_lapsed_notify(exception, why)
            lapsed.append(exception)
    return lapsed


@transaction.atomic
def exception_request(
    *,
    control: Control,
    by,
    title: str,
    reason: str,
    compensating: str,
    owner,
    approver,
    expires_on: datetime.date | None,
) -> ControlException:
    """Ask a named approver for an exception to a control until `expires_on`."""
    _check_decision(
        by=by,
        approver=approver,
        expires_on=expires_on,
        justification=reason,
        department_id=control.owner.department_id,
        what="an exception to a control",
    )
    errors = {}
    if not title.strip():
        errors["title"] = "Say what is exempted."
    if not compensating.strip():
        errors["compensating"] = "Say what compensates while the control does not apply (or “none” and why)."
    if errors:
        raise ValidationError(errors)
    _check_owner(owner)
    return ControlException.objects.create(
        control=control,
        title=title.strip(),
        reason=reason.strip(),
        compensating=compensating.strip(),
        owner=owner,
        approver=approver,
        expires_on=expires_on,
        requested_by=by,
        requested_at=timezone.now(),
    )


@transaction.atomic
def exception_decide(*, exception: ControlException, by, approve: bool) -> ControlException:
    exception = ControlException.objects.select_for_update().select_related("control").get(pk=exception.pk)
    if exception.state != Decision.REQUESTED:
        raise ValidationError(f"This exception is already {exception.get_state_display().lower()}.")
    reach.check(by, "decide", exception)
    exception.state = Decision.APPROVED if approve else Decision.REFUSED
    exception.decided_at = timezone.now()
    exception.save(update_fields=["state", "decided_at"])
    if approve:
        _renewal_task(
            exception,
            title=f"Renew the exception to {exception.control.reference}: {exception.title}",
            owner=exception.owner,
            by=by,
        )
    return exception


def requirement_choices():
    """The Annex A entries a risk may cite (the SoA framework's current requirements)."""
    return Requirement.objects.filter(framework__has_soa=True, retired=False).order_by("position")
