"""Engagements: opening, changing and ending one, inviting its auditors; and the auditor action log.

Samples (sampling.py), evidence requests (evidence_requests.py), evidence packs (packs.py) and readiness
(readiness.py) have their own modules."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from audits.models import Audit, AuditKind
from controls.models import Control, Framework, Requirement
from isms.accounts.models import User
from isms.accounts.services import user_invite
from isms.foundation.ratelimit import client_address
from isms.foundation.reach import check
from isms.foundation.roles import Role

from .models import Area, AuditorAction, Engagement

log = logging.getLogger(__name__)

FIELDS = (
    "title",
    "certification_body",
    "audit",
    "period_start",
    "period_end",
    "access_starts_on",
    "access_ends_on",
    "areas",
)


def _validate_scope(
    *,
    audit: Audit | None,
    frameworks: Iterable[Framework],
    requirements: Iterable[Requirement],
    controls: Iterable[Control],
    auditors: Iterable[User],
) -> None:
    errors = {}
    frameworks = list(frameworks)
    if not frameworks:
        errors["frameworks"] = "Choose at least one framework the audit covers."
    framework_ids = {f.pk for f in frameworks}
    stray = [r for r in requirements if r.framework_id not in framework_ids]
    if stray:
        errors["requirements"] = (
            f"{stray[0].identifier} is not in the frameworks chosen: add its framework or leave it out."
        )
    if audit is not None and audit.kind == AuditKind.INTERNAL:
        errors["audit"] = "Choose an external audit (stage 1, stage 2, surveillance or recertification), or none."
    outsiders = [u for u in auditors if u.role != Role.AUDITOR or not u.is_active]
    if outsiders:
        errors["auditors"] = (
            f"{outsiders[0]} is not an active auditor account: invite the auditor by email instead, or ask an "
            "administrator to give the account the auditor role."
        )
    if errors:
        raise ValidationError(errors)


def _invitable(email: str) -> None:
    """An invitation makes a new account: an address that already has one is refused, saying what to do."""
    email = (email or "").strip()
    existing = User.objects.filter(email__iexact=email).first()
    if existing is None:
        return
    if existing.role == Role.AUDITOR and existing.is_active:
        message = (
            f"{email} already has an auditor account ({existing}): tick it under “Auditors with an account” "
            "instead of inviting it again."
        )
    else:
        message = (
            f"{email} belongs to an account that is not an active auditor's: invite the auditor with the address "
            "they use for the audit, or ask an administrator about that account."
        )
    raise ValidationError({"invite": message})


@transaction.atomic
def engagement_save(
    *,
    by: User,
    engagement: Engagement | None = None,
    frameworks: Iterable[Framework],
    requirements: Iterable[Requirement] = (),
    controls: Iterable[Control] = (),
    auditors: Iterable[User] = (),
    invite: Iterable[dict] = (),
    **fields,
) -> Engagement:
    """Open an engagement (engagement=None) or change one: its scope, period, access window and auditors.
    `invite` holds new auditors by email ({"email", "first_name", "last_name"}): each gets an account with the
    auditor role and an emailed invitation."""
    check(by, "create" if engagement is None else "edit", engagement or Engagement)
    if engagement is not None and engagement.ended_at:
        raise ValidationError("This engagement was ended: open a new one instead of changing it.")
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise TypeError(f"unknown engagement fields: {sorted(unknown)}")
    requirements, controls, auditors = list(requirements), list(controls), list(auditors)
    _validate_scope(
        audit=fields.get("audit"),
        frameworks=frameworks,
        requirements=requirements,
        controls=controls,
        auditors=auditors,
    )
    fields["areas"] = [a for a in Area.values if a in set(fields.get("areas") or [])]
    engagement = engagement or Engagement(created_by=by)
    for name, value in fields.items():
        setattr(engagement, name, value)
    engagement.full_clean(exclude=["created_by", "ended_by"])
    engagement.save()
    engagement.frameworks.set(frameworks)
    engagement.requirements.set(requirements)
    engagement.controls.set(controls)
    invited = []
    for person in invite:
        _invitable(person["email"])
        try:
            invited.append(
                user_invite(
                    email=person["email"],
                    first_name=person.get("first_name", ""),
                    last_name=person.get("last_name", ""),
                    role=Role.AUDITOR,
                    department=None,
                    by=by,
                )
            )
        except ValidationError as exc:
            raise ValidationError({"invite": exc.messages}) from exc
    engagement.auditors.set([*auditors, *invited])
    log.info("Engagement %s saved by %s", engagement.pk, by.pk)
    return engagement


@transaction.atomic
def engagement_end(*, engagement: Engagement, by: User, reason: str) -> Engagement:
    """End an engagement before its access window closes. Its auditors' sessions end on their next request
    (portal.middleware), and they see nothing of it any more."""
    check(by, "end", engagement)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the engagement ends: the reason is kept with it."})
    if engagement.ended_at:
        raise ValidationError("This engagement has already ended.")
    engagement.ended_at = timezone.now()
    engagement.ended_by = by
    engagement.end_reason = reason
    engagement.save(update_fields=["ended_at", "ended_by", "end_reason", "updated_at"])
    log.info("Engagement %s ended by %s", engagement.pk, by.pk)
    return engagement


def _client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    address = client_address(request)
    return None if address == "unknown" else address


def action_record(
    *,
    user: User,
    kind: str,
    what: str,
    engagement: Engagement | int | None = None,
    request: HttpRequest | None = None,
    status_code: int | None = None,
) -> AuditorAction:
    """Write one line of the auditor log: who, what, when, from where. Committed even when the request fails."""
    return AuditorAction.objects.create(
        engagement_id=getattr(engagement, "pk", engagement),
        user=user,
        kind=kind,
        what=what[:500],
        method=(request.method or "") if request is not None else "",  # a test sign-in (force_login) has none
        path=request.get_full_path()[:1000] if request is not None else "",
        status_code=status_code,
        ip=_client_ip(request),
        user_agent=(request.META.get("HTTP_USER_AGENT", "") if request is not None else "")[:300],
    )
