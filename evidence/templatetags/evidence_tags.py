"""Small helpers for the evidence templates."""

from django import template

from isms.foundation.templatetags.links import safe_href

register = template.Library()
register.filter("safe_href", safe_href)


@register.filter
def pct(value: float) -> str:
    """A percentage for a style attribute, with a dot whatever the locale."""
    return f"{float(value):.3f}".rstrip("0").rstrip(".") + "%"
