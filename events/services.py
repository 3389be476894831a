"""Writes for incidents, changes, suppliers and objectives: `<entity>_<action>(*, …)`, atomic, validated before
anything is written.

What each register puts on the calendar (`schedule_for`, one schedule per subject and purpose):
- a change's reviews (`ChangeReview`, purpose "review"): done when their task is done;
- a supplier's review (purpose "review", a date one cadence after the last review), its contract's end (purpose
  "contract", due before the notice deadline) and each certificate's expiry (purpose "expiry");
- an objective's progress update (purpose "progress", recurring) when asked for.

Incidents, changes and supplier downgrades ask the risk register for out-of-cycle reviews through its public
service `risks.services.risk_review_request`."""

from __future__ import annotations

import contextvars
import datetime
from collections.abc import Iterable

from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from isms.accounts.models import User
from isms.foundation import reach
from isms.foundation.reach import may_own_work
from isms.foundation.roles import Role
from isms.maintenance.models import Kind, Occurrence
from isms.maintenance.services import occurrence_complete, schedule_for, schedule_retire

from .hooks import nonconformity_revealed
from .models import (
    QUESTION_FIELDS,
    Certificate,
    Change,
    ChangeReview,
    ChangeStatus,
    Counter,
    Incident,
    IncidentStatus,
    Objective,
    ProgressEntry,
    ReviewKind,
    Severity,
    Supplier,
    SupplierReview,
)

#: Set while supplier_review_record completes the review task (its calendar hook then leaves the dates to it).
_RECORDING_REVIEW: contextvars.ContextVar[bool] = contextvars.ContextVar("recording_supplier_review", default=False)

REVIEW = "review"
CONTRACT = "contract"
EXPIRY = "expiry"
PROGRESS = "progress"
#: A certificate's renewal is asked for this long before it expires.
CERTIFICATE_LEAD = datetime.timedelta(days=30)
#: The decision to renew a contract falls due this long before its notice deadline.
CONTRACT_LEAD = datetime.timedelta(days=30)
#: A new supplier's first review falls due this long after it is added.
FIRST_REVIEW = datetime.timedelta(days=30)
#: A change's reviews are due by the change's date, and at least this long after it is recorded.
REVIEW_TIME = datetime.timedelta(days=14)

DEFAULT_SEVERITIES = [
    (1, "Low", "No information affected; minor inconvenience.", "#2e7d32"),
    (2, "Medium", "Limited effect on a service or a few people; no personal data exposed.", "#f9a825"),
    (3, "High", "A service down or information exposed; customers may notice.", "#ef6c00"),
    (4, "Critical", "Personal data breach to report, or a major outage; leadership told at once.", "#c62828"),
]


# --------------------------------------------------------------------------------------------------- shared


def _next(name: str) -> int:
    """The next number of a sequence, under a row lock (two writers at once get two numbers)."""
    Counter.objects.get_or_create(name=name)
    counter = Counter.objects.select_for_update().get(name=name)
    counter.value += 1
    counter.save(update_fields=["value"])
    return counter.value


def _check_owner(owner, field: str = "owner") -> None:
    if owner is None or not may_own_work(owner):
        raise ValidationError(
            {field: f"{owner} cannot be given this work: choose an active member of staff with an email address."}
        )


def _save(obj, **fields):
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.full_clean(exclude=[f for f in ("number", "reference") if not getattr(obj, f, None)])
    obj.save()
    return obj


def open_task(subject, purpose: str) -> Occurrence | None:
    """The subject's earliest open task for `purpose` (the one to complete now), if any."""
    from django.contrib.contenttypes.models import ContentType

    return (
        Occurrence.objects.filter(
            schedule__subject_type=ContentType.objects.get_for_model(subject),
            schedule__subject_id=subject.pk,
            schedule__purpose=purpose,
            state=Occurrence.State.OPEN,
        )
        .order_by("due_date")
        .first()
    )


def default_reviewer() -> User | None:
    """Who the compliance team's reviews go to by default: the first active compliance manager who can be
    reminded, else an administrator."""
    for role in (Role.COMPLIANCE, Role.ADMIN):
        user = User.objects.filter(role=role, is_active=True).exclude(email="").order_by("pk").first()
        if user is not None:
            return user
    return None


def _request_risk_reviews(risks: Iterable, *, reason: str, source: str, by) -> list:
    """Ask the risk register for an out-of-cycle review of each risk (its owner's review task comes forward to
    today and the request waits in the review queue)."""
    from risks.services import risk_review_request

    return [risk_review_request(risk=risk, reason=reason, source=source, by=by) for risk in risks]


# --------------------------------------------------------------------------------------------------- incidents


def severity_scale_ensure() -> list[Severity]:
    """The severity scale, with the default four levels when none has been set."""
    if not Severity.objects.exists():
        for level, label, description, colour in DEFAULT_SEVERITIES:
            Severity.objects.get_or_create(
                level=level, defaults={"label": label, "description": description, "colour": colour}
            )
    return list(Severity.objects.order_by("level"))


@transaction.atomic
def severity_scale_save(*, by, levels: list[dict]) -> list[Severity]:
    """Set the scale: [{level, label, description, colour}], level 1 the least severe. A level still used by an
    incident cannot be removed."""
    if not reach.may(by, "configure", Incident):
        raise PermissionDenied("Only the compliance team sets the severity scale.")
    if not 2 <= len(levels) <= 7:
        raise ValidationError("A severity scale has 2 to 7 levels.")
    keep = {int(row["level"]) for row in levels}
    used = set(Incident.objects.exclude(severity__level__in=keep).values_list("severity__label", flat=True))
    if used:
        raise ValidationError(f"Incidents are recorded at {', '.join(sorted(used))}: keep those levels.")
    Severity.objects.exclude(level__in=keep).delete()
    saved = []
    for row in levels:
        severity = Severity.objects.filter(level=row["level"]).first() or Severity(level=row["level"])
        saved.append(_save(severity, label=row["label"], description=row.get("description", ""), colour=row["colour"]))
    return saved


def _incident_links(incident: Incident, *, controls=None, risks=None, by) -> None:
    if controls is not None:
        incident.controls.set(controls)
    if risks is not None:
        incident.risks.set(risks)
        _incident_risk_reviews(incident, by=by)


def _incident_risk_reviews(incident: Incident, *, by) -> None:
    """Ask once for a review of each risk the incident is recorded against: a risk already asked by this
    incident is not asked again, however often the incident is edited or the risk unlinked and linked again."""
    from .models import IncidentRiskReview

    asked = set(IncidentRiskReview.objects.filter(incident=incident).values_list("risk_id", flat=True))
    for risk in incident.risks.exclude(pk__in=asked).order_by("pk"):
        _, created = IncidentRiskReview.objects.get_or_create(incident=incident, risk=risk)
        if not created:
            continue  # asked by a concurrent save
        (request,) = _request_risk_reviews(
            [risk],
            reason=f"Incident {incident.reference} ({incident.title}) was recorded against this risk.",
            source="incident",
            by=by,
        )
        IncidentRiskReview.objects.filter(incident=incident, risk=risk).update(request=request)


@transaction.atomic
def incident_create(*, by, controls=(), risks=(), **fields) -> Incident:
    """Report an incident: numbered from a locked sequence; each linked risk gets its review asked for."""
    if not reach.may(by, "create", Incident):
        raise PermissionDenied("Your role cannot report incidents here.")
    fields.setdefault("owner", by)
    _check_owner(fields["owner"])
    incident = Incident(reported_by=by, reported_at=timezone.now(), **fields)
    incident.full_clean(exclude=["number", "reference"])
    number = _next("incident")
    incident.number, incident.reference = number, f"INC-{number:03d}"
    incident.save()
    _incident_links(incident, controls=controls, risks=risks, by=by)
    return incident


@transaction.atomic
def incident_update(*, incident: Incident, by, controls=None, risks=None, **fields) -> Incident:
    """Change an open incident. A risk newly linked gets its review asked for; one asked before is not asked
    again."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    reach.check(by, "edit", incident)
    if fields.get("status") == IncidentStatus.CLOSED:
        raise ValidationError({"status": "Close the incident with “Close incident”, which asks about nonconformity."})
    if "owner" in fields:
        _check_owner(fields["owner"])
    _save(incident, **fields)
    _incident_links(incident, controls=controls, risks=risks, by=by)
    return incident


@transaction.atomic
def incident_close(
    *, incident: Incident, by, reveals_nonconformity: bool | None, nonconformity_note: str = "", lessons_learned=None
) -> Incident:
    """Close the incident, recording whether it reveals a nonconformity (the question must be answered; a "yes"
    says which requirement was not met)."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    reach.check(by, "close", incident)
    if incident.is_closed:
        raise ValidationError(f"Incident {incident.reference} is already closed.")
    if reveals_nonconformity is None:
        raise ValidationError(
            {"reveals_nonconformity": "Say whether the incident reveals a nonconformity (yes or no) before closing it."}
        )
    if reveals_nonconformity and not nonconformity_note.strip():
        raise ValidationError(
            {"nonconformity_note": "Say which requirement was not met, so the nonconformity can be raised."}
        )
    if lessons_learned is not None:
        incident.lessons_learned = lessons_learned.strip()
    incident.reveals_nonconformity = reveals_nonconformity
    incident.nonconformity_note = nonconformity_note.strip()
    incident.status = IncidentStatus.CLOSED
    incident.closed_at = timezone.now()
    incident.closed_by = by
    incident.save()
    if reveals_nonconformity:
        nonconformity_revealed(record=incident, by=by)
    return incident


# --------------------------------------------------------------------------------------------------- changes


def _review_owner(change: Change, kind: str):
    """Who a review goes to: a named supplier's owner reviews the supplier; the compliance team the rest."""
    if kind == ReviewKind.SUPPLIER and change.supplier_id and may_own_work(change.supplier.owner):
        return change.supplier.owner
    return default_reviewer() or change.owner


def _review_due(change: Change, today: datetime.date) -> datetime.date:
    """By the change's date, and never sooner than two weeks from today."""
    return max(change.planned_on, today + REVIEW_TIME)


def _review_title(review: ChangeReview) -> str:
    change = review.change
    what = {
        ReviewKind.SCOPE: "Review the ISMS scope for change",
        ReviewKind.RISKS: "Review the risks affected by change",
        ReviewKind.SOA: "Review the Statement of Applicability for change",
        ReviewKind.SUPPLIER: "Review the supplier for change",
    }[review.kind]
    return f"{what} {change.reference}: {change.title}"[:200]


REVIEW_HOW = {
    ReviewKind.SCOPE: "Does the scope statement still describe the ISMS after this change? Update it on the "
    "organisation's page if not, and note what you decided.",
    ReviewKind.RISKS: "Review the risks this change touches (listed on the change) and record each review in the risk "
    "register; add new risks the change brings.",
    ReviewKind.SOA: "Check the Statement of Applicability: are controls added, removed or operating differently? "
    "Update the lines and have a new version approved if so.",
    ReviewKind.SUPPLIER: "Assess the supplier before it handles our information: record a supplier review with its "
    "outcome and evidence in the supplier register.",
}


def _schedule_review(review: ChangeReview, *, by) -> None:
    kind = {ReviewKind.RISKS: Kind.RISK_REVIEW, ReviewKind.SUPPLIER: Kind.SUPPLIER_REVIEW}.get(review.kind, Kind.OTHER)
    schedule_for(
        subject=review,
        purpose=REVIEW,
        title=_review_title(review),
        owner=review.owner,
        start_date=review.due_on,
        kind=kind,
        by=by,
        description=REVIEW_HOW[review.kind],
        reminder_days=[7, 1],
        grace_days=14,
    )


def _open_reviews(change: Change, *, by) -> None:
    """Bring the change's reviews in line with its answers: each review a "yes" calls for exists with its task;
    one no longer called for and not yet done is withdrawn (its task skipped). Done reviews stay."""
    called = set(change.reviews_called_for())
    today = timezone.localdate()
    for review in change.reviews.select_related("owner"):
        if review.kind not in called and not review.is_done:
            schedule_retire(subject=review, purpose=REVIEW, reason="The change's answers no longer call for it.", by=by)
            review.delete()
    have = set(change.reviews.values_list("kind", flat=True))
    for kind in change.reviews_called_for():
        if kind in have:
            continue
        review = ChangeReview.objects.create(
            change=change, kind=kind, owner=_review_owner(change, kind), due_on=_review_due(change, today)
        )
        _schedule_review(review, by=by)
    if change.status == ChangeStatus.OPEN and change.approved_at and called - have:
        # A new "yes" after approval: the compliance team looks again.
        Change.objects.filter(pk=change.pk).update(approved_at=None, approved_by=None)


def _change_risks(change: Change, risks, *, by) -> None:
    """Link the affected risks; when the change calls for a risk review, each newly linked risk's review is asked
    for (once per change and risk)."""
    if risks is None:
        return
    before = set(change.risks.values_list("pk", flat=True))
    change.risks.set(risks)
    if ReviewKind.RISKS in change.reviews_called_for():
        new = [risk for risk in change.risks.all() if risk.pk not in before]
        _request_risk_reviews(
            new, reason=f"Change {change.reference} ({change.title}) affects this risk.", source="change", by=by
        )


def _check_answers(fields: dict) -> None:
    missing = [name for name in QUESTION_FIELDS if fields.get(name) is None]
    if len(missing) == len(QUESTION_FIELDS):
        raise ValidationError("Answer the questions: none is answered. Each needs a yes or a no.")
    if missing:
        raise ValidationError(f"Answer every question with yes or no: {len(missing)} still open.")


@transaction.atomic
def change_create(*, by, risks=(), **fields) -> Change:
    """Record a change with its answers; each "yes" opens the reviews it calls for."""
    if not reach.may(by, "create", Change):
        raise PermissionDenied("Your role cannot record changes here.")
    _check_answers(fields)
    fields.setdefault("owner", by)
    _check_owner(fields["owner"])
    change = Change(requested_by=by, created_at=timezone.now(), **fields)
    change.full_clean(exclude=["number", "reference"])
    number = _next("change")
    change.number, change.reference = number, f"CHG-{number:03d}"
    change.save()
    _open_reviews(change, by=by)
    _change_risks(change, risks, by=by)
    return change


@transaction.atomic
def change_update(*, change: Change, by, risks=None, **fields) -> Change:
    """Change an open change record; its reviews follow its answers."""
    change = Change.objects.select_for_update().get(pk=change.pk)
    reach.check(by, "edit", change)
    answers = {name: fields.get(name, getattr(change, name)) for name in QUESTION_FIELDS}
    _check_answers(answers)
    if "owner" in fields:
        _check_owner(fields["owner"])
    _save(change, **fields)
    _open_reviews(change, by=by)
    _change_risks(change, risks, by=by)
    return change


@transaction.atomic
def change_approve(*, change: Change, by, note: str = "") -> Change:
    """The compliance team approves a change whose answers call for reviews."""
    change = Change.objects.select_for_update().get(pk=change.pk)
    reach.check(by, "approve", change)
    if change.is_closed:
        raise ValidationError(f"Change {change.reference} is closed.")
    if not change.needs_approval:
        raise ValidationError("Every answer is no: this change needs no approval.")
    change.approved_by, change.approved_at, change.approval_note = by, timezone.now(), note.strip()
    change.save(update_fields=["approved_by", "approved_at", "approval_note", "updated_at"])
    return change


def close_refusal(change: Change) -> str | None:
    """Why the change cannot be closed yet, or None."""
    if change.is_closed:
        return f"Change {change.reference} is already closed."
    if change.needs_approval and not change.approved_at:
        return "The change is not approved yet: the compliance team approves it first."
    open_reviews = [r.get_kind_display().lower() for r in change.reviews.all() if not r.is_done]
    if open_reviews:
        return (
            f"Not closed: the {', the '.join(open_reviews)} {'is' if len(open_reviews) == 1 else 'are'} not done yet."
        )
    return None


@transaction.atomic
def change_close(
    *, change: Change, by, reveals_nonconformity: bool | None = None, nonconformity_note: str = ""
) -> Change:
    """Close a change: only when approved (if it needed approval) and every review it opened is done. Marked as
    revealing a nonconformity (with which requirement was not met), it raises one in the audit programme."""
    change = Change.objects.select_for_update().get(pk=change.pk)
    reach.check(by, "close", change)
    refusal = close_refusal(change)
    if refusal:
        raise ValidationError(refusal)
    if reveals_nonconformity and not nonconformity_note.strip():
        raise ValidationError(
            {"nonconformity_note": "Say which requirement was not met, so the nonconformity can be raised."}
        )
    change.status, change.closed_by, change.closed_at = ChangeStatus.CLOSED, by, timezone.now()
    change.reveals_nonconformity, change.nonconformity_note = reveals_nonconformity, nonconformity_note.strip()
    change.save(
        update_fields=[
            "status", "closed_by", "closed_at", "reveals_nonconformity", "nonconformity_note", "updated_at"
        ]
    )  # fmt: skip
    if reveals_nonconformity:
        nonconformity_revealed(record=change, by=by)
    return change


def change_review_done(*, occurrence: Occurrence, by) -> None:
    """A change's review task was marked done on the calendar: the review is done, with the task's note."""
    ChangeReview.objects.filter(pk=occurrence.schedule.subject_id, done_at__isnull=True).update(
        done_at=occurrence.completed_at or timezone.now(), done_by=by, note=occurrence.completion_note
    )


@transaction.atomic
def change_review_complete(*, review: ChangeReview, by, note: str = "") -> ChangeReview:
    """Mark a change's review done from the change's page: its task is completed (and the review with it)."""
    occurrence = open_task(review, REVIEW)
    if occurrence is None:
        raise ValidationError("This review has no open task: it is done or was withdrawn.")
    occurrence_complete(occurrence=occurrence, by=by, note=note.strip())
    review.refresh_from_db()
    return review


def suggested_risks(change: Change):
    """Risks the change may touch: those of the named supplier, and those whose asset is named in the change."""
    from django.db.models import Q

    from risks.models import Risk

    query = Q(pk__in=[])
    if change.supplier_id:
        query |= Q(suppliers=change.supplier_id)
    words = {w.strip(" ,.;:()").lower() for w in (change.assets or "").replace("\n", " ").split(" ")}
    for word in sorted(w for w in words if len(w) >= 4)[:20]:
        query |= Q(asset__icontains=word)
    return Risk.objects.filter(query).exclude(status="closed").distinct().order_by("number")


# --------------------------------------------------------------------------------------------------- suppliers


def _supplier_tasks(supplier: Supplier, *, by) -> None:
    """The supplier's review and contract-end tasks, in step with it."""
    today = timezone.localdate()
    if not supplier.active:
        schedule_retire(subject=supplier, purpose=REVIEW, reason="No longer a supplier.", by=by)
        schedule_retire(subject=supplier, purpose=CONTRACT, reason="No longer a supplier.", by=by)
        for certificate in supplier.certificates.all():
            schedule_retire(subject=certificate, purpose=EXPIRY, reason="No longer a supplier.", by=by)
        return
    if supplier.next_review_on is None:
        base = supplier.last_reviewed_on
        supplier.next_review_on = (
            base + relativedelta(months=supplier.review_months()) if base else today + FIRST_REVIEW
        )
        Supplier.objects.filter(pk=supplier.pk).update(next_review_on=supplier.next_review_on)
    schedule_for(
        subject=supplier,
        purpose=REVIEW,
        title=f"Review supplier {supplier.name}"[:200],
        owner=supplier.owner,
        start_date=supplier.next_review_on,
        kind=Kind.SUPPLIER_REVIEW,
        by=by,
        description="Assess the supplier: its security, its certificates, incidents and how it met the contract. "
        "Record the review with its outcome and evidence on the supplier's page.",
        reminder_days=[30, 7, 1],
        grace_days=30,
    )
    if supplier.contract_end:
        due = supplier.contract_end - datetime.timedelta(days=supplier.notice_days) - CONTRACT_LEAD
        schedule_for(
            subject=supplier,
            purpose=CONTRACT,
            title=f"Decide on {supplier.name}'s contract (ends {supplier.contract_end:%d %b %Y})"[:200],
            owner=supplier.owner,
            start_date=max(due, min(today, supplier.contract_end)),
            kind=Kind.SUPPLIER_REVIEW,
            by=by,
            description=f"The contract ends on {supplier.contract_end:%d %B %Y} with {supplier.notice_days} days' "
            "notice: decide whether to renew, renegotiate or end it before the notice deadline.",
            reminder_days=[14, 3],
            grace_days=max(0, min((supplier.contract_end - max(due, today)).days, 30)),
        )
    else:
        schedule_retire(subject=supplier, purpose=CONTRACT, reason="The contract has no end date.", by=by)


def _certificate_task(certificate: Certificate, *, by) -> None:
    supplier = certificate.supplier
    today = timezone.localdate()
    if not supplier.active:
        return
    due = max(certificate.expires_on - CERTIFICATE_LEAD, min(today, certificate.expires_on))
    schedule_for(
        subject=certificate,
        purpose=EXPIRY,
        title=f"Ask {supplier.name} for its renewed {certificate.name} certificate"[:200],
        owner=supplier.owner,
        start_date=due,
        kind=Kind.SUPPLIER_REVIEW,
        by=by,
        description=f"{supplier.name}'s {certificate.name} certificate expires on {certificate.expires_on:%d %B %Y}. "
        "Ask for the renewed certificate and update its expiry in the supplier register.",
        reminder_days=[14, 3],
        grace_days=max(0, (certificate.expires_on - due).days),
    )


@transaction.atomic
def supplier_save(*, by, supplier: Supplier | None = None, controls=None, risks=None, **fields) -> Supplier:
    """Add or change a supplier; its review, contract and certificate tasks follow. A change of criticality moves
    the next review to one new cadence after the last."""
    creating = supplier is None
    if creating:
        if not reach.may(by, "create", Supplier):
            raise PermissionDenied("Only the compliance team adds suppliers.")
        supplier = Supplier(created_at=timezone.now())
    else:
        supplier = Supplier.objects.select_for_update().get(pk=supplier.pk)
        reach.check(by, "edit", supplier)
    if "owner" in fields:
        _check_owner(fields["owner"])
    old_criticality = None if creating else supplier.criticality
    _save(supplier, **fields)
    if old_criticality and old_criticality != supplier.criticality and supplier.last_reviewed_on:
        supplier.next_review_on = supplier.last_reviewed_on + relativedelta(months=supplier.review_months())
        Supplier.objects.filter(pk=supplier.pk).update(next_review_on=supplier.next_review_on)
    if controls is not None:
        supplier.controls.set(controls)
    if risks is not None:
        supplier.risks.set(risks)
    _supplier_tasks(supplier, by=by)
    for certificate in supplier.certificates.all():
        _certificate_task(certificate, by=by)
    return supplier


@transaction.atomic
def certificate_save(*, by, supplier: Supplier, certificate: Certificate | None = None, **fields) -> Certificate:
    """Add or renew a supplier's certificate; the renewal task moves with its expiry."""
    reach.check(by, "edit", supplier)
    certificate = certificate or Certificate(supplier=supplier)
    _save(certificate, **fields)
    _certificate_task(certificate, by=by)
    return certificate


@transaction.atomic
def certificate_delete(*, by, certificate: Certificate) -> None:
    reach.check(by, "edit", certificate.supplier)
    schedule_retire(subject=certificate, purpose=EXPIRY, reason="The certificate was removed.", by=by)
    certificate.delete()


@transaction.atomic
def supplier_review_record(
    *,
    supplier: Supplier,
    by,
    outcome: str,
    assessment: str,
    reviewed_on: datetime.date | None = None,
    evidence_link: str = "",
    files=(),
) -> SupplierReview:
    """Record a review: the outcome is the supplier's rating from now on, its open review task is completed
    (with the evidence link as evidence), and the next review comes one cadence later. A review that lowers
    the rating asks for a review of each of the supplier's risks."""
    supplier = Supplier.objects.select_for_update().get(pk=supplier.pk)
    reach.check(by, "review", supplier)
    today = timezone.localdate()
    reviewed_on = reviewed_on or today
    errors = {}
    if not outcome:
        errors["outcome"] = (
            "Choose the outcome of the review: approved, with conditions, under watch or not acceptable."
        )
    if not (assessment or "").strip():
        errors["assessment"] = "Say what was checked and what was found."
    if reviewed_on > today:
        errors["reviewed_on"] = "A review is recorded on or after the day it was made, not before."
    if errors:
        raise ValidationError(errors)
    review = SupplierReview(
        supplier=supplier,
        reviewed_on=reviewed_on,
        outcome=outcome,
        previous=supplier.rating,
        criticality=supplier.criticality,
        assessment=assessment.strip(),
        evidence_link=evidence_link.strip(),
        by=by,
        at=timezone.now(),
    )
    review.full_clean()
    review.save()
    # Recording the review is doing the supplier's review task (even ahead of its date): it is completed, and the
    # evidence files and link are kept on it.
    task = open_task(supplier, REVIEW)
    files = list(files)
    if task is not None:
        from evidence.services import occurrence_complete_with_evidence

        note = f"{review.get_outcome_display()}: {review.assessment}"[:2000]
        links = [review.evidence_link] if review.evidence_link else []
        token = _RECORDING_REVIEW.set(True)
        try:
            occurrence_complete_with_evidence(occurrence=task, by=by, note=note, files=files, links=links)
        finally:
            _RECORDING_REVIEW.reset(token)
    elif files:
        raise ValidationError({"files": "This supplier has no review task to keep the files on: is it still active?"})
    supplier.rating = outcome
    supplier.last_reviewed_on = max(reviewed_on, supplier.last_reviewed_on or reviewed_on)
    supplier.next_review_on = supplier.last_reviewed_on + relativedelta(months=supplier.review_months())
    supplier.save(update_fields=["rating", "last_reviewed_on", "next_review_on", "updated_at"])
    _supplier_tasks(supplier, by=by)
    if review.downgraded:
        _request_risk_reviews(
            supplier.risks.exclude(status="closed").order_by("pk"),
            reason=f"Supplier {supplier.name} was downgraded from {review.get_previous_display().lower()} to "
            f"{review.get_outcome_display().lower()} in its review of {reviewed_on:%d %B %Y}.",
            source="supplier",
            by=by,
        )
    return review


def supplier_review_task_done(*, occurrence: Occurrence, by) -> None:
    """A supplier's review task marked done on the calendar rather than by recording a review: the next review still
    moves on a cadence, so the supplier does not stay overdue; the register shows no assessment for the period."""
    if _RECORDING_REVIEW.get():
        return  # supplier_review_record completed it and moves the next review itself
    supplier = Supplier.objects.filter(pk=occurrence.schedule.subject_id).first()
    if supplier is None or not supplier.active:
        return
    supplier.next_review_on = occurrence.completed_on + relativedelta(months=supplier.review_months())
    Supplier.objects.filter(pk=supplier.pk).update(next_review_on=supplier.next_review_on)
    _supplier_tasks(supplier, by=by)


# --------------------------------------------------------------------------------------------------- objectives


def _progress_task(objective: Objective, *, by) -> None:
    months = objective.progress_every_months
    today = timezone.localdate()
    if not months or objective.due_on < today:
        schedule_retire(subject=objective, purpose=PROGRESS, reason="No progress updates asked for.", by=by)
        return
    start = objective.start_on + relativedelta(months=months)
    schedule_for(
        subject=objective,
        purpose=PROGRESS,
        title=f"Record progress on objective: {objective.title}"[:200],
        owner=objective.owner,
        start_date=start,
        kind=Kind.OTHER,
        rrule=f"FREQ=MONTHLY;INTERVAL={months}",
        end_date=max(objective.due_on, start),
        by=by,
        description=f"Measure {objective.measure} and record it on the objective's page (target {objective.target}"
        f"{objective.unit and ' ' + objective.unit} by {objective.due_on:%d %B %Y}).",
        reminder_days=[7, 1],
        grace_days=14,
    )


@transaction.atomic
def objective_save(*, by, objective: Objective | None = None, **fields) -> Objective:
    """Set or change an ISMS objective; its recurring progress update follows."""
    if objective is None:
        if not reach.may(by, "create", Objective):
            raise PermissionDenied("Only the compliance team sets objectives.")
        objective = Objective(created_at=timezone.now())
    else:
        objective = Objective.objects.select_for_update().get(pk=objective.pk)
        reach.check(by, "edit", objective)
    if "owner" in fields:
        _check_owner(fields["owner"])
    _save(objective, **fields)
    _progress_task(objective, by=by)
    return objective


@transaction.atomic
def progress_record(*, objective: Objective, by, recorded_on: datetime.date, value, note: str = "") -> ProgressEntry:
    """Record where the objective stands; a progress task that is due is done with it."""
    reach.check(by, "progress", objective)
    entry = ProgressEntry(objective=objective, recorded_on=recorded_on, value=value, note=note.strip(), by=by)
    entry.full_clean()
    entry.save()
    task = open_task(objective, PROGRESS)
    if task is not None and task.remind_from <= timezone.localdate():
        occurrence_complete(
            occurrence=task, by=by, note=f"Recorded {entry.value}{objective.unit and ' ' + objective.unit}."
        )
    return entry
