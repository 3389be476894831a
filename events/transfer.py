"""Importing the registers from a spreadsheet (CSV or Excel) with the same columns as their downloads.

`preview` reads and checks every row and writes nothing; `apply` checks the whole file again and writes it in
one transaction only when every row is valid: a file with one bad row writes nothing. Incidents and changes
already in the register (a known reference) are left as they are, so a download imported again adds nothing;
suppliers (by name) and objectives (by title) are updated from their row."""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from controls.models import Control
from isms.accounts.models import User
from isms.foundation import reach
from isms.foundation.forms import date_in_bounds
from isms.foundation.reach import may_own_work

from . import services
from .models import (
    QUESTIONS,
    Change,
    Criticality,
    Incident,
    IncidentCategory,
    IncidentStatus,
    Objective,
    Severity,
    Supplier,
)

MAX_ROWS = 2000


class FileRefused(ValueError):
    """The file cannot be read at all (not a spreadsheet, no header, a required column missing)."""


@dataclass
class Row:
    line: int
    key: str
    label: str
    action: str = ""  # "add", "update", "unchanged"
    fields: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    existing: object = None


def read_table(name: str, content: bytes, required: list[str], what: str) -> list[dict]:
    """The rows of a CSV or Excel file as {header: text}."""
    if name.lower().endswith(".xlsx"):
        try:
            import openpyxl

            sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
            values = [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]
        except Exception as exc:  # noqa: BLE001 - any unreadable workbook gets the same answer
            raise FileRefused("This file could not be read as an Excel workbook (.xlsx).") from exc
    else:
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise FileRefused("This file is not UTF-8 text: save it as “CSV UTF-8” or as an Excel workbook.") from None
        values = list(csv.reader(io.StringIO(text)))
    values = [row for row in values if any(str(v).strip() for v in row)]
    if not values:
        raise FileRefused(f"The file is empty: start from the {what}' download for the columns.")
    header = [str(h).strip() for h in values[0]]
    missing = [h for h in required if h not in header]
    if missing:
        raise FileRefused(f"Columns missing: {', '.join(missing)}. Start from the {what}' download for the columns.")
    if len(values) - 1 > MAX_ROWS:
        raise FileRefused(f"At most {MAX_ROWS:,} rows at a time; this file has {len(values) - 1:,}.")
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


# --------------------------------------------------------------------------------------------------- parsing


class Lookups:
    """Everything a row may name, loaded once for the whole file."""

    def __init__(self):
        users = User.objects.filter(is_active=True)
        self.users = {u.email.lower(): u for u in users if u.email} | {u.username.lower(): u for u in users}
        self.controls = {c.reference.lower(): c for c in Control.objects.all()}
        from risks.models import Risk

        self.risks = {r.reference.lower(): r for r in Risk.objects.all()}
        self.suppliers = {s.name.lower(): s for s in Supplier.objects.all()}
        self.severities = {s.label.lower(): s for s in Severity.objects.all()}


def _date(text: str, header: str, errors: list[str], *, required: bool = True):
    if not text:
        if required:
            errors.append(f"{header} is empty: give a date as YYYY-MM-DD.")
        return None
    try:
        day = datetime.date.fromisoformat(text[:10])
    except ValueError:
        errors.append(f"{header} “{text}” is not a date: write it as YYYY-MM-DD.")
        return None
    if not date_in_bounds(day):
        errors.append(f"{header} {day} is not between 2000 and 2100.")
        return None
    return day


def _person(text: str, header: str, lookups: Lookups, errors: list[str], *, required: bool = True):
    if not text:
        if required:
            errors.append(f"{header} is empty: give an email address or user name.")
        return None
    user = lookups.users.get(text.lower())
    if user is None:
        errors.append(f"{header} “{text}”: no active user with that email address or user name.")
    elif not may_own_work(user):
        errors.append(f"{header} “{text}” cannot be given this work (a member of staff with an email address).")
    return user


def _choice(text: str, header: str, choices, errors: list[str], default=None):
    if not text:
        if default is not None:
            return default
        errors.append(f"{header} is empty.")
        return None
    options = {v: v for v in choices.values} | {label.lower(): v for v, label in choices.choices}
    value = options.get(text.lower()) or options.get(text)
    if value is None:
        errors.append(f"{header} “{text}” is not one of: {', '.join(label for _, label in choices.choices)}.")
    return value


def _refs(text: str, header: str, table: dict, errors: list[str]) -> list:
    found = []
    for ref in [r.strip() for r in text.replace(";", ",").split(",") if r.strip()]:
        item = table.get(ref.lower())
        if item is None:
            errors.append(f"{header}: “{ref}” is not in the register.")
        else:
            found.append(item)
    return found


def _yes_no(text: str, header: str, errors: list[str]):
    value = {"yes": True, "y": True, "true": True, "1": True, "no": False, "n": False, "false": False, "0": False}.get(
        text.strip().lower()
    )
    if value is None:
        errors.append(f"“{header}”: answer Yes or No.")
    return value


def _model_errors(instance, exclude=()) -> list[str]:
    try:
        instance.full_clean(exclude=list(exclude), validate_unique=False)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            return [" ".join(m for e in errs for m in e.messages) for errs in exc.error_dict.values()]
        return exc.messages
    return []


# --------------------------------------------------------------------------------------------------- registers


@dataclass(frozen=True)
class Register:
    """One register's import: its columns, how a row is checked, and how it is written."""

    key: str
    title: str
    model: type
    required: list[str]
    columns: list[str]
    check: Callable[[dict, int, Lookups], Row]
    write: Callable[[Row, object], None]


def _check_incident(raw: dict, line: int, lookups: Lookups) -> Row:
    row = Row(line=line, key=raw.get("Reference", ""), label=raw.get("Title", ""))
    if row.key and Incident.objects.filter(reference=row.key).exists():
        row.action = "unchanged"
        return row
    e = row.errors
    severity = lookups.severities.get(raw.get("Severity", "").lower())
    if severity is None:
        labels = ", ".join(s.label for s in lookups.severities.values())
        e.append(f"Severity “{raw.get('Severity', '')}” is not on the scale ({labels}).")
    fields = {
        "title": raw.get("Title", ""),
        "description": raw.get("What happened", ""),
        "occurred_on": _date(raw.get("Occurred on", ""), "Occurred on", e),
        "detected_on": _date(raw.get("Detected on", ""), "Detected on", e),
        "severity": severity,
        "category": _choice(raw.get("Category", ""), "Category", IncidentCategory, e, IncidentCategory.OTHER),
        "affected": raw.get("Affected assets or processes", ""),
        "owner": _person(raw.get("Handler", ""), "Handler", lookups, e),
        "status": _choice(raw.get("Status", ""), "Status", IncidentStatus, e, IncidentStatus.REPORTED),
        "containment": raw.get("Containment", ""),
        "resolution": raw.get("Resolution", ""),
        "lessons_learned": raw.get("Lessons learned", ""),
    }
    if not fields["title"]:
        e.append("Title is empty.")
    if not fields["description"]:
        e.append("What happened is empty.")
    if fields["status"] == IncidentStatus.CLOSED:
        e.append("Status Closed: import it open and close it on its page, which records whether it reveals a "
                 "nonconformity.")  # fmt: skip
    controls = _refs(raw.get("Controls", ""), "Controls", lookups.controls, e)
    risks = _refs(raw.get("Risks", ""), "Risks", lookups.risks, e)
    if not e:
        e.extend(_model_errors(Incident(reported_by=fields["owner"], **fields), exclude=["number", "reference"]))
    row.fields = {**fields, "controls": controls, "risks": risks}
    row.action = "add"
    return row


def _write_incident(row: Row, by) -> None:
    services.incident_create(by=by, **row.fields)


def _check_change(raw: dict, line: int, lookups: Lookups) -> Row:
    row = Row(line=line, key=raw.get("Reference", ""), label=raw.get("What changes", ""))
    if row.key and Change.objects.filter(reference=row.key).exists():
        row.action = "unchanged"
        return row
    e = row.errors
    fields = {
        "title": raw.get("What changes", ""),
        "description": raw.get("Details", ""),
        "planned_on": _date(raw.get("When", ""), "When", e),
        "owner": _person(raw.get("Owner", ""), "Owner", lookups, e),
        "assets": raw.get("Assets or systems affected", ""),
    }
    if not fields["title"]:
        e.append("What changes is empty.")
    answers = [raw.get(question, "") for _, question, _ in QUESTIONS]
    if not any(a.strip() for a in answers):
        e.append("The questions are not answered: each needs Yes or No.")
    else:
        for (name, question, _), answer in zip(QUESTIONS, answers, strict=True):
            fields[name] = _yes_no(answer, question, e)
    supplier_name = raw.get("Supplier", "")
    fields["supplier"] = lookups.suppliers.get(supplier_name.lower()) if supplier_name else None
    if supplier_name and fields["supplier"] is None:
        e.append(f"Supplier “{supplier_name}” is not in the supplier register.")
    risks = _refs(raw.get("Risks", ""), "Risks", lookups.risks, e)
    row.fields = {**fields, "risks": risks}
    row.action = "add"
    return row


def _write_change(row: Row, by) -> None:
    services.change_create(by=by, **row.fields)


def _check_supplier(raw: dict, line: int, lookups: Lookups) -> Row:
    name = raw.get("Name", "")
    row = Row(line=line, key=name, label=name)
    e = row.errors
    notice = raw.get("Notice period (days)", "") or "0"
    try:
        notice_days = int(notice)
        if notice_days < 0:
            raise ValueError
    except ValueError:
        e.append(f"Notice period (days) “{notice}” is not a whole number of days.")
        notice_days = 0
    active = raw.get("Active", "") or "Yes"
    fields = {
        "name": name,
        "service": raw.get("Service provided", ""),
        "criticality": _choice(raw.get("Criticality", ""), "Criticality", Criticality, e),
        "data_handled": raw.get("Our information it handles", ""),
        "owner": _person(raw.get("Owner", ""), "Owner", lookups, e),
        "contact_name": raw.get("Contact name", ""),
        "contact_email": raw.get("Contact email", ""),
        "contact_phone": raw.get("Contact phone", ""),
        "contract_start": _date(raw.get("Contract start", ""), "Contract start", e, required=False),
        "contract_end": _date(raw.get("Contract end", ""), "Contract end", e, required=False),
        "notice_days": notice_days,
        "active": _yes_no(active, "Active", e),
    }
    if not name:
        e.append("Name is empty.")
    if not fields["service"]:
        e.append("Service provided is empty.")
    controls = _refs(raw.get("Controls", ""), "Controls", lookups.controls, e)
    risks = _refs(raw.get("Risks", ""), "Risks", lookups.risks, e)
    existing = lookups.suppliers.get(name.lower())
    if not e:
        probe = Supplier(**fields)
        e.extend(_model_errors(probe, exclude=["name"] if existing else []))
    row.existing = existing
    row.fields = {**fields, "controls": controls, "risks": risks}
    if existing is None:
        row.action = "add"
    else:
        same = (
            all(getattr(existing, k) == v for k, v in fields.items())
            and {c.pk for c in existing.controls.all()} == {c.pk for c in controls}
            and {r.pk for r in existing.risks.all()} == {r.pk for r in risks}
        )
        row.action = "unchanged" if same else "update"
    return row


def _write_supplier(row: Row, by) -> None:
    services.supplier_save(by=by, supplier=row.existing, **row.fields)


def _decimal(text: str, header: str, errors: list[str]):
    try:
        return Decimal(text.replace(",", ""))
    except (InvalidOperation, ValueError):
        errors.append(f"{header} “{text}” is not a number.")
        return None


def _check_objective(raw: dict, line: int, lookups: Lookups) -> Row:
    title = raw.get("Objective", "")
    row = Row(line=line, key=title, label=title)
    e = row.errors
    every = raw.get("Progress update every (months)", "")
    fields = {
        "title": title,
        "description": raw.get("Description", ""),
        "measure": raw.get("How it is measured", ""),
        "unit": raw.get("Unit", ""),
        "baseline": _decimal(raw.get("Baseline", ""), "Baseline", e),
        "target": _decimal(raw.get("Target", ""), "Target", e),
        "owner": _person(raw.get("Owner", ""), "Owner", lookups, e),
        "start_on": _date(raw.get("From", ""), "From", e),
        "due_on": _date(raw.get("To be met by", ""), "To be met by", e),
        "progress_every_months": int(every) if every.isdigit() else None,
    }
    if every and not every.isdigit():
        e.append(f"Progress update every (months) “{every}” is not a whole number.")
    if not title:
        e.append("Objective is empty.")
    if not fields["measure"]:
        e.append("How it is measured is empty.")
    if not e:
        e.extend(_model_errors(Objective(**fields)))
    existing = Objective.objects.filter(title=title).first() if title else None
    row.existing = existing
    row.fields = fields
    if existing is None:
        row.action = "add"
    else:
        row.action = "unchanged" if all(getattr(existing, k) == v for k, v in fields.items()) else "update"
    return row


def _write_objective(row: Row, by) -> None:
    services.objective_save(by=by, objective=row.existing, **row.fields)


REGISTERS = {
    "incidents": Register(
        "incidents", "incidents", Incident,
        ["Title", "What happened", "Occurred on", "Detected on", "Severity", "Handler"],
        ["Reference", "Title", "What happened", "Occurred on", "Detected on", "Severity", "Category",
         "Affected assets or processes", "Handler", "Status", "Controls", "Risks", "Containment", "Resolution",
         "Lessons learned"],
        _check_incident, _write_incident,
    ),
    "changes": Register(
        "changes", "changes", Change,
        ["What changes", "When", "Owner"],
        ["Reference", "What changes", "Details", "When", "Owner", *[q for _, q, _ in QUESTIONS],
         "Assets or systems affected", "Supplier", "Risks"],
        _check_change, _write_change,
    ),
    "suppliers": Register(
        "suppliers", "suppliers", Supplier,
        ["Name", "Service provided", "Criticality", "Owner"],
        ["Name", "Service provided", "Criticality", "Our information it handles", "Owner", "Contact name",
         "Contact email", "Contact phone", "Contract start", "Contract end", "Notice period (days)", "Controls",
         "Risks", "Active"],
        _check_supplier, _write_supplier,
    ),
    "objectives": Register(
        "objectives", "objectives", Objective,
        ["Objective", "How it is measured", "Baseline", "Target", "Owner", "From", "To be met by"],
        ["Objective", "Description", "How it is measured", "Unit", "Baseline", "Target", "Owner", "From",
         "To be met by", "Progress update every (months)"],
        _check_objective, _write_objective,
    ),
}  # fmt: skip


def preview(register: Register, name: str, content: bytes) -> list[Row]:
    """Every row of the file, checked; nothing written."""
    raws = read_table(name, content, register.required, register.title)
    lookups = Lookups()
    rows = [register.check(raw, line, lookups) for line, raw in enumerate(raws, start=2)]
    seen: dict[str, int] = {}
    for row in rows:
        if row.key and row.action != "unchanged":
            if row.key.lower() in seen:
                row.errors.append(f"The same as line {seen[row.key.lower()]}: each appears once in a file.")
            seen.setdefault(row.key.lower(), row.line)
    return rows


@transaction.atomic
def apply(register: Register, name: str, content: bytes, *, by) -> dict[str, int]:
    """Write the whole file, or nothing: every row is checked again first, and any refusal while writing undoes
    every row written before it."""
    if not reach.may(by, "import", register.model):
        raise PermissionDenied(f"Only the compliance team imports {register.title}.")
    rows = preview(register, name, content)
    bad = [row for row in rows if row.errors]
    if bad:
        raise ValidationError(f"{len(bad)} row{'s' if len(bad) != 1 else ''} cannot be imported: nothing was written.")
    counts = {"add": 0, "update": 0, "unchanged": 0}
    for row in rows:
        if row.action != "unchanged":
            try:
                register.write(row, by)
            except ValidationError as exc:
                raise ValidationError(f"Line {row.line}: {' '.join(exc.messages)} Nothing was written.") from exc
        counts[row.action] += 1
    return counts
