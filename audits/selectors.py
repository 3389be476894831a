"""Read side: the coverage matrix of the audit programme, the planner's proposal, and the management review's
input pack. Each is a constant number of queries whatever the rows (tests/audits/test_constant_queries.py and
the benchmark count them).

How the planner weighs an area (a clause 4–10 requirement or an applicable Annex A control):

* weight 1: every area is audited at least once in the cycle (due again 36 months after it was last audited);
* +2 if an open risk above the acceptance threshold is linked to it (directly, or through a control mapped to
  it): due again after 12 months;
* +2 if it had findings (a minor or major nonconformity or an observation on a checklist, or a nonconformity in
  the register against it): due again after 12 months; with both, after 6 months.

An area is due when the months since it was last audited reach its interval (never audited: due at once). The
planner fills the free places of the coming slots, in date order, with the due areas, most overdue first (the
months since last audited divided by the interval), then the heavier weight, then the standard's order.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from dateutil.relativedelta import relativedelta
from django.db.models import Count, F, Q
from django.utils import timezone

from controls.models import Control, Requirement, SoAVersion
from isms.maintenance import purposes
from isms.maintenance.models import Kind, Occurrence
from isms.organisation.models import Certificate, CycleAudit

from .models import (
    OPEN_NC,
    Audit,
    AuditKind,
    AuditStatus,
    ChecklistRow,
    CorrectiveAction,
    EffectivenessCheck,
    Feedback,
    Finding,
    InterestedParty,
    ManagementReview,
    Nonconformity,
    Programme,
    Result,
    ReviewAction,
)

CLAUSES = "iso27001-2022-clauses"
INTERVALS = {1: 36, 3: 12, 5: 6}  # weight → months between audits of an area
LETTERS = {"conforming": "C", "minor": "m", "major": "M", "observation": "O", "ofi": "I", "planned": "P"}

# --------------------------------------------------------------------------------------------------- coverage


@dataclass
class Area:
    requirement: Requirement
    kind: str  # "clause" or "control"
    weight: int = 1
    high_risks: int = 0
    findings: int = 0
    cells: dict = field(default_factory=dict)  # audit id → result value or "planned"
    last_audited: datetime.date | None = None
    planned: bool = False
    letters: list = field(default_factory=list)

    @property
    def covered(self) -> bool:
        return self.last_audited is not None

    @property
    def interval_months(self) -> int:
        return INTERVALS[self.weight]


def cycle_end(certificate: Certificate) -> datetime.date:
    """The recertification audit's date (else three months before expiry): what the programme must cover by."""
    recert = certificate.audits.filter(kind=CycleAudit.Kind.RECERTIFICATION).first()
    return recert.planned_date if recert else certificate.expiry_date - relativedelta(months=3)


def approved_annex_a() -> tuple[SoAVersion | None, list[str]]:
    """The latest approved SoA and the identifiers of its applicable controls."""
    version = (
        SoAVersion.objects.filter(framework__has_soa=True)
        .order_by("-approved_at", "-number")
        .select_related("framework")
        .first()
    )
    if version is None:
        return None, []
    return version, [e["identifier"] for e in version.entries if e.get("applicable")]


def areas() -> tuple[list[Area], SoAVersion | None]:
    """The rows of the matrix: clauses 4–10, then the applicable Annex A controls of the approved SoA."""
    version, identifiers = approved_annex_a()
    query = Q(framework__code=CLAUSES, retired=False)
    if version is not None:
        query |= Q(framework_id=version.framework_id, identifier__in=identifiers)
    reqs = (
        Requirement.objects.filter(query)
        .select_related("framework")
        .only("pk", "identifier", "title", "group", "position", "framework__code")
    )
    rows = [Area(r, "clause" if r.framework.code == CLAUSES else "control") for r in reqs]
    rows.sort(key=lambda a: (a.kind != "clause", a.requirement.position, a.requirement.pk))
    return rows, version


def _weigh(rows: list[Area]) -> None:
    """High risks and past findings per area (four queries)."""
    from risks.models import Risk, Status

    ids = [a.requirement.pk for a in rows]
    high = Risk.objects.exclude(status=Status.CLOSED).filter(residual_score__gt=F("matrix__acceptance_threshold"))
    risk_counts: dict[int, set] = defaultdict(set)
    for req_id, risk_id in high.filter(requirements__in=ids).values_list("requirements", "pk"):
        risk_counts[req_id].add(risk_id)
    for req_id, risk_id in high.filter(controls__requirements__in=ids).values_list("controls__requirements", "pk"):
        risk_counts[req_id].add(risk_id)
    findings: dict[int, int] = defaultdict(int)
    for req_id, n in (
        ChecklistRow.objects.filter(requirement__in=ids, result__in=[Result.MINOR, Result.MAJOR, Result.OBSERVATION])
        .values_list("requirement")
        .annotate(n=Count("pk"))
    ):
        findings[req_id] += n
    for req_id, n in (
        Nonconformity.requirements.through.objects.filter(requirement__in=ids)
        .exclude(nonconformity__row__isnull=False)  # already counted on its checklist row
        .values_list("requirement")
        .annotate(n=Count("pk"))
    ):
        findings[req_id] += n
    for a in rows:
        a.high_risks = len(risk_counts.get(a.requirement.pk, ()))
        a.findings = findings.get(a.requirement.pk, 0)
        a.weight = 1 + (2 if a.high_risks else 0) + (2 if a.findings else 0)


@dataclass
class Coverage:
    programme: Programme | None
    certificate: Certificate | None
    rows: list[Area]
    audits: list[Audit]
    soa: SoAVersion | None
    uncovered: list[Area]
    unplanned: list[Area]
    free_places: int
    remaining_slots: int
    ends_on: datetime.date | None
    warning: str = ""


def coverage(programme: Programme | None, today: datetime.date | None = None) -> Coverage:
    """The coverage matrix over the cycle: for each area, each internal audit's result (or "planned"), whether it
    is covered yet, and a warning when the slots left before the recertification audit cannot cover the rest."""
    today = today or timezone.localdate()
    rows, version = areas()
    if programme is None:
        return Coverage(None, None, rows, [], version, rows, rows, 0, 0, None)
    certificate = programme.certificate
    ends_on = cycle_end(certificate)
    audits = list(
        programme.audits.filter(kind=AuditKind.INTERNAL).select_related("lead_auditor").order_by("planned_on", "number")
    )
    by_id = {a.requirement.pk: a for a in rows}
    audit_ids = [a.pk for a in audits]
    audit_of = {a.pk: a for a in audits}
    scope_count: dict[int, int] = defaultdict(int)
    for audit_id, req_id in Audit.scope.through.objects.filter(audit_id__in=audit_ids).values_list(
        "audit_id", "requirement_id"
    ):
        scope_count[audit_id] += 1
        area = by_id.get(req_id)
        if area is not None:
            area.cells[audit_id] = "planned"
            if not audit_of[audit_id].is_frozen:
                area.planned = True
    for audit_id, req_id, result in ChecklistRow.objects.filter(audit_id__in=audit_ids).values_list(
        "audit_id", "requirement_id", "result"
    ):
        area = by_id.get(req_id)
        audit = audit_of[audit_id]
        if area is None:
            continue
        if result != Result.NOT_SAMPLED:
            area.cells[audit_id] = result
            if audit.status != AuditStatus.PLANNED and (
                area.last_audited is None or audit.planned_on > area.last_audited
            ):
                area.last_audited = audit.planned_on
    _weigh(rows)
    for area in rows:
        area.letters = [LETTERS.get(area.cells.get(a.pk, ""), "") for a in audits]
    uncovered = [a for a in rows if not a.covered]
    unplanned = [a for a in uncovered if not a.planned]
    ahead = [a for a in audits if not a.is_frozen and today <= a.planned_on <= ends_on]
    free = sum(max(0, programme.items_per_audit - scope_count[a.pk]) for a in ahead)
    warning = ""
    if len(unplanned) > free:
        warning = (
            f"{len(unplanned)} areas are neither audited nor planned, and the {len(ahead)} audit slots left before "
            f"the recertification audit on {ends_on:%d %b %Y} have room for {free} more "
            f"({programme.items_per_audit} a slot). Add slots or widen the audits, or the cycle ends with areas "
            "never audited."
        )
    return Coverage(
        programme, certificate, rows, audits, version, uncovered, unplanned, free, len(ahead), ends_on, warning
    )


def plan_proposal(cov: Coverage, today: datetime.date | None = None) -> dict[int, list[Area]]:
    """{audit id: areas to add to its scope}: the due areas, most overdue first, into the coming slots' free
    places in date order (see the module docstring for the weights)."""
    today = today or timezone.localdate()
    if cov.programme is None:
        return {}

    def overdue(area: Area) -> float:
        if area.last_audited is None:
            return float("inf")
        months = (today.year - area.last_audited.year) * 12 + today.month - area.last_audited.month
        return months / area.interval_months

    due = [a for a in cov.rows if not a.planned and overdue(a) >= 1]
    due.sort(key=lambda a: (-overdue(a), -a.weight, a.kind != "clause", a.requirement.position))
    scope_count: dict[int, int] = defaultdict(int)
    for area in cov.rows:
        for audit_id in area.cells:
            scope_count[audit_id] += 1
    proposal: dict[int, list[Area]] = {}
    slots = [a for a in cov.audits if not a.is_frozen and a.status == AuditStatus.PLANNED and a.planned_on >= today]
    queue = list(due)
    for audit in slots:
        room = cov.programme.items_per_audit - scope_count[audit.pk]
        if room <= 0 or not queue:
            continue
        proposal[audit.pk], queue = queue[:room], queue[room:]
    return proposal


# --------------------------------------------------------------------------------------------------- review pack

HEADINGS = [
    ("a", "a) Status of actions from previous management reviews"),
    ("b", "b) Changes in external and internal issues relevant to the ISMS"),
    ("c", "c) Changes in the needs and expectations of interested parties"),
    ("d1", "d) 1. Nonconformities and corrective actions"),
    ("d2", "d) 2. Monitoring and measurement results"),
    ("d3", "d) 3. Audit results"),
    ("d4", "d) 4. Fulfilment of information security objectives"),
    ("e", "e) Feedback from interested parties"),
    ("f", "f) Results of risk assessment and status of the risk treatment plan"),
    ("g", "g) Opportunities for continual improvement"),
]


def _period_of_previous(review: ManagementReview, start: datetime.date, end: datetime.date):
    from .services import previous_review

    previous = previous_review(review)
    if previous is not None and previous.period_start and previous.period_end:
        return previous, previous.period_start, previous.period_end
    length = end - start
    return None, start - length - datetime.timedelta(days=1), start - datetime.timedelta(days=1)


def _figures(review: ManagementReview, start: datetime.date, end: datetime.date, today: datetime.date) -> dict:
    """Every heading's figures and lists for one period (about twenty queries, whatever the data)."""
    from events.models import Change, Objective, ProgressEntry
    from risks.models import Acceptance, Decision, Risk, Status, TreatmentAction

    f: dict[str, dict] = {}
    # a) actions of earlier reviews, as they stand at the end of the period
    earlier = ReviewAction.objects.filter(review__planned_on__lt=review.planned_on).exclude(review=review)
    done_q = Q(done_on__isnull=False, done_on__lte=end)
    counts = earlier.aggregate(
        total=Count("pk"),
        done=Count("pk", filter=done_q),
        overdue=Count("pk", filter=~done_q & Q(due_on__lt=end)),
    )
    open_actions = list(
        earlier.exclude(done_q)
        .select_related("owner", "review")
        .order_by("due_on")[:50]
        .values_list("review__reference", "title", "owner__first_name", "owner__last_name", "owner__username", "due_on")
    )
    f["a"] = {
        "figures": [
            ("Actions from earlier reviews", counts["total"]),
            ("Done", counts["done"]),
            ("Still open", counts["total"] - counts["done"]),
            ("Overdue", counts["overdue"]),
        ],
        "items": [
            f"{ref}: {title} — {(' '.join(p for p in (fn, ln) if p) or un)}, due {due:%d %b %Y}"
            + (" (overdue)" if due < end else "")
            for ref, title, fn, ln, un, due in open_actions
        ],
    }
    # b) changes
    changes = Change.objects.filter(created_at__date__gte=start, created_at__date__lte=end)
    c = changes.aggregate(total=Count("pk"), scope=Count("pk", filter=Q(changes_scope=True)))
    f["b"] = {
        "figures": [("Change records", c["total"]), ("Changing the ISMS scope", c["scope"])],
        "items": [
            f"{ref} {title}" + (" (scope)" if scope else "")
            for ref, title, scope in changes.order_by("created_at").values_list("reference", "title", "changes_scope")[
                :50
            ]
        ],
    }
    # c) interested parties
    parties = InterestedParty.objects.all()
    p = parties.aggregate(
        active=Count("pk", filter=Q(active=True, created_at__date__lte=end)),
        added=Count("pk", filter=Q(created_at__date__gte=start, created_at__date__lte=end)),
        changed=Count(
            "pk", filter=Q(changed_at__date__gte=start, changed_at__date__lte=end, created_at__date__lt=start)
        ),
    )
    f["c"] = {
        "figures": [("Interested parties", p["active"]), ("Added", p["added"]), ("Needs changed", p["changed"])],
        "items": [
            f"{name}: {note or 'added'}"
            for name, note in parties.filter(changed_at__date__gte=start, changed_at__date__lte=end)
            .order_by("name")
            .values_list("name", "change_note")[:50]
        ],
    }
    # d1) nonconformities and corrective actions
    ncs = Nonconformity.objects.all()
    n = ncs.aggregate(
        raised=Count("pk", filter=Q(raised_on__gte=start, raised_on__lte=end)),
        closed=Count("pk", filter=Q(closed_on__gte=start, closed_on__lte=end)),
        open=Count(
            "pk",
            filter=Q(raised_on__lte=end) & (Q(closed_on__isnull=True) | Q(closed_on__gt=end)) & ~Q(state="dismissed"),
        ),
        major=Count("pk", filter=Q(raised_on__gte=start, raised_on__lte=end, severity="major")),
    )
    n["reopened"] = EffectivenessCheck.objects.filter(
        outcome="failed", checked_on__gte=start, checked_on__lte=end
    ).count()
    ca = CorrectiveAction.objects.aggregate(
        done=Count("pk", filter=Q(done_on__gte=start, done_on__lte=end)),
        overdue=Count("pk", filter=Q(due_on__lt=end) & (Q(done_on__isnull=True) | Q(done_on__gt=end))),
    )
    by_source = dict(
        ncs.filter(raised_on__gte=start, raised_on__lte=end).values_list("source").annotate(n=Count("pk")).order_by()
    )
    from .models import Source

    f["d1"] = {
        "figures": [
            ("Nonconformities raised", n["raised"]),
            ("of which major", n["major"]),
            ("Closed", n["closed"]),
            ("Open at the end of the period", n["open"]),
            ("Reopened by a failed effectiveness check", n["reopened"]),
            ("Corrective actions done", ca["done"]),
            ("Corrective actions overdue", ca["overdue"]),
        ],
        "items": [f"Raised from {Source(s).label.lower()}: {k}" for s, k in sorted(by_source.items())],
    }
    # d2) monitoring: recurring control activities due in the period, by department
    due = Occurrence.objects.filter(
        due_date__gte=start, due_date__lte=min(end, today), schedule__kind=Kind.CONTROL_ACTIVITY
    )
    on_time = Q(state=Occurrence.State.DONE, completed_on__lte=F("due_date"))
    rows = list(
        due.values("department__name")
        .annotate(
            total=Count("pk"),
            on_time=Count("pk", filter=on_time),
            missed=Count("pk", filter=Q(state=Occurrence.State.MISSED)),
        )
        .order_by("department__name")
    )
    total = sum(r["total"] for r in rows)
    timely = sum(r["on_time"] for r in rows)
    missed = sum(r["missed"] for r in rows)
    gaps = purposes.done_without_attachments(due.filter(state=Occurrence.State.DONE)).count()
    f["d2"] = {
        "figures": [
            ("Control activities due", total),
            ("Done on time", f"{round(100 * timely / total)}%" if total else "—"),
            ("Missed", missed),
            ("Done without the evidence asked for", gaps),
        ],
        "items": [
            f"{r['department__name'] or 'No department'}: {round(100 * r['on_time'] / r['total'])}% on time "
            f"({r['on_time']} of {r['total']})"
            for r in rows
            if r["total"]
        ],
    }
    # d3) audits
    internal = Audit.objects.filter(
        kind=AuditKind.INTERNAL, signed_off_at__date__gte=start, signed_off_at__date__lte=end
    )
    results = dict(
        ChecklistRow.objects.filter(audit__in=internal).values_list("result").annotate(n=Count("pk")).order_by()
    )
    external = Audit.objects.exclude(kind=AuditKind.INTERNAL).filter(planned_on__gte=start, planned_on__lte=end)
    ext_findings = dict(
        Finding.objects.filter(audit__in=external).values_list("grade").annotate(n=Count("pk")).order_by()
    )
    f["d3"] = {
        "figures": [
            ("Internal audits reported", internal.count()),
            ("Conforming checks", results.get(Result.CONFORMING, 0)),
            ("Major nonconformities", results.get(Result.MAJOR, 0)),
            ("Minor nonconformities", results.get(Result.MINOR, 0)),
            ("Observations", results.get(Result.OBSERVATION, 0)),
            ("External audits", external.count()),
            ("External findings", sum(ext_findings.values())),
        ],
        "items": [
            f"{ref} {title} ({kind_label(kind)}, {day:%d %b %Y})"
            for ref, title, kind, day in (internal | external)
            .order_by("planned_on")
            .values_list("reference", "title", "kind", "planned_on")[:50]
        ],
    }
    # d4) objectives, as they stood at the end of the period
    objectives = list(Objective.objects.filter(start_on__lte=end).order_by("due_on", "pk")[:100])
    entries: dict[int, list] = defaultdict(list)
    for entry in ProgressEntry.objects.filter(objective__in=objectives, recorded_on__lte=end).order_by(
        "recorded_on", "at"
    ):
        entries[entry.objective_id].append(entry)
    from events.models import ObjectiveStatus

    statuses = defaultdict(int)
    items = []
    for o in objectives:
        s = o.status(entries[o.pk], today=min(end, today))
        statuses[s] += 1
        items.append(f"{o.title}: {ObjectiveStatus(s).label.lower()}")
    f["d4"] = {
        "figures": [(ObjectiveStatus(k).label, statuses.get(k, 0)) for k in ObjectiveStatus.values],
        "items": items,
    }
    # e) feedback
    feedback = Feedback.objects.filter(received_on__gte=start, received_on__lte=end)
    f["e"] = {
        "figures": [("Feedback received", feedback.count())],
        "items": [
            f"{day:%d %b %Y} {party or 'Unattributed'}: {summary}"
            for day, party, summary in feedback.order_by("received_on").values_list(
                "received_on", "party__name", "summary"
            )[:50]
        ],
    }
    # f) risks
    risks = Risk.objects.exclude(status=Status.CLOSED).filter(created_at__date__lte=end)
    r = risks.aggregate(
        total=Count("pk"),
        high=Count("pk", filter=Q(residual_score__gt=F("matrix__acceptance_threshold"))),
        reviewed=Count("pk", filter=Q(last_reviewed_on__gte=start, last_reviewed_on__lte=end)),
    )
    t = TreatmentAction.objects.aggregate(
        open=Count("pk", filter=Q(done_on__isnull=True) | Q(done_on__gt=end)),
        overdue=Count("pk", filter=Q(due_date__lt=end) & (Q(done_on__isnull=True) | Q(done_on__gt=end))),
    )
    acc = Acceptance.objects.aggregate(
        lapsed=Count("pk", filter=Q(state=Decision.LAPSED, ended_at__date__gte=start, ended_at__date__lte=end)),
        expiring=Count(
            "pk",
            filter=Q(state=Decision.APPROVED, expires_on__gte=end, expires_on__lte=end + datetime.timedelta(days=90)),
        ),
    )
    f["f"] = {
        "figures": [
            ("Open risks", r["total"]),
            ("Above the acceptance threshold", r["high"]),
            ("Reviewed in the period", r["reviewed"]),
            ("Treatment actions open", t["open"]),
            ("Treatment actions overdue", t["overdue"]),
            ("Acceptances lapsed", acc["lapsed"]),
            ("Acceptances expiring within 90 days", acc["expiring"]),
        ],
        "items": [],
    }
    # g) opportunities for improvement
    ofis = list(
        ChecklistRow.objects.filter(audit__in=internal, result=Result.OFI).values_list(
            "audit__reference", "requirement__identifier", "notes"
        )[:50]
    ) + list(
        Finding.objects.filter(audit__in=external, grade=Result.OFI).values_list(
            "audit__reference", "requirement__identifier", "description"
        )[:50]
    )
    f["g"] = {
        "figures": [("Opportunities for improvement found", len(ofis))],
        "items": [f"{ref} {ident or ''}: {text}" for ref, ident, text in ofis],
    }
    return f


def kind_label(kind: str) -> str:
    return AuditKind(kind).label


def _json(value):
    return value if isinstance(value, int | str) or value is None else str(value)


def review_pack(review: ManagementReview, *, today: datetime.date | None = None, live: bool = False) -> dict:
    """The input pack under the headings of 9.3.2 a)–g): each heading's figures for the review's period beside
    those of the previous review's period, and what lies behind them. An approved review shows the pack as it
    was at approval (`live` recompiles it, as approval does)."""
    if review.frozen_pack and not live:
        return review.frozen_pack
    today = today or timezone.localdate()
    end = review.period_end or today
    start = review.period_start or (end - relativedelta(months=6))
    previous, prev_start, prev_end = _period_of_previous(review, start, end)
    now = _figures(review, start, end, today)
    before = _figures(previous or review, prev_start, prev_end, today)
    headings = []
    for key, title in HEADINGS:
        figures = []
        for (label, value), (_, old) in zip(now[key]["figures"], before[key]["figures"], strict=True):
            change = ""
            if isinstance(value, int) and isinstance(old, int):
                change = f"{value - old:+d}" if value != old else "no change"
            elif value != old:
                change = f"was {old}"
            else:
                change = "no change"
            figures.append({"label": label, "now": _json(value), "before": _json(old), "change": change})
        headings.append({"key": key, "title": title, "figures": figures, "items": now[key]["items"]})
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "previous": previous.reference if previous else "",
        "previous_start": prev_start.isoformat(),
        "previous_end": prev_end.isoformat(),
        "headings": headings,
        "period": f"{start:%d %b %Y} to {end:%d %b %Y}",
        "previous_period": f"{prev_start:%d %b %Y} to {prev_end:%d %b %Y}",
    }


def open_nc_count() -> int:
    return Nonconformity.objects.filter(OPEN_NC).count()


def register(user):
    """The nonconformity register as the user may see it, with what a row shows (one query)."""
    from isms.foundation import reach

    return (
        reach.visible(user, Nonconformity)
        .select_related("owner", "department")
        .annotate(
            open_actions=Count("actions", filter=Q(actions__done_on__isnull=True), distinct=True),
        )
        .order_by("-number")
    )


def evidence_choices(requirement: Requirement, user):
    """Evidence an auditor can sample for a row: filed against the requirement or one of its controls."""
    from evidence.models import EvidenceItem
    from isms.foundation import reach

    controls = Control.objects.filter(requirements=requirement).values("pk")
    return (
        reach.visible(user, EvidenceItem)
        .filter(deleted_at__isnull=True)
        .filter(
            Q(requirement=requirement)
            | Q(control__in=controls)
            | Q(occurrence__schedule__subject_id__in=controls, occurrence__schedule__subject_type__model="control")
        )
        .order_by("-submitted_at")[:30]
    )
