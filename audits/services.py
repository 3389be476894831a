"""Writes of the audit programme, audits, nonconformities and management reviews: `<entity>_<action>(*, …)`,
atomic, validated before anything is written. Tasks go on the calendar through its public API (schedule_for,
schedule_retire, occurrence_complete); the calendar knows nothing of this app."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from controls.models import Control, Requirement
from isms.accounts.models import User
from isms.foundation import reach
from isms.foundation.roles import Role
from isms.maintenance.models import Kind, Occurrence
from isms.maintenance.services import occurrence_complete, schedule_for, schedule_retire
from isms.organisation.models import Certificate, CycleAudit

from .models import (
    NC_RESULTS,
    Audit,
    AuditKind,
    AuditStatus,
    ChecklistRow,
    CorrectiveAction,
    Counter,
    Decision,
    EffectivenessCheck,
    Finding,
    ManagementReview,
    NCState,
    Nonconformity,
    Programme,
    Result,
    ReviewAction,
    ReviewStatus,
    Severity,
    Source,
)

# Calendar purposes of this app's tasks (calendar.py declares what they mean).
AUDIT = "audit"
CORRECTIVE_ACTION = "corrective-action"
CHECK = "effectiveness-check"
REVIEW = "management-review"
REVIEW_ACTION = "review-action"

REVIEW_EVERY_MONTHS = 6  # the seed's advice: a management review at least every six months

# --------------------------------------------------------------------------------------------------- numbers


def _next(name: str) -> int:
    """The next number of a sequence, under a row lock (never max()+1: two writers at once get two numbers)."""
    Counter.objects.get_or_create(name=name)
    counter = Counter.objects.select_for_update().get(name=name)
    counter.value += 1
    counter.save(update_fields=["value"])
    return counter.value


def default_owner() -> User | None:
    """Who the compliance team's work goes to by default: the first compliance manager who can be reminded, else
    an administrator."""
    for role in (Role.COMPLIANCE, Role.ADMIN):
        user = User.objects.filter(role=role, is_active=True).exclude(email="").order_by("pk").first()
        if user is not None:
            return user
    return None


def _task_owner(preferred: User | None) -> User | None:
    return preferred if preferred is not None and reach.may_own_work(preferred) else default_owner()


# --------------------------------------------------------------------------------------------------- programme


def slot_dates(certificate: Certificate, per_year: int, since: datetime.date) -> list[datetime.date]:
    """The programme's slot dates: the first working day of each month of the cycle, `per_year` a certificate
    year. With 11 a year the month of that year's external audit is left free (the seed's "one a month for
    eleven months"); from `since` on only."""
    externals = {a.planned_date.replace(day=1) for a in certificate.audits.all()}
    days = []
    for year in range(3):
        start = certificate.issue_date + relativedelta(years=year)
        months = [(start + relativedelta(months=m)).replace(day=1) for m in range(12)]
        busy = [m for m in months if m in externals]
        free = [m for m in months if m not in busy] + busy  # external months last, dropped first
        chosen = sorted(free[:per_year])
        for month in chosen:
            day = month
            while day.weekday() >= 5:
                day += datetime.timedelta(days=1)
            if since <= day <= certificate.expiry_date:
                days.append(day)
    return days


@transaction.atomic
def programme_ensure(*, certificate: Certificate, by=None) -> Programme:
    """The certificate's programme, made on first use with its defaults; the external audits of the cycle are
    brought in as audits of the programme."""
    programme, _ = Programme.objects.get_or_create(certificate=certificate)
    external_audits_sync(certificate=certificate, programme=programme)
    return programme


@transaction.atomic
def programme_plan(
    *, programme: Programme, by, audits_per_year: int, items_per_audit: int, lead_auditor=None, today=None
) -> list[Audit]:
    """Set how many slots a year and how much one audit covers, and put the slots still ahead on the calendar
    (existing slots stay; a slot is an internal audit planned for that month, its scope filled by the planner
    or by hand)."""
    today = today or timezone.localdate()
    errors = {}
    if not 1 <= audits_per_year <= 12:
        errors["audits_per_year"] = "Plan between 1 and 12 internal audits a year."
    if not 1 <= items_per_audit <= 200:
        errors["items_per_audit"] = "An audit checks between 1 and 200 requirements or controls."
    if errors:
        raise ValidationError(errors)
    programme.audits_per_year = audits_per_year
    programme.items_per_audit = items_per_audit
    programme.lead_auditor = lead_auditor
    programme.save()
    taken = {(a.planned_on.year, a.planned_on.month) for a in programme.audits.filter(kind=AuditKind.INTERNAL)}
    made = []
    for day in slot_dates(programme.certificate, audits_per_year, today):
        if (day.year, day.month) in taken:
            continue
        made.append(
            audit_create(
                by=by,
                programme=programme,
                kind=AuditKind.INTERNAL,
                title=f"Internal audit {day:%B %Y}",
                planned_on=day,
                lead_auditor=lead_auditor,
                criteria="ISO/IEC 27001:2022 clauses 4–10 and the applicable Annex A controls; our ISMS policies.",
            )
        )
    return made


@transaction.atomic
def external_audits_sync(*, certificate: Certificate, programme: Programme) -> None:
    """An audit record for each audit of the certification cycle (the cycle's own calendar task is its task)."""
    have = set(programme.audits.filter(cycle_audit__isnull=False).values_list("cycle_audit_id", flat=True))
    for cycle in CycleAudit.objects.filter(certificate=certificate).exclude(pk__in=have):
        number = _next("audit")
        Audit.objects.create(
            programme=programme,
            kind=cycle.kind,
            cycle_audit=cycle,
            number=number,
            reference=f"EA-{number:03d}",
            title=f"{cycle.get_kind_display()}: {certificate.certification_body}",
            planned_on=cycle.planned_date,
            auditor_name=certificate.certification_body,
            criteria=f"{certificate.standard}",
        )
    for audit in programme.audits.filter(cycle_audit__isnull=False).select_related("cycle_audit"):
        if audit.planned_on != audit.cycle_audit.planned_date and not audit.is_frozen:
            Audit.objects.filter(pk=audit.pk).update(planned_on=audit.cycle_audit.planned_date)


def auditor_conflict(auditor: User | None, departments: Iterable, requirements: Iterable[Requirement]) -> str | None:
    """Why `auditor` may not lead this audit (9.2.2: objective and impartial), or None. An auditor does not audit
    their own department or the controls they own."""
    if auditor is None:
        return None
    departments = list(departments)
    if auditor.department_id and any(d.pk == auditor.department_id for d in departments):
        return (
            f"{auditor} works in {auditor.department}, which this audit covers: an auditor must not audit their "
            "own area. Pick an auditor from another department, or take the department out of the scope."
        )
    ids = [r.pk for r in requirements]
    own = list(
        Control.objects.filter(owner=auditor, requirements__in=ids).values_list("reference", flat=True).distinct()
    )
    if own:
        return (
            f"{auditor} owns {', '.join(sorted(own)[:5])}, which this audit's scope covers: an auditor must not "
            "audit their own controls. Pick another auditor, or take those requirements out of the scope."
        )
    return None


def _audit_task(audit: Audit) -> None:
    """An internal audit or a stage 1/2 audit is a task on its lead's (else the compliance team's) calendar;
    the cycle's surveillance and recertification audits are already there as the organisation's tasks."""
    if audit.cycle_audit_id:
        return
    owner = _task_owner(audit.lead_auditor)
    if owner is None:
        return
    schedule_for(
        subject=audit,
        purpose=AUDIT,
        title=f"{audit.reference} {audit.title}",
        owner=owner,
        start_date=audit.planned_on,
        kind=Kind.INTERNAL_AUDIT if audit.is_internal else Kind.EXTERNAL_AUDIT,
        reminder_days=[14, 3],
        grace_days=21,
        description="Run the audit, record the checklist and sign off the report on the audit's page.",
    )


def _frozen(audit: Audit) -> None:
    if audit.is_frozen:
        raise ValidationError(
            f"{audit.reference}'s report was signed off on {audit.signed_off_at:%d %b %Y}: it is frozen and "
            "cannot be changed."
        )


@transaction.atomic
def audit_create(
    *,
    by,
    kind: str,
    title: str,
    planned_on: datetime.date,
    programme: Programme | None = None,
    departments=(),
    scope=(),
    **fields,
) -> Audit:
    """A new audit (internal, or a certification stage 1/2 audit), numbered from the locked sequence."""
    audit = Audit(kind=kind, title=title, planned_on=planned_on, programme=programme, **fields)
    conflict = auditor_conflict(audit.lead_auditor, departments, scope) if audit.is_internal else None
    if conflict:
        raise ValidationError({"lead_auditor": conflict})
    if kind not in (AuditKind.INTERNAL, AuditKind.STAGE_1, AuditKind.STAGE_2):
        raise ValidationError(
            {
                "kind": "Surveillance and recertification audits come from the certification cycle "
                "on the organisation page."
            }
        )
    number = _next("audit")
    audit.number = number
    audit.reference = f"{'IA' if audit.is_internal else 'EA'}-{number:03d}"
    audit.full_clean(exclude=["number", "reference"])
    audit.save()
    audit.departments.set(departments)
    audit.scope.set(scope)
    checklist_generate(audit=audit)
    _audit_task(audit)
    return audit


@transaction.atomic
def audit_update(*, audit: Audit, by, departments=None, scope=None, **fields) -> Audit:
    """Change an audit's plan (date, lead, criteria, scope, departments); refused once its report is signed off
    and when the lead would audit their own area."""
    audit = Audit.objects.select_for_update().get(pk=audit.pk)
    _frozen(audit)
    for name, value in fields.items():
        setattr(audit, name, value)
    departments = list(audit.departments.all()) if departments is None else list(departments)
    scope = list(audit.scope.all()) if scope is None else list(scope)
    conflict = auditor_conflict(audit.lead_auditor, departments, scope) if audit.is_internal else None
    if conflict:
        raise ValidationError({"lead_auditor": conflict})
    audit.full_clean()
    audit.save()
    audit.departments.set(departments)
    audit.scope.set(scope)
    checklist_generate(audit=audit)
    _audit_task(audit)
    return audit


def checklist_generate(*, audit: Audit) -> int:
    """One checklist row per requirement or control of the scope, clauses first then Annex A in the catalogue's
    order; rows of requirements taken out of the scope go unless something was recorded on them."""
    if not audit.is_internal:
        return 0
    scope = list(audit.scope.select_related("framework").order_by("framework__code", "position", "pk"))
    existing = {r.requirement_id: r for r in audit.rows.all()}
    wanted = {r.pk for r in scope}
    for row in existing.values():
        if row.requirement_id not in wanted and row.result == Result.NOT_SAMPLED and not row.notes:
            row.delete()
    order = sorted(scope, key=lambda r: (0 if "clauses" in r.framework.code else 1, r.position, r.pk))
    new = [ChecklistRow(audit=audit, requirement=r, position=i) for i, r in enumerate(order) if r.pk not in existing]
    ChecklistRow.objects.bulk_create(new)
    for i, r in enumerate(order):
        if r.pk in existing and existing[r.pk].position != i:
            ChecklistRow.objects.filter(pk=existing[r.pk].pk).update(position=i)
    return len(new)


@transaction.atomic
def row_record(*, row: ChecklistRow, by, result: str, notes: str = "", evidence=()) -> ChecklistRow:
    """The auditor's result for one row, with notes and the evidence sampled; a nonconformity or an observation
    needs a note saying what was seen."""
    _frozen(Audit.objects.select_for_update().get(pk=row.audit_id))  # as it stands now, not as it was read
    if result not in Result.values:
        raise ValidationError({"result": "Pick a result from the list."})
    if result not in (Result.NOT_SAMPLED, Result.CONFORMING) and not notes.strip():
        raise ValidationError({"notes": "Say what was found: a finding needs a note the report can quote."})
    row.result = result
    row.notes = notes.strip()
    row.save(update_fields=["result", "notes"])
    row.evidence.set(evidence)
    if row.audit.status == AuditStatus.PLANNED:
        Audit.objects.filter(pk=row.audit_id).update(status=AuditStatus.IN_PROGRESS)
    return row


@transaction.atomic
def audit_sign_off(*, audit: Audit, by, summary: str, conclusion: str, now=None) -> Audit:
    """The lead auditor signs off the report: it is frozen from now on, each minor or major nonconformity of the
    checklist joins the register (owned by the audited control's owner), and the audit's task is done."""
    now = now or timezone.now()
    audit = Audit.objects.select_for_update().get(pk=audit.pk)
    _frozen(audit)
    if not audit.is_internal:
        raise ValidationError("The certification body reports an external audit: record its findings instead.")
    if audit.lead_auditor_id != by.pk:
        raise ValidationError(
            f"Only the audit lead, {audit.lead_auditor or 'not yet named'}, signs off the report."
            if audit.lead_auditor_id
            else "Name the audit lead first: the lead signs off the report."
        )
    errors = {}
    if not summary.strip():
        errors["summary"] = "Write the report's summary: what was audited and what was found."
    if not conclusion.strip():
        errors["conclusion"] = "Give the audit's conclusion: is the ISMS conforming and effectively implemented?"
    rows = list(audit.rows.select_related("requirement"))
    if not rows:
        errors["summary"] = "The checklist is empty: give the audit a scope and record what was checked."
    elif all(r.result == Result.NOT_SAMPLED for r in rows):
        errors["summary"] = "Nothing on the checklist was sampled: record at least one result before signing off."
    if errors:
        raise ValidationError(errors)
    audit.summary, audit.conclusion = summary.strip(), conclusion.strip()
    audit.status = AuditStatus.SIGNED_OFF
    audit.signed_off_by, audit.signed_off_at = by, now
    audit.save()
    for row in rows:
        if row.result in NC_RESULTS and not Nonconformity.objects.filter(row=row).exists():
            nc_raise(
                by=by,
                source=Source.INTERNAL_AUDIT,
                title=f"{row.requirement.identifier} {row.requirement.title}"[:200],
                description=row.notes,
                objective_evidence=row.notes,
                severity=Severity.MAJOR if row.result == Result.MAJOR else Severity.MINOR,
                requirements=[row.requirement],
                owner=_requirement_owner(row.requirement, audit),
                audit=audit,
                row=row,
                raised_on=timezone.localdate(now),
            )
    _complete_task(audit, AUDIT, by, "Report signed off.", now)
    return audit


def _requirement_owner(requirement: Requirement, audit: Audit | None = None) -> User:
    """Who answers for a requirement: the owner of a control mapped to it (in the audited departments first),
    else the compliance team."""
    controls = Control.objects.filter(requirements=requirement, owner__is_active=True).exclude(owner__email="")
    if audit is not None:
        in_scope = controls.filter(department__in=audit.departments.all()).order_by("pk").first()
        if in_scope:
            return in_scope.owner
    control = controls.order_by("pk").first()
    return control.owner if control else default_owner()


def _complete_task(subject, purpose: str, by, note: str, now=None) -> None:
    """Mark the subject's open task done (the work was recorded on its own page)."""
    from django.contrib.contenttypes.models import ContentType

    occ = (
        Occurrence.objects.filter(
            schedule__subject_type=ContentType.objects.get_for_model(subject),
            schedule__subject_id=subject.pk,
            schedule__purpose=purpose,
            state__in=[Occurrence.State.OPEN, Occurrence.State.MISSED],
        )
        .order_by("due_date")
        .first()
    )
    if occ is not None:
        occurrence_complete(occurrence=occ, by=None, note=note, via="system", now=now)


@transaction.atomic
def finding_add(*, audit: Audit, by, grade: str, description: str, requirement=None, close_by=None) -> Finding:
    """A certification body's finding at an external audit; a minor or major nonconformity joins the register,
    its corrective actions due by the close-out deadline."""
    if audit.is_internal:
        raise ValidationError("Findings of an internal audit are recorded on its checklist.")
    errors = {}
    if not description.strip():
        errors["description"] = "Say what the certification body found, in its words."
    if grade in NC_RESULTS and close_by is None:
        errors["close_by"] = "Give the close-out deadline the certification body set for this nonconformity."
    if errors:
        raise ValidationError(errors)
    finding = Finding.objects.create(
        audit=audit, grade=grade, description=description.strip(), requirement=requirement, close_by=close_by
    )
    if grade in NC_RESULTS:
        nc_raise(
            by=by,
            source=Source.EXTERNAL_AUDIT,
            title=(f"{requirement.identifier} " if requirement else "") + description.strip()[:150],
            description=description.strip(),
            severity=Severity.MAJOR if grade == Result.MAJOR else Severity.MINOR,
            requirements=[requirement] if requirement else [],
            owner=_requirement_owner(requirement) if requirement else default_owner(),
            audit=audit,
            finding=finding,
        )
    if audit.status == AuditStatus.PLANNED:
        Audit.objects.filter(pk=audit.pk).update(status=AuditStatus.IN_PROGRESS)
    return finding


# --------------------------------------------------------------------------------------------------- nonconformities


def _nc_editable(nc: Nonconformity) -> None:
    if nc.state == NCState.CLOSED:
        raise ValidationError(f"{nc.reference} is closed: raise a new nonconformity if it happened again.")
    if nc.state == NCState.DISMISSED:
        raise ValidationError(f"{nc.reference} was dismissed: {nc.dismiss_reason}")


@transaction.atomic
def nc_raise(
    *,
    by,
    source: str,
    title: str,
    description: str,
    owner: User | None,
    requirements: Iterable[Requirement] = (),
    severity: str = Severity.MINOR,
    state: str = NCState.OPEN,
    raised_on: datetime.date | None = None,
    **fields,
) -> Nonconformity:
    """A nonconformity joins the register with the next reference (NC-001…) from the locked sequence."""
    owner = _task_owner(owner)
    errors = {}
    if source not in Source.values:
        errors["source"] = "Pick where the nonconformity came from."
    if not title.strip():
        errors["title"] = "Give the nonconformity a short title."
    if not description.strip():
        errors["description"] = "Describe the nonconformity: which requirement is not met, and how."
    if owner is None:
        errors["owner"] = "Name who answers for it: someone on the staff with an email address."
    if errors:
        raise ValidationError(errors)
    number = _next("nonconformity")
    nc = Nonconformity(
        number=number,
        reference=f"NC-{number:03d}",
        source=source,
        state=state,
        title=title.strip()[:200],
        description=description.strip(),
        severity=severity,
        owner=owner,
        department=owner.department,
        raised_by=by,
        raised_on=raised_on or timezone.localdate(),
        **fields,
    )
    nc.full_clean(exclude=["number", "reference"])
    nc.save()
    nc.requirements.set(requirements)
    return nc


@transaction.atomic
def nc_from_missed(*, occurrence: Occurrence, today: datetime.date | None = None) -> Nonconformity | None:
    """A control activity missed past its grace period raises a nonconformity by itself, once per task, against
    the control's requirements, with the owner and the dates filled in; the compliance team accepts or dismisses
    it."""
    from isms.maintenance.purposes import subject_of_model

    if Nonconformity.objects.filter(occurrence=occurrence).exists():
        return None
    control = subject_of_model(occurrence.schedule, Control)
    if control is None:
        return None
    today = today or timezone.localdate()
    return nc_raise(
        by=None,
        source=Source.MISSED_CONTROL,
        state=NCState.PROPOSED,
        title=f"Missed: {occurrence.title}"[:200],
        description=(
            f"The activity “{occurrence.title}” of control {control.reference} was due on "
            f"{occurrence.due_date:%d %b %Y} and was not done by the end of its grace period "
            f"({occurrence.grace_until:%d %b %Y})."
        ),
        objective_evidence=f"The calendar shows the task missed on {today:%d %b %Y}, owned by {occurrence.owner}.",
        owner=occurrence.owner if reach.may_own_work(occurrence.owner) else control.owner,
        requirements=list(control.requirements.all()),
        control=control,
        occurrence=occurrence,
        raised_on=today,
    )


@transaction.atomic
def nc_from_incident(*, incident, by=None) -> Nonconformity | None:
    """An incident closed as revealing a nonconformity raises one the same way (awaiting the compliance team);
    the incident keeps its link."""
    from events.models import Incident

    if Nonconformity.objects.filter(incident=incident).exists():
        return None
    requirements = Requirement.objects.filter(controls__incidents=incident).distinct()
    nc = nc_raise(
        by=by,
        source=Source.INCIDENT,
        state=NCState.PROPOSED,
        title=f"{incident.reference}: {incident.title}"[:200],
        description=incident.nonconformity_note or incident.description,
        objective_evidence=f"Incident {incident.reference}, detected on {incident.detected_on:%d %b %Y}.",
        owner=incident.owner if incident.owner_id and reach.may_own_work(incident.owner) else by,
        requirements=list(requirements),
        incident=incident,
    )
    Incident.objects.filter(pk=incident.pk).update(nonconformity_id=nc.pk)
    return nc


@transaction.atomic
def nc_from_change(*, change, by=None) -> Nonconformity | None:
    """A change closed as revealing a nonconformity raises one the same way (awaiting the compliance team)."""
    if Nonconformity.objects.filter(change=change, source=Source.CHANGE).exists():
        return None
    return nc_raise(
        by=by,
        source=Source.CHANGE,
        state=NCState.PROPOSED,
        title=f"{change.reference}: {change.title}"[:200],
        description=change.nonconformity_note or change.description or change.title,
        objective_evidence=f"Change {change.reference}, closed on {timezone.localdate():%d %b %Y}.",
        owner=change.owner if change.owner_id and reach.may_own_work(change.owner) else by,
        change=change,
    )


@transaction.atomic
def nc_decide(*, nc: Nonconformity, by, accept: bool, reason: str = "") -> Nonconformity:
    """The compliance team accepts a nonconformity raised by itself (it joins the open register) or dismisses
    it with a reason (kept)."""
    nc = Nonconformity.objects.select_for_update().get(pk=nc.pk)
    if nc.state != NCState.PROPOSED:
        raise ValidationError(f"{nc.reference} was already decided: it is {nc.get_state_display().lower()}.")
    if not accept and not reason.strip():
        raise ValidationError({"reason": "Say why it is dismissed: the reason is kept for the auditor."})
    nc.state = NCState.OPEN if accept else NCState.DISMISSED
    nc.dismiss_reason = "" if accept else reason.strip()
    nc.decided_by, nc.decided_at = by, timezone.now()
    nc.save()
    return nc


ANALYSIS_FIELDS = (
    "title",
    "description",
    "objective_evidence",
    "severity",
    "owner",
    "correction",
    "whys",
    "root_cause",
    "cause_category",
    "elsewhere",
    "places_checked",
    "check_after_days",
    "checker",
)


@transaction.atomic
def nc_update(*, nc: Nonconformity, by, requirements=None, **fields) -> Nonconformity:
    """Record the reaction and the analysis: correction, root cause (five whys or free text, with a category),
    whether it could happen elsewhere and the places checked, and who checks the actions worked."""
    nc = Nonconformity.objects.select_for_update().get(pk=nc.pk)
    _nc_editable(nc)
    for name, value in fields.items():
        if name not in ANALYSIS_FIELDS:
            raise TypeError(f"unknown field {name}")
        setattr(nc, name, value)
    nc.whys = [w.strip() for w in (nc.whys or []) if w and w.strip()]
    errors = {}
    if nc.elsewhere and not nc.places_checked.strip():
        errors["places_checked"] = "It could happen elsewhere: say which places were checked and what was found."
    if (nc.root_cause.strip() or nc.whys) and not nc.cause_category:
        errors["cause_category"] = "Pick the category of the root cause."
    if nc.checker_id and nc.checker_id in _implementers(nc):
        errors["checker"] = f"{nc.checker} implements a corrective action of this round: someone else must check."
    if errors:
        raise ValidationError(errors)
    nc.department = nc.owner.department
    nc.full_clean()
    nc.save()
    if requirements is not None:
        nc.requirements.set(requirements)
    return nc


def _implementers(nc: Nonconformity, round: int | None = None) -> set[int]:
    """Who implemented (owns or completed) the corrective actions of the round."""
    ids = set()
    for owner_id, done_by_id in nc.actions.filter(round=round or nc.round).values_list("owner_id", "done_by_id"):
        ids.add(owner_id)
        if done_by_id:
            ids.add(done_by_id)
    return ids


@transaction.atomic
def action_add(
    *, nc: Nonconformity, by, title: str, owner: User, due_on: datetime.date, today=None
) -> CorrectiveAction:
    """A corrective action of the current round, a task on its owner's calendar. Adding one while the check is
    waiting takes the check off again: it comes after the last action."""
    today = today or timezone.localdate()
    nc = Nonconformity.objects.select_for_update().get(pk=nc.pk)
    _nc_editable(nc)
    if nc.state == NCState.PROPOSED:
        raise ValidationError(f"{nc.reference} waits for the compliance team to accept it before actions are planned.")
    errors = {}
    if not title.strip():
        errors["title"] = "Say what the action is."
    if owner is None or not reach.may_own_work(owner):
        errors["owner"] = "Pick an owner on the staff with an email address: they are reminded of it."
    if due_on is None:
        errors["due_on"] = "Give the date it is due."
    elif due_on < today:
        errors["due_on"] = "The due date is in the past: give today or a later date."
    elif nc.finding_id and nc.finding.close_by and due_on > nc.finding.close_by:
        errors["due_on"] = (
            f"The certification body's close-out deadline is {nc.finding.close_by:%d %b %Y}: the action must be "
            "due by then."
        )
    if errors:
        raise ValidationError(errors)
    if nc.state == NCState.CHECKING:
        pending = nc.checks.filter(round=nc.round, outcome="").first()
        if pending:
            schedule_retire(subject=pending, purpose=CHECK, reason="A new corrective action was added.", by=by)
            pending.delete()
        nc.state = NCState.OPEN
        nc.save(update_fields=["state", "updated_at"])
    action = CorrectiveAction.objects.create(
        nonconformity=nc, round=nc.round, title=title.strip(), owner=owner, due_on=due_on
    )
    schedule_for(
        subject=action,
        purpose=CORRECTIVE_ACTION,
        title=f"{nc.reference} corrective action: {action.title}"[:200],
        owner=owner,
        start_date=due_on,
        kind=Kind.CORRECTIVE_ACTION,
        reminder_days=[7, 1],
        grace_days=7,
        description=f"Corrective action for nonconformity {nc.reference} ({nc.title}). Attach what shows it is done.",
        by=by,
    )
    return action


def action_done(*, occurrence, by) -> None:
    """The action's task was marked done (with its evidence) on the calendar: the action is done, and when it
    was the round's last, the effectiveness check is scheduled."""
    from isms.maintenance.purposes import subject_of_model

    action = subject_of_model(occurrence.schedule, CorrectiveAction)
    if action is None or action.done_on:
        return
    action.done_on = occurrence.completed_on or timezone.localdate()
    action.done_by = by
    action.note = occurrence.completion_note
    action.save(update_fields=["done_on", "done_by", "note"])
    _check_when_round_done(action.nonconformity)


def _check_when_round_done(nc: Nonconformity) -> EffectivenessCheck | None:
    nc = Nonconformity.objects.select_for_update().get(pk=nc.pk)
    actions = list(nc.actions.filter(round=nc.round))
    if nc.state != NCState.OPEN or not actions or any(a.done_on is None for a in actions):
        return None
    last = max(a.done_on for a in actions)
    implementers = _implementers(nc)
    checker = nc.checker if nc.checker_id and nc.checker_id not in implementers else None
    if checker is None:
        checker = (
            User.objects.filter(role__in=[Role.COMPLIANCE, Role.ADMIN], is_active=True)
            .exclude(email="")
            .exclude(pk__in=implementers)
            .order_by("role", "pk")
            .first()
        )
    if checker is None:
        return None  # nobody independent: the page says so and the team names a checker
    check = EffectivenessCheck.objects.create(
        nonconformity=nc, round=nc.round, due_on=last + datetime.timedelta(days=nc.check_after_days), checker=checker
    )
    schedule_for(
        subject=check,
        purpose=CHECK,
        title=f"{nc.reference} effectiveness check",
        owner=checker,
        start_date=check.due_on,
        kind=Kind.CORRECTIVE_ACTION,
        reminder_days=[7, 1],
        grace_days=14,
        description=f"Check that the corrective actions of {nc.reference} worked, and record the outcome on its page.",
    )
    nc.state = NCState.CHECKING
    nc.save(update_fields=["state", "updated_at"])
    return check


@transaction.atomic
def check_record(*, check: EffectivenessCheck, by, outcome: str, note: str, now=None) -> EffectivenessCheck:
    """Record whether the actions worked. Never by someone who implemented them. Effective: the nonconformity
    closes. Not effective: it reopens for a new round of corrective actions."""
    now = now or timezone.now()
    check = EffectivenessCheck.objects.select_for_update().select_related("nonconformity").get(pk=check.pk)
    nc = check.nonconformity
    if check.outcome:
        raise ValidationError(f"This check was already recorded on {check.checked_on:%d %b %Y}.")
    if by.pk in _implementers(nc, check.round):
        raise ValidationError(
            "You implemented a corrective action of this nonconformity, so you cannot check that it worked: "
            f"{check.checker} or another member of the compliance team checks it."
        )
    errors = {}
    if outcome not in EffectivenessCheck.Outcome.values:
        errors["outcome"] = "Say whether the actions worked: effective or not effective."
    if not note.strip():
        errors["note"] = "Say what was checked and what it showed."
    if errors:
        raise ValidationError(errors)
    check.outcome, check.note = outcome, note.strip()
    check.checked_by, check.checked_at, check.checked_on = by, now, timezone.localdate(now)
    check.save()
    nc = Nonconformity.objects.select_for_update().get(pk=nc.pk)
    if outcome == EffectivenessCheck.Outcome.PASSED:
        nc.state, nc.closed_at, nc.closed_on = NCState.CLOSED, now, timezone.localdate(now)
    else:
        nc.state, nc.round = NCState.OPEN, nc.round + 1
    nc.save()
    _complete_task(check, CHECK, by, f"{check.get_outcome_display()}: {check.note}", now)
    return check


def nc_close(*, nc: Nonconformity, by) -> Nonconformity:
    """A nonconformity closes only when its effectiveness check passes (recording a passed check closes it);
    asked any earlier, this says what is still missing."""
    if nc.state == NCState.CLOSED:
        return nc
    if nc.state == NCState.DISMISSED:
        raise ValidationError(f"{nc.reference} was dismissed; there is nothing to close.")
    check = nc.checks.filter(round=nc.round).first()
    if check is None:
        missing = nc.actions.filter(round=nc.round, done_on__isnull=True).count()
        reason = f"{missing} corrective action(s) are still open" if missing else "no corrective action is planned yet"
        raise ValidationError(
            f"{nc.reference} can close only when its effectiveness check passes, and {reason}: the check is "
            "scheduled after the last action."
        )
    raise ValidationError(
        f"{nc.reference} can close only when its effectiveness check passes: {check.checker} checks it on "
        f"{check.due_on:%d %b %Y}. Recording the check as effective closes it."
    )


# --------------------------------------------------------------------------------------------------- reviews


@transaction.atomic
def review_plan(*, by, planned_on: datetime.date, chair: User) -> ManagementReview:
    """A management review on the calendar, owned by its chair."""
    if chair is None or not reach.may_own_work(chair):
        raise ValidationError({"chair": "Pick who chairs it: someone on the staff with an email address."})
    number = _next("review")
    review = ManagementReview.objects.create(
        number=number, reference=f"MR-{number:02d}", planned_on=planned_on, chair=chair
    )
    _review_task(review)
    return review


def _review_task(review: ManagementReview) -> None:
    schedule_for(
        subject=review,
        purpose=REVIEW,
        title=f"Management review {review.reference}",
        owner=review.chair,
        start_date=review.planned_on,
        kind=Kind.MANAGEMENT_REVIEW,
        reminder_days=[30, 7, 1],
        grace_days=30,
        description="Open the review to compile its input pack, hold the meeting, record the minutes and approve them.",
    )


def previous_review(review: ManagementReview) -> ManagementReview | None:
    return (
        ManagementReview.objects.filter(period_end__isnull=False, planned_on__lt=review.planned_on)
        .exclude(pk=review.pk)
        .order_by("-planned_on", "-number")
        .first()
    )


@transaction.atomic
def review_open(*, review: ManagementReview, by, today: datetime.date | None = None) -> ManagementReview:
    """Open the review: its period runs from the day after the previous review's period to today (six months
    back for the first), and its pack is compiled from live data for that period until approval."""
    today = today or timezone.localdate()
    review = ManagementReview.objects.select_for_update().get(pk=review.pk)
    if review.is_frozen:
        raise ValidationError(f"{review.reference}'s minutes are approved: it is frozen.")
    previous = previous_review(review)
    review.period_start = (
        previous.period_end + datetime.timedelta(days=1)
        if previous
        else today - relativedelta(months=REVIEW_EVERY_MONTHS)
    )
    review.period_end = today
    review.status = ReviewStatus.OPEN
    review.save()
    return review


def _review_editable(review: ManagementReview) -> None:
    if review.is_frozen:
        raise ValidationError(
            f"{review.reference}'s minutes were approved on {review.approved_at:%d %b %Y}: they are frozen and "
            "cannot be changed. Record anything new at the next review."
        )
    if review.status == ReviewStatus.PLANNED:
        raise ValidationError("Open the review first: that compiles its input pack.")


@transaction.atomic
def review_record(
    *,
    review: ManagementReview,
    by,
    meeting_on: datetime.date | None,
    attendees=(),
    other_attendees: str = "",
    input_notes: dict | None = None,
    suitability: str = "",
    adequacy: str = "",
    effectiveness: str = "",
    today: datetime.date | None = None,
) -> ManagementReview:
    """The minutes: meeting date (not in the future), attendees, a note per input and the conclusion on the ISMS's
    continuing suitability, adequacy and effectiveness."""
    today = today or timezone.localdate()
    review = ManagementReview.objects.select_for_update().get(pk=review.pk)
    _review_editable(review)
    if meeting_on is not None and meeting_on > today:
        raise ValidationError(
            {
                "meeting_on": f"The meeting date {meeting_on:%d %b %Y} is in the future: "
                "record the minutes after the meeting."
            }
        )
    review.meeting_on = meeting_on
    review.other_attendees = other_attendees.strip()
    review.input_notes = {k: v.strip() for k, v in (input_notes or {}).items() if v and v.strip()}
    review.suitability, review.adequacy, review.effectiveness = (
        suitability.strip(),
        adequacy.strip(),
        effectiveness.strip(),
    )
    review.save()
    review.attendees.set(attendees)
    return review


@transaction.atomic
def decision_add(*, review: ManagementReview, by, text: str) -> Decision:
    """A decision of the meeting (9.3.3), by the chair, leadership or the compliance team."""
    review = ManagementReview.objects.select_for_update().get(pk=review.pk)
    _review_editable(review)
    if not text.strip():
        raise ValidationError({"text": "Write the decision."})
    return Decision.objects.create(review=review, text=text.strip(), recorded_by=by)


@transaction.atomic
def review_action_add(
    *, review: ManagementReview, by, title: str, owner: User, due_on: datetime.date, today=None
) -> ReviewAction:
    """An action decided at the review, a task on its owner's calendar; later reviews read its status."""
    today = today or timezone.localdate()
    review = ManagementReview.objects.select_for_update().get(pk=review.pk)
    _review_editable(review)
    errors = {}
    if not title.strip():
        errors["title"] = "Say what the action is."
    if owner is None or not reach.may_own_work(owner):
        errors["owner"] = "Pick an owner on the staff with an email address: they are reminded of it."
    if due_on is None or due_on < today:
        errors["due_on"] = "Give a due date from today on."
    if errors:
        raise ValidationError(errors)
    action = ReviewAction.objects.create(review=review, title=title.strip(), owner=owner, due_on=due_on)
    schedule_for(
        subject=action,
        purpose=REVIEW_ACTION,
        title=f"{review.reference} action: {action.title}"[:200],
        owner=owner,
        start_date=due_on,
        kind=Kind.MANAGEMENT_REVIEW,
        reminder_days=[14, 3],
        grace_days=14,
        description=f"Action decided at management review {review.reference}.",
        by=by,
    )
    return action


def review_action_done(*, occurrence, by) -> None:
    """The action's task was done on the calendar."""
    from isms.maintenance.purposes import subject_of_model

    action = subject_of_model(occurrence.schedule, ReviewAction)
    if action is not None and action.done_on is None:
        ReviewAction.objects.filter(pk=action.pk).update(done_on=occurrence.completed_on or timezone.localdate())


@transaction.atomic
def review_approve(*, review: ManagementReview, by, now=None) -> ManagementReview:
    """Approve the minutes: from now on they are frozen with the pack as it stood. The server time of approval
    is kept apart from the meeting date. The next review is put on the calendar six months after the meeting
    unless one is planned already."""
    from .selectors import review_pack

    now = now or timezone.now()
    review = ManagementReview.objects.select_for_update().get(pk=review.pk)
    _review_editable(review)
    errors = {}
    if review.meeting_on is None:
        errors["meeting_on"] = "Record the meeting date before approving the minutes."
    if not (review.suitability and review.adequacy and review.effectiveness):
        errors["suitability"] = (
            "Record the conclusion on the ISMS's continuing suitability, adequacy and effectiveness before approving."
        )
    if not review.attendees.exists() and not review.other_attendees:
        errors["attendees"] = "Record who attended before approving the minutes."
    if errors:
        raise ValidationError(errors)
    review.frozen_pack = review_pack(review, today=timezone.localdate(now), live=True)
    review.status = ReviewStatus.APPROVED
    review.approved_by, review.approved_at = by, now
    review.save()
    _complete_task(review, REVIEW, by, "Minutes approved.", now)
    later = ManagementReview.objects.filter(planned_on__gt=review.planned_on).exclude(pk=review.pk).exists()
    if not later:
        review_plan(by=by, planned_on=review.meeting_on + relativedelta(months=REVIEW_EVERY_MONTHS), chair=review.chair)
    return review


def last_review_date() -> datetime.date | None:
    return ManagementReview.objects.aggregate(d=Max("planned_on"))["d"]


# --------------------------------------------------------------------------------------------------- parties


@transaction.atomic
def party_save(*, party=None, by, name: str, requirements: str, change_note: str = "", active: bool = True, now=None):
    """Add an interested party or record a change in its needs (dated, so reviews show what changed)."""
    from .models import InterestedParty

    now = now or timezone.now()
    if not name.strip() or not requirements.strip():
        raise ValidationError({"requirements": "Give the party's name and what it requires of the ISMS."})
    if party is not None and not change_note.strip():
        raise ValidationError({"change_note": "Say what changed: the management review lists it."})
    party = party or InterestedParty(created_at=now)
    party.name, party.requirements, party.active = name.strip(), requirements.strip(), active
    party.change_note, party.changed_at = change_note.strip(), now
    party.save()
    return party


@transaction.atomic
def feedback_add(*, by, party, received_on: datetime.date, summary: str, today=None):
    """Feedback from an interested party, for the next management review."""
    from .models import Feedback

    today = today or timezone.localdate()
    if received_on > today:
        raise ValidationError({"received_on": "Feedback is recorded once received: give today or an earlier day."})
    if not summary.strip():
        raise ValidationError({"summary": "Summarise the feedback."})
    return Feedback.objects.create(party=party, received_on=received_on, summary=summary.strip())


@transaction.atomic
def programme_fill(*, programme: Programme, by, today=None) -> tuple[int, int]:
    """Put the planner's proposal (selectors.plan_proposal) into the coming slots' scopes; an area the slot's
    lead auditor may not audit (their department's or their own control) is left for another slot. Returns
    (areas added, areas left out)."""
    from .selectors import coverage, plan_proposal

    today = today or timezone.localdate()
    cov = coverage(programme, today)
    added = skipped = 0
    for audit_id, areas in plan_proposal(cov, today).items():
        audit = Audit.objects.get(pk=audit_id)
        scope = list(audit.scope.all())
        departments = list(audit.departments.all())
        for area in areas:
            if auditor_conflict(audit.lead_auditor, departments, scope + [area.requirement]):
                skipped += 1
                continue
            scope.append(area.requirement)
            added += 1
        audit_update(audit=audit, by=by, scope=scope)
    return added, skipped
