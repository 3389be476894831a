"""Recurrence rules (iCalendar RRULE, worked out by python-dateutil) and the presets people pick from.

Every rule is read strictly and every expansion is bounded (MAX_DATES, MAX_STEPS, TIME_BUDGET), whoever
asks; the refusals are written for the person who typed the rule and name no library."""

import calendar
import datetime
import itertools
import re
import time

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
    "custom": ("Custom rule (advanced)", None),
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
    """The rule cannot be read, makes no dates, or makes too many to work out."""


# Bounds on every expansion, whoever asks (a page, a domain service, the daily job): a rule can make at most
# MAX_DATES dates in one go, is looked at for at most MAX_STEPS dates from its start, and worked out within
# TIME_BUDGET seconds. Tasks fall on days, so a rule makes at most one date a day: five years of a daily
# rule (the validation window) is 1,827 dates.
MAX_DATES = 2000
MAX_STEPS = 100_000
TIME_BUDGET = 1.0
WINDOW_YEARS = 5  # a rule must make a date within this many years of its start
MAX_INTERVAL = 1000
MAX_COUNT = 1000

_FREQS = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_PARTS = ("FREQ", "INTERVAL", "COUNT", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYYEARDAY", "BYWEEKNO", "BYSETPOS", "WKST")
_EXAMPLE = "for example FREQ=MONTHLY;BYDAY=1MO (the first Monday of every month)"
# The numbered lists a rule may hold: (lowest, highest, negative numbers allowed, what to write).
_NUMBERS = {
    "BYMONTH": (1, 12, False, "BYMONTH takes month numbers from 1 (January) to 12 (December), separated by commas."),
    "BYMONTHDAY": (
        1,
        31,
        True,
        "BYMONTHDAY takes days of the month from 1 to 31 (or -1 for the last day, -2 for the one before), "
        "separated by commas.",
    ),
    "BYYEARDAY": (
        1,
        366,
        True,
        "BYYEARDAY takes days of the year from 1 to 366 (or -1 for the last), separated by commas.",
    ),
    "BYWEEKNO": (1, 53, True, "BYWEEKNO takes week numbers from 1 to 53 (or -1 for the last), separated by commas."),
    "BYSETPOS": (
        1,
        366,
        True,
        "BYSETPOS picks among the dates of each period: 1 for the first, -1 for the last, separated by commas.",
    ),
}
_BYDAY = re.compile(r"^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")


def _whole(value: str, low: int, high: int) -> int | None:
    return int(value) if re.fullmatch(r"[+-]?\d{1,7}", value) and low <= int(value) <= high else None


def _read(rrule: str) -> dict[str, str]:
    """The rule, checked part by part, as its NAME: value parts; RecurrenceError says what to change.

    Strict on purpose: a rule that never moves on (INTERVAL=0), a frequency below a day or an unknown part
    is refused here, before any date is worked out."""
    text = rrule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if "\n" in text or "\r" in text or ":" in text:
        raise RecurrenceError("Write one rule (FREQ=…;…) on a single line, without other calendar properties.")
    parts: dict[str, str] = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        name, eq, value = part.partition("=")
        name, value = name.strip().upper(), value.strip().upper()
        if not eq or not name.isalpha():
            raise RecurrenceError(
                f"“{part.strip()}” is not a recurrence rule: write NAME=value parts separated by semicolons, "
                f"{_EXAMPLE}."
            )
        if name in ("UNTIL", "DTSTART"):
            raise RecurrenceError("Leave UNTIL and DTSTART out of the rule: use the start and end dates instead.")
        if name in ("BYHOUR", "BYMINUTE", "BYSECOND"):
            raise RecurrenceError("Tasks fall on days: leave BYHOUR, BYMINUTE and BYSECOND out of the rule.")
        if name not in _PARTS:
            raise RecurrenceError(f"{name} is not part of a recurrence rule. Use {', '.join(_PARTS)}.")
        if name in parts:
            raise RecurrenceError(f"{name} is in the rule twice: keep one.")
        parts[name] = value
    freq = parts.get("FREQ")
    if freq is None:
        raise RecurrenceError(
            f"Start the rule with how often it repeats: FREQ=DAILY, WEEKLY, MONTHLY or YEARLY, {_EXAMPLE}."
        )
    if freq in ("HOURLY", "MINUTELY", "SECONDLY"):
        raise RecurrenceError("Tasks fall on days: use FREQ=DAILY or a longer frequency.")
    if freq not in _FREQS:
        raise RecurrenceError(f"FREQ={freq} is not a frequency: use DAILY, WEEKLY, MONTHLY or YEARLY.")
    if "INTERVAL" in parts and _whole(parts["INTERVAL"], 1, MAX_INTERVAL) is None:
        raise RecurrenceError(
            f"INTERVAL says after how many periods the rule repeats: a whole number of 1 or more (1 every period, "
            f"2 every other), at most {MAX_INTERVAL}."
        )
    if "COUNT" in parts and _whole(parts["COUNT"], 1, MAX_COUNT) is None:
        raise RecurrenceError(
            f"COUNT is how many times the task happens: a whole number from 1 to {MAX_COUNT}. For a schedule "
            "without a fixed number, leave COUNT out (and give an end date if it stops)."
        )
    for name, (low, high, negative, words) in _NUMBERS.items():
        if name in parts:
            for item in parts[name].split(","):
                number = _whole(item.strip(), -high if negative else low, high)
                if number is None or number == 0:
                    raise RecurrenceError(words)
    if "BYDAY" in parts:
        for item in parts["BYDAY"].split(","):
            match = _BYDAY.match(item.strip())
            if match is None or (match.group(1) is not None and int(match.group(1)) == 0):
                raise RecurrenceError(
                    "BYDAY takes weekdays as MO, TU, WE, TH, FR, SA, SU, with a number in front for the n-th in the "
                    "month (1MO, the first Monday; -1FR, the last Friday), separated by commas."
                )
            if match.group(1) is not None:
                nth = abs(int(match.group(1)))
                if freq not in ("MONTHLY", "YEARLY"):
                    raise RecurrenceError(
                        "A numbered weekday (like 1MO, the first Monday) only fits a monthly or yearly rule."
                    )
                if freq == "MONTHLY" and nth > 5:
                    raise RecurrenceError(
                        "A month has at most five of each weekday: number them 1 to 5, or -1 for the last."
                    )
                if freq == "YEARLY" and nth > 53:
                    raise RecurrenceError(
                        "A year has at most 53 of each weekday: number them 1 to 53, or -1 for the last."
                    )
    if "WKST" in parts and parts["WKST"] not in _WEEKDAYS:
        raise RecurrenceError("WKST is the day weeks start on: MO, TU, WE, TH, FR, SA or SU.")
    return parts


# The Gregorian calendar repeats itself exactly every 400 years (146,097 days, 20,871 whole weeks): the same
# weekdays, leap years and week numbers. dateutil looks for a rule's next date up to the year 9999 and only
# compares a date with the end once it has found one, so a rule with no more dates would be searched for
# thousands of years. Working in a copy of the calendar moved by whole 400-year cycles to just before 9999
# makes that search end within 400 years; the dates are moved back afterwards.
_CYCLE = 400


def _moved(day: datetime.date, years: int) -> datetime.date:
    return day.replace(year=day.year + years)


def _dates(rrule: str, start: datetime.date, end: datetime.date | None, last: datetime.date, since: datetime.date):
    """The rule's dates from `since` to `last` (and `end`), lazily; bounded by MAX_STEPS and TIME_BUDGET."""
    text = ";".join(f"{k}={v}" for k, v in _read(rrule).items())
    last = min(last, end) if end else last
    if last < max(start, since):
        return
    shift = max(0, (datetime.MAXYEAR - 1 - last.year) // _CYCLE) * _CYCLE
    try:
        rule = rrulestr(text, dtstart=_dt(_moved(start, shift)), ignoretz=True)
        if "COUNT=" not in text:  # a rule has a COUNT or an end, not both; the loop below stops at `last` anyway
            rule = rule.replace(until=_dt(_moved(last, shift)))
    except (ValueError, TypeError):
        raise RecurrenceError(f"This rule could not be read: check each of its parts, {_EXAMPLE}.") from None
    deadline = time.monotonic() + TIME_BUDGET
    steps = 0
    try:
        for moment in rule:
            steps += 1
            if steps > MAX_STEPS or time.monotonic() > deadline:
                raise RecurrenceError(
                    "This rule takes too long to work out. Make it simpler, or start it later so that it covers "
                    "fewer dates."
                )
            day = _moved(moment.date(), -shift)
            if day > last:
                return
            if day >= since:
                yield day
    except RecurrenceError:
        raise
    except (ValueError, IndexError, OverflowError):  # dateutil finds some rules impossible only while iterating
        raise RecurrenceError(
            "No dates can be worked out from this rule: check that each of its BY… parts names days that exist."
        ) from None


def occurrence_dates(
    rrule: str,
    start: datetime.date,
    end: datetime.date | None,
    until: datetime.date,
    since: datetime.date | None = None,
) -> list[datetime.date]:
    """Due dates from `since` (default `start`) up to and including `until` (and `end`, when the rule has one).

    Raises RecurrenceError when the rule would make more than MAX_DATES dates or take longer than TIME_BUDGET."""
    since = max(start, since or start)
    if not rrule.strip():
        return [start] if since <= start <= until else []
    dates = list(itertools.islice(_dates(rrule, start, end, until, since), MAX_DATES + 1))
    if len(dates) > MAX_DATES:
        raise RecurrenceError(
            f"This rule makes more than {MAX_DATES} dates in the time asked for: repeat it less often."
        )
    return dates


def last_on_or_before(
    rrule: str, start: datetime.date, end: datetime.date | None, day: datetime.date
) -> datetime.date | None:
    """The rule's most recent date on or before `day` (None if it has none), within the same bounds."""
    if not rrule.strip():
        return start if start <= day else None
    latest = None
    for latest in _dates(rrule, start, end, day, start):  # noqa: B007 - the last one is wanted
        pass
    return latest


def _some_day_fits(rrule: str, start: datetime.date, last: datetime.date) -> bool:
    """Whether any day from `start` to `last` passes the rule's month, day-of-month, day-of-year and weekday
    parts (the interval, week numbers and BYSETPOS left aside, so a rule this says no to has no date there).
    A few thousand cheap checks that spare a search through centuries for a day such as 30 February."""
    parts = _read(rrule)

    def numbers(name: str) -> set[int] | None:
        return {int(n) for n in parts[name].split(",")} if name in parts else None

    months, monthdays, yeardays = numbers("BYMONTH"), numbers("BYMONTHDAY"), numbers("BYYEARDAY")
    weekdays = {_WEEKDAYS.index(t.strip()[-2:]) for t in parts["BYDAY"].split(",")} if "BYDAY" in parts else None
    day = start
    while day <= last:
        month_length = calendar.monthrange(day.year, day.month)[1]
        year_length = 366 if calendar.isleap(day.year) else 365
        yearday = day.timetuple().tm_yday
        if (
            (months is None or day.month in months)
            and (monthdays is None or {day.day, day.day - month_length - 1} & monthdays)
            and (yeardays is None or {yearday, yearday - year_length - 1} & yeardays)
            and (weekdays is None or day.weekday() in weekdays)
        ):
            return True
        day += datetime.timedelta(days=1)
    return False


def validate(rrule: str, start: datetime.date, end: datetime.date | None) -> list[datetime.date]:
    """Read the rule and return its first few dates; raise RecurrenceError with a reason a person can act on.

    A rule must make a date within WINDOW_YEARS of its start (and before its end): the search stops there."""
    if not rrule.strip():
        return [start]
    try:
        window = _moved(start, WINDOW_YEARS)
    except ValueError:  # 29 February, or past the calendar's last year
        window = datetime.date(min(start.year + WINDOW_YEARS, datetime.MAXYEAR), start.month, 28)
    last = min(window, end) if end else window
    first = (
        list(itertools.islice(_dates(rrule, start, end, window, start), 3))
        if _some_day_fits(rrule, start, last)
        else []
    )
    if not first:
        if end is not None and end < window:
            raise RecurrenceError("This rule makes no dates between the start and the end date.")
        raise RecurrenceError(
            "This rule makes no date in the five years from the start date: check its BY… parts (for example, "
            "30 February never comes)."
        )
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
