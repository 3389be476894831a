"""Read-side queries and shapes for the controls pages and the Statement of Applicability.

The SoA is kept against the one framework with `has_soa` (ISO/IEC 27001:2022 Annex A). Each non-retired
requirement of it has one working `SoAEntry` (applicable, justification, implementation status); the
organisation's controls mapped to the requirement are shown beside it. Approving (services.soa_approve) copies
every line into a `SoAVersion.entries` snapshot (plain JSON, see snapshot_lines), so an approved version never
changes when the working SoA, a control or the catalogue does. Everything a reader sees of an approved version
comes from that snapshot.

A snapshot line is a dict:
    identifier, title, group, position, applicable (bool), justification, status, status_label,
    controls: [{"reference", "name", "status"}]
"""

from collections.abc import Iterable

from django.db.models import Count, Prefetch, QuerySet

from . import hooks
from .models import Control, Framework, ImplementationStatus, SoAEntry, SoAVersion

S = ImplementationStatus


def control_list() -> QuerySet[Control]:
    """Every control with its owner, department and number of mapped requirements (the controls list)."""
    return (
        Control.objects.select_related("owner", "department")
        .annotate(requirement_count=Count("requirements", distinct=True))
        .order_by("reference")
    )


def soa_framework() -> Framework | None:
    """The framework the SoA is kept against (Annex A), or None when no such catalogue is loaded."""
    return Framework.objects.filter(has_soa=True).order_by("pk").first()


def suggested_status(control_statuses: Iterable[str]) -> str:
    """The implementation status the mapped controls suggest for a requirement.

    Rule (controls marked "not applicable" are left out):
    - no control mapped → planned;
    - every mapped control implemented → implemented;
    - some implemented or partially implemented → partially implemented;
    - otherwise (all planned) → planned.
    A new SoA line starts with this status; afterwards the status is what a person sets, and the SoA page
    shows the suggestion beside it when the two differ.
    """
    statuses = [s for s in control_statuses if s != S.NOT_APPLICABLE]
    if not statuses:
        return S.PLANNED
    if all(s == S.IMPLEMENTED for s in statuses):
        return S.IMPLEMENTED
    if any(s in (S.IMPLEMENTED, S.PARTIAL) for s in statuses):
        return S.PARTIAL
    return S.PLANNED


def controls_prefetch() -> Prefetch:
    """The mapped controls of a requirement, with only what the SoA shows of them."""
    queryset = Control.objects.only("pk", "reference", "name", "status").order_by("reference")
    return Prefetch("controls", queryset=queryset)


def soa_lines(framework: Framework) -> list[SoAEntry]:
    """The working SoA in catalogue order: one entry per non-retired requirement that has one, with its
    requirement and mapped controls loaded (three queries, however many lines and controls).

    Each entry gets `controls` (the mapped controls), `suggested` and `suggested_label` (suggested_status)."""
    entries = list(
        SoAEntry.objects.filter(requirement__framework=framework, requirement__retired=False)
        .select_related("requirement", "updated_by")
        .prefetch_related(Prefetch("requirement__controls", queryset=controls_prefetch().queryset))
        .order_by("requirement__position", "requirement__identifier")
    )
    for entry in entries:
        _with_controls(entry)
    return _with_cells(entries)


def soa_line(pk: int) -> SoAEntry:
    """One working line, loaded as soa_lines loads it."""
    entry = (
        SoAEntry.objects.select_related("requirement", "updated_by")
        .prefetch_related(Prefetch("requirement__controls", queryset=controls_prefetch().queryset))
        .get(pk=pk)
    )
    return _with_cells([_with_controls(entry)])[0]


def _with_cells(entries: list[SoAEntry]) -> list[SoAEntry]:
    """Each line's cells of the columns higher apps add (hooks.register_soa_column), e.g. the risks behind it."""
    cells = hooks.soa_cells(e.requirement_id for e in entries)
    for entry in entries:
        entry.extra_cells = cells[entry.requirement_id]
    return entries


def _with_controls(entry: SoAEntry) -> SoAEntry:
    entry.controls = list(entry.requirement.controls.all())
    entry.suggested = suggested_status(c.status for c in entry.controls)
    entry.suggested_label = S(entry.suggested).label
    return entry


def unjustified_exclusions(entries: Iterable[SoAEntry]) -> list[SoAEntry]:
    """Excluded lines without a justification: each one blocks approval."""
    return [e for e in entries if not e.applicable and not e.justification.strip()]


def latest_version(framework: Framework) -> SoAVersion | None:
    """The most recently approved version, or None before the first approval."""
    return framework.soa_versions.select_related("approved_by").order_by("-number").first()


def snapshot_lines(entries: Iterable[SoAEntry]) -> list[dict]:
    """Frozen, JSON-ready copies of working lines (loaded by soa_lines)."""
    labels = dict(S.choices)
    return [
        {
            "identifier": e.requirement.identifier,
            "title": e.requirement.title,
            "group": e.requirement.group,
            "position": e.requirement.position,
            "applicable": e.applicable,
            "justification": e.justification,
            "status": e.status,
            "status_label": labels.get(e.status, e.status),
            "controls": [{"reference": c.reference, "name": c.name, "status": c.status} for c in e.controls],
        }
        for e in entries
    ]


def summary(lines: Iterable[dict]) -> dict:
    """Counts for a cover page or a page header: lines, applicable, excluded, and per implementation status."""
    lines = list(lines)
    applicable = [line for line in lines if line["applicable"]]
    by_status = {value: 0 for value in S.values}
    for line in applicable:
        by_status[line["status"]] = by_status.get(line["status"], 0) + 1
    return {
        "total": len(lines),
        "applicable": len(applicable),
        "excluded": len(lines) - len(applicable),
        "implemented": by_status[S.IMPLEMENTED],
        "partial": by_status[S.PARTIAL],
        "planned": by_status[S.PLANNED],
    }


def group_lines(lines: Iterable[dict]) -> list[tuple[str, list[dict]]]:
    """Lines grouped by theme, themes in order of first appearance."""
    groups: dict[str, list[dict]] = {}
    for line in lines:
        groups.setdefault(line.get("group") or "Requirements", []).append(line)
    return list(groups.items())
