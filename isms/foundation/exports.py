"""Downloads written once: CSV and Excel files of rows, and the response that hands any file to the browser.

Every export of the application goes through here, so two rules hold everywhere:
- a cell a spreadsheet would run as a formula (text starting with =, +, -, @, tab or carriage return) is
  never a formula: CSV prefixes it with an apostrophe, Excel files store it as text;
- the file name in the download header is always safe, whatever a user typed into the name.
"""

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

from django.http import HttpResponse

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """Text a spreadsheet would run as a formula gets a leading apostrophe (CSV injection); other values pass.

    Numbers are left alone: -5 is a number, not a formula; "-5" typed as text is guarded like any text."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def csv_bytes(rows: Iterable[Sequence[object]]) -> bytes:
    """Rows (the first one the header) as CSV: UTF-8 with a byte order mark so Excel reads accents, CRLF line
    ends, every cell through spreadsheet_safe."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([spreadsheet_safe(value) for value in row])
    return out.getvalue().encode("utf-8-sig")


def csv_response(rows: Iterable[Sequence[object]], filename: str) -> HttpResponse:
    """A CSV download of `rows` (see csv_bytes)."""
    return attachment_response(csv_bytes(rows), filename, CSV_TYPE)


@dataclass(frozen=True)
class Sheet:
    """One worksheet of an Excel file.

    layout "table": the first row is a header (bold, frozen, with filters), text wraps at the top of its cell.
    layout "labels": each row is a label and its value(s), labels in bold (e.g. who approved a document).
    widths: column widths in characters; None fits them to the content (8 to 60 characters)."""

    title: str
    rows: Sequence[Sequence[object]]
    layout: Literal["table", "labels"] = "table"
    widths: Sequence[float] | None = None


_SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    """An Excel workbook with these sheets. Text is always stored as text, so no cell is ever a formula."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    top = Alignment(vertical="top", wrap_text=True)
    for spec in sheets:
        sheet = book.create_sheet(_SHEET_TITLE_FORBIDDEN.sub("-", spec.title)[:31] or "Sheet")
        for row in spec.rows:
            sheet.append(list(row))
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # openpyxl would make "=…" a formula
        if spec.layout == "table":
            for cell in sheet[1]:
                cell.font = bold
            for row in sheet.iter_rows(min_row=2):
                for cell in row:
                    cell.alignment = top
            sheet.freeze_panes = "A2"
            sheet.auto_filter.ref = sheet.dimensions
        else:
            for cell in sheet["A"]:
                cell.font = bold
        widths = spec.widths or _fitted_widths(spec.rows)
        for index, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _fitted_widths(rows: Sequence[Sequence[object]]) -> list[float]:
    widths: list[float] = []
    for row in rows:
        for index, value in enumerate(row):
            longest = max((len(line) for line in str("" if value is None else value).splitlines()), default=0)
            if index == len(widths):
                widths.append(8)
            widths[index] = min(max(widths[index], longest + 2), 60)
    return widths


def xlsx_response(sheets: Sequence[Sheet], filename: str) -> HttpResponse:
    """An Excel download of these sheets (see xlsx_bytes)."""
    return attachment_response(xlsx_bytes(sheets), filename, XLSX_TYPE)


def attachment_response(content: bytes, filename: str, content_type: str, *, inline: bool = False) -> HttpResponse:
    """A file download with a Content-Disposition header that is safe whatever the name holds.

    `inline` lets the browser show the file (a calendar to print) instead of saving it."""
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition(filename, inline=inline)
    return response


_UNSAFE_IN_NAME = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|;]+')
_NOT_PLAIN_ASCII = re.compile(r"[^A-Za-z0-9._() -]+")


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """The Content-Disposition value for `filename`: control characters, quotes, slashes and separators
    removed; a plain ASCII name as is; any other name as an ASCII fallback plus the UTF-8 name (RFC 5987),
    which every current browser prefers."""
    kind = "inline" if inline else "attachment"
    name = _UNSAFE_IN_NAME.sub("-", filename).strip(" .-") or "download"
    fallback = _NOT_PLAIN_ASCII.sub(
        "_", unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    ).strip(" _")
    if fallback.startswith("."):  # nothing of the name was ASCII but its extension
        fallback = "download" + fallback
    if fallback == name:
        return f'{kind}; filename="{name}"'
    return f"{kind}; filename=\"{fallback or 'download'}\"; filename*=UTF-8''{quote(name, safe='')}"
