"""The navigation bar: the sections the signed-in user may open."""

from django.urls import resolve, reverse

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


def _may_open(user, url: str) -> bool:
    allowed = getattr(resolve(url).func, "allowed_roles", None)
    return allowed is None or user.role in allowed


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if not is_actor(user):
        return {"nav_items": []}
    items = []
    for label, name in NAV:
        url = reverse(name)
        if _may_open(user, url):
            active = request.path == url if url == "/" else request.path.startswith(url)
            items.append({"label": label, "url": url, "active": active})
    return {"nav_items": items}
