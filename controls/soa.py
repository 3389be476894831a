"""The Statement of Applicability: the working lines, their approval as frozen versions, the comparison of two
versions, and the exports (PDF, CSV, XLSX) of an approved version.

The SoA is kept against the one framework with `has_soa` (ISO/IEC 27001:2022 Annex A). Each non-retired
requirement of it has one working `SoAEntry` (applicable, justification, implementation status); the
organisation's controls mapped to the requirement are shown beside it. Approving copies every line into a
`SoAVersion.entries` snapshot (plain JSON), so an approved version never changes when the working SoA, a
control or the catalogue does. Everything a reader sees of an approved version comes from that snapshot.

A snapshot line is a dict:
    identifier, title, group, position, applicable (bool), justification, status, status_label,
    controls: [{"reference", "name", "status"}]
"""

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Max, Prefetch
from django.template.loader import render_to_string
from django.utils import timezone

from .models import Control, Framework, ImplementationStatus, Requirement, SoAEntry, SoAVersion

S = ImplementationStatus

# What a person types to load the SoA framework when none is loaded (shown on the SoA page).
LOAD_COMMAND = "python manage.py load_catalogue controls/catalogues/iso27001-2022-annex-a.yaml"


class SoAApprovalRefused(Exception):
    """The working SoA cannot be approved as it stands; the message says why, `entries` which lines."""

    def __init__(self, message: str, entries: Sequence[SoAEntry] = ()):
        super().__init__(message)
        self.entries = list(entries)


# ------------------------------------------------------------------------------------------ selectors


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


def _controls_prefetch(to_attr: str | None = None) -> Prefetch:
    queryset = Control.objects.only("pk", "reference", "name", "status").order_by("reference")
    return Prefetch("controls", queryset=queryset, to_attr=to_attr)


def soa_lines(framework: Framework) -> list[SoAEntry]:
    """The working SoA in catalogue order: one entry per non-retired requirement that has one, with its
    requirement and mapped controls loaded (three queries, however many lines and controls).

    Each entry gets `controls` (the mapped controls), `suggested` and `suggested_label` (suggested_status)."""
    entries = list(
        SoAEntry.objects.filter(requirement__framework=framework, requirement__retired=False)
        .select_related("requirement", "updated_by")
        .prefetch_related(Prefetch("requirement__controls", queryset=_controls_prefetch().queryset))
        .order_by("requirement__position", "requirement__identifier")
    )
    for entry in entries:
        _with_controls(entry)
    return entries


def soa_line(pk: int) -> SoAEntry:
    """One working line, loaded as soa_lines loads it."""
    entry = (
        SoAEntry.objects.select_related("requirement", "updated_by")
        .prefetch_related(Prefetch("requirement__controls", queryset=_controls_prefetch().queryset))
        .get(pk=pk)
    )
    return _with_controls(entry)


def _with_controls(entry: SoAEntry) -> SoAEntry:
    entry.controls = list(entry.requirement.controls.all())
    entry.suggested = suggested_status(c.status for c in entry.controls)
    entry.suggested_label = S(entry.suggested).label
    return entry


def unjustified_exclusions(entries: Iterable[SoAEntry]) -> list[SoAEntry]:
    """Excluded lines without a justification: each one blocks approval."""
    return [e for e in entries if not e.applicable and not e.justification.strip()]


def latest_version(framework: Framework) -> SoAVersion | None:
    return framework.soa_versions.select_related("approved_by").order_by("-number").first()


# ------------------------------------------------------------------------------------------- services


def soa_entries_ensure(framework: Framework) -> int:
    """Create the missing working line for every non-retired requirement of `framework`; return how many.

    A new line is applicable, without justification, and starts with the status its mapped controls suggest
    (suggested_status). Existing lines are left alone. Two to three queries whatever the catalogue size."""
    missing = list(
        Requirement.objects.filter(framework=framework, retired=False, soa_entry__isnull=True).prefetch_related(
            _controls_prefetch()
        )
    )
    if not missing:
        return 0
    SoAEntry.objects.bulk_create(
        [SoAEntry(requirement=r, status=suggested_status(c.status for c in r.controls.all())) for r in missing],
        ignore_conflicts=True,  # a concurrent request created some: theirs stand
    )
    return len(missing)


def soa_entry_update(*, entry: SoAEntry, applicable: bool, justification: str, status: str, by) -> SoAEntry:
    """Change one working line. An excluded line has no implementation status: it is recorded as
    "not applicable" whatever was chosen."""
    entry.applicable = applicable
    entry.justification = justification.strip()
    entry.status = status if applicable else S.NOT_APPLICABLE
    entry.updated_by = by
    entry.save(update_fields=["applicable", "justification", "status", "updated_by", "updated_at"])
    return entry


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


@transaction.atomic
def soa_approve(*, framework: Framework, by, note: str = "") -> SoAVersion:
    """Approve the working SoA as the next version: number = previous + 1, approved by `by` now (server
    time), every line frozen in `entries`. Refused while an excluded line has no justification."""
    Framework.objects.select_for_update().filter(pk=framework.pk).first()  # one approval at a time
    soa_entries_ensure(framework)
    entries = soa_lines(framework)
    if not entries:
        raise SoAApprovalRefused(f"{framework.name} has no requirements: there is nothing to approve.")
    blocking = unjustified_exclusions(entries)
    if blocking:
        ids = ", ".join(e.requirement.identifier for e in blocking)
        raise SoAApprovalRefused(
            f"Not approved: every excluded control needs a justification. Missing for {ids}.", blocking
        )
    last = framework.soa_versions.aggregate(n=Max("number"))["n"] or 0
    return SoAVersion.objects.create(
        framework=framework,
        number=last + 1,
        approved_by=by,
        approved_by_name=by.get_full_name() or by.username,
        approved_at=timezone.now(),
        note=note.strip(),
        entries=snapshot_lines(entries),
    )


# ----------------------------------------------------------------------------------------------- diff


def controls_label(controls: Iterable[dict]) -> str:
    return ", ".join(f"{c['reference']} {c['name']}" for c in controls) or "none"


def _yes_no(value: bool) -> str:
    return "Yes" if value else "No (excluded)"


@dataclass
class FieldChange:
    """One field of one line, what it was and what it is (as a reader sees them)."""

    field: str
    label: str
    before: str
    after: str
    added: list[str] = field(default_factory=list)  # for controls: the ones newly mapped
    removed: list[str] = field(default_factory=list)  # for controls: the ones no longer mapped


@dataclass
class LineChange:
    identifier: str
    title: str
    group: str
    changes: list[FieldChange]


@dataclass
class SoADiff:
    """What changed from one snapshot (`before`) to another (`after`)."""

    added: list[dict]
    removed: list[dict]
    changed: list[LineChange]
    unchanged: int

    @property
    def has_changes(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    @property
    def change_count(self) -> int:
        return len(self.added) + len(self.removed) + len(self.changed)


def _line_changes(old: dict, new: dict) -> list[FieldChange]:
    changes = []
    if old.get("title") != new.get("title"):
        changes.append(FieldChange("title", "Title", old.get("title", ""), new.get("title", "")))
    if old.get("applicable") != new.get("applicable"):
        changes.append(
            FieldChange("applicable", "Applicable", _yes_no(old.get("applicable")), _yes_no(new.get("applicable")))
        )
    if (old.get("justification") or "") != (new.get("justification") or ""):
        changes.append(
            FieldChange("justification", "Justification", old.get("justification", ""), new.get("justification", ""))
        )
    if old.get("status") != new.get("status"):
        changes.append(
            FieldChange(
                "status",
                "Implementation status",
                old.get("status_label") or old.get("status", ""),
                new.get("status_label") or new.get("status", ""),
            )
        )
    old_controls = {c["reference"]: c for c in old.get("controls", [])}
    new_controls = {c["reference"]: c for c in new.get("controls", [])}
    if [(c["reference"], c["name"]) for c in old.get("controls", [])] != [
        (c["reference"], c["name"]) for c in new.get("controls", [])
    ]:
        changes.append(
            FieldChange(
                "controls",
                "Controls",
                controls_label(old.get("controls", [])),
                controls_label(new.get("controls", [])),
                added=[f"{r} {c['name']}" for r, c in new_controls.items() if r not in old_controls],
                removed=[f"{r} {c['name']}" for r, c in old_controls.items() if r not in new_controls],
            )
        )
    return changes


def soa_diff(before: Sequence[dict], after: Sequence[dict]) -> SoADiff:
    """Compare two snapshots line by line, matched on the requirement identifier. Pure: no database.

    A requirement only in `after` is added, only in `before` removed; for one in both, each of title,
    applicable, justification, implementation status and mapped controls that differs is a FieldChange.
    Lines come out in the order of `after` (removed ones in the order of `before`)."""
    old = {line["identifier"]: line for line in before}
    new = {line["identifier"]: line for line in after}
    added = [line for line in after if line["identifier"] not in old]
    removed = [line for line in before if line["identifier"] not in new]
    changed = []
    unchanged = 0
    for line in after:
        previous = old.get(line["identifier"])
        if previous is None:
            continue
        changes = _line_changes(previous, line)
        if changes:
            changed.append(LineChange(line["identifier"], line["title"], line.get("group", ""), changes))
        else:
            unchanged += 1
    return SoADiff(added=added, removed=removed, changed=changed, unchanged=unchanged)


# -------------------------------------------------------------------------------------------- exports

EXPORT_HEADER = [
    "Theme",
    "Identifier",
    "Control",
    "Applicable",
    "Justification",
    "Implementation status",
    "Controls in place",
]


def export_rows(version: SoAVersion) -> list[list[str]]:
    """One row per frozen line, in the columns of EXPORT_HEADER."""
    return [
        [
            line.get("group", ""),
            line["identifier"],
            line["title"],
            "Yes" if line["applicable"] else "No",
            line.get("justification", ""),
            line.get("status_label") or line.get("status", ""),
            "; ".join(f"{c['reference']} {c['name']}" for c in line.get("controls", [])),
        ]
        for line in version.entries
    ]


def export_filename(version: SoAVersion, extension: str) -> str:
    return f"statement-of-applicability-v{version.number}.{extension}"


def _csv_safe(value: str) -> str:
    """Spreadsheets run a cell that starts with =, +, -, @ as a formula: such text gets a leading apostrophe."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def soa_csv(version: SoAVersion) -> bytes:
    """The version as CSV: UTF-8 with a byte order mark (so Excel reads accents), a header row, CRLF."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_HEADER)
    for row in export_rows(version):
        writer.writerow([_csv_safe(v) for v in row])
    return out.getvalue().encode("utf-8-sig")


def soa_xlsx(version: SoAVersion) -> bytes:
    """The version as an Excel workbook: the SoA sheet (bold, frozen header row; wrapped text; filters) and
    an Approval sheet saying which version, who approved it and when."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    approved_at = timezone.localtime(version.approved_at)
    book = Workbook()
    sheet = book.active
    sheet.title = f"SoA v{version.number}"
    sheet.append(EXPORT_HEADER)
    for row in export_rows(version):
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    top = Alignment(vertical="top", wrap_text=True)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.data_type = "s"  # text stays text: never a formula
            cell.alignment = top
    for letter, width in zip("ABCDEFG", (24, 11, 45, 11, 60, 22, 45), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions

    about = book.create_sheet("Approval")
    for label, value in [
        ("Statement of Applicability", version.framework.name),
        ("Version", version.number),
        ("Approved by", approver_name(version)),
        ("Approved at", approved_at.strftime("%Y-%m-%d %H:%M %Z")),
        ("Note", version.note),
    ]:
        about.append([label, value])
        about.cell(row=about.max_row, column=2).data_type = "s" if isinstance(value, str) else "n"
    for cell in about["A"]:
        cell.font = Font(bold=True)
    about.column_dimensions["A"].width = 28
    about.column_dimensions["B"].width = 80

    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def approver_name(version: SoAVersion) -> str:
    return version.approver


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


def soa_pdf(version: SoAVersion, *, organisation) -> bytes:
    """The version as an A4 PDF: a cover page (organisation, framework, version, approver, when, note,
    counts), then one table per theme whose header row repeats on every page, and "Page X of Y" below."""
    import weasyprint  # heavy; only this export needs it

    html = render_to_string(
        "controls/soa_pdf.html",
        {
            "organisation": organisation,
            "version": version,
            "framework": version.framework,
            "approver": approver_name(version),
            "approved_at": timezone.localtime(version.approved_at),
            "groups": group_lines(version.entries),
            "summary": summary(version.entries),
        },
    )
    # Nothing is fetched: the document is self-contained, and no text in it can make the renderer load a URL.
    fetcher = weasyprint.URLFetcher(allowed_protocols={"data"})
    return weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()
