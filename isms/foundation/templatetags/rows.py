"""Filters for drawing many rows cheaply (docs/architecture.md, "How a new list page stays fast").

Django's `date` filter is general (any format, any locale) and costs ~0.1 ms a call; a list of 50 rows with
three dates each spends ~15 ms in it. `day` and `day_time` give the same text as `date:"j M Y"` and
`date:"j M Y H:i"` (in the current time zone, as the `date` filter does) at a fraction of that.
"""

import datetime
import functools

from django import template
from django.utils import translation
from django.utils.dates import MONTHS_3

register = template.Library()


@functools.cache
def _months(language: str) -> tuple[str, ...]:
    with translation.override(language):
        return ("", *(str(MONTHS_3[m]).title() for m in range(1, 13)))


@register.filter(expects_localtime=True)
def day(value: datetime.date | None) -> str:
    """`{{ value|day }}`: "4 Feb 2026", as `date:"j M Y"`; empty for no date."""
    if not isinstance(value, datetime.date):
        return ""
    return f"{value.day} {_months(translation.get_language() or 'en')[value.month]} {value.year}"


@register.filter(expects_localtime=True)
def day_time(value: datetime.datetime | None) -> str:
    """`{{ value|day_time }}`: "4 Feb 2026 09:05", as `date:"j M Y H:i"`; empty for no time."""
    if not isinstance(value, datetime.datetime):
        return ""
    return f"{day(value)} {value.hour:02}:{value.minute:02}"
