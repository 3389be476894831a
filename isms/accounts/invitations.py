"""The invitation link: a signed token naming the person, the day it stops working, and a fingerprint of the
account's password field. Setting a password changes that field, so a used link (or one replaced by a newer
invitation, which resets the field) no longer matches: one use, no table to keep.

The link carries the token in its query string (`?token=`), which the log filter hides (isms/foundation/logs.py)."""

from __future__ import annotations

import datetime
import hashlib

from django.core import signing
from django.utils import timezone

from .models import User

_SALT = "isms.accounts.invitation"


class InvitationRefused(Exception):
    """The link cannot be used; `str()` says why and what to do, in words for the person holding it."""


EXPIRED = "This invitation has expired. Ask your administrator to send a new one."
USED = "This invitation has been used already. Sign in with the password you chose, or ask for a new invitation."
REPLACED = "A newer invitation was sent after this one. Use the link in the latest email."
INVALID = "This invitation link is not valid: it may have been cut short. Open the link from the email again."
INACTIVE = "This account is no longer active. Ask your administrator."


def invitation_fingerprint(user: User) -> str:
    """Changes whenever the account's password field does: a new invitation, or a password chosen."""
    return _fingerprint(user)


def _fingerprint(user: User) -> str:
    return hashlib.sha256(f"{user.pk}:{user.password}".encode()).hexdigest()[:16]


def invitation_token(user: User, expires: datetime.datetime) -> str:
    """The token of an invitation for `user` that works until `expires`."""
    return signing.dumps({"u": user.pk, "e": int(expires.timestamp()), "f": _fingerprint(user)}, salt=_SALT)


def invitation_user(token: str) -> User:
    """The person the invitation is for, if it can still be used; else InvitationRefused saying why."""
    try:
        data = signing.loads(token or "", salt=_SALT)
        user = User.objects.get(pk=data["u"])
        expires = int(data["e"])
        fingerprint = data["f"]
    except (signing.BadSignature, User.DoesNotExist, KeyError, TypeError, ValueError):
        raise InvitationRefused(INVALID) from None
    if user.has_usable_password():
        raise InvitationRefused(USED)
    if fingerprint != _fingerprint(user):
        raise InvitationRefused(REPLACED)
    if timezone.now().timestamp() > expires:
        raise InvitationRefused(EXPIRED)
    if not user.is_active:
        raise InvitationRefused(INACTIVE)
    return user
