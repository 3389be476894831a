"""Audit readiness: how ready the organisation (or one department) is for the next external audit of the
certification cycle, and what to fix first. Read side only; a constant number of queries whatever the data
(tests/portal/test_readiness.py counts them).

The period under audit runs from the previous external audit (or the certificate's issue date, whichever is
later) to the next external audit's date. Without a certificate or an audit ahead, the figures are those of the
last 12 months, up to today.

The readiness figure (0–100 %) is a weighted average of six components, each scored 0–100:

=====================  ======  =============================================================================
component              weight  score
=====================  ======  =============================================================================
Work on time             25    share of the tasks due in the period so far (not skipped) done by their due date
Evidence of controls     25    share of the controls in scope (not "not applicable") without an evidence gap:
                               a control has a gap when activities fell due in the period so far and none was
                               done, or when it has no live evidence dated in the period at all
Nonconformities          15    100, less 25 for each open major, 10 for each open minor raised over 90 days
                               ago and 5 for each other open minor; never below 0
Risk reviews             15    share of the open risks whose next review date has not passed
Internal audits          10    share of clauses 4–10 and applicable Annex A controls covered by an internal
                               audit of the cycle (the audit programme's coverage matrix)
Management review        10    50 if a review met in the last 12 months, + 30 if its minutes are approved,
                               + 20 × the share of the 9.3.2 inputs (a–g, ten headings) with a note in the
                               minutes
=====================  ======  =============================================================================

A component with nothing to measure (no task fell due, no control in scope, no open risk, no area to audit) is
left out and the other weights count in proportion, so the figure is never raised or lowered by an empty
register; the page says which. Each component's points are its score × its weight ÷ the weights counted; the
figure is their sum, rounded.

The department view limits tasks, controls (and the requirements they are mapped to), nonconformities, risks,
risk acceptances and control exceptions to that department; internal audit coverage and the management review
are the organisation's and are shown as such.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from dateutil.relativedelta import relativedelta
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, F, Q
from django.utils import timezone

from audits.models import (
    EXTERNAL_KINDS,
    OPEN_NC,
    Audit,
    ManagementReview,
    Nonconformity,
    Programme,
    ReviewStatus,
    Severity,
)
from audits.selectors import HEADINGS
from audits.selectors import coverage as programme_coverage
from controls.models import Control, ImplementationStatus, SoAEntry
from evidence.models import EvidenceItem
from isms.accounts.models import Department
from isms.foundation import reach
from isms.maintenance.models import Occurrence
from isms.maintenance.selectors import status_counts
from isms.organisation.models import Certificate, CycleAudit
from risks.models import Acceptance, ControlException, Decision, Risk, Status

WEIGHTS = {
    "tasks": 25,
    "controls": 25,
    "nonconformities": 15,
    "risk_reviews": 15,
    "internal_audits": 10,
    "management_review": 10,
}
NC_PENALTY = {"major": 25, "minor_old": 10, "minor": 5}
AGE_BUCKETS = (("0–30 days", 0, 30), ("31–90 days", 31, 90), ("over 90 days", 91, None))
SHOWN = 25  # rows of each list on the page; the total is always given


@dataclass(frozen=True)
class Period:
    start: datetime.date
    end: datetime.date
    since: str  # what the start is, in words
    until: str  # what the end is, in words


@dataclass
class Component:
    key: str
    label: str
    weight: int
    score: int | None  # None: nothing to measure, left out of the figure
    basis: str  # what the score was computed from, in words
    how: str  # how it is scored, in words
    points: float = 0.0  # its share of the figure

    @property
    def counted(self) -> bool:
        return self.score is not None


@dataclass
class OwnerRow:
    pk: int | None
    name: str
    overdue: int
    missed: int

    @property
    def total(self) -> int:
        return self.overdue + self.missed


@dataclass
class Gap:
    obj: object
    reason: str
    can_fix: bool = False


@dataclass
class Readiness:
    today: datetime.date
    department: Department | None
    certificate: Certificate | None
    next_audit: CycleAudit | None
    next_audit_record: Audit | None  # the audit programme's record of it, when there is one
    period: Period
    overdue: int = 0
    missed: int = 0
    by_owner: list[OwnerRow] = field(default_factory=list)
    by_department: list[OwnerRow] = field(default_factory=list)
    tasks_due: int = 0
    tasks_on_time: int = 0
    controls_in_scope: int = 0
    control_gaps: list[Gap] = field(default_factory=list)
    control_gap_count: int = 0
    requirements_applicable: int = 0
    requirement_gaps: list[Gap] = field(default_factory=list)
    requirement_gap_count: int = 0
    nc_table: list[dict] = field(default_factory=list)  # a row per severity: counts per age bucket
    nc_open: int = 0
    nc_list: list[Gap] = field(default_factory=list)
    risks_open: int = 0
    risks_overdue: list[Gap] = field(default_factory=list)
    risks_overdue_count: int = 0
    acceptances: list[Gap] = field(default_factory=list)
    exceptions: list[Gap] = field(default_factory=list)
    expiring_until: datetime.date | None = None
    audit_areas: int = 0
    audit_covered: int = 0
    has_programme: bool = False
    review: ManagementReview | None = None
    review_inputs_noted: int = 0
    review_inputs_total: int = len(HEADINGS)
    review_recent: bool = False
    components: list[Component] = field(default_factory=list)
    figure: int = 0

    @property
    def audit_date(self) -> datetime.date | None:
        return self.next_audit.planned_date if self.next_audit else None

    @property
    def days_to_audit(self) -> int | None:
        return (self.audit_date - self.today).days if self.audit_date else None

    @property
    def weights_counted(self) -> int:
        return sum(c.weight for c in self.components if c.counted)


def _share(part: int, whole: int) -> int | None:
    return None if whole == 0 else round(part * 100 / whole)


def _name(first: str, last: str, username: str) -> str:
    return f"{first} {last}".strip() or username


# --------------------------------------------------------------------------------------------------- the period


def audit_period(today: datetime.date) -> tuple[Certificate | None, CycleAudit | None, Audit | None, Period]:
    """The certificate in force, its next external audit (and the audit programme's record of it) and the period
    under audit: three queries."""
    certificate = Certificate.objects.current()
    cycle = list(certificate.audits.all()) if certificate else []
    upcoming = [a for a in cycle if a.planned_date >= today]
    next_audit = upcoming[0] if upcoming else None
    if next_audit is None:
        if certificate is None:
            since = "no certificate is recorded yet, so the last 12 months"
        else:
            since = "no external audit of the certificate lies ahead, so the last 12 months"
        start = today - relativedelta(months=12) + datetime.timedelta(days=1)
        return certificate, None, None, Period(start, today, since, "today")
    externals = list(
        Audit.objects.filter(kind__in=EXTERNAL_KINDS)
        .filter(Q(cycle_audit=next_audit) | Q(planned_on__lt=next_audit.planned_date))
        .order_by("-planned_on")
        .only("pk", "reference", "title", "kind", "planned_on", "cycle_audit_id")
    )
    record = next((a for a in externals if a.cycle_audit_id == next_audit.pk), None)
    # The previous external audit: one of the cycle's past dates, or a recorded external audit before the next.
    previous = [(a.planned_date, a.get_kind_display()) for a in cycle if a.planned_date < next_audit.planned_date]
    previous += [(a.planned_on, a.get_kind_display()) for a in externals if a.pk != getattr(record, "pk", None)]
    previous = [p for p in previous if p[0] < next_audit.planned_date]
    start, since = certificate.issue_date, f"the certificate's issue on {certificate.issue_date:%-d %b %Y}"
    if previous:
        day, label = max(previous)
        if day >= certificate.issue_date:
            start, since = day, f"the {label.lower()} on {day:%-d %b %Y}"
    until = f"the {next_audit.get_kind_display().lower()} on {next_audit.planned_date:%-d %b %Y}"
    return certificate, next_audit, record, Period(start, next_audit.planned_date, since, until)


# --------------------------------------------------------------------------------------------------- the figures


def readiness(user, *, today: datetime.date | None = None, department: Department | None = None) -> Readiness:
    """Every figure of the readiness page for `user` (its fix links follow what `user` may do), organisation-wide
    or for one department."""
    today = today or timezone.localdate()
    certificate, next_audit, record, period = audit_period(today)
    r = Readiness(today, department, certificate, next_audit, record, period)
    so_far = min(period.end, today - datetime.timedelta(days=1))  # a task due today is not late yet
    _tasks(r, user, so_far)
    _controls(r, user, so_far)
    _nonconformities(r, user)
    _risks(r, user)
    _audits(r, today)
    _review(r, user)
    _score(r)
    return r


def _tasks(r: Readiness, user, so_far: datetime.date) -> None:
    tasks = reach.visible(user, Occurrence)
    if r.department is not None:
        tasks = tasks.filter(department=r.department)
    counts = status_counts(tasks, r.today)  # the calendar's own counts of late work
    r.overdue, r.missed = counts["overdue"], counts["missed"]
    late = tasks.overdue(r.today).order_by()
    is_open = Q(state=Occurrence.State.OPEN)
    is_missed = Q(state=Occurrence.State.MISSED)
    for row in late.values("owner", "owner__first_name", "owner__last_name", "owner__username").annotate(
        o=Count("pk", filter=is_open), m=Count("pk", filter=is_missed)
    ):
        name = _name(row["owner__first_name"], row["owner__last_name"], row["owner__username"])
        r.by_owner.append(OwnerRow(row["owner"], name, row["o"], row["m"]))
    r.by_owner.sort(key=lambda o: (-o.total, o.name))
    for row in late.values("department", "department__name").annotate(
        o=Count("pk", filter=is_open), m=Count("pk", filter=is_missed)
    ):
        r.by_department.append(
            OwnerRow(row["department"], row["department__name"] or "No department", row["o"], row["m"])
        )
    r.by_department.sort(key=lambda o: (-o.total, o.name))
    done = (
        tasks.filter(due_date__range=(r.period.start, so_far))
        .exclude(state=Occurrence.State.SKIPPED)
        .aggregate(
            due=Count("pk"),
            on_time=Count("pk", filter=Q(state=Occurrence.State.DONE, completed_on__lte=F("due_date"))),
        )
    )
    r.tasks_due, r.tasks_on_time = done["due"], done["on_time"]


def _in_period(period: Period) -> Q:
    return Q(effective_date__range=(period.start, period.end)) | Q(
        period_start__lte=period.end, period_end__gte=period.start
    )


def _controls(r: Readiness, user, so_far: datetime.date) -> None:
    """Controls and applicable SoA requirements with evidence gaps in the period (six queries)."""
    controls = reach.visible(user, Control).exclude(status=ImplementationStatus.NOT_APPLICABLE)
    evidence = EvidenceItem.objects.live().filter(_in_period(r.period)).order_by()
    with_evidence = set(evidence.filter(control__isnull=False).values_list("control", flat=True).distinct())
    with_evidence |= set(evidence.filter(task_control__isnull=False).values_list("task_control", flat=True).distinct())
    # Evidence on a control's task counts for it even where the item does not name the control (as on its coverage
    # page, which counts a task's evidence through the task).
    control_type = ContentType.objects.get_for_model(Control)
    with_evidence |= set(
        evidence.filter(occurrence__schedule__subject_type=control_type)
        .values_list("occurrence__schedule__subject_id", flat=True)
        .distinct()
    )
    # Activities due in the period so far, and how many were done, per control.
    activities = {
        row["schedule__subject_id"]: (row["due"], row["done"])
        for row in Occurrence.objects.filter(
            schedule__subject_type=control_type,
            due_date__range=(r.period.start, so_far),
        )
        .order_by()
        .values("schedule__subject_id")
        .annotate(due=Count("pk"), done=Count("pk", filter=Q(state=Occurrence.State.DONE)))
    }
    in_scope = list(
        controls.select_related("owner", "department")
        .only(
            "pk",
            "reference",
            "name",
            "owner_id",
            "department_id",
            "owner__first_name",
            "owner__last_name",
            "owner__username",
            "department__name",
        )
        .order_by("reference")
    )
    mine = [c for c in in_scope if r.department is None or c.department_id == r.department.pk]
    r.controls_in_scope = len(mine)
    for control in mine:
        due, done = activities.get(control.pk, (0, 0))
        reasons = []
        if due and not done:
            reasons.append(f"{due} activit{'y' if due == 1 else 'ies'} due in the period, none done")
        if control.pk not in with_evidence:
            reasons.append("no evidence dated in the period")
        if reasons:
            r.control_gap_count += 1
            if len(r.control_gaps) < SHOWN:
                r.control_gaps.append(Gap(control, "; ".join(reasons), reach.may(user, "add_evidence", control)))

    entries = list(
        SoAEntry.objects.filter(applicable=True, requirement__retired=False, requirement__framework__has_soa=True)
        .select_related("requirement__framework")
        .order_by("requirement__framework__code", "requirement__position", "requirement__pk")
    )
    by_requirement: dict[int, set[int]] = {}
    for req_pk, control_pk in Control.requirements.through.objects.filter(
        requirement__soa_entry__applicable=True, control__in=controls.values("pk")
    ).values_list("requirement_id", "control_id"):
        by_requirement.setdefault(req_pk, set()).add(control_pk)
    direct = set(evidence.filter(requirement__isnull=False).values_list("requirement", flat=True).distinct())
    dept_controls = {c.pk for c in mine}
    owner_of = {c.pk: c.owner_id for c in in_scope}
    for entry in entries:
        requirement = entry.requirement
        mapped = by_requirement.get(requirement.pk, set())
        if r.department is not None and not mapped & dept_controls:
            continue  # a department's view: the requirements its controls are mapped to
        r.requirements_applicable += 1
        if not mapped:
            reason = "applicable in the Statement of Applicability, but no control is mapped to it"
        elif requirement.pk not in direct and not mapped & with_evidence:
            reason = (
                f"no evidence dated in the period for it or its {len(mapped)} control{'s' if len(mapped) > 1 else ''}"
            )
        else:
            continue
        r.requirement_gap_count += 1
        if len(r.requirement_gaps) < SHOWN:
            # Asked of the reach rule only where it may say yes: for anyone but the compliance team it asks the
            # database whether they own a mapped control, which the controls read above already tell.
            owns = any(owner_of.get(pk) == user.pk for pk in mapped)
            can = (reach.is_manager(user) or owns) and reach.may(user, "add_evidence", requirement)
            r.requirement_gaps.append(Gap(requirement, reason, can))


def _nonconformities(r: Readiness, user) -> None:
    """Open nonconformities by severity and age (one aggregate), and the oldest listed (one query)."""
    ncs = reach.visible(user, Nonconformity).filter(OPEN_NC)
    if r.department is not None:
        ncs = ncs.filter(department=r.department)
    counts = {}
    for severity in Severity:
        for i, (_, low, high) in enumerate(AGE_BUCKETS):
            age = Q(raised_on__lte=r.today - datetime.timedelta(days=low))
            if high is not None:
                age &= Q(raised_on__gte=r.today - datetime.timedelta(days=high))
            counts[f"{severity.value}_{i}"] = Count("pk", filter=Q(severity=severity.value) & age)
    got = ncs.order_by().aggregate(**counts) if counts else {}
    for severity in Severity:
        cells = [got[f"{severity.value}_{i}"] for i in range(len(AGE_BUCKETS))]
        r.nc_table.append({"severity": severity.label, "key": severity.value, "cells": cells, "total": sum(cells)})
    r.nc_open = sum(row["total"] for row in r.nc_table)
    for nc in ncs.select_related("owner").order_by("raised_on", "pk")[:SHOWN]:
        age = (r.today - nc.raised_on).days
        r.nc_list.append(Gap(nc, f"{age} day{'s' if age != 1 else ''} open", reach.may(user, "edit", nc)))


def _risks(r: Readiness, user) -> None:
    """Open risks with their review overdue; acceptances and exceptions that lapse before the audit."""
    risks = reach.visible(user, Risk).exclude(status=Status.CLOSED)
    acceptances = reach.visible(user, Acceptance).filter(state=Decision.APPROVED)
    exceptions = reach.visible(user, ControlException).filter(state=Decision.APPROVED)
    if r.department is not None:
        risks = risks.filter(department=r.department)
        acceptances = acceptances.filter(risk__department=r.department)
        exceptions = exceptions.filter(control__department=r.department)
    late = Q(next_review_on__lt=r.today)
    got = risks.order_by().aggregate(open=Count("pk"), late=Count("pk", filter=late))
    r.risks_open, r.risks_overdue_count = got["open"], got["late"]
    for risk in risks.filter(late).select_related("owner").order_by("next_review_on", "pk")[:SHOWN]:
        days = (r.today - risk.next_review_on).days
        r.risks_overdue.append(
            Gap(risk, f"review {days} day{'s' if days != 1 else ''} late", reach.may(user, "review", risk))
        )
    # Before the audit date; without an audit ahead, the next 90 days.
    until = r.audit_date or r.today + datetime.timedelta(days=90)
    r.expiring_until = until
    for acc in (
        acceptances.filter(expires_on__lte=until).select_related("risk__owner").order_by("expires_on", "pk")[:SHOWN]
    ):
        r.acceptances.append(
            Gap(acc, _expiry(acc.expires_on, r.today), reach.may(user, "request_acceptance", acc.risk))
        )
    for exc in (
        exceptions.filter(expires_on__lte=until).select_related("control__owner").order_by("expires_on", "pk")[:SHOWN]
    ):
        r.exceptions.append(Gap(exc, _expiry(exc.expires_on, r.today), reach.may(user, "edit", exc.control)))


def _expiry(day: datetime.date, today: datetime.date) -> str:
    days = (day - today).days
    if days < 0:
        return f"expired {-days} day{'s' if days != -1 else ''} ago"
    if days == 0:
        return "expires today"
    return f"expires in {days} day{'s' if days != 1 else ''}"


def _audits(r: Readiness, today: datetime.date) -> None:
    """The audit programme's coverage matrix of the cycle: how many areas an internal audit covered."""
    programme = Programme.objects.filter(certificate=r.certificate).first() if r.certificate else None
    if programme is None:
        from audits.selectors import areas

        rows, _ = areas()
        r.audit_areas = len(rows)
        return
    cov = programme_coverage(programme, today)
    r.has_programme = True
    r.audit_areas = len(cov.rows)
    r.audit_covered = len(cov.rows) - len(cov.uncovered)


def _review(r: Readiness, user) -> None:
    """The last management review held (else the next planned), and whether it is complete."""
    reviews = reach.visible(user, ManagementReview)
    r.review = (
        reviews.filter(meeting_on__isnull=False).order_by("-meeting_on", "-pk").first()
        or reviews.order_by("planned_on", "pk").filter(planned_on__gte=r.today - relativedelta(months=12)).first()
    )
    if r.review is None or r.review.meeting_on is None:
        return
    notes = r.review.input_notes or {}
    r.review_inputs_noted = sum(1 for key, _ in HEADINGS if str(notes.get(key, "")).strip())
    r.review_recent = r.review.meeting_on > r.today - relativedelta(months=12)


# --------------------------------------------------------------------------------------------------- the figure


def _score(r: Readiness) -> None:
    majors = next(row for row in r.nc_table if row["key"] == Severity.MAJOR)["total"]
    minor_row = next(row for row in r.nc_table if row["key"] == Severity.MINOR)
    minors_old, minors = minor_row["cells"][-1], sum(minor_row["cells"][:-1])
    nc_score = max(
        0, 100 - NC_PENALTY["major"] * majors - NC_PENALTY["minor_old"] * minors_old - NC_PENALTY["minor"] * minors
    )
    review = r.review if r.review is not None and r.review.meeting_on else None
    review_score = 0
    if review is not None and r.review_recent:
        review_score = 50 + (30 if review.status == ReviewStatus.APPROVED else 0)
        review_score += round(20 * r.review_inputs_noted / r.review_inputs_total)
    if review is None:
        review_basis = "no management review has met yet"
    else:
        review_basis = (
            f"met on {review.meeting_on:%-d %b %Y} ({'within the last' if r.review_recent else 'more than'} 12 months"
            f"{'' if r.review_recent else ' ago'}); minutes "
            f"{'approved' if review.status == ReviewStatus.APPROVED else 'not approved'}; "
            f"{r.review_inputs_noted} of {r.review_inputs_total} inputs noted"
        )
    clean = r.controls_in_scope - r.control_gap_count
    r.components = [
        Component(
            "tasks",
            "Work on time",
            WEIGHTS["tasks"],
            _share(r.tasks_on_time, r.tasks_due),
            f"{r.tasks_on_time} of {r.tasks_due} tasks due in the period so far done on time",
            "Share of the tasks due in the period so far (skipped ones left out) done by their due date.",
        ),
        Component(
            "controls",
            "Evidence of controls",
            WEIGHTS["controls"],
            _share(clean, r.controls_in_scope),
            f"{clean} of {r.controls_in_scope} controls in scope without an evidence gap",
            "Share of the controls in scope with evidence dated in the period and, where activities fell due, at "
            "least one done.",
        ),
        Component(
            "nonconformities",
            "Nonconformities",
            WEIGHTS["nonconformities"],
            nc_score,
            f"{majors} open major, {minors_old} open minor over 90 days old, {minors} other open minor",
            f"100, less {NC_PENALTY['major']} for each open major, {NC_PENALTY['minor_old']} for each open minor "
            f"raised over 90 days ago and {NC_PENALTY['minor']} for each other open minor; never below 0.",
        ),
        Component(
            "risk_reviews",
            "Risk reviews",
            WEIGHTS["risk_reviews"],
            _share(r.risks_open - r.risks_overdue_count, r.risks_open),
            f"{r.risks_open - r.risks_overdue_count} of {r.risks_open} open risks reviewed on time",
            "Share of the open risks whose next review date has not passed.",
        ),
        Component(
            "internal_audits",
            "Internal audit coverage",
            WEIGHTS["internal_audits"],
            _share(r.audit_covered, r.audit_areas),
            f"{r.audit_covered} of {r.audit_areas} areas covered by an internal audit of the cycle"
            + ("" if r.has_programme else " (no audit programme yet)"),
            "Share of clauses 4–10 and applicable Annex A controls an internal audit of the cycle covered "
            "(organisation-wide).",
        ),
        Component(
            "management_review",
            "Management review",
            WEIGHTS["management_review"],
            review_score,
            review_basis,
            "50 if a review met in the last 12 months, + 30 if its minutes are approved, + 20 × the share of the "
            "9.3.2 inputs noted in its minutes (organisation-wide).",
        ),
    ]
    counted = r.weights_counted
    total = 0.0
    for c in r.components:
        if c.counted:
            c.points = c.score * c.weight / counted
            total += c.points
    r.figure = round(total) if counted else 0
