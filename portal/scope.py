"""What an auditor's open engagements put within their reach: frameworks, requirements, controls, areas and the
period under audit, worked out once per request (a few queries) and kept on the user object.

The compliance team previews an engagement as its auditors see it through `AuditorPreview`, a stand-in user with
the auditor role whose only engagement is the one previewed: the same grant answers both."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Exists, Q, Value
from django.utils import timezone

from controls.models import Control, Requirement
from isms.foundation.roles import Role

from .models import Engagement

_CACHE = "_portal_scopes"
FRAMEWORK, REQUIREMENT, OF_FRAMEWORKS, CONTROL, MAPPED = range(5)  # what each id of scope_of's query is


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
    those chosen, else every control mapped to a requirement in scope. One query (every portal page asks it, kept
    pages too): each list tagged with what it is."""
    chosen_frameworks = Engagement.frameworks.through.objects.filter(engagement_id=engagement.pk)
    chosen_requirements = Engagement.requirements.through.objects.filter(engagement_id=engagement.pk)
    chosen_controls = Engagement.controls.through.objects.filter(engagement_id=engagement.pk)
    of_frameworks = Requirement.objects.filter(
        framework__in=chosen_frameworks.values("framework_id"), retired=False
    ).values("pk")
    in_scope = Q(requirement__in=chosen_requirements.values("requirement_id")) | (
        ~Exists(chosen_requirements) & Q(requirement__in=of_frameworks)
    )
    parts = (
        chosen_frameworks.values_list(Value(FRAMEWORK), "framework_id"),
        chosen_requirements.values_list(Value(REQUIREMENT), "requirement_id"),
        Requirement.objects.filter(pk__in=of_frameworks).values_list(Value(OF_FRAMEWORKS), "pk"),
        chosen_controls.values_list(Value(CONTROL), "control_id"),
        Control.requirements.through.objects.filter(in_scope).values_list(Value(MAPPED), "control_id"),
    )
    ids: dict[int, set[int]] = {kind: set() for kind in (FRAMEWORK, REQUIREMENT, OF_FRAMEWORKS, CONTROL, MAPPED)}
    parts = [part.order_by() for part in parts]  # no ordering within a union (SQLite refuses it)
    for kind, pk in parts[0].union(*parts[1:], all=True):
        ids[kind].add(pk)
    framework_ids = frozenset(ids[FRAMEWORK])
    requirement_ids = frozenset(ids[REQUIREMENT] or ids[OF_FRAMEWORKS])
    control_ids = frozenset(ids[CONTROL] or ids[MAPPED])
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
