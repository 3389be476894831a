"""Permission matrix: the team's engagement pages (tests/portal/permission_matrix.py collects it).

The compliance team (managers) opens, changes and ends engagements and reads the auditors' log; leadership
(viewer) reads the list and an engagement's page; everyone else, auditors included (with or without an
engagement, and even on their own engagement's staff page), gets the 403 page. An auditor's post is refused
before any view runs (portal.middleware)."""

from isms.foundation.roles import MANAGERS, Role
from tests.matrix import Entry, kind


@kind("engagement")
def _engagement(objs, holder):
    """The engagement of the engaged auditor (open today, every framework and area)."""
    from portal.models import Engagement

    return Engagement.objects.get(auditors=objs.actor("engaged_auditor"))


def _form(engagement) -> dict:
    return {
        "title": f"{engagement.title} (changed)",
        "certification_body": engagement.certification_body,
        "period_start": engagement.period_start.isoformat(),
        "period_end": engagement.period_end.isoformat(),
        "access_starts_on": engagement.access_starts_on.isoformat(),
        "access_ends_on": engagement.access_ends_on.isoformat(),
        "frameworks": [f.pk for f in engagement.frameworks.all()],
        "areas": list(engagement.areas),
        "auditors": [a.pk for a in engagement.auditors.all()],
    }


READERS = MANAGERS | {Role.VIEWER}

MATRIX: list = [
    Entry("portal:engagements", READERS),
    Entry("portal:engagement_new", MANAGERS),
    Entry("portal:engagement_new", MANAGERS, method="post", obj="engagement", kwargs=lambda e: {}, data=_form),
    Entry("portal:engagement_detail", READERS, obj="engagement"),
    Entry("portal:engagement_edit", MANAGERS, obj="engagement"),
    Entry("portal:engagement_edit", MANAGERS, method="post", obj="engagement", data=_form),
    Entry("portal:engagement_end", MANAGERS, method="post", obj="engagement", data=lambda e: {"reason": "Done"}),
    Entry("portal:engagement_log", MANAGERS, obj="engagement"),
]
