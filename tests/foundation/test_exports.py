"""Downloads: a spreadsheet never runs a cell as a formula, files read back as a reader's program reads them,
and a download's file name is safe whatever it holds."""

import csv
import io

import pytest
from openpyxl import load_workbook

from isms.foundation.exports import (
    Sheet,
    attachment_response,
    content_disposition,
    csv_bytes,
    spreadsheet_safe,
    xlsx_bytes,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Access review", "Access review"),
        ("a=b", "a=b"),  # only the first character counts
        ("", ""),
        (-5, -5),  # a number is not a formula
        (None, None),
    ],
)
def test_formula_guard(value, expected):
    assert spreadsheet_safe(value) == expected


def test_csv_has_a_byte_order_mark_crlf_and_guarded_cells():
    content = csv_bytes([["Name", "Note"], ["Café", "=cmd|' /C calc'!A0"], ["Plain", 3]])

    assert content.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in content
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows == [["Name", "Note"], ["Café", "'=cmd|' /C calc'!A0"], ["Plain", "3"]]


def test_xlsx_reads_back_with_a_bold_frozen_header_and_text_that_stays_text():
    content = xlsx_bytes(
        [
            Sheet("Risks: 2026/27", [["Ref.", "Description", "Score"], ["R-1", "=1+1", 12], ["R-2", "Long " * 30, 4]]),
            Sheet("About", [("Printed by", "Alice"), ("Rows", 2)], layout="labels", widths=(20, 40)),
        ]
    )

    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["Risks- 2026-27", "About"]  # characters a sheet name may not hold are replaced
    sheet = book["Risks- 2026-27"]
    assert list(sheet.iter_rows(values_only=True)) == [
        ("Ref.", "Description", "Score"),
        ("R-1", "=1+1", 12),
        ("R-2", "Long " * 30, 4),
    ]
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet["B2"].data_type == "s"  # stored as text: Excel shows it, never runs it
    assert sheet["C2"].data_type == "n"
    assert sheet.column_dimensions["B"].width == 60  # fitted, at most 60
    assert sheet.column_dimensions["A"].width == 8  # fitted, at least 8
    about = book["About"]
    assert about["A1"].font.bold and not about["B1"].font.bold
    assert about.column_dimensions["B"].width == 40


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("controls-2026-03-10.csv", 'attachment; filename="controls-2026-03-10.csv"'),
        (
            'evil"; filename=x.exe',
            "attachment; filename=\"evil- filename_x.exe\"; filename*=UTF-8''evil-%20filename%3Dx.exe",
        ),
        ("two\r\nlines.pdf", 'attachment; filename="two-lines.pdf"'),
        ("../../etc/passwd", 'attachment; filename="etc-passwd"'),
        (
            "Contrôles – Zürich.csv",
            'attachment; filename="Controles  Zurich.csv"; '
            "filename*=UTF-8''Contr%C3%B4les%20%E2%80%93%20Z%C3%BCrich.csv",
        ),
        ("報告.pdf", "attachment; filename=\"download.pdf\"; filename*=UTF-8''%E5%A0%B1%E5%91%8A.pdf"),
        ("", 'attachment; filename="download"'),
    ],
)
def test_download_names_are_safe(filename, expected):
    assert content_disposition(filename) == expected


def test_attachment_or_inline():
    response = attachment_response(b"%PDF", "calendar.pdf", "application/pdf", inline=True)

    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="calendar.pdf"'
    assert response.content == b"%PDF"
