"""The invitation email (a notice, `accounts.invitation`): the accounts app makes the account and asks its
registered sender (isms/accounts/hooks.py) to send it; this top layer may import both accounts and the notice engine.

The link is built when the email is sent, from the account as it is then; an invitation replaced by a newer one
before it went out is not sent (its fingerprint no longer matches)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from isms.accounts.hooks import register_invitation_sender
from isms.accounts.invitations import invitation_fingerprint, invitation_token
from isms.accounts.models import User
from isms.notices.engine import notice_create
from isms.notices.kinds import NoticeKind, register
from isms.notices.models import Notice

INVITATION = "accounts.invitation"


def send(user: User, expires: datetime.datetime, by: User) -> None:
    fingerprint = invitation_fingerprint(user)
    notice_create(
        key=f"accounts:invite:{user.pk}:{fingerprint}",
        kind=INVITATION,
        recipient=user,
        subject=user,
        data={"expires": int(expires.timestamp()), "fingerprint": fingerprint, "by": str(by)},
    )


def _user(notice: Notice) -> User | None:
    return User.objects.filter(pk=notice.recipient_id).first()


def _still_applies(notice: Notice, today: datetime.date) -> bool:
    user = _user(notice)
    return (
        user is not None
        and not user.has_usable_password()
        and invitation_fingerprint(user) == notice.data.get("fingerprint")
        and timezone.now().timestamp() < notice.data.get("expires", 0)
    )


def _context(notice: Notice, today: datetime.date) -> dict:
    user = _user(notice)
    expires = datetime.datetime.fromtimestamp(notice.data["expires"], tz=datetime.UTC)
    token = invitation_token(user, expires)
    return {
        "person": user,
        "invited_by": notice.data.get("by", ""),
        "expires": expires,
        "link": f"{settings.SITE_URL}{reverse('invitation')}?{urlencode({'token': token})}",
        "login_url": f"{settings.SITE_URL}{reverse('login')}",
    }


register(NoticeKind(INVITATION, template="web/email/invitation", still_applies=_still_applies, context=_context))
register_invitation_sender(send)
