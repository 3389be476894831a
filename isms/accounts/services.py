"""Writes to a person's account that carry a rule or a record."""

import logging

from .models import User

log = logging.getLogger(__name__)


def user_digests_set(*, user: User, receive: bool) -> bool:
    """Turn the person's weekly digest on or off. Returns whether anything changed."""
    if user.receives_digests == receive:
        return False
    User.objects.filter(pk=user.pk).update(receives_digests=receive)
    user.receives_digests = receive
    log.info("Weekly digest turned %s for user %s", "on" if receive else "off", user.pk)
    return True
