"""Small helpers for the evidence templates."""

from urllib.parse import urlsplit

from django import template

register = template.Library()


@register.filter
def safe_href(url: str) -> str:
    """The address if it is an http(s) link, else empty: a stored `javascript:` address is never a link."""
    return url if url and urlsplit(url).scheme.lower() in ("http", "https") else ""


@register.filter
def pct(value: float) -> str:
    """A percentage for a style attribute, with a dot whatever the locale."""
    return f"{float(value):.3f}".rstrip("0").rstrip(".") + "%"
