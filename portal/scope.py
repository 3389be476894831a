"""What an auditor's open engagements put within their reach: frameworks, requirements, controls, areas and the
period under audit, worked out once per request (a few queries) and kept on the user object.

The compliance team previews an engagement as its auditors see it through `AuditorPreview`, a stand-in user with
the auditor role whose only engagement is the one previewed: the same grant answers both."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from functools import lru_cache

from django.db import connection
from django.utils import timezone

from controls.models import Control, Requirement
from isms.foundation.roles import Role

from .models import Engagement

_CACHE = "_portal_scopes"
_OPEN = "_portal_open_engagements"
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


@lru_cache(maxsize=1)
def _scope_sql() -> str:
    """scope_of's query, written once: the ORM took longer to compile its five parts than the database to run
    them, on every portal page."""
    frameworks = Engagement.frameworks.through._meta.db_table
    requirements = Engagement.requirements.through._meta.db_table
    controls = Engagement.controls.through._meta.db_table
    mapping = Control.requirements.through._meta.db_table
    requirement = Requirement._meta.db_table
    of_frameworks = (
        f"SELECT r.id FROM {requirement} r WHERE NOT r.retired "  # noqa: S608 (tables of our models; id a parameter)
        f"AND r.framework_id IN (SELECT framework_id FROM {frameworks} WHERE engagement_id = %(e)s)"
    )
    chosen = f"SELECT requirement_id FROM {requirements} WHERE engagement_id = %(e)s"  # noqa: S608
    return (
        f"SELECT {FRAMEWORK}, framework_id FROM {frameworks} WHERE engagement_id = %(e)s "  # noqa: S608
        f"UNION ALL SELECT {REQUIREMENT}, requirement_id FROM {requirements} WHERE engagement_id = %(e)s "
        f"UNION ALL {of_frameworks.replace('SELECT r.id', f'SELECT {OF_FRAMEWORKS}, r.id', 1)} "
        f"UNION ALL SELECT {CONTROL}, control_id FROM {controls} WHERE engagement_id = %(e)s "
        f"UNION ALL SELECT DISTINCT {MAPPED}, m.control_id FROM {mapping} m WHERE m.requirement_id IN ({chosen}) "
        f"OR (NOT EXISTS ({chosen}) AND m.requirement_id IN ({of_frameworks}))"
    )


def scope_of(engagement: Engagement) -> Scope:
    """The requirements in scope are those chosen, else every requirement of the frameworks; the controls are
    those chosen, else every control mapped to a requirement in scope. One query (every portal page asks it, kept
    pages too): each list tagged with what it is."""
    ids: dict[int, set[int]] = {kind: set() for kind in (FRAMEWORK, REQUIREMENT, OF_FRAMEWORKS, CONTROL, MAPPED)}
    with connection.cursor() as cursor:
        cursor.execute(_scope_sql(), {"e": engagement.pk})
        for kind, pk in cursor.fetchall():
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


def open_now(user) -> list[Engagement]:
    """The user's engagements open today, read once per request (cached on the user object): the portal's
    middleware and the reach both ask."""
    cached = getattr(user, _OPEN, None)
    if cached is None:
        cached = list(open_engagements(user).prefetch_related(None).order_by("pk"))
        setattr(user, _OPEN, cached)
    return cached


def scopes(user) -> tuple[Scope, ...]:
    """The reach of each of the user's open engagements (cached on the user object for the request)."""
    cached = getattr(user, _CACHE, None)
    if cached is not None:
        return cached
    found = tuple(scope_of(e) for e in open_now(user))
    setattr(user, _CACHE, found)
    return found


def forget(user) -> None:
    """Drop the cached scopes (after an engagement changed within one request or test)."""
    if getattr(user, "is_preview", False):
        return
    for name in (_CACHE, _OPEN):
        if hasattr(user, name):
            delattr(user, name)
