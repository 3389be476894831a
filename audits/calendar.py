"""What the audit programme's tasks mean on the calendar (audits, corrective actions, effectiveness checks,
management reviews and their actions), and what it does when the calendar or the registers report something:
a missed control activity or an incident revealing a nonconformity raises one (through the hooks those apps
expose; they never import this one)."""

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from controls.hooks import register_missed_listener
from events.hooks import register_nonconformity_listener
from isms.maintenance.purposes import Purpose, register

from . import services
from .services import AUDIT, CHECK, CORRECTIVE_ACTION, REVIEW, REVIEW_ACTION

log = logging.getLogger(__name__)

register(
    Purpose(
        model="audits.Audit",
        purpose=AUDIT,
        label=lambda audit: f"{audit.reference}: {audit.title}",
        url=lambda audit: reverse("audits:audit", args=[audit.pk]),
    )
)
register(
    Purpose(
        model="audits.CorrectiveAction",
        purpose=CORRECTIVE_ACTION,
        label=lambda action: f"Nonconformity {action.nonconformity.reference}: {action.title}",
        url=lambda action: reverse("audits:nc", args=[action.nonconformity_id]),
        on_completed=services.action_done,
    )
)
register(
    Purpose(
        model="audits.EffectivenessCheck",
        purpose=CHECK,
        label=lambda check: f"Effectiveness check of {check.nonconformity.reference}",
        url=lambda check: reverse("audits:check", args=[check.pk]),
    )
)
register(
    Purpose(
        model="audits.ManagementReview",
        purpose=REVIEW,
        label=lambda review: f"Management review {review.reference}",
        url=lambda review: reverse("audits:review", args=[review.pk]),
    )
)
register(
    Purpose(
        model="audits.ReviewAction",
        purpose=REVIEW_ACTION,
        label=lambda action: f"Management review {action.review.reference}: {action.title}",
        url=lambda action: reverse("audits:review", args=[action.review_id]),
        on_completed=services.review_action_done,
    )
)


def _missed(*, occurrence) -> None:
    """Raise the nonconformity in a savepoint: a refusal (nobody left who could own it) must not undo the calendar
    marking every other task missed in the same scan; it is logged instead."""
    try:
        with transaction.atomic():
            services.nc_from_missed(occurrence=occurrence)
    except ValidationError as exc:
        log.warning("No nonconformity raised for missed task %s: %s", occurrence.pk, "; ".join(exc.messages))


def _revealed(*, record, by) -> None:
    """Likewise for an incident or a change closed as revealing a nonconformity: the closing stands even if the
    nonconformity could not be raised (logged)."""
    from events.models import Change

    try:
        with transaction.atomic():
            if isinstance(record, Change):
                services.nc_from_change(change=record, by=by)
            else:
                services.nc_from_incident(incident=record, by=by)
    except ValidationError as exc:
        log.warning("No nonconformity raised for %s: %s", record.reference, "; ".join(exc.messages))


register_missed_listener(_missed)
register_nonconformity_listener(_revealed)
