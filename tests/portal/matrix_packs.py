"""Permission matrix: evidence packs (tests/portal/permission_matrix.py collects it).

The packs page, asking for a pack, its progress and its download are the engaged auditor's (Erin's engagement)
and the compliance team's (a preview; the team may ask for and download a pack too); an auditor without that
engagement gets a 404; control owners and leadership the 403 page; signed-out and deactivated users are sent to
sign in. The signing key's page is public: anyone, signed in or not, may compare the fingerprint."""

from __future__ import annotations

import zipfile

from django.utils import timezone

from isms.foundation.roles import MANAGERS, Role
from tests.matrix import HIDDEN, OK, PUBLIC, Entry, kind

PORTAL = MANAGERS | {Role.AUDITOR}
EXPECT = {"auditor": HIDDEN, "engaged_auditor": OK}


def _engagement(objs):
    from portal.models import Engagement

    objs.actor("engaged_auditor")  # made now if not yet
    return Engagement.objects.get(auditors__username="erin")


@kind("pack_engagement")
def _pack_engagement(objs, holder):
    return _engagement(objs)


@kind("pack")
def _pack(objs, holder):
    """A ready pack of Erin's engagement, its ZIP on disk (a small one: the matrix checks who gets it)."""
    from portal.models import EvidencePack, PackState
    from portal.packs import pack_path

    engagement = _engagement(objs)
    pack = EvidencePack.objects.create(
        engagement=engagement,
        requested_by=objs.actor("compliance"),
        state=PackState.READY,
        started_at=timezone.now(),
        finished_at=timezone.now(),
        file=f"engagement-{engagement.pk}/matrix-{timezone.now():%H%M%S%f}.zip",
        sha256="0" * 64,
        key_fingerprint="matrix",
    )
    path = pack_path(pack)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("README.txt", "matrix")
    EvidencePack.objects.filter(pk=pack.pk).update(size=path.stat().st_size)
    return pack


def _of_engagement(e) -> dict:
    return {"engagement": e.pk}


def _of_pack(p) -> dict:
    return {"engagement": p.engagement_id, "pk": p.pk}


MATRIX: list = [
    Entry("portal:packs", PORTAL, obj="pack_engagement", kwargs=_of_engagement, expect=EXPECT),
    Entry("portal:pack_create", PORTAL, method="post", obj="pack_engagement", kwargs=_of_engagement, expect=EXPECT),
    Entry("portal:pack_progress", PORTAL, obj="pack", kwargs=_of_pack, expect=EXPECT),
    Entry("portal:pack_download", PORTAL, obj="pack", kwargs=_of_pack, expect=EXPECT),
    Entry("portal:pack_key", PUBLIC),
]
