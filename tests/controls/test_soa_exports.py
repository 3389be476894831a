"""Exports of an approved SoA version: the PDF (cover, a table a reader can follow, page numbers), CSV and XLSX,
each a download named after the version, each read back here as a reader's program would."""

import csv
import datetime
import io
import zoneinfo

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from controls import services
from controls.models import SoAEntry
from controls.soa_exports import EXPORT_HEADER
from isms.organisation.models import Organisation
from tests.factories import make_control

APPROVED_AT = datetime.datetime(2026, 4, 14, 16, 45, tzinfo=zoneinfo.ZoneInfo("Europe/London"))


@pytest.fixture
def version(annex_a, approver, owner):
    """Version 1 of the full Annex A SoA: two controls mapped, one exclusion, approved by Alice Approver."""
    org = Organisation.current()
    org.name = "Acme Widgets Ltd"
    org.save()
    make_control(owner, "AC-01", "User access management", requirements=annex_a.requirements.filter(identifier="5.15"))
    make_control(owner, "VM-01", "Vulnerability scanning", requirements=annex_a.requirements.filter(identifier="8.8"))
    services.soa_entries_ensure(annex_a)
    SoAEntry.objects.filter(requirement__identifier="7.5").update(
        applicable=False, justification="No premises of our own: a fully remote company.", status="not_applicable"
    )
    SoAEntry.objects.filter(requirement__identifier="5.1").update(justification='=HYPERLINK("http://x")')
    with time_machine.travel(APPROVED_AT, tick=False):
        return services.soa_approve(framework=annex_a, by=approver, note="Approved at the management review.")


def download(client, name, version):
    response = client.get(reverse(name, args=[version.pk]))
    assert response.status_code == 200, response.status_code
    return response


def test_pdf_cover_table_and_page_numbers(client_as, viewer, version):
    response = download(client_as(viewer), "controls:soa_version_pdf", version)

    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="statement-of-applicability-v1.pdf"'
    reader = PdfReader(io.BytesIO(response.content))
    pages = [" ".join(page.extract_text().split()) for page in reader.pages]  # a title may wrap in its cell
    text = "\n".join(pages)
    assert len(reader.pages) > 1
    width, height = reader.pages[0].mediabox.width, reader.pages[0].mediabox.height
    assert round(float(width) / 72 * 25.4) == 210 and round(float(height) / 72 * 25.4) == 297  # A4 portrait

    cover = pages[0]
    for expected in [
        "Acme Widgets Ltd",
        "Statement of Applicability",
        "ISO/IEC 27001:2022 Annex A",
        "Version 1",
        "Alice Approver",
        "14 April 2026",
        "Approved at the management review.",
        f"Page 1 of {len(reader.pages)}",
    ]:
        assert expected in cover, expected
    for identifier, title in [
        ("5.1", "Policies for information security"),
        ("5.15", "Access control"),
        ("6.8", "Information security event reporting"),
        ("7.14", "Secure disposal or re-use of equipment"),
        ("8.34", "Protection of information systems during audit testing"),
    ]:
        assert identifier in text and title in text, identifier
    assert "AC-01" in text and "VM-01" in text
    assert "No premises of our own" in text
    for number, page in enumerate(pages[1:], start=2):
        assert f"Page {number} of {len(reader.pages)}" in page
        assert "Justification" in page and "Implementation" in page, f"no table header on page {number}"
        assert "Alice Approver" in page  # the footer says who approved it


def test_csv_has_a_header_and_one_row_per_control(client_as, owner, version):
    response = download(client_as(owner), "controls:soa_version_csv", version)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="statement-of-applicability-v1.csv"'
    assert response.content.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads it as UTF-8
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 94
    assert rows[0] == EXPORT_HEADER
    by_id = {row[1]: row for row in rows[1:]}
    assert by_id["5.15"] == [
        "Organizational controls",
        "5.15",
        "Access control",
        "Yes",
        "",
        "Implemented",
        "AC-01 User access management",
    ]
    assert by_id["7.5"][3:6] == ["No", "No premises of our own: a fully remote company.", "Not applicable"]
    assert by_id["5.1"][4] == '\'=HYPERLINK("http://x")'  # never a formula in a spreadsheet
    assert [row[1] for row in rows[1:4]] == ["5.1", "5.2", "5.3"] and rows[-1][1] == "8.34"


def test_xlsx_bold_frozen_header_and_one_row_per_control(client_as, compliance, version):
    response = download(client_as(compliance), "controls:soa_version_xlsx", version)

    assert response["Content-Disposition"] == 'attachment; filename="statement-of-applicability-v1.xlsx"'
    book = load_workbook(io.BytesIO(response.content))
    sheet = book["SoA v1"]
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 94
    assert list(rows[0]) == EXPORT_HEADER
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["E"].width >= 40  # justification has room
    by_id = {row[1]: row for row in rows[1:]}
    assert by_id["8.8"][6] == "VM-01 Vulnerability scanning"
    assert by_id["7.5"][3] == "No"
    assert by_id["5.1"][4] == '=HYPERLINK("http://x")'
    assert sheet.cell(row=2, column=5).data_type == "s"  # stored as text, not a formula
    approval = {row[0]: row[1] for row in book["Approval"].iter_rows(values_only=True)}
    assert approval["Approved by"] == "Alice Approver"
    assert approval["Version"] == 1
    assert approval["Approved at"].startswith("2026-04-14 16:45")


def test_an_export_is_the_frozen_version_not_the_working_soa(client_as, compliance, version):
    SoAEntry.objects.filter(requirement__identifier="7.5").update(applicable=True, justification="Changed later")

    rows = list(
        csv.reader(
            io.StringIO(
                download(client_as(compliance), "controls:soa_version_csv", version).content.decode("utf-8-sig")
            )
        )
    )

    assert {row[1]: row for row in rows}["7.5"][3:5] == ["No", "No premises of our own: a fully remote company."]
