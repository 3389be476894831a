"""The evidence app's notice: a stored file that no longer matches the SHA-256 recorded when it was submitted,
or that is gone (found by the nightly storage check, `services.evidence_storage_verify`)."""

import datetime

from django.conf import settings
from django.urls import reverse

from isms.accounts.models import User
from isms.foundation.roles import Role
from isms.notices.engine import notice_create
from isms.notices.kinds import NoticeKind, register
from isms.notices.models import Notice

from .models import EvidenceItem

INTEGRITY = "evidence.integrity"
PROBLEMS = {"changed": "changed since it was recorded", "missing": "missing from storage"}


def _team() -> list[User]:
    """The compliance team: compliance managers, or the administrators if there are none."""
    team = list(User.objects.filter(is_active=True, role=Role.COMPLIANCE).exclude(email=""))
    return team or list(User.objects.filter(is_active=True, role=Role.ADMIN).exclude(email=""))


def integrity_notify(item: EvidenceItem, problem: str) -> int:
    """Tell the compliance team, once per item and problem, that its stored file changed or went missing."""
    written = 0
    for member in _team():
        notice = notice_create(
            key=f"evidence:{item.pk}:integrity:{problem}:to:{member.pk}",
            kind=INTEGRITY,
            recipient=member,
            subject=item,
            data={"problem": problem, "sha256": item.sha256},
        )
        written += notice is not None
    return written


def _item(notice: Notice) -> EvidenceItem | None:
    return EvidenceItem.objects.filter(pk=notice.subject_id).first()


def _still_applies(notice: Notice, today: datetime.date) -> bool:
    item = _item(notice)
    return item is not None and not item.is_deleted


def _context(notice: Notice, today: datetime.date) -> dict:
    item = _item(notice)
    return {
        "item": item,
        "problem": notice.data.get("problem"),
        "problem_words": PROBLEMS.get(notice.data.get("problem"), "not as recorded"),
        "detail_url": f"{settings.SITE_URL}{reverse('evidence:detail', args=[item.pk])}" if item else "",
    }


register(NoticeKind(INTEGRITY, template="evidence/email/integrity", still_applies=_still_applies, context=_context))
