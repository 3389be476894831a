"""What every portal page of an engagement starts with: whose eyes it is seen through.

An auditor sees an engagement of theirs open today (anything else is a 404: its id cannot be probed). The
compliance team opens the same address as a preview: the page is built for an `AuditorPreview` of that
engagement, so it shows exactly what its auditors see, through the same grant. Everyone else gets a 403."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from isms.foundation import reach
from isms.foundation.roles import MANAGERS, Role

from ..models import Engagement
from ..scope import AuditorPreview, Scope, scopes

PORTAL_ROLES = MANAGERS | {Role.AUDITOR}


@dataclass
class PortalView:
    """The engagement a portal page is about, and the person (or preview) it is built for."""

    engagement: Engagement
    viewer: object  # the auditor, or an AuditorPreview of the engagement for the compliance team
    preview: bool

    @property
    def scope(self) -> Scope:
        """This engagement's reach (of the viewer's open engagements, the one the page is about)."""
        return next(s for s in scopes(self.viewer) if s.engagement_id == self.engagement.pk)

    def context(self, **extra) -> dict:
        return {"engagement": self.engagement, "viewer": self.viewer, "preview": self.preview, **extra}


def portal_view(request: HttpRequest, engagement: int) -> PortalView:
    """The engagement `engagement` as the request's user may see it in the portal (404 or 403 otherwise)."""
    user = request.user
    if reach.is_auditor(user):
        found = reach.get_or_404(user, Engagement, pk=engagement)
        request.auditor_engagement = found.pk
        return PortalView(found, user, preview=False)
    if reach.is_manager(user):
        found = reach.get_or_404(user, Engagement, pk=engagement)
        return PortalView(found, AuditorPreview(found, by=user), preview=True)
    raise PermissionDenied("The portal is for the engagement's auditors and the compliance team.")


def portal_page(view: Callable) -> Callable:
    """Decorator for a portal page taking `engagement` from its address: passes a `PortalView` as `pv`. The
    page gate is the auditor role or the compliance team (the navigation reads `allowed_roles`)."""

    @wraps(view)
    def wrapped(request, engagement: int, *args, **kwargs):
        if not request.user.is_authenticated or request.user.role not in PORTAL_ROLES:
            raise PermissionDenied("The portal is for the engagement's auditors and the compliance team.")
        return view(request, portal_view(request, engagement), *args, **kwargs)

    wrapped.allowed_roles = PORTAL_ROLES
    return wrapped
