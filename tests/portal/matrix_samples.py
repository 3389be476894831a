"""Permission matrix: the sampling pages (tests/portal/permission_matrix.py collects it).

The engagement's auditor and the compliance team (as a preview; administrators too) open the samples, draw one,
add and remove records by hand and export a sample; an auditor without this engagement gets a 404 (its ids
cannot be probed); every other staff role gets the 403 page; signed-out and deactivated users the login page."""

from isms.foundation.roles import MANAGERS, Role
from tests.matrix import HIDDEN, OK, Entry, kind

PORTAL = MANAGERS | {Role.AUDITOR}
ENGAGED = {"auditor": HIDDEN, "engaged_auditor": OK}


@kind("portal_sample")
def _sample(objs, holder):
    """A sample of a control's monthly activities (7 in the period: 5 drawn) in the engaged auditor's engagement."""
    import datetime

    from django.utils import timezone

    from portal.models import Engagement, SamplePopulation
    from portal.sampling import sample_draw
    from portal.scope import AuditorPreview
    from tests.factories import make_control, make_requirement, make_schedule

    engagement = Engagement.objects.get(auditors=objs.actor("engaged_auditor"))
    compliance, owner = objs.actor("compliance"), objs.actor("owner")
    control = make_control(owner, reference="SMP-1", name="Sampled control", requirements=[make_requirement()])
    make_schedule(
        owner,
        subject=control,
        title="Monthly review",
        start_date=timezone.localdate() - datetime.timedelta(days=200),
        backfill=True,
    )
    return sample_draw(
        by=compliance,
        viewer=AuditorPreview(engagement, by=compliance),
        engagement=engagement,
        population=SamplePopulation.CONTROL_ACTIVITIES,
        control=control,
        seed=1,
    )


def _addable(sample) -> int:
    from portal.sampling import addable

    return addable(sample).values_list("pk", flat=True).first()


@kind("portal_hand_item")
def _hand_item(objs, holder):
    """A record added by hand to the sample (the only kind that may be removed)."""
    from isms.maintenance.models import Occurrence
    from portal.sampling import sample_item_add

    sample = objs.of("portal_sample", None)
    return sample_item_add(
        by=objs.actor("compliance"),
        sample=sample,
        item=Occurrence.objects.get(pk=_addable(sample)),
        reason="Done by a new starter",
    )


def _of_engagement(sample) -> dict:
    return {"engagement": sample.engagement_id}


def _of_sample(sample) -> dict:
    return {"engagement": sample.engagement_id, "pk": sample.pk}


MATRIX: list = [
    Entry("portal:samples", PORTAL, obj="portal_sample", kwargs=_of_engagement, expect=ENGAGED),
    Entry(
        "portal:samples",
        PORTAL,
        method="post",
        obj="portal_sample",
        kwargs=_of_engagement,
        data=lambda s: {"population": s.population, "control": s.control_id},
        expect=ENGAGED,
    ),
    Entry("portal:sample", PORTAL, obj="portal_sample", kwargs=_of_sample, expect=ENGAGED),
    Entry(
        "portal:sample",
        PORTAL,
        method="post",
        obj="portal_sample",
        kwargs=_of_sample,
        data=lambda s: {"item": _addable(s), "reason": "Looks unusual"},
        expect=ENGAGED,
    ),
    Entry("portal:sample_csv", PORTAL, obj="portal_sample", kwargs=_of_sample, expect=ENGAGED),
    Entry(
        "portal:sample_item_remove",
        PORTAL,
        method="post",
        obj="portal_hand_item",
        kwargs=lambda item: {"engagement": item.sample.engagement_id, "pk": item.pk},
        expect=ENGAGED,
    ),
]
