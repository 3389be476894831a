"""The navigation bar: the sections the signed-in user may open."""

from functools import lru_cache

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, resolve, reverse

from isms.foundation.reach import is_actor

# (label, url name). Who sees an item is read from the page's own gate (`role_required`), never restated here.
NAV = [
    ("Dashboard", "dashboard"),
    ("Calendar", "maintenance:month"),
    ("Organisation", "organisation:detail"),
    ("Controls", "controls:index"),
    ("Evidence", "evidence:index"),
    ("Risks", "risks:index"),
    ("Registers", "events:home"),
    ("Audits", "audits:programme"),
    ("Engagements", "portal:engagements"),
    ("Your audits", "portal:home"),
]


@lru_cache(maxsize=8)
def _sections(urlconf: str, prefix: str) -> tuple[tuple[str, str, frozenset | None], ...]:
    """(label, address, roles its page lets in, None for everyone signed in) of each section, worked out once per
    URL configuration: reversing and resolving ten addresses on every page cost more than the rest of the bar."""
    out = []
    for label, name in NAV:
        url = reverse(name, urlconf=urlconf)
        allowed = getattr(resolve(url, urlconf=urlconf).func, "allowed_roles", None)
        out.append((label, url, frozenset(allowed) if allowed is not None else None))
    return tuple(out)


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if not is_actor(user):
        return {"nav_items": []}
    items = []
    for label, url, allowed in _sections(get_urlconf() or settings.ROOT_URLCONF, get_script_prefix()):
        if allowed is None or user.role in allowed:
            active = request.path == url if url == "/" else request.path.startswith(url)
            items.append({"label": label, "url": url, "active": active})
    return {"nav_items": items}
