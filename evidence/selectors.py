"""Read-side queries for the evidence pages: the library's filtered list, one item with its versions. Every
query starts from the reach rule (reach.py), so nothing outside the user's reach is ever listed or opened.
Each list is built in a fixed number of queries."""

import datetime
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db.models import BooleanField, Exists, OuterRef, Q, QuerySet, Value

from isms.foundation import reach, search

from .models import EvidenceItem


def is_correctable(item: EvidenceItem) -> bool:
    """Only the newest version of live evidence takes a correction."""
    return not item.is_deleted and not EvidenceItem.objects.filter(supersedes=item).exists()


# --- the library ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LibraryFilters:
    """What the library is narrowed to; every field optional."""

    q: str = ""
    control: object = None
    requirement: object = None
    submitted_by: object = None
    department: object = None
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    source: str = ""
    type: str = ""
    all_versions: bool = False


def library_queryset(user, filters: LibraryFilters | None = None) -> QuerySet[EvidenceItem]:
    """The evidence library for `user`: their reach, narrowed by `filters`, newest first, with everything a
    row shows joined in (the query count does not grow with the rows)."""
    from controls.models import Control

    f = filters or LibraryFilters()
    qs = reach.visible(user, EvidenceItem).select_related(
        "submitted_by", "deleted_by", "control", "requirement__framework", "occurrence"
    )
    if f.all_versions:
        qs = qs.annotate(is_superseded=Exists(EvidenceItem.objects.filter(supersedes=OuterRef("pk"))))
    else:
        # Live evidence is never superseded (live() leaves those out): no subquery per row to say so.
        qs = qs.live().annotate(is_superseded=Value(False, output_field=BooleanField()))
    if f.q:
        qs = search.contains(qs, f.q, "title", "original_name")  # trigram indexes on PostgreSQL (migration 0008)
    if f.control is not None:
        # Evidence filed for the control, which includes every item on a task of its periodic activities (the
        # service files those for the task's control): one range of the (control, newest first) index, 50 rows
        # for the first page whatever the size. An item on one of its tasks filed for another control keeps the
        # task's control in `task_control`; those (usually none) are read first, from a small partial index.
        also = list(EvidenceItem.objects.filter(task_control=f.control).values_list("pk", flat=True))
        qs = qs.filter(Q(control=f.control) | Q(pk__in=also)) if also else qs.filter(control=f.control)
    if f.requirement is not None:
        # Evidence for the requirement itself counts, and so does every mapped control's evidence.
        control_type = ContentType.objects.get_for_model(Control)
        mapped = Control.objects.filter(requirements=f.requirement).values("pk")
        qs = qs.filter(
            Q(requirement=f.requirement)
            | Q(control__in=mapped)
            | Q(occurrence__schedule__subject_type=control_type, occurrence__schedule__subject_id__in=mapped)
        )
    if f.submitted_by is not None:
        qs = qs.filter(submitted_by=f.submitted_by)
    if f.department is not None:
        qs = qs.filter(Q(control__department=f.department) | Q(occurrence__department=f.department))
    if f.date_from:
        qs = qs.filter(effective_date__gte=f.date_from)
    if f.date_to:
        qs = qs.filter(effective_date__lte=f.date_to)
    if f.source:
        qs = qs.filter(source=f.source)
    if f.type:
        qs = qs.filter(type=f.type)
    return qs.order_by("-submitted_at", "-pk")


def evidence_detail(user, pk: int) -> EvidenceItem:
    """One item within the user's reach, with its targets and the people on it; raises DoesNotExist otherwise."""
    return (
        reach.visible(user, EvidenceItem)
        .select_related(
            "submitted_by",
            "deleted_by",
            "control__owner",
            "requirement__framework",
            "occurrence__owner",
            "occurrence__schedule",
            "supersedes",
        )
        .get(pk=pk)
    )


def versions_around(user, item: EvidenceItem) -> tuple[EvidenceItem | None, EvidenceItem | None]:
    """The previous and the next version of an item, each only if the user may read it."""
    visible = reach.visible(user, EvidenceItem)
    previous = visible.filter(pk=item.supersedes_id).first() if item.supersedes_id else None
    following = visible.filter(supersedes=item).first()
    return previous, following
