"""Values in the words a person reads: a duration as "15 minutes", never "PT15M"."""

import datetime
import re

from django import template

register = template.Library()

_ISO = re.compile(r"^P(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$")


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}{'' if n == 1 else 's'}"


@register.filter
def duration_words(value) -> str:
    """A timedelta, a number of hours or an ISO 8601 duration ("PT15M") as words ("15 minutes")."""
    if isinstance(value, str):
        match = _ISO.match(value.strip())
        if not match:
            return value
        value = datetime.timedelta(**{k: int(v) for k, v in match.groupdict().items() if v})
    elif isinstance(value, int | float):
        value = datetime.timedelta(hours=value)
    if not isinstance(value, datetime.timedelta):
        return str(value)
    minutes = round(value.total_seconds() / 60)
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    parts = [_plural(n, unit) for n, unit in ((days, "day"), (hours, "hour"), (minutes, "minute")) if n]
    return " and ".join(parts) if parts else "a moment"
