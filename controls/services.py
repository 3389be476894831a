"""Writes for controls: saving a control with its mappings, adopting a periodic activity, and the Statement of
Applicability's working lines and their approval as frozen versions (see selectors.py for the SoA's shape)."""

import datetime
from collections.abc import Sequence

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from isms.maintenance.recurrence import PRESETS, month_end_safe
from isms.maintenance.services import schedule_save

from .activities import TEMPLATES
from .models import Control, Framework, ImplementationStatus, Requirement, SoAEntry, SoAVersion
from .selectors import controls_prefetch, snapshot_lines, soa_lines, suggested_status, unjustified_exclusions


@transaction.atomic
def activity_adopt(
    *,
    control: Control,
    template: str,
    owner,
    start_date: datetime.date,
    frequency: str = "",
    evidence_required: bool | None = None,
    by=None,
):
    """Put a periodic control activity on the calendar for this control, from a template (which asks for
    evidence unless `evidence_required=False`)."""
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
        evidence_required=spec.evidence_required if evidence_required is None else evidence_required,
    )


# --------------------------------------------------------------------------- Statement of Applicability


class SoAApprovalRefused(Exception):
    """The working SoA cannot be approved as it stands; the message says why, `entries` which lines."""

    def __init__(self, message: str, entries: Sequence[SoAEntry] = ()):
        super().__init__(message)
        self.entries = list(entries)


def soa_entries_ensure(framework: Framework) -> int:
    """Create the missing working line for every non-retired requirement of `framework`; return how many.

    A new line is applicable, without justification, and starts with the status its mapped controls suggest
    (suggested_status). Existing lines are left alone. Two to three queries whatever the catalogue size."""
    missing = list(
        Requirement.objects.filter(framework=framework, retired=False, soa_entry__isnull=True).prefetch_related(
            controls_prefetch()
        )
    )
    if not missing:
        return 0
    SoAEntry.objects.bulk_create(
        [SoAEntry(requirement=r, status=suggested_status(c.status for c in r.controls.all())) for r in missing],
        ignore_conflicts=True,  # a concurrent request created some: theirs stand
    )
    return len(missing)


def soa_entry_update(*, entry: SoAEntry, applicable: bool, justification: str, status: str, by) -> SoAEntry:
    """Change one working line. An excluded line has no implementation status: it is recorded as
    "not applicable" whatever was chosen."""
    entry.applicable = applicable
    entry.justification = justification.strip()
    entry.status = status if applicable else ImplementationStatus.NOT_APPLICABLE
    entry.updated_by = by
    entry.save(update_fields=["applicable", "justification", "status", "updated_by", "updated_at"])
    return entry


@transaction.atomic
def soa_approve(*, framework: Framework, by, note: str = "") -> SoAVersion:
    """Approve the working SoA as the next version: number = previous + 1, approved by `by` now (server
    time), every line frozen in `entries`. Refused while an excluded line has no justification."""
    Framework.objects.select_for_update().filter(pk=framework.pk).first()  # one approval at a time
    soa_entries_ensure(framework)
    entries = soa_lines(framework)
    if not entries:
        raise SoAApprovalRefused(f"{framework.name} has no requirements: there is nothing to approve.")
    blocking = unjustified_exclusions(entries)
    if blocking:
        ids = ", ".join(e.requirement.identifier for e in blocking)
        raise SoAApprovalRefused(
            f"Not approved: every excluded control needs a justification. Missing for {ids}.", blocking
        )
    last = framework.soa_versions.aggregate(n=Max("number"))["n"] or 0
    return SoAVersion.objects.create(
        framework=framework,
        number=last + 1,
        approved_by=by,
        approved_by_name=by.get_full_name() or by.username,
        approved_at=timezone.now(),
        note=note.strip(),
        entries=snapshot_lines(entries),
    )


def catalogues_load_shipped(*, by) -> list:
    """Load (or bring up to date) every catalogue shipped with the application: a manager's button instead of a
    command on the server. Idempotent; a requirement removed from a catalogue is retired, never deleted."""
    from django.core.exceptions import PermissionDenied

    from isms.foundation import reach

    from .catalogue import load_catalogue, shipped_catalogues
    from .models import Framework

    if not reach.may(by, "load_catalogues", Framework):
        raise PermissionDenied("Only the compliance team can load catalogues.")
    return [load_catalogue(path) for path in shipped_catalogues()]
