"""Emailed task links: a signed token that opens exactly one occurrence for its owner, without a password.

The token carries the occurrence, its owner and its link_version, which every change of state or owner
bumps; so a link stops working once the task is done, skipped, reassigned or reopened, and after
TASK_LINK_DAYS. The token travels in the URL fragment (after #), which browsers never send to the server,
so it cannot end up in web server or proxy logs; the page posts it back in a form body.
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from .models import Occurrence

SALT = "isms.maintenance.task-link"


class LinkRefused(Exception):
    def __init__(self, outcome: str, message: str, occurrence: Occurrence | None = None):
        super().__init__(message)
        self.outcome = outcome
        self.message = message
        self.occurrence = occurrence


def make_token(occurrence: Occurrence) -> str:
    return signing.dumps({"o": occurrence.pk, "u": occurrence.owner_id, "v": occurrence.link_version}, salt=SALT)


def task_link_url(occurrence: Occurrence) -> str:
    return f"{settings.SITE_URL}{reverse('maintenance:task_link')}#{make_token(occurrence)}"


def resolve(token: str) -> Occurrence:
    """The occurrence the token opens, or LinkRefused saying why not."""
    from .models import TaskLinkUse

    Outcome = TaskLinkUse.Outcome
    try:
        payload = signing.loads(token, salt=SALT, max_age=settings.TASK_LINK_DAYS * 86400)
    except signing.SignatureExpired:
        raise LinkRefused(
            Outcome.EXPIRED, "This link has expired. Sign in to see your tasks, or wait for the next reminder."
        ) from None
    except signing.BadSignature:
        raise LinkRefused(Outcome.FORGED, "This link is not valid. Copy the whole link from the email.") from None
    occ = Occurrence.objects.select_related("schedule", "owner").filter(pk=payload.get("o")).first()
    if occ is None:
        raise LinkRefused(Outcome.STALE, "The task behind this link no longer exists.")
    if occ.owner_id != payload.get("u"):
        raise LinkRefused(Outcome.STALE, "This task has been given to someone else, so the link no longer works.", occ)
    if occ.state == Occurrence.State.DONE:
        raise LinkRefused(Outcome.STALE, "This task is already done; the link has done its job.", occ)
    if occ.state == Occurrence.State.SKIPPED:
        raise LinkRefused(Outcome.STALE, "This task was skipped by the compliance team; nothing to do.", occ)
    if occ.link_version != payload.get("v"):
        raise LinkRefused(Outcome.STALE, "This task has changed since the email was sent; use the newest email.", occ)
    return occ
