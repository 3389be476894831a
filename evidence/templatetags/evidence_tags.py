"""Small helpers for the evidence templates."""

import functools

from django import template
from django.template.defaultfilters import urlencode
from django.urls import get_script_prefix, reverse
from django.utils.safestring import mark_safe

from isms.foundation.templatetags.links import safe_href

register = template.Library()
register.filter("safe_href", safe_href)


@register.filter
def pct(value: float) -> str:
    """A percentage for a style attribute, with a dot whatever the locale."""
    return f"{float(value):.3f}".rstrip("0").rstrip(".") + "%"


@functools.cache
def _url_around_id(name: str, prefix: str) -> tuple[str, str]:
    marker = 987654321
    head, tail = reverse(name, args=[marker]).split(str(marker))
    return head, tail


@register.filter
def url_with_id(pk: int, name: str) -> str:
    """`{% url name pk %}` for a URL whose only argument is an id, at the cost of a string join: reversed once
    per process (and script prefix), as a list of a hundred rows would otherwise reverse it on every row."""
    head, tail = _url_around_id(name, get_script_prefix())
    return f"{head}{int(pk)}{tail}"


@register.filter
def strip_svg(paths: list[tuple[str, str]], today_left: float | None) -> str:
    """A compact strip (`coverage._paths`: one path per kind) as one small SVG, with today's line if it falls in
    the period. Kinds and path data are made by the code, never by a person, so nothing needs escaping."""
    today = f'<path class="cov-fill-today" d="M{today_left:.1f} 0h.4v1h-.4z"/>' if today_left is not None else ""
    drawn = "".join(f'<path class="cov-fill-{kind}" d="{d}"/>' for kind, d in paths)
    return mark_safe(  # noqa: S308 - see the docstring
        '<svg class="cov-svg" viewBox="0 0 100 1" preserveAspectRatio="none" aria-hidden="true" focusable="false">'
        f"{drawn}{today}</svg>"
    )


@register.simple_tag(takes_context=True)
def period_query(context) -> str:
    """The period chosen on this page as a query string for a link to another coverage page ("" for the
    default period), worked out once rather than on every row."""
    get = context["request"].GET
    if not get.get("start"):
        return ""
    return f"?start={urlencode(get.get('start'))}&end={urlencode(get.get('end', ''))}"
