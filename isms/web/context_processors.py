"""The navigation bar, built for the signed-in user's role (the views enforce the same rules)."""

from django.urls import reverse

from isms.foundation.roles import Role

# (label, url name, roles that see it). Keep in step with each view's role_required.
_STAFF = {Role.ADMIN, Role.COMPLIANCE, Role.OWNER, Role.VIEWER}
NAV = [
    ("Dashboard", "dashboard", _STAFF),
    ("Calendar", "maintenance:month", _STAFF),
    ("Organisation", "organisation:detail", _STAFF),
    ("Risks", "risks:index", _STAFF),
    ("Controls", "controls:index", _STAFF),
    ("Evidence", "evidence:index", _STAFF),
    ("Audits", "audits:index", _STAFF),
    ("Auditor portal", "evidence:portal", {Role.AUDITOR, Role.ADMIN, Role.COMPLIANCE}),
]


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    for label, name, roles in NAV:
        if user.role in roles:
            url = reverse(name)
            active = request.path == url if url == "/" else request.path.startswith(url)
            items.append({"label": label, "url": url, "active": active})
    return {"nav_items": items}
