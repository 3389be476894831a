"""Every address a person supplied is rendered through `safe_href`: a stored `javascript:` or `data:` address
is never a link."""

from urllib.parse import urlsplit

from django import template

register = template.Library()


@register.filter
def safe_href(url: str) -> str:
    """The address if it is an http(s) link, else empty."""
    return url if url and urlsplit(url).scheme.lower() in ("http", "https") else ""
