"""The weekly digests as mailing lists: each carries a List-Id and a link that turns digests off for its reader.

The link holds a signed token of the person (no expiry: a digest read months later must still let them stop the
next one). It opens a page that says whether digests come and offers to stop or restart them; mail clients that
offer "Unsubscribe" themselves post to the same address (RFC 8058 one-click), which turns them off at once.
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from isms.accounts.models import User
from isms.notices.engine import site_domain
from isms.notices.models import Notice

SALT = "isms.maintenance.digests"
LISTS = {
    "maintenance.owner_digest": ("Weekly ISMS digest", "owner-digest"),
    "maintenance.team_digest": ("Weekly compliance digest", "team-digest"),
}


def digest_token(user: User) -> str:
    return signing.dumps({"u": user.pk}, salt=SALT, compress=False)


def user_from_digest_token(token: str) -> User | None:
    """The active person the token was made for; None if it was altered or the person is gone or deactivated."""
    try:
        pk = signing.loads(token, salt=SALT)["u"]
    except (signing.BadSignature, KeyError, TypeError):
        return None
    return User.objects.filter(pk=pk, is_active=True).first()


def digest_settings_url(user: User) -> str:
    return f"{settings.SITE_URL}{reverse('maintenance:digests', args=[digest_token(user)])}"


def digest_headers(notice: Notice) -> dict[str, str]:
    """List-Id (mail clients group and filter by it) and List-Unsubscribe with its one-click form."""
    name, label = LISTS[notice.kind]
    return {
        "List-Id": f"{name} <{label}.{site_domain()}>",
        "List-Unsubscribe": f"<{digest_settings_url(notice.recipient)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
