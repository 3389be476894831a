"""The risk register's notice: an acceptance of a risk, or an exception to a control, lapsed by itself (expired,
or the risk changed materially). Its owner and its approver are told, once each."""

import datetime

from django.conf import settings
from django.urls import reverse

from isms.notices.engine import notice_create
from isms.notices.kinds import NoticeKind, register
from isms.notices.models import Notice

from .models import Acceptance, ControlException

LAPSED = "risks.decision_lapsed"


def decision_lapsed_notify(decision: Acceptance | ControlException, why: str) -> int:
    """Tell the owner (of the risk, or of the exception) and the approver that the decision lapsed."""
    owner = decision.risk.owner if isinstance(decision, Acceptance) else decision.owner
    label = "acceptance" if isinstance(decision, Acceptance) else "exception"
    written = 0
    for person in {owner.pk: owner, decision.approver_id: decision.approver}.values():
        written += (
            notice_create(
                key=f"risks:{label}:{decision.pk}:lapsed:to:{person.pk}",
                kind=LAPSED,
                recipient=person,
                subject=decision,
                data={"why": why, "what": label},
            )
            is not None
        )
    return written


def _decision(notice: Notice):
    model = Acceptance if notice.data.get("what") == "acceptance" else ControlException
    return model.objects.filter(pk=notice.subject_id).first()


def _context(notice: Notice, today: datetime.date) -> dict:
    decision = _decision(notice)
    if isinstance(decision, Acceptance):
        url = reverse("risks:detail", args=[decision.risk_id])
        title = f"risk {decision.risk.reference} {decision.risk.title}"
    elif decision is not None:
        url = reverse("risks:exception", args=[decision.pk])
        title = f"control {decision.control.reference}: {decision.title}"
    else:
        url, title = "", ""
    return {
        "decision": decision,
        "what": notice.data.get("what"),
        "why": notice.data.get("why"),
        "title": title,
        "detail_url": f"{settings.SITE_URL}{url}" if url else "",
    }


register(
    NoticeKind(
        LAPSED,
        template="risks/email/lapsed",
        still_applies=lambda notice, today: _decision(notice) is not None,
        context=_context,
    )
)
