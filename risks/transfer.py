"""Importing the register from a spreadsheet (CSV or Excel) with the same columns as its download.

`import_preview` reads and checks every row and writes nothing; `import_apply` checks the whole file again and
writes it in one transaction only when every row is valid. A row with a reference updates that risk (a row that
equals the risk changes nothing, so a download imported again is a no-op); a row without one adds a risk. The
scores, status and next review are worked out by the register, so those columns are read past."""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from controls.models import Control
from isms.accounts.models import Department, User
from isms.foundation.reach import may_own_work

from .models import Assessment, Matrix, Risk, Treatment
from .services import ASSESSED, LEVELS, matrix_ensure, requirement_choices, risk_create, risk_update

MAX_ROWS = 5000
REQUIRED = ["Title", "Asset or process", "Threat", "Vulnerability", "Owner", "Inherent likelihood", "Inherent impact",
            "Residual likelihood", "Residual impact", "Treatment"]  # fmt: skip
COLUMNS = {
    "Title": "title",
    "Asset or process": "asset",
    "Threat": "threat",
    "Vulnerability": "vulnerability",
    "Owner": "owner",
    "Department": "department",
    "Inherent likelihood": "inherent_likelihood",
    "Inherent impact": "inherent_impact",
    "Residual likelihood": "residual_likelihood",
    "Residual impact": "residual_impact",
    "Target likelihood": "target_likelihood",
    "Target impact": "target_impact",
    "Treatment": "treatment",
    "How it is treated": "treatment_plan",
    "Target date": "target_date",
    "Review every (months)": "review_months",
    "Controls": "controls",
    "Annex A controls": "requirements",
}


class ImportError_(ValueError):
    """The file cannot be read at all (not a spreadsheet, no header, a required column missing)."""


@dataclass
class Row:
    line: int
    reference: str
    title: str
    action: str = ""  # "add", "update", "unchanged"
    fields: dict = field(default_factory=dict)
    changed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    risk: Risk | None = None


def read_table(name: str, content: bytes) -> list[dict]:
    """The rows of a CSV or Excel file as {header: text}."""
    if name.lower().endswith(".xlsx"):
        try:
            import openpyxl

            sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
            values = [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]
        except Exception as exc:  # noqa: BLE001 - any unreadable workbook gets the same answer
            raise ImportError_("This file could not be read as an Excel workbook (.xlsx).") from exc
    else:
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ImportError_("This file is not UTF-8 text: save it as “CSV UTF-8” or as an Excel workbook.") from None
        values = list(csv.reader(io.StringIO(text)))
    values = [row for row in values if any(str(v).strip() for v in row)]
    if not values:
        raise ImportError_("The file is empty: start from the register's download for the columns.")
    header = [str(h).strip() for h in values[0]]
    missing = [h for h in REQUIRED if h not in header]
    if missing:
        raise ImportError_(
            f"Columns missing: {', '.join(missing)}. Start from the register's download for the columns."
        )
    if len(values) - 1 > MAX_ROWS:
        raise ImportError_(f"At most {MAX_ROWS:,} rows at a time; this file has {len(values) - 1:,}.")
    return [{h: _text(row[i]) if i < len(row) else "" for i, h in enumerate(header)} for row in values[1:]]


def _text(value) -> str:
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    # The download guards text a spreadsheet would run as a formula with an apostrophe: read it back as typed.
    if text.startswith("'") and text[1:2] in ("=", "+", "-", "@"):
        text = text[1:]
    return text


class _Lookups:
    """Everything a row may name, loaded once for the whole file."""

    def __init__(self):
        users = User.objects.filter(is_active=True)
        self.users = {u.email.lower(): u for u in users if u.email} | {u.username.lower(): u for u in users}
        self.departments = {d.name.lower(): d for d in Department.objects.all()}
        self.controls = {c.reference.lower(): c for c in Control.objects.all()}
        self.requirements = {r.identifier.lower(): r for r in requirement_choices()}
        self.treatments = {v: v for v in Treatment.values} | {label.lower(): v for v, label in Treatment.choices}


def _check(raw: dict, line: int, lookups: _Lookups, matrix: Matrix, risks: dict[str, Risk]) -> Row:
    reference = raw.get("Reference", "").strip()
    row = Row(line=line, reference=reference, title=raw.get("Title", ""))
    values: dict = {}
    for header, name in COLUMNS.items():
        if header not in raw:
            continue
        text = raw[header]
        if name in ("title", "asset", "threat", "vulnerability"):
            if not text:
                row.errors.append(f"{header} is empty.")
            values[name] = text
        elif name == "owner":
            owner = lookups.users.get(text.lower())
            if owner is None:
                row.errors.append(f"Owner “{text}”: no active user with that email address or user name.")
            elif not may_own_work(owner):
                row.errors.append(f"Owner “{text}” cannot own a risk (a member of staff with an email address).")
            values[name] = owner
        elif name == "department":
            values[name] = lookups.departments.get(text.lower()) if text else None
            if text and values[name] is None:
                row.errors.append(f"Department “{text}” does not exist.")
        elif name in LEVELS:
            if not text and name.startswith("target"):
                values[name] = None
                continue
            try:
                level = int(text)
            except ValueError:
                row.errors.append(f"{header} “{text}” is not a number from 1 to {matrix.size}.")
                continue
            if not 1 <= level <= matrix.size:
                row.errors.append(f"{header} {level} is outside the matrix: use 1 to {matrix.size}.")
            values[name] = level
        elif name == "treatment":
            treatment = lookups.treatments.get(text.lower())
            if treatment is None:
                row.errors.append(f"Treatment “{text}”: use Mitigate, Accept, Transfer or Avoid.")
            values[name] = treatment
        elif name == "treatment_plan":
            values[name] = text
        elif name == "target_date":
            try:
                values[name] = datetime.date.fromisoformat(text) if text else None
            except ValueError:
                row.errors.append(f"Target date “{text}”: write it as YYYY-MM-DD.")
        elif name == "review_months":
            try:
                values[name] = int(text) if text else None
            except ValueError:
                row.errors.append(f"Review every (months) “{text}” is not a number.")
        elif name in ("controls", "requirements"):
            table = lookups.controls if name == "controls" else lookups.requirements
            items = []
            for part in [p.strip() for p in text.split(",") if p.strip()]:
                found = table.get(part.lower())
                if found is None:
                    what = "Control" if name == "controls" else "Annex A control"
                    row.errors.append(f"{what} “{part}” does not exist.")
                else:
                    items.append(found)
            values[name] = items
    if (values.get("target_likelihood") is None) != (values.get("target_impact") is None):
        row.errors.append("Give both the target likelihood and the target impact, or neither.")
    if values.get("review_months") is not None and not 1 <= values["review_months"] <= 36:
        row.errors.append("Review every (months) is 1 to 36, or empty for the band's default.")
    row.fields = values
    if reference:
        risk = risks.get(reference.lower())
        if risk is None:
            row.errors.append(f"No risk {reference} in the register: leave the reference empty to add a new risk.")
            return row
        row.risk = risk
        row.changed = _differences(risk, values)
        row.action = "update" if row.changed else "unchanged"
    else:
        row.action = "add"
    return row


def _differences(risk: Risk, values: dict) -> list[str]:
    changed = []
    for name, value in values.items():
        if name == "controls":
            same = {c.pk for c in value} == {c.pk for c in risk.controls.all()}
        elif name == "requirements":
            same = {r.pk for r in value} == {r.pk for r in risk.requirements.all()}
        elif name == "department" and value is None:
            same = risk.department_id is None
        else:
            current = getattr(risk, name)
            same = (
                (current or None) == (value or None) if name != "treatment_plan" else (current or "") == (value or "")
            )
        if not same:
            changed.append(name)
    return changed


def import_preview(name: str, content: bytes) -> list[Row]:
    """Every row checked, nothing written. Raises ImportError_ when the file cannot be read at all."""
    raw_rows = read_table(name, content)
    matrix = matrix_ensure()
    lookups = _Lookups()
    risks = {
        r.reference.lower(): r
        for r in Risk.objects.select_related("matrix").prefetch_related("controls", "requirements")
    }
    rows = [_check(raw, i + 2, lookups, matrix, risks) for i, raw in enumerate(raw_rows)]
    seen: dict[str, int] = {}
    for row in rows:
        if row.reference:
            key = row.reference.lower()
            if key in seen:
                row.errors.append(f"Reference {row.reference} is also on line {seen[key]}: one line per risk.")
            seen.setdefault(key, row.line)
    return rows


@transaction.atomic
def import_apply(name: str, content: bytes, *, by) -> dict:
    """Write the file if every row is valid; otherwise raise ValidationError and write nothing."""
    rows = import_preview(name, content)
    bad = [row for row in rows if row.errors]
    if bad:
        raise ValidationError(f"Nothing was imported: {len(bad)} row(s) have errors. Correct them and try again.")
    counts = {"add": 0, "update": 0, "unchanged": 0}
    reason = f"Imported from {name}."
    for row in rows:
        counts[row.action] += 1
        if row.action == "add":
            risk_create(by=by, reason=reason, kind=Assessment.Kind.IMPORT, via="import", **row.fields)
        elif row.action == "update":
            changes = {k: row.fields[k] for k in row.changed}
            kind = Assessment.Kind.IMPORT if any(k in ASSESSED for k in changes) else Assessment.Kind.CHANGE
            risk_update(risk=row.risk, by=by, reason=reason, kind=kind, via="import", **changes)
    return counts
