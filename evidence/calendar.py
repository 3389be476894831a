"""What the evidence app's tasks mean on the calendar, and how a task takes evidence when it is done."""

from django.urls import reverse

from isms.foundation import reach
from isms.maintenance.purposes import Attachments, Purpose, register, register_attachments

from .forms import TaskCompleteForm
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


def _task_evidence(user, occurrence) -> dict:
    """The evidence on a task, for its page. The task-link page (no user) shows what its owner attached."""
    items = occurrence.evidence.select_related("submitted_by").order_by("submitted_at", "pk")
    signed_in = user is not None and user.is_authenticated
    return {
        "task_evidence": list(items),
        "link_downloads": signed_in,
        "task_link": not signed_in,
        "can_add_evidence": signed_in and reach.may(user, "add_evidence", occurrence),
    }


register_attachments(
    Attachments(
        complete=occurrence_complete_with_evidence,
        form=TaskCompleteForm,
        template="evidence/_task_evidence.html",
        context=_task_evidence,
    )
)
