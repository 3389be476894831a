"""What an auditor's open engagements put within their reach: frameworks, requirements, controls, areas and the
period under audit, worked out once per request (a few queries) and kept on the user object.

The compliance team previews an engagement as its auditors see it through `AuditorPreview`, a stand-in user with
the auditor role whose only engagement is the one previewed: the same grant answers both."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.utils import timezone

from controls.models import Control, Requirement
from isms.foundation.roles import Role

from .models import Engagement

_CACHE = "_portal_scopes"


@dataclass(frozen=True)
class Scope:
    """One open engagement's reach."""

    engagement_id: int
    period_start: datetime.date
    period_end: datetime.date
    framework_ids: frozenset[int]
    requirement_ids: frozenset[int]
    control_ids: frozenset[int]
    areas: frozenset[str] = field(default_factory=frozenset)


def scope_of(engagement: Engagement) -> Scope:
    """The requirements in scope are those chosen, else every requirement of the frameworks; the controls are
    those chosen, else every control mapped to a requirement in scope."""
    framework_ids = frozenset(engagement.frameworks.values_list("pk", flat=True))
    chosen_requirements = frozenset(engagement.requirements.values_list("pk", flat=True))
    if chosen_requirements:
        requirement_ids = chosen_requirements
    else:
        requirement_ids = frozenset(
            Requirement.objects.filter(framework__in=framework_ids, retired=False).values_list("pk", flat=True)
        )
    chosen_controls = frozenset(engagement.controls.values_list("pk", flat=True))
    if chosen_controls:
        control_ids = chosen_controls
    else:
        control_ids = frozenset(
            Control.objects.filter(requirements__in=requirement_ids).values_list("pk", flat=True).distinct()
        )
    return Scope(
        engagement_id=engagement.pk,
        period_start=engagement.period_start,
        period_end=engagement.period_end,
        framework_ids=framework_ids,
        requirement_ids=requirement_ids,
        control_ids=control_ids,
        areas=frozenset(engagement.areas or []),
    )


class AuditorPreview:
    """Stands in for an auditor of `engagement` so that the compliance team sees exactly what they see, whether
    or not the engagement is open yet. It is never saved and signs nobody in."""

    role = Role.AUDITOR
    is_authenticated = True
    is_active = True
    is_anonymous = False
    is_preview = True
    pk = id = None
    email = ""

    def __init__(self, engagement: Engagement, by):
        self.engagement = engagement
        self.by = by
        setattr(self, _CACHE, (scope_of(engagement),))

    def __str__(self) -> str:
        return f"Auditor of {self.engagement}"

    def get_full_name(self) -> str:
        return str(self)


def open_engagements(user, today: datetime.date | None = None):
    """The engagements open today that name `user` as an auditor."""
    today = today or timezone.localdate()
    return Engagement.objects.open_on(today).filter(auditors=user)


def scopes(user) -> tuple[Scope, ...]:
    """The reach of each of the user's open engagements (cached on the user object for the request)."""
    cached = getattr(user, _CACHE, None)
    if cached is not None:
        return cached
    found = tuple(scope_of(e) for e in open_engagements(user).prefetch_related(None).order_by("pk"))
    setattr(user, _CACHE, found)
    return found


def forget(user) -> None:
    """Drop the cached scopes (after an engagement changed within one request or test)."""
    if hasattr(user, _CACHE) and not getattr(user, "is_preview", False):
        delattr(user, _CACHE)
