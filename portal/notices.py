"""The portal's notice: an evidence request was answered, sent to the engagement's auditors so they need not watch
the list (once per round and auditor; not sent if the request was withdrawn or their access ended meanwhile)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.urls import reverse

from isms.notices.engine import notice_create
from isms.notices.kinds import NoticeKind, register
from isms.notices.models import Notice

from .models import EngagementStatus, RequestRound, RequestState

ANSWERED = "portal.request_answered"


def notify_answered(rnd: RequestRound) -> int:
    """Tell each active auditor of the request's engagement that a round was answered. Returns how many notices
    were written (none twice)."""
    req = rnd.request
    written = 0
    for auditor in req.engagement.auditors.filter(is_active=True).exclude(email=""):
        notice = notice_create(
            key=f"portal:request:{req.pk}:round:{rnd.number}:answered:to:{auditor.pk}",
            kind=ANSWERED,
            recipient=auditor,
            subject=rnd,
        )
        written += notice is not None
    return written


def _round(notice: Notice) -> RequestRound | None:
    return (
        RequestRound.objects.select_related("request__engagement", "request__owner")
        .filter(pk=notice.subject_id)
        .first()
    )


def _still_applies(notice: Notice, today: datetime.date) -> bool:
    """Only while the answer waits for the auditors and they may still open it."""
    rnd = _round(notice)
    if rnd is None:
        return False
    engagement = rnd.request.engagement
    return (
        rnd.request.state == RequestState.ANSWERED
        and engagement.status_on(today) == EngagementStatus.OPEN
        and engagement.auditors.filter(pk=notice.recipient_id).exists()
    )


def _context(notice: Notice, today: datetime.date) -> dict:
    rnd = _round(notice)
    req = rnd.request
    from .evidence_requests import round_tasks  # that module sends this notice

    done = round_tasks(rnd).filter(completed_by__isnull=False).select_related("completed_by").first()
    path = reverse("portal:request", kwargs={"engagement": req.engagement_id, "pk": req.pk})
    return {
        "round": rnd,
        "req": req,
        "engagement": req.engagement,
        "answered_by": done.completed_by if done else req.owner,
        "request_url": f"{settings.SITE_URL}{path}",
    }


register(NoticeKind(ANSWERED, template="portal/email/request_answered", still_applies=_still_applies, context=_context))
