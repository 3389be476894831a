"""Read-side queries of the four registers, built for their pages: a constant number of queries whatever the
rows (the related rows each list shows are prefetched once)."""

from django.db.models import Prefetch, QuerySet

from isms.foundation import reach

from .models import Change, ChangeReview, Incident, Objective, ProgressEntry, Supplier


def incident_list(user) -> QuerySet[Incident]:
    return reach.visible(user, Incident.objects.select_related("severity", "owner", "reported_by")).prefetch_related(
        "controls", "risks"
    )


def change_list(user) -> QuerySet[Change]:
    return reach.visible(user, Change.objects.select_related("owner", "supplier", "approved_by")).prefetch_related(
        Prefetch("reviews", queryset=ChangeReview.objects.order_by("kind")), "risks"
    )


def supplier_list(user) -> QuerySet[Supplier]:
    return reach.visible(user, Supplier.objects.select_related("owner")).prefetch_related(
        "certificates", "controls", "risks"
    )


def objective_list(user) -> QuerySet[Objective]:
    return reach.visible(user, Objective.objects.select_related("owner")).prefetch_related(
        Prefetch("entries", queryset=ProgressEntry.objects.order_by("recorded_on", "at"))
    )
