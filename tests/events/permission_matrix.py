"""Incidents, changes, suppliers and objectives (events/urls.py) and their read API (events/api/urls.py).

Managers and leadership read every incident and change; a control owner reads the ones they reported or own (the
other owner's is a 404) and keeps their own open ones up to date; viewers read but change nothing (403). Every
staff member reads suppliers and objectives; their owners update their own (another's: 403). The compliance team
approves, closes, sets the severity scale and imports. Auditors see nothing here (403 on pages, 401 from the
API)."""

import datetime
from decimal import Decimal

from django.utils import timezone

from isms.foundation.roles import MANAGERS, STAFF
from tests.matrix import DENIED, LOGIN, OK, Entry, kind

NO = {
    "changes_scope": False,
    "changes_assets": False,
    "changes_supplier": False,
    "changes_locations": False,
    "changes_obligations": False,
    "changes_people": False,
    "changes_controls": False,
}


def _holder(objs, holder):
    """The object is made by its holder when they can act, else by the compliance manager and handed over (a
    deactivated holder's twin)."""
    return holder if holder.is_active else objs.actor("compliance")


@kind("incident")
def _incident(objs, holder):
    """An incident the holder reported and handles."""
    from events.models import Incident
    from events.services import incident_create, severity_scale_ensure

    today = timezone.localdate()
    incident = incident_create(
        by=_holder(objs, holder),
        owner=_holder(objs, holder),
        title=f"Incident of {holder.username}",
        description="Lost laptop",
        occurred_on=today,
        detected_on=today,
        severity=severity_scale_ensure()[0],
    )
    Incident.objects.filter(pk=incident.pk).update(owner=holder, reported_by=holder)
    return incident


@kind("change")
def _change(objs, holder):
    """A change the holder recorded and owns, with a "yes" that opened a scope review owned by the holder."""
    from events.models import Change, ChangeReview
    from events.services import change_create

    change = change_create(
        by=_holder(objs, holder),
        owner=_holder(objs, holder),
        title=f"Change of {holder.username}",
        planned_on=timezone.localdate() + datetime.timedelta(days=30),
        **{**NO, "changes_scope": True},
    )
    Change.objects.filter(pk=change.pk).update(owner=holder, requested_by=holder)
    ChangeReview.objects.filter(change=change).update(owner=holder)
    from isms.maintenance.models import Occurrence, Schedule

    Schedule.objects.filter(subject_id__in=change.reviews.values("pk"), purpose="review").update(owner=holder)
    Occurrence.objects.filter(schedule__subject_id__in=change.reviews.values("pk"), schedule__purpose="review").update(
        owner=holder
    )
    return change


@kind("change_review")
def _change_review(objs, holder):
    return objs.of("change", holder).reviews.get()


@kind("supplier")
def _supplier(objs, holder):
    from events.models import Supplier
    from events.services import supplier_save

    supplier = supplier_save(
        by=objs.actor("compliance"), name=f"Supplier of {holder.username}", service="Hosting", criticality="high",
        owner=objs.actor("compliance"),
    )  # fmt: skip
    Supplier.objects.filter(pk=supplier.pk).update(owner=holder)
    supplier.refresh_from_db()
    return supplier


@kind("certificate")
def _certificate(objs, holder):
    from events.models import Certificate

    return Certificate.objects.create(
        supplier=objs.of("supplier", holder),
        name="ISO/IEC 27001",
        expires_on=timezone.localdate() + datetime.timedelta(days=200),
    )


@kind("objective")
def _objective(objs, holder):
    from events.models import Objective
    from events.services import objective_save

    today = timezone.localdate()
    objective = objective_save(
        by=objs.actor("compliance"), title=f"Objective of {holder.username}", measure="% trained",
        baseline=Decimal(50), target=Decimal(90), owner=objs.actor("compliance"), start_on=today,
        due_on=today + datetime.timedelta(days=300),
    )  # fmt: skip
    Objective.objects.filter(pk=objective.pk).update(owner=holder)
    objective.refresh_from_db()
    return objective


OWNERS_ONLY = {"viewer": DENIED}
API = {"api": True, "refused": LOGIN}

MATRIX: list[Entry] = [
    Entry("events:home", STAFF),
    Entry("events:incidents", STAFF),
    Entry("events:incident_create", STAFF),
    Entry("events:severity", MANAGERS),
    Entry("events:severity_css", STAFF),
    Entry("events:incident", STAFF, owned="incident"),
    Entry("events:incident_edit", STAFF, owned="incident", expect=OWNERS_ONLY),
    Entry("events:incident_close", MANAGERS, owned="incident"),
    Entry("events:changes", STAFF),
    Entry("events:change_create", STAFF),
    Entry("events:change", STAFF, owned="change"),
    Entry("events:change_edit", STAFF, owned="change", expect=OWNERS_ONLY),
    Entry("events:change_approve", MANAGERS, method="post", owned="change"),
    Entry("events:change_close", MANAGERS, method="post", owned="change"),
    Entry("events:change_review_done", STAFF, method="post", owned="change_review", expect=OWNERS_ONLY),
    Entry("events:suppliers", STAFF),
    Entry("events:supplier_create", MANAGERS),
    Entry("events:supplier", STAFF, owned="supplier", on_others=OK),
    Entry("events:supplier_edit", STAFF, owned="supplier", on_others=DENIED, expect=OWNERS_ONLY),
    Entry("events:supplier_review", STAFF, owned="supplier", on_others=DENIED, expect=OWNERS_ONLY),
    Entry("events:certificate_add", STAFF, owned="supplier", on_others=DENIED, expect=OWNERS_ONLY),
    Entry("events:certificate_edit", STAFF, owned="certificate", on_others=DENIED, expect=OWNERS_ONLY),
    Entry("events:objectives", STAFF),
    Entry("events:objective_create", MANAGERS),
    Entry("events:objective", STAFF, owned="objective", on_others=OK),
    Entry("events:objective_edit", STAFF, owned="objective", on_others=DENIED, expect=OWNERS_ONLY),
    Entry("events:objective_progress", STAFF, owned="objective", on_others=DENIED, expect=OWNERS_ONLY),
    Entry("events:import", MANAGERS, kwargs=lambda _: {"register": "suppliers"}),
    Entry("events_api:incidents", STAFF, **API),
    Entry("events_api:incident", STAFF, owned="incident", **API),
    Entry("events_api:changes", STAFF, **API),
    Entry("events_api:change", STAFF, owned="change", **API),
    Entry("events_api:suppliers", STAFF, **API),
    Entry("events_api:supplier", STAFF, owned="supplier", on_others=OK, **API),
    Entry("events_api:objectives", STAFF, **API),
    Entry("events_api:objective", STAFF, owned="objective", on_others=OK, **API),
]
