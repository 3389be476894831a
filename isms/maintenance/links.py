"""Emailed task links: a signed token that opens exactly one occurrence for its owner, without a password.

The token carries the occurrence, its owner and its link_version, which every change of state or owner
bumps; so a link stops working once the task is done, skipped, reassigned or reopened, and after
TASK_LINK_DAYS. The token travels in the URL fragment (after #), which browsers never send to the server,
so it cannot end up in web server or proxy logs; the page posts it back in a form body.

A link opens nothing once its owner can no longer act on the task (deactivated, now an auditor, no email
address: the reach rule's `may_own_work`); it says so, and the compliance team is told. What the browser keeps
afterwards is a grant (`grant()`): the occurrence, owner and link version the link named, when the link expires
and until when the page may be used, in the session, never the token; every request checks it again.
"""

import datetime

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from isms.foundation.reach import may_own_work

from .models import Occurrence

SALT = "isms.maintenance.task-link"


class LinkRefused(Exception):
    """Why a link (or the grant it gave) opens nothing; `orphaned` when the task's owner can no longer act."""

    def __init__(self, outcome: str, message: str, occurrence: Occurrence | None = None, *, orphaned: bool = False):
        super().__init__(message)
        self.outcome = outcome
        self.message = message
        self.occurrence = occurrence
        self.orphaned = orphaned


#: How long the task page a link opened keeps working in that browser (within the link's own validity).
GRANT_LIFE = datetime.timedelta(hours=2)

ORPHANED_MESSAGE = "This task's owner can no longer act on it; the compliance team has been told."


def make_token(occurrence: Occurrence) -> str:
    return signing.dumps({"o": occurrence.pk, "u": occurrence.owner_id, "v": occurrence.link_version}, salt=SALT)


def task_link_url(occurrence: Occurrence) -> str:
    return f"{settings.SITE_URL}{reverse('maintenance:task_link')}#{make_token(occurrence)}"


def _link_life() -> int:
    return settings.TASK_LINK_DAYS * 86400


def _expired() -> LinkRefused:
    from .models import TaskLinkUse

    return LinkRefused(
        TaskLinkUse.Outcome.EXPIRED, "This link has expired. Sign in to see your tasks, or wait for the next reminder."
    )


def resolve(token: str) -> Occurrence:
    """The occurrence the token opens, or LinkRefused saying why not."""
    occ, _ = _open(token)
    return occ


def _open(token: str) -> tuple[Occurrence, dict]:
    from .models import TaskLinkUse

    try:
        payload = signing.loads(token, salt=SALT, max_age=_link_life())
    except signing.SignatureExpired:
        raise _expired() from None
    except signing.BadSignature:
        raise LinkRefused(
            TaskLinkUse.Outcome.FORGED, "This link is not valid. Copy the whole link from the email."
        ) from None
    signed_at = signing.b62_decode(token.rsplit(":", 2)[-2])
    grant = {"o": payload.get("o"), "u": payload.get("u"), "v": payload.get("v"), "exp": signed_at + _link_life()}
    return _check(grant), grant


def grant(token: str, now: datetime.datetime | None = None) -> tuple[Occurrence, dict]:
    """Check an emailed link and return its occurrence and the grant to keep in the session for its page.

    The grant holds what the link said (occurrence, owner, link version), when the link expires and until when
    the page may be used; never the token itself, so the session table holds nothing that opens a task again."""
    occ, granted = _open(token)
    now = now or timezone.now()
    granted["until"] = min(granted["exp"], int((now + GRANT_LIFE).timestamp()))
    return occ, granted


def resolve_grant(granted: dict, now: datetime.datetime | None = None) -> Occurrence:
    """The occurrence a grant still opens (checked again on every request, as the link was), or LinkRefused."""
    from .models import TaskLinkUse

    now_ts = (now or timezone.now()).timestamp()
    if now_ts > granted.get("exp", 0):
        raise _expired()
    if now_ts > granted.get("until", 0):
        raise LinkRefused(
            TaskLinkUse.Outcome.EXPIRED,
            "This page was open for too long. Open the link from your email again to carry on.",
        )
    return _check(granted)


def _check(granted: dict) -> Occurrence:
    from .models import TaskLinkUse

    Outcome = TaskLinkUse.Outcome
    occ = Occurrence.objects.select_related("schedule", "owner").filter(pk=granted.get("o")).first()
    if occ is None:
        raise LinkRefused(Outcome.STALE, "The task behind this link no longer exists.")
    if occ.owner_id != granted.get("u"):
        raise LinkRefused(Outcome.STALE, "This task has been given to someone else, so the link no longer works.", occ)
    if occ.state == Occurrence.State.DONE:
        raise LinkRefused(Outcome.STALE, "This task is already done; the link has done its job.", occ)
    if occ.state == Occurrence.State.SKIPPED:
        raise LinkRefused(Outcome.STALE, "This task was skipped by the compliance team; nothing to do.", occ)
    if not may_own_work(occ.owner):
        # The reach rule decides for links as for notices, feeds and the API: a leaver's link completes nothing.
        raise LinkRefused(Outcome.STALE, ORPHANED_MESSAGE, occ, orphaned=True)
    if occ.link_version != granted.get("v"):
        raise LinkRefused(Outcome.STALE, "This task has changed since the email was sent; use the newest email.", occ)
    return occ
