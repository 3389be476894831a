"""Places for higher layers in the accounts app, which imports none of them.

The invitation email is a notice, and the notice engine sits above accounts: the layer that may import both
(isms/web) registers the sender once, and `services.user_invite` calls it in its transaction."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from .models import User

#: send(user, expires, by): queue the invitation email for `user`, whose link works until `expires`.
InvitationSender = Callable[[User, datetime.datetime, User], None]
_invitation_sender: list[InvitationSender] = []


def register_invitation_sender(send: InvitationSender) -> None:
    """Declare how an invitation reaches its person (one sender; registering again replaces it)."""
    _invitation_sender[:] = [send]


def send_invitation(user: User, expires: datetime.datetime, by: User) -> None:
    if not _invitation_sender:
        raise RuntimeError("No invitation sender is registered (isms.web registers it in its ready()).")
    _invitation_sender[0](user, expires, by)
