"""Writes for controls: saving a control with its mappings and adopting a periodic activity."""

import datetime

from django.db import transaction

from isms.maintenance.recurrence import PRESETS, month_end_safe
from isms.maintenance.services import schedule_save

from .activities import TEMPLATES
from .models import Control


@transaction.atomic
def activity_adopt(*, control: Control, template: str, owner, start_date: datetime.date, frequency: str = "", by=None):
    """Put a periodic control activity on the calendar for this control, from a template."""
    spec = TEMPLATES[template]
    rrule = month_end_safe(PRESETS[frequency][1] if frequency else spec.rrule, start_date)
    return schedule_save(
        by=by,
        subject=control,
        title=f"{spec.title}: {control.name}"[:200],
        description=spec.description,
        kind=spec.kind,
        owner=owner,
        department=owner.department or control.department,
        rrule=rrule,
        start_date=start_date,
        reminder_days=list(spec.reminder_days),
        grace_days=spec.grace_days,
    )
