"""The demo's evidence: what the calendar's demo history attached to its tasks, dated as when it was done."""

import datetime

from django.db.models import OuterRef, Subquery

from isms.accounts.models import User
from isms.maintenance.models import Occurrence

from .models import EvidenceItem


def load(*, users: dict[str, User], today: datetime.date) -> None:
    """Demo history only: evidence on a task was "submitted" when the task was done, not when the demo loaded."""
    completed_at = Occurrence.objects.filter(pk=OuterRef("occurrence_id")).values("completed_at")[:1]
    EvidenceItem.objects.filter(occurrence__completed_at__isnull=False).update(submitted_at=Subquery(completed_at))
