"""Recurrence rules (iCalendar RRULE via python-dateutil) and the presets people pick from."""

import datetime
import re

from dateutil.rrule import rrule as RRule
from dateutil.rrule import rrulestr

# Presets offered in the schedule form; "custom" takes any RRULE.
PRESETS: dict[str, tuple[str, str]] = {
    "once": ("Once, on the start date", ""),
    "weekly": ("Every week", "FREQ=WEEKLY"),
    "monthly": ("Every month", "FREQ=MONTHLY"),
    "quarterly": ("Every quarter", "FREQ=MONTHLY;INTERVAL=3"),
    "first_monday_quarter": ("First Monday of each quarter", "FREQ=MONTHLY;BYMONTH=1,4,7,10;BYDAY=1MO"),
    "half_yearly": ("Every 6 months", "FREQ=MONTHLY;INTERVAL=6"),
    "yearly": ("Every year", "FREQ=YEARLY"),
    "custom": ("Custom rule (RRULE)", None),
}


def _month_end_clause(day: int) -> str:
    return f";BYMONTHDAY={','.join(str(d) for d in range(28, day + 1))};BYSETPOS=-1"


def preset_rule(key: str, start: datetime.date) -> str:
    """The preset's RRULE for a schedule starting on `start`.

    A plain monthly rule started on the 29th–31st skips the months that are too short (31 Jan → 31 Mar);
    people mean "that day, or the month's last day when it is shorter", so the rule says so."""
    return month_end_safe(PRESETS[key][1] or "", start)


def month_end_safe(rule: str, start: datetime.date) -> str:
    if rule.startswith("FREQ=MONTHLY") and "BYDAY" not in rule and "BYMONTHDAY" not in rule and start.day > 28:
        rule += _month_end_clause(start.day)
    return rule


def preset_of(rrule: str) -> str:
    """Which preset a stored rule came from ("custom" if none)."""
    base = rrule.split(";BYMONTHDAY=28", 1)[0] if ";BYMONTHDAY=28" in rrule and rrule.endswith("BYSETPOS=-1") else rrule
    return next((k for k, v in PRESETS.items() if v[1] is not None and v[1] == base), "custom")


class RecurrenceError(ValueError):
    """The rule cannot be read or makes no dates."""


def _rule(rrule: str, start: datetime.date, end: datetime.date | None):
    text = rrule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if "UNTIL=" in text.upper() or "DTSTART" in text.upper():
        raise RecurrenceError("Leave UNTIL and DTSTART out of the rule: use the start and end dates instead.")
    if re.search(r"FREQ\s*=\s*(HOURLY|MINUTELY|SECONDLY)", text, re.IGNORECASE):
        raise RecurrenceError("Tasks fall on days: use FREQ=DAILY or a longer frequency.")
    try:
        rule = rrulestr(text, dtstart=datetime.datetime.combine(start, datetime.time()), ignoretz=True)
    except (ValueError, TypeError) as exc:
        raise RecurrenceError(f"This is not a recurrence rule python-dateutil can read: {exc}") from None
    if not isinstance(rule, RRule):  # several lines, EXDATE, RDATE…: a set, not one rule
        raise RecurrenceError("Write one rule (FREQ=…;…) on a single line, without other iCalendar properties.")
    if end is not None:
        rule = rule.replace(until=datetime.datetime.combine(end, datetime.time()))
    return rule


def occurrence_dates(
    rrule: str, start: datetime.date, end: datetime.date | None, until: datetime.date
) -> list[datetime.date]:
    """Due dates from `start` up to and including `until` (and `end`, when the rule has one)."""
    if not rrule.strip():
        return [start] if start <= until else []
    last = min(until, end) if end else until
    rule = _rule(rrule, start, end)
    return [d.date() for d in rule.between(_dt(start), _dt(last), inc=True)]


def validate(rrule: str, start: datetime.date, end: datetime.date | None) -> list[datetime.date]:
    """Read the rule and return its first few dates; raise RecurrenceError with a reason a person can act on."""
    if not rrule.strip():
        return [start]
    rule = _rule(rrule, start, end)
    first = []
    try:
        for day in rule:
            first.append(day.date())
            if len(first) == 3:
                break
    except (ValueError, IndexError, OverflowError):  # dateutil finds some rules impossible only while iterating
        raise RecurrenceError("python-dateutil cannot make dates from this rule; check its BY… parts.") from None
    if not first:
        raise RecurrenceError("This rule produces no dates between the start and the end date.")
    return first


def shortest_gap_days(dates: list[datetime.date]) -> int | None:
    gaps = [(b - a).days for a, b in zip(dates, dates[1:], strict=False)]
    return min(gaps) if gaps else None


_UNITS = {"DAILY": "day", "WEEKLY": "week", "MONTHLY": "month", "YEARLY": "year"}
_DAYS = {
    "MO": "Monday",
    "TU": "Tuesday",
    "WE": "Wednesday",
    "TH": "Thursday",
    "FR": "Friday",
    "SA": "Saturday",
    "SU": "Sunday",
}
_NTH = {"1": "first", "2": "second", "3": "third", "4": "fourth", "-1": "last"}
_MONTHS = ["", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def describe(rrule: str) -> str:
    """The rule in words for people: "Every 3 months on day 15", "First Monday of Jan, Apr, Jul, Oct"."""
    key = preset_of(rrule)
    if key != "custom":
        label = PRESETS[key][0]
        return f"{label} (or the month's last day)" if "BYSETPOS=-1" in rrule else label
    if not rrule:
        return "Once"
    try:
        parts = dict(p.split("=", 1) for p in rrule.upper().removeprefix("RRULE:").split(";") if "=" in p)
        unit = _UNITS[parts["FREQ"]]
    except (KeyError, ValueError):
        return rrule
    interval = int(parts.get("INTERVAL", "1") or 1)
    text = f"Every {unit}" if interval == 1 else f"Every {interval} {unit}s"
    if "BYDAY" in parts:
        days = []
        for token in parts["BYDAY"].split(","):
            nth, code = token[:-2], token[-2:]
            name = _DAYS.get(code, code)
            days.append(f"{_NTH.get(nth.lstrip('+'), nth)} {name}" if nth else name)
        text += (
            " on the " + ", ".join(days) if any(t[:-2] for t in parts["BYDAY"].split(",")) else " on " + ", ".join(days)
        )
    if "BYMONTHDAY" in parts and "BYSETPOS" not in parts:
        text += f" on day {parts['BYMONTHDAY']}"
    if "BYMONTH" in parts:
        try:
            text += " in " + ", ".join(_MONTHS[int(m)] for m in parts["BYMONTH"].split(","))
        except (ValueError, IndexError):
            return rrule
    if "COUNT" in parts:
        text += f", {parts['COUNT']} times"
    return text


def _dt(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time())
