"""What the evidence app's tasks mean on the calendar, and how a task takes evidence when it is done."""

from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse

from isms.foundation import reach
from isms.maintenance.purposes import Attachments, Purpose, register, register_attachments
from isms.maintenance.selectors import with_no_evidence_reasons

from .forms import TaskCompleteForm
from .models import EvidenceItem
from .services import RENEWAL, occurrence_complete_with_evidence

register(
    Purpose(
        model="evidence.EvidenceItem",
        purpose=RENEWAL,
        # A renewal hangs on version 1 of the evidence; the task names and links the version in force.
        label=lambda item: f"Evidence: {item.newest_version().title}",
        url=lambda item: reverse("evidence:detail", args=[item.newest_version().pk]),
    )
)


def done_without_evidence(occurrences: QuerySet) -> QuerySet:
    """Of `occurrences`, the tasks done without the evidence their schedule requires: no evidence on them that
    has not been deleted. Computed, not stored, so evidence added to the task later (or deleted) shows at once.
    The reason given for each is read by `maintenance.selectors.with_no_evidence_reasons`."""
    from isms.maintenance.models import Occurrence

    kept = EvidenceItem.objects.filter(occurrence=OuterRef("pk"), deleted_at__isnull=True)
    return occurrences.filter(state=Occurrence.State.DONE, schedule__evidence_required=True).exclude(Exists(kept))


def _task_evidence(user, occurrence) -> dict:
    """The evidence on a task, for its page. The task-link page (no user) shows what its owner attached."""
    from isms.maintenance.models import Occurrence

    items = occurrence.evidence.select_related("submitted_by").order_by("submitted_at", "pk")
    signed_in = user is not None and user.is_authenticated
    done_without = (
        with_no_evidence_reasons(done_without_evidence(Occurrence.objects.filter(pk=occurrence.pk)))
        if occurrence.state == Occurrence.State.DONE
        else []
    )
    return {
        "task_evidence": list(items),
        "link_downloads": signed_in,
        "task_link": not signed_in,
        "can_add_evidence": signed_in and reach.may(user, "add_evidence", occurrence),
        "evidence_required": occurrence.schedule.evidence_required,
        "done_without_evidence": done_without[0] if done_without else None,
    }


register_attachments(
    Attachments(
        complete=occurrence_complete_with_evidence,
        form=TaskCompleteForm,
        template="evidence/_task_evidence.html",
        context=_task_evidence,
        done_without=done_without_evidence,
    )
)
