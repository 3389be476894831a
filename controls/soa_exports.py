"""The downloads of an approved SoA version: PDF, CSV and Excel, each read from the frozen snapshot only, so a
download is the version as approved whatever has changed since."""

from django.http import HttpResponse
from django.utils import timezone

from isms.foundation.exports import Sheet, csv_response, xlsx_response
from isms.foundation.pdf import render_pdf

from .models import SoAVersion
from .selectors import group_lines, summary

EXPORT_HEADER = [
    "Theme",
    "Identifier",
    "Control",
    "Applicable",
    "Justification",
    "Implementation status",
    "Controls in place",
]
# Wide enough for the justification and the controls in place; the short columns stay short.
COLUMN_WIDTHS = (24, 11, 45, 11, 60, 22, 45)


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


def soa_csv_response(version: SoAVersion) -> HttpResponse:
    """The version as CSV: a header row, then one row per line."""
    return csv_response([EXPORT_HEADER, *export_rows(version)], export_filename(version, "csv"))


def soa_xlsx_response(version: SoAVersion) -> HttpResponse:
    """The version as an Excel workbook: the SoA sheet, and an Approval sheet saying which version, who
    approved it and when."""
    approved_at = timezone.localtime(version.approved_at)
    approval = [
        ("Statement of Applicability", version.framework.name),
        ("Version", version.number),
        ("Approved by", version.approver),
        ("Approved at", approved_at.strftime("%Y-%m-%d %H:%M %Z")),
        ("Note", version.note),
    ]
    return xlsx_response(
        [
            Sheet(f"SoA v{version.number}", [EXPORT_HEADER, *export_rows(version)], widths=COLUMN_WIDTHS),
            Sheet("Approval", approval, layout="labels", widths=(28, 80)),
        ],
        export_filename(version, "xlsx"),
    )


def soa_pdf_response(version: SoAVersion, *, organisation_name: str) -> HttpResponse:
    """The version as an A4 PDF: a cover page (organisation, framework, version, approver, when, note, counts),
    then one table per theme whose header row repeats on every page, and "Page X of Y" below."""
    return render_pdf(
        "controls/soa_pdf.html",
        {
            "organisation_name": organisation_name,
            "version": version,
            "framework": version.framework,
            "approver": version.approver,
            "approved_at": timezone.localtime(version.approved_at),
            "groups": group_lines(version.entries),
            "summary": summary(version.entries),
        },
        title=f"Statement of Applicability · version {version.number}",
        subject=(
            f"Statement of Applicability of {version.framework}, version {version.number}, approved by "
            f"{version.approver} on {timezone.localtime(version.approved_at):%-d %B %Y}"
        ),
        filename=export_filename(version, "pdf"),
    )
