"""Permission matrix: the evidence request pages (tests/portal/permission_matrix.py collects it).

The engagement's auditor and the compliance team (as a preview; administrators too) open the list, a request and
the form to ask for evidence, and both ask and withdraw; only the auditor accepts an answer or asks again (the team
gets the 403 page), only the team gives a request to someone else (an auditor's post there is refused as a
write). An auditor without this engagement gets a 404 (its ids cannot be probed); every other staff role — the
person answering included, who sees the request as a task on their calendar — gets the 403 page; signed-out and
deactivated users the login page."""

import datetime

from django.utils import timezone

from isms.foundation.roles import MANAGERS, Role
from tests.matrix import DENIED, HIDDEN, OK, Entry, kind

PORTAL = MANAGERS | {Role.AUDITOR}
ENGAGED = {"auditor": HIDDEN, "engaged_auditor": OK}
AUDITOR_ONLY = {"auditor": HIDDEN, "engaged_auditor": OK, "admin": DENIED, "compliance": DENIED}
TEAM_ONLY = {"auditor": DENIED, "engaged_auditor": DENIED}


@kind("portal_request")
def _request(objs, holder):
    """An open request of the engaged auditor on the owner's control, waiting for the owner's answer."""
    from portal.evidence_requests import request_create
    from portal.models import Engagement
    from tests.factories import make_control, make_requirement

    auditor = objs.actor("engaged_auditor")
    objs.actor("other_owner")  # the person the reassign case gives it to
    engagement = Engagement.objects.get(auditors=auditor)
    control = make_control(
        objs.actor("owner"), reference="REQ-1", name="Requested control", requirements=[make_requirement()]
    )
    return request_create(by=auditor, engagement=engagement, text="The access review of March", control=control)


@kind("portal_answered_request")
def _answered(objs, holder):
    """The same request, answered by its owner with a note (waiting for the auditor)."""
    from django.contrib.contenttypes.models import ContentType

    from isms.maintenance.models import Occurrence
    from isms.maintenance.services import occurrence_complete
    from portal.models import RequestRound

    req = objs.of("portal_request", None)
    rnd = req.rounds.get()
    task = Occurrence.objects.get(
        schedule__subject_type=ContentType.objects.get_for_model(RequestRound), schedule__subject_id=rnd.pk
    )
    task.schedule.evidence_required = False  # answered here without a file: the matrix needs no storage
    task.schedule.save(update_fields=["evidence_required"])
    occurrence_complete(occurrence=task, by=objs.actor("owner"), note="See the shared drive")
    req.refresh_from_db()
    return req


def _of_engagement(req) -> dict:
    return {"engagement": req.engagement_id}


def _of_request(req) -> dict:
    return {"engagement": req.engagement_id, "pk": req.pk}


def _again(req) -> dict:
    return {
        "text": "The sign-off is missing",
        "due_on": (timezone.localdate() + datetime.timedelta(days=5)).isoformat(),
    }


def _to_other_owner(req) -> dict:
    from isms.accounts.models import User

    return {"owner": User.objects.get(username="olga").pk}


MATRIX: list = [
    Entry("portal:requests", PORTAL, obj="portal_request", kwargs=_of_engagement, expect=ENGAGED),
    Entry("portal:request_new", PORTAL, obj="portal_request", kwargs=_of_engagement, expect=ENGAGED),
    Entry(
        "portal:request_new",
        PORTAL,
        method="post",
        obj="portal_request",
        kwargs=_of_engagement,
        data=lambda req: {"text": "The joiners' list of March"},
        expect=ENGAGED,
    ),
    Entry("portal:request", PORTAL, obj="portal_request", kwargs=_of_request, expect=ENGAGED),
    Entry(
        "portal:request_accept",
        PORTAL,
        method="post",
        obj="portal_answered_request",
        kwargs=_of_request,
        expect=AUDITOR_ONLY,
    ),
    Entry(
        "portal:request_ask_again",
        PORTAL,
        method="post",
        obj="portal_answered_request",
        kwargs=_of_request,
        data=_again,
        expect=AUDITOR_ONLY,
    ),
    Entry(
        "portal:request_withdraw",
        PORTAL,
        method="post",
        obj="portal_request",
        kwargs=_of_request,
        data=lambda req: {"reason": "Seen on site"},
        expect=ENGAGED,
    ),
    Entry(
        "portal:request_reassign",
        PORTAL,
        method="post",
        obj="portal_request",
        kwargs=_of_request,
        data=_to_other_owner,
        expect=TEAM_ONLY,
    ),
]
