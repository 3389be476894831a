"""Template tags of the events pages."""

from django import template

from ..tables import severity_badge as _severity_badge

register = template.Library()


@register.simple_tag
def severity_badge(severity) -> str:
    """A severity as a badge in its colour (the colours come from the severity stylesheet)."""
    return _severity_badge(severity)
