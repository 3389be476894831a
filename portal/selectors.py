"""What the auditor's read-only pages show, read only through the reach rule for the page's viewer (the auditor,
or the compliance team's preview of them), so both see the same rows. Each builder is a constant number of
queries whatever the rows (tests/portal/test_browse.py counts them)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from html import escape

from django.core.cache import cache
from django.db.models import Prefetch, Q
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.safestring import SafeString, mark_safe

from controls.models import Control, Framework, Requirement, SoAVersion
from evidence import coverage
from evidence.models import EvidenceItem
from isms.foundation import reach
from isms.foundation.queries import among
from isms.foundation.templatetags.links import safe_href

from .scope import Scope


def period_of(scope: Scope) -> coverage.Period:
    """The engagement's period under audit as the coverage strips' period."""
    return coverage.Period(scope.period_start, scope.period_end, "the period under audit")


def address(name: str, scope: Scope):
    """`pk -> the address of portal page `name` of the engagement for that pk`, reversed once for a whole list
    rather than once a row (a reverse costs more than the rest of a row)."""
    marker = 987654321
    head, tail = reverse(name, kwargs={"engagement": scope.engagement_id, "pk": marker}).split(str(marker))
    return lambda pk: f"{head}{pk}{tail}"


class EvidenceList(list):
    """Evidence items as a table (`table`): what, who, when, its date (marked when outside the period under audit),
    hash and size; files download as attachments. The rows are written in one pass, every value escaped with
    html.escape (what Django's escape does), rather than a template loop that resolves, localises and escapes each
    cell (the control page lists a hundred items in a dozen tables)."""

    caption = "Evidence"

    @property
    def table(self) -> SafeString:
        return mark_safe(  # noqa: S308 (the caption is escaped, the rows too)
            '<div class="table-responsive">\n<table class="table table-sm align-middle mb-2">\n'
            f'  <caption class="visually-hidden">{escape(self.caption)}</caption>\n'
            '  <thead><tr><th scope="col">Evidence</th><th scope="col">Type</th><th scope="col">Submitted by</th>'
            '<th scope="col">Submitted</th><th scope="col">Effective date</th><th scope="col">SHA-256</th>'
            '<th scope="col" class="text-end">Size</th></tr></thead>\n'
            f"  <tbody>\n{self.rows}\n  </tbody>\n</table>\n</div>"
        )

    @property
    def rows(self) -> SafeString:
        day = day_format()
        kinds = {value: escape(str(label)) for value, label in EvidenceItem.Type.choices}
        names: dict[int, str] = {}  # a person's name, escaped once per table
        out = []
        for item in self:
            title = escape(item.title)
            if item.type == "file":
                what = (
                    f'{title} <a class="ms-1" href="{escape(item.download_url)}">Download'
                    f'<span class="visually-hidden"> {title}</span></a>'
                )
            elif item.type == "link":
                href = safe_href(item.url)
                link = f'<a href="{escape(href)}" rel="noopener noreferrer">{title}</a>' if href else title
                what = f'{link} <span class="small text-body-secondary text-break">{escape(item.url)}</span>'
            else:  # as |linebreaksbr: escaped, each line break a <br>
                note = escape(item.note.replace("\r\n", "\n").replace("\r", "\n")).replace("\n", "<br>")
                what = f'{title}<div class="small">{note}</div>'
            if item.version > 1:
                reason = f": {escape(item.correction_reason)}" if item.correction_reason else ""
                what += f'\n      <div class="small text-body-secondary">Version {item.version}{reason}</div>'
            who = item.submitted_by_id
            if who is not None and who not in names:
                person = item.submitted_by
                names[who] = escape(person.get_full_name() or str(person))
            at = timezone.localtime(item.submitted_at)
            outside = (
                ' <span class="badge text-bg-warning" data-testid="outside-period">outside the period</span>'
                if item.outside_period
                else ""
            )
            digest = item.sha256
            code = f'<code class="small text-break" title="{escape(digest)}">{escape(digest)}</code>' if digest else "—"
            size = escape(filesizeformat(item.size)) if item.size is not None else "—"
            out.append(
                f'  <tr data-testid="evidence-row">\n    <td>{what}</td>\n'
                f"    <td>{kinds.get(item.type, '')}</td>\n"
                f"    <td>{names[who] if who is not None else '—'}</td>\n"
                f"    <td>{day(at)} {at:%H:%M}</td>\n"
                f"    <td>{day(item.effective_date)}{outside}</td>\n"
                f"    <td>{code}</td>\n"
                f'    <td class="text-end">{size}</td>\n  </tr>'
            )
        return mark_safe("\n".join(out))  # noqa: S308 (every value escaped)


def mark_outside(items, scope: Scope, caption: str = "Evidence", download=None) -> EvidenceList:
    """Flag each item whose effective date falls outside the period under audit (shown with a badge, not hidden),
    and give each its download address. `caption`: the table's caption, for screen readers; `download`: the
    addresses (`address("portal:evidence_download", scope)`), when a page has many tables."""
    download = download or address("portal:evidence_download", scope)
    items = EvidenceList(items)
    items.caption = caption
    for item in items:
        item.outside_period = not (scope.period_start <= item.effective_date <= scope.period_end)
        item.download_url = download(item.pk)
    return items


def evidence_of(viewer, visible=None, **filters):
    """Live evidence within the viewer's reach, newest first, with who submitted it. `visible`: the viewer's reach
    of evidence already asked for on this page (`reach.visible(viewer, EvidenceItem)`), so the grant's own
    queries run once for the page's lists."""
    return (
        (reach.visible(viewer, EvidenceItem) if visible is None else visible)
        .live()
        .filter(**filters)
        .select_related("submitted_by")
        .only(*LISTED)
        .order_by("-effective_date", "-pk")
    )


# What the portal's evidence tables show of an item and of who submitted it (the rest is left in the database).
LISTED = (
    "type",
    "title",
    "url",
    "note",
    "version",
    "correction_reason",
    "submitted_at",
    "effective_date",
    "sha256",
    "size",
    "occurrence",
    "control",
    "period_start",
    "period_end",
    "submitted_by__first_name",
    "submitted_by__last_name",
    "submitted_by__username",
)


# --- the Statement of Applicability in force ------------------------------------------------------------------


@dataclass
class SoAInForce:
    version: SoAVersion  # without its entries: `lines` has them by requirement identifier
    after_period: bool  # no version was approved by the period's end: the first approved after it
    lines: dict[str, dict] = field(default_factory=dict)


SOA_LINES_KEPT_SECONDS = 7 * 24 * 3600


def soa_in_force(viewer, frameworks: list[Framework], period_end: datetime.date) -> dict[int, SoAInForce]:
    """Per framework with an SoA: the latest version approved on or before the period's end, else the first one
    approved after it. One query; a version's lines are kept in the cache by its id, since an approved version is
    never edited (decoding its hundred frozen lines on every page was a tenth of the overview)."""
    versions = (
        reach.visible(viewer, SoAVersion)
        .filter(framework__in=[f.pk for f in frameworks if f.has_soa])
        .defer("entries")
        .select_related("approved_by")
        .order_by("framework_id", "approved_at")
    )
    chosen: dict[int, tuple[SoAVersion, bool]] = {}
    for version in versions:
        approved_on = version.approved_at.date() if version.approved_at else None
        if approved_on is not None and approved_on <= period_end:
            chosen[version.framework_id] = (version, False)  # later ones replace earlier ones
        elif version.framework_id not in chosen:
            chosen[version.framework_id] = (version, True)  # the first after the period, if none before
    lines = _soa_lines([version.pk for version, _ in chosen.values()])
    return {fid: SoAInForce(version, after, lines[version.pk]) for fid, (version, after) in chosen.items()}


def _soa_lines(versions: list[int]) -> dict[int, dict[str, dict]]:
    """Each version's frozen lines by requirement identifier, from the cache or else the database."""
    keys = {pk: f"soa-lines:1:{pk}" for pk in versions}  # 1: the format kept (a change of it takes a new number)
    kept = cache.get_many(list(keys.values())) if keys else {}
    lines = {pk: kept[key] for pk, key in keys.items() if key in kept}
    missing = [pk for pk in versions if pk not in lines]
    if missing:
        for pk, entries in SoAVersion.objects.filter(pk__in=missing).values_list("pk", "entries"):
            lines[pk] = {line["identifier"]: line for line in entries}
        cache.set_many({keys[pk]: lines[pk] for pk in missing}, SOA_LINES_KEPT_SECONDS)
    return lines


# --- coverage across the requirements ---------------------------------------------------------------------------


@dataclass(slots=True)
class RequirementRef:
    """A requirement in scope as the overview shows it."""

    pk: int
    framework_id: int
    identifier: str
    title: str
    href: str


@dataclass(slots=True)
class ControlRef:
    """A control in scope as the overview links it (requirement_coverage reads its pk and reference)."""

    pk: int
    reference: str
    href: str


@dataclass
class RequirementLine:
    """A requirement in scope on the overview: its SoA line (when the framework has one), its controls in scope
    and their coverage over the period as one compact strip."""

    requirement: RequirementRef
    soa: dict | None = None
    controls: list[ControlRef] = field(default_factory=list)
    summary: coverage.Summary = field(default_factory=coverage.Summary)
    paths: list[tuple[str, str]] = field(default_factory=list)


def requirement_lines(
    viewer,
    requirements: list[RequirementRef],
    controls: list[ControlRef],
    period: coverage.Period,
    today: datetime.date,
) -> tuple[dict[int, RequirementLine], coverage.RequirementCoverage | None]:
    """Each requirement with its controls in scope and their coverage merged: every control's compact strip and
    counts come from one `coverage.requirement_coverage` over all the controls in scope (a constant number of
    queries), then a requirement's strip shows, per column, the worst of its controls'."""
    lines = {r.pk: RequirementLine(requirement=r) for r in requirements}
    if not requirements:
        return lines, None
    by_pk = {c.pk: c for c in controls}
    mapping = Control.requirements.through.objects.filter(
        among("requirement_id", lines) & among("control_id", by_pk)
    ).values_list("requirement_id", "control_id")
    of_requirement = defaultdict(list)
    for requirement_id, control_id in mapping:
        of_requirement[requirement_id].append(by_pk[control_id])
    cov = coverage.requirement_coverage(
        requirement=None, controls=controls, period=period, user=viewer, today=today, summary_only=True
    )
    by_control = {line.control.pk: line for line in cov.by_control}
    for pk, line in lines.items():
        line.controls = sorted(of_requirement.get(pk, []), key=lambda c: c.reference)
        merged = [0] * len(coverage.SEVERITY)
        for control in line.controls:
            control_line = by_control.get(control.pk)
            if control_line is None:
                continue
            line.summary.merge(control_line.summary)
            for rank, bits in enumerate(control_line.masks):
                merged[rank] |= bits
        line.paths = coverage._paths(merged)
    return lines, cov


# --- the pages ---------------------------------------------------------------------------------------------------


@dataclass
class FrameworkSection:
    framework: Framework
    soa: SoAInForce | None
    lines: list[RequirementLine]

    @property
    def rows(self) -> SafeString:
        """The requirements' table rows in one pass (as EvidenceList.rows: every value escaped with html.escape);
        the HTML is the one portal/browse_engagement.html wrote with a loop."""
        out = []
        for line in self.lines:
            r = line.requirement
            cells = [f'<td><a href="{r.href}">{escape(r.identifier)}</a> {escape(r.title)}</td>']
            if self.soa:
                if line.soa:
                    soa = line.soa
                    cells.append(
                        f"<td>{'Yes' if soa.get('applicable') else 'No'}</td>"
                        f'<td class="small">{escape(soa.get("justification") or "—")}</td>'
                        f"<td>{escape(str(soa.get('status_label', '')))}</td>"
                    )
                else:
                    cells.append('<td colspan="3" class="small text-body-secondary">Not in this version</td>')
            if line.controls:
                summary = line.summary
                gaps = f", {summary.gaps} gap{'s' if summary.gaps != 1 else ''}" if summary.gaps else ""
                cells.append(f'<td class="small">{line.links}</td>')
                cells.append(
                    f'<td>{line.svg}<div class="small text-body-secondary">{summary.done} of {summary.expected} done'
                    f"{gaps}</div></td>"
                )
            else:
                cells.append('<td class="small"><span class="text-body-secondary">None in scope</span></td><td></td>')
            out.append('<tr data-testid="requirement-row">\n  ' + "\n  ".join(cells) + "\n</tr>")
        return mark_safe("\n".join(out))  # noqa: S308 (every value escaped; links and strips written escaped)


def overview(viewer, scope: Scope, today: datetime.date) -> dict:
    """The engagement's overview: each framework in scope with its requirements (and SoA lines), their controls
    and coverage in the period."""
    frameworks = list(reach.visible(viewer, Framework).order_by("name"))
    # The requirements and controls as the page shows them, not model objects (which cost more to build than the
    # queries for ~100 requirements and ~500 controls).
    of_control, of_requirement = address("portal:control", scope), address("portal:requirement", scope)
    requirements = [
        RequirementRef(pk, framework_id, identifier, title, of_requirement(pk))
        for pk, framework_id, identifier, title in reach.visible(viewer, Requirement)
        .order_by("framework_id", "position", "pk")
        .values_list("pk", "framework_id", "identifier", "title")
    ]
    controls = [
        ControlRef(pk, reference, of_control(pk))
        for pk, reference in reach.visible(viewer, Control).order_by("reference").values_list("pk", "reference")
    ]
    period = period_of(scope)
    lines, cov = requirement_lines(viewer, requirements, controls, period, today)
    soas = soa_in_force(viewer, frameworks, scope.period_end)
    sections = []
    for framework in frameworks:
        soa = soas.get(framework.pk)
        soa_lines = soa.lines if soa else {}
        own = [lines[r.pk] for r in requirements if r.framework_id == framework.pk]
        for line in own:
            line.soa = soa_lines.get(line.requirement.identifier)
        sections.append(FrameworkSection(framework=framework, soa=soa, lines=own))
    for line in lines.values():  # written once here: ~500 control links and ~100 strips cost the template most
        line.links = mark_safe(  # noqa: S308 (every value escaped)
            ", ".join(f'<a href="{c.href}">{escape(c.reference)}</a>' for c in line.controls)
        )
        line.svg = mark_safe(  # noqa: S308 (kinds and paths are coverage's own words and numbers)
            '<svg class="cov-svg" viewBox="0 0 100 1" preserveAspectRatio="none" aria-hidden="true" '
            'focusable="false">' + "".join(f'<path class="cov-fill-{k}" d="{d}"/>' for k, d in line.paths) + "</svg>"
        )
    return {
        "sections": sections,
        "period": period,
        "coverage": cov,
        "control_count": len(controls),
        "requirement_count": len(requirements),
    }


def control_rows(lines: list[coverage.ControlLine]) -> SafeString:
    """A requirement's controls with their coverage, as table rows written in one pass (as EvidenceList.rows);
    the HTML is the one portal/browse_requirement.html wrote with a loop."""
    out = []
    for line in lines:
        c, n = line.control, line.summary
        svg = "".join(f'<path class="cov-fill-{kind}" d="{d}"/>' for kind, d in line.paths)
        out.append(
            f'  <tr data-testid="control-row">\n'
            f'    <td><a href="{c.href}">{escape(c.reference)}</a> {escape(c.name)}\n'
            f'      <div class="small text-body-secondary">{escape(line.activity_text)}</div></td>\n'
            f'    <td><svg class="cov-svg" viewBox="0 0 100 1" preserveAspectRatio="none" aria-hidden="true" '
            f'focusable="false">{svg}</svg></td>\n'
            f'    <td class="text-end">{n.on_time}</td><td class="text-end">{n.late}</td>\n'
            f'    <td class="text-end">{line.missed_or_overdue}</td><td class="text-end">{n.no_evidence}</td>\n'
            f'    <td class="text-end">{n.ahead}</td><td class="text-end">{n.evidence}</td>\n  </tr>'
        )
    return mark_safe("\n".join(out))  # noqa: S308 (every value escaped; kinds and paths are coverage's own)


def requirement_page(viewer, scope: Scope, requirement: Requirement, today: datetime.date) -> dict:
    """A requirement: its SoA line in force, its controls in scope with their coverage, the evidence filed on it."""
    period = period_of(scope)
    controls = list(
        reach.visible(viewer, Control)
        .filter(requirements=requirement)
        .only("pk", "reference", "name")
        .order_by("reference")
    )
    of_control = address("portal:control", scope)
    for control in controls:
        control.href = of_control(control.pk)
    soa = soa_in_force(viewer, [requirement.framework], scope.period_end).get(requirement.framework_id)
    cov = None
    if controls:
        # The per-control lines alone: the page lists no gaps and shows the evidence filed on the requirement
        # itself below, so the gap list and the direct evidence count (seven queries) would be thrown away.
        cov = coverage.requirement_coverage(
            requirement=requirement, controls=controls, period=period, user=viewer, today=today, summary_only=True
        )
    return {
        "requirement": requirement,
        "soa": soa,
        "soa_line": soa.lines.get(requirement.identifier) if soa else None,
        "controls": controls,
        "lines": cov.by_control if cov else [],
        "control_rows": control_rows(cov.by_control) if cov else "",
        "coverage": cov,
        "period": period,
        "evidence": mark_outside(
            evidence_of(viewer, requirement=requirement), scope, "Evidence filed on the requirement itself"
        ),
    }


_STATUS_WORDS = {
    "done_on_time": "done on time",
    "done_late": "done late",
    "missed": "missed",
    "overdue": "overdue",
    "skipped": "skipped",
}


def task_cards(marks: list[coverage.Mark]) -> SafeString:
    """An activity's tasks in the period, each with its status, who did it, why it was skipped or done without
    evidence, and its evidence table: written in one pass (as EvidenceList.rows), the HTML the template wrote."""
    day = day_format()
    out = []
    for m in marks:
        occ = m.occurrence
        head = f"<strong>{escape(occ.title)}</strong>, due {day(occ.due_date)}:\n      "
        head += f'<span data-testid="task-status">{_STATUS_WORDS.get(m.status, "open")}</span>'
        if occ.completed_on:
            head += f" on {day(occ.completed_on)}" + (f" ({escape(m.timing)})" if m.days_late else "")
        if occ.owner:
            head += f" · {escape(occ.owner.get_full_name() or str(occ.owner))}"
        if m.status == "skipped":
            head += f'\n      <br><span class="small">Reason: {escape(occ.skip_reason or "none recorded")}</span>'
        if m.without_evidence:
            reason = escape(m.without_evidence_reason or "no reason recorded")
            head += f'\n      <br><span class="small text-danger">Done without evidence: {reason}</span>'
        if occ.completion_note:
            head += f'\n      <br><span class="small">Note: {escape(occ.completion_note)}</span>'
        out.append(
            f'  <div class="border rounded p-2 mb-2{" border-danger" if m.is_gap else ""}" data-testid="task">\n'
            f'    <p class="mb-1">{head}</p>\n'
            f"    {m.items.table if m.items else ''}\n  </div>"
        )
    return mark_safe("\n".join(out))  # noqa: S308 (every value escaped)


def day_format():
    """`day(date)` as the template's |date:"j M Y" writes it."""
    months = {m: str(MONTHS_3[m]).title() for m in MONTHS_3}
    return lambda d: f"{d.day} {months[d.month]} {d.year}"


def control_page(viewer, scope: Scope, control: Control, today: datetime.date) -> dict:
    """A control: its activities and their tasks due in the period with each task's evidence, the evidence filed
    on the control itself, and its coverage strip for the period."""
    period = period_of(scope)
    visible = reach.visible(viewer, EvidenceItem)
    # No task links (the task pages are the staff's; the auditor reads each task here), and the evidence filed on
    # the control itself is read below with the tasks' and counted there (this page lists all of it).
    cov = coverage.control_coverage(
        control=control, period=period, user=viewer, today=today, task_links=False, direct_counted=False
    )
    marks = [m for strip in cov.strips for m in strip.marks]
    task_ids = {m.occurrence.pk for m in marks}
    # The tasks' items and those filed on the control itself in one query, told apart here.
    items, direct = defaultdict(EvidenceList), []
    on_control = Q(occurrence__isnull=True) & (Q(control=control) | Q(task_control=control))
    for item in evidence_of(viewer, visible).filter(Q(occurrence__in=task_ids) | on_control):
        if item.occurrence_id in task_ids:
            items[item.occurrence_id].append(item)
        elif item.occurrence_id is None:
            direct.append(item)
    coverage.add_direct(cov, direct)
    download = address("portal:evidence_download", scope)
    for m in marks:
        m.items = mark_outside(items.get(m.occurrence.pk, ()), scope, "Evidence of this task", download)
    for strip in cov.strips:
        strip.task_cards = task_cards(strip.marks)
    requirements = list(
        reach.visible(viewer, Requirement)
        .filter(controls=control)
        .select_related("framework")
        .order_by("framework__name", "position")
    )
    return {
        "control": control,
        "coverage": cov,
        "period": period,
        "requirements": requirements,
        "direct": mark_outside(direct, scope, "Evidence filed on the control itself", download),
    }


# --- the areas -----------------------------------------------------------------------------------------------------


def risks(viewer) -> dict:
    """The register with each risk's treatment actions, and the approved plan versions (without their frozen
    entries, which the page does not show). The matrices are read once, not joined to every risk: each carries
    three JSON documents, and decoding them per risk was a third of the page."""
    from risks.models import Matrix, PlanVersion, Risk, TreatmentAction

    person = ("first_name", "last_name", "username")  # what the page shows of a person
    register = list(
        reach.visible(viewer, Risk)
        .select_related("owner")
        .only(
            "pk",
            "reference",
            "title",
            "asset",
            "matrix_id",
            "inherent_score",
            "residual_score",
            "treatment",
            "status",
            "next_review_on",
            *(f"owner__{f}" for f in person),
        )
        .order_by("number")
    )
    # Each risk's actions as a plain list (`risk.action_list`), grouped here: a prefetch builds a manager and a
    # queryset per risk each time its actions are read, which for 200 risks cost more than the query.
    actions = defaultdict(list)
    for action in (
        reach.visible(viewer, TreatmentAction)
        .filter(risk__in=[risk.pk for risk in register])
        .select_related("owner")
        .only("pk", "risk_id", "title", "due_date", "done_on", *(f"owner__{f}" for f in person))
        .order_by("due_date", "pk")
    ):
        actions[action.risk_id].append(action)
    matrices = reach.visible(viewer, Matrix).only("pk", "bands").in_bulk({risk.matrix_id for risk in register})
    plans = list(
        reach.visible(viewer, PlanVersion)
        .filter(approved_at__isnull=False)
        .defer("entries")
        .select_related("created_by")
        .prefetch_related("signoffs")
        .order_by("-number")
    )
    for risk in register:  # the level's name beside each score (the staff pages colour it; the words suffice here)
        matrix = matrices[risk.matrix_id]
        risk.inherent_level = (matrix.band(risk.inherent_score) or {}).get("label", "")
        risk.residual_level = (matrix.band(risk.residual_score) or {}).get("label", "")
        risk.action_list = actions.get(risk.pk, [])
    action_count = sum(len(risk.action_list) for risk in register)
    return {"risks": register, "plans": plans, "action_count": action_count}


def internal_audits(viewer):
    from audits.models import Audit

    return reach.visible(viewer, Audit).select_related("lead_auditor", "signed_off_by").order_by("-planned_on", "-pk")


def internal_audit(viewer, pk: int) -> dict:
    from audits.models import Audit, ChecklistRow

    audit = reach.get_or_404(viewer, Audit.objects.select_related("lead_auditor", "signed_off_by"), pk=pk)
    rows = (
        reach.visible(viewer, ChecklistRow)
        .filter(audit=audit)
        .select_related("requirement__framework")
        .prefetch_related(Prefetch("evidence", queryset=evidence_of(viewer)))
        .order_by("position", "pk")
    )
    return {
        "audit": audit,
        "rows": rows,
        "findings": audit.findings.select_related("requirement").order_by("pk"),  # part of the audit reached
    }


def nonconformities(viewer):
    from audits.models import Nonconformity

    return reach.visible(viewer, Nonconformity).select_related("owner", "department").order_by("-raised_on", "-pk")


def nonconformity(viewer, pk: int) -> dict:
    from audits.models import CorrectiveAction, EffectivenessCheck, Nonconformity

    nc = reach.get_or_404(
        viewer,
        Nonconformity.objects.select_related("owner", "department", "raised_by", "checker", "audit", "control"),
        pk=pk,
    )
    actions = (
        reach.visible(viewer, CorrectiveAction)
        .filter(nonconformity=nc)
        .select_related("owner", "done_by")
        .prefetch_related(Prefetch("evidence", queryset=evidence_of(viewer)))
        .order_by("round", "due_on", "pk")
    )
    checks = (
        reach.visible(viewer, EffectivenessCheck)
        .filter(nonconformity=nc)
        .select_related("checker", "checked_by")
        .order_by("round", "pk")
    )
    return {
        "nc": nc,
        "actions": actions,
        "checks": checks,
        "requirements": reach.visible(viewer, Requirement).filter(nonconformities=nc).order_by("identifier"),
    }


def management_reviews(viewer):
    from audits.models import ManagementReview

    return reach.visible(viewer, ManagementReview).select_related("chair", "approved_by").order_by("-planned_on")


def management_review(viewer, pk: int) -> dict:
    from audits.models import ManagementReview, ReviewAction

    review = reach.get_or_404(viewer, ManagementReview.objects.select_related("chair", "approved_by"), pk=pk)
    return {
        "review": review,
        "pack": review.frozen_pack if review.is_frozen else None,
        "attendees": list(review.attendees.order_by("last_name", "first_name")),
        "decisions": review.decisions.order_by("recorded_at", "pk"),  # the minutes of the review reached
        "actions": reach.visible(viewer, ReviewAction).filter(review=review).select_related("owner").order_by("due_on"),
    }


def registers(viewer, areas: frozenset[str]) -> dict:
    """The event registers the engagement includes (each None when it does not)."""
    from events.models import Change, Incident, Objective, Supplier

    return {
        "incidents": reach.visible(viewer, Incident).select_related("severity", "owner").order_by("-detected_on")
        if "incidents" in areas
        else None,
        "changes": reach.visible(viewer, Change).select_related("owner").order_by("-planned_on")
        if "changes" in areas
        else None,
        "suppliers": reach.visible(viewer, Supplier).select_related("owner").order_by("name")
        if "suppliers" in areas
        else None,
        "objectives": reach.visible(viewer, Objective).select_related("owner").order_by("due_on")
        if "objectives" in areas
        else None,
    }


# --- the day's coverage, prepared ------------------------------------------------------------------------------------


def coverage_prepare(today: datetime.date) -> int:
    """Summarise, for each engagement open today, the coverage its overview and requirement pages show, as its
    auditors would see it: each activity's summary is kept for the day (`coverage.activity_tallies`), so the day's
    first view of those pages finds it rather than reading every task of the period. Beat runs it just after
    midnight; a second run reads what the first kept. Returns the pages prepared."""
    from .models import Engagement
    from .scope import AuditorPreview, scopes

    prepared = 0
    for engagement in Engagement.objects.open_on(today).order_by("pk"):
        viewer = AuditorPreview(engagement, by=None)
        scope = scopes(viewer)[0]
        overview(viewer, scope, today)
        prepared += 1
        for requirement in reach.visible(viewer, Requirement).select_related("framework").order_by("pk"):
            requirement_page(viewer, scope, requirement, today)
            prepared += 1
    return prepared
