"""Writes on the calendar: saving schedules and materialising their occurrences, and what people do to an
occurrence (complete, reassign, skip, reopen). Each is atomic and leaves a history event."""

import datetime
from collections.abc import Iterable

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from evidence.models import EvidenceItem
from evidence.services import evidence_add_file, evidence_add_link, files_removed_on_error

from .models import Notice, Occurrence, OccurrenceEvent, Schedule

SCHEDULE_FIELDS = (
    "title",
    "description",
    "kind",
    "owner",
    "department",
    "rrule",
    "start_date",
    "end_date",
    "reminder_days",
    "grace_days",
    "escalate_to",
    "active",
)


def horizon(today: datetime.date) -> datetime.date:
    """How far ahead occurrences exist."""
    return today + relativedelta(months=settings.MAINTENANCE_HORIZON_MONTHS)


@transaction.atomic
def schedule_save(
    *, schedule: Schedule | None = None, by=None, subject=None, today: datetime.date | None = None, **fields
) -> Schedule:
    """Create or update a schedule and bring its future occurrences in line with it.

    Occurrences that are done, skipped, missed or past are history and stay as they are."""
    today = today or timezone.localdate()
    creating = schedule is None
    schedule = schedule or Schedule(created_by=by)
    previous_owner_id = None if creating else schedule.owner_id
    for name, value in fields.items():
        if name not in SCHEDULE_FIELDS:
            raise TypeError(f"unknown schedule field {name}")
        setattr(schedule, name, value)
    if subject is not None:
        schedule.subject = subject
    schedule.reminder_days = sorted({int(d) for d in schedule.reminder_days}, reverse=True)
    if schedule.department_id is None and schedule.owner_id:
        schedule.department = schedule.owner.department  # work belongs to its owner's department by default
    schedule.full_clean()
    schedule.save()
    schedule_materialise(schedule=schedule, today=today, previous_owner_id=previous_owner_id)
    return schedule


def schedule_materialise(
    *,
    schedule: Schedule,
    today: datetime.date,
    since: datetime.date | None = None,
    previous_owner_id: int | None = None,
) -> int:
    """Create the schedule's occurrences from `since` (default today) to the horizon; align open future ones.

    Safe to run any number of times. Returns how many occurrences were created."""
    since = since or today
    wanted = set(schedule.due_dates(horizon(today))) if schedule.active else set()
    wanted = {d for d in wanted if d >= since}
    existing = {o.due_date: o for o in schedule.occurrences.filter(due_date__gte=since)}

    lead = datetime.timedelta(days=schedule.lead_days)
    grace = datetime.timedelta(days=schedule.grace_days)
    new = [
        Occurrence(
            schedule=schedule,
            due_date=day,
            title=schedule.title,
            owner_id=schedule.owner_id,
            department_id=schedule.department_id,
            remind_from=day - lead,
            grace_until=day + grace,
        )
        for day in sorted(wanted - existing.keys())
    ]
    Occurrence.objects.bulk_create(new, ignore_conflicts=True)

    # Open occurrences still ahead follow the schedule; history does not.
    for day, occ in existing.items():
        if occ.state != Occurrence.State.OPEN or day < today:
            continue
        if day not in wanted:
            if not occ.events.exists() and not occ.evidence.exists():
                occ.delete()
            continue
        changed = {
            "title": schedule.title,
            "department_id": schedule.department_id,
            "remind_from": day - lead,
            "grace_until": day + grace,
        }
        if previous_owner_id is not None and occ.owner_id == previous_owner_id != schedule.owner_id:
            changed["owner_id"] = schedule.owner_id
            changed["link_version"] = occ.link_version + 1
        if any(getattr(occ, k) != v for k, v in changed.items()):
            for k, v in changed.items():
                setattr(occ, k, v)
            occ.save(update_fields=list(changed))
    return len(new)


def materialise_all(today: datetime.date | None = None) -> int:
    """Beat's daily job: extend every active schedule to the horizon."""
    today = today or timezone.localdate()
    created = 0
    for schedule in Schedule.objects.filter(active=True).iterator():
        with transaction.atomic():
            created += schedule_materialise(schedule=schedule, today=today)
    return created


@transaction.atomic
def one_off_sync(*, subject, title: str, due_date: datetime.date, owner, kind: str, **extra) -> Schedule:
    """Keep a single-date schedule in step with the object it belongs to (an audit date, an action's due date)."""
    from django.contrib.contenttypes.models import ContentType

    schedule = Schedule.objects.filter(
        subject_type=ContentType.objects.get_for_model(subject), subject_id=subject.pk, rrule=""
    ).first()
    if schedule is not None and schedule.start_date != due_date:
        # The date moved: the open occurrence moves with it (done ones stay history).
        moved = schedule.occurrences.filter(state=Occurrence.State.OPEN, due_date=schedule.start_date).first()
        if moved:
            _record(moved, OccurrenceEvent.Action.RESCHEDULED, None, "system", data={"from": str(moved.due_date)})
            moved.due_date = due_date
            moved.remind_from = due_date - datetime.timedelta(days=schedule.lead_days)
            moved.grace_until = due_date + datetime.timedelta(days=schedule.grace_days)
            moved.link_version += 1
            moved.save()
    fields = {"title": title, "start_date": due_date, "owner": owner, "kind": kind, "rrule": "", **extra}
    return schedule_save(schedule=schedule, subject=subject, **fields)


def _control_of(occurrence: Occurrence):
    """The control a task's schedule belongs to, when it belongs to one: its evidence then counts for it."""
    from controls.models import Control

    schedule = occurrence.schedule
    if schedule.subject_type_id and schedule.subject_type.model_class() is Control:
        return Control.objects.filter(pk=schedule.subject_id).first()
    return None


def _record(occurrence: Occurrence, action: str, actor, via: str, note: str = "", data=None) -> OccurrenceEvent:
    return OccurrenceEvent.objects.create(
        occurrence=occurrence, action=action, actor=actor, via=via, note=note, data=data or {}
    )


def _lock(occurrence: Occurrence) -> Occurrence:
    """Re-read the row under a lock so two people acting at once cannot both win."""
    return Occurrence.objects.select_for_update().get(pk=occurrence.pk)


@transaction.atomic
def occurrence_complete(
    *,
    occurrence: Occurrence,
    by,
    note: str = "",
    via: str = "web",
    files: Iterable = (),
    links: Iterable[str] = (),
    now: datetime.datetime | None = None,
) -> Occurrence:
    """Mark the task done at server time, with a note and evidence. Late if after the due date."""
    now = now or timezone.now()
    occ = _lock(occurrence)
    if not occ.is_actionable:
        raise ValidationError(f"This task is already {occ.get_state_display().lower()}.")
    source = {"task link": EvidenceItem.Source.TASK_LINK, "api": EvidenceItem.Source.API}.get(
        via, EvidenceItem.Source.WEB
    )
    control = _control_of(occ)
    with files_removed_on_error():
        # Evidence from a task takes effect on the day the task was done.
        done_on = timezone.localdate(now)
        for upload in files:
            evidence_add_file(
                upload=upload, by=by, source=source, occurrence=occ, control=control, effective_date=done_on
            )
        for url in links:
            evidence_add_link(url=url, by=by, source=source, occurrence=occ, control=control, effective_date=done_on)
    occ.state = Occurrence.State.DONE
    occ.completed_at = now
    occ.completed_on = timezone.localdate(now)
    occ.completed_by = by
    occ.completion_note = note
    occ.link_version = F("link_version") + 1
    occ.save()
    _record(occ, OccurrenceEvent.Action.COMPLETED, by, via, note, {"late": occ.completed_on > occ.due_date})
    occ.refresh_from_db()
    return occ


@transaction.atomic
def occurrence_reassign(*, occurrence: Occurrence, to, by, note: str = "") -> Occurrence:
    """Give the task to someone else; the old owner's link stops working and the new owner is told."""
    from .notices import notice_create

    occ = _lock(occurrence)
    if not occ.is_actionable:
        raise ValidationError("Only an open or missed task can be reassigned.")
    if not to.email:
        raise ValidationError(f"{to} has no email address, so could not be reminded.")
    if to.pk == occ.owner_id:
        raise ValidationError(f"The task is already {to}'s.")
    _record(occ, OccurrenceEvent.Action.REASSIGNED, by, "web", note, {"from": occ.owner_id, "to": to.pk})
    occ.owner = to
    occ.department = to.department or occ.department
    occ.link_version += 1
    occ.save()
    notice_create(
        key=f"occ:{occ.pk}:assigned:v{occ.link_version}:to:{to.pk}",
        slot=Notice.Slot.ASSIGNED,
        occurrence=occ,
        recipient=to,
    )
    return occ


@transaction.atomic
def occurrence_skip(*, occurrence: Occurrence, by, reason: str) -> Occurrence:
    """Skip with a reason (e.g. the system was decommissioned); the reason stays in the history."""
    if not reason.strip():
        raise ValidationError("Say why the task is skipped: the reason is kept for the auditor.")
    occ = _lock(occurrence)
    if not occ.is_actionable:
        raise ValidationError("Only an open or missed task can be skipped.")
    occ.state = Occurrence.State.SKIPPED
    occ.skip_reason = reason
    occ.link_version += 1
    occ.save()
    _record(occ, OccurrenceEvent.Action.SKIPPED, by, "web", reason)
    return occ


@transaction.atomic
def occurrence_reopen(*, occurrence: Occurrence, by, note: str = "", today: datetime.date | None = None) -> Occurrence:
    """Undo a completion or a skip; what was recorded stays in the history and the evidence stays attached."""
    today = today or timezone.localdate()
    occ = _lock(occurrence)
    if occ.is_actionable:
        raise ValidationError("The task is already open.")
    previous = {
        "state": occ.state,
        "completed_at": occ.completed_at.isoformat() if occ.completed_at else None,
        "completed_by": occ.completed_by_id,
        "note": occ.completion_note or occ.skip_reason,
    }
    occ.state = Occurrence.State.MISSED if today > occ.grace_until else Occurrence.State.OPEN
    occ.completed_at = occ.completed_on = occ.completed_by = None
    occ.completion_note = occ.skip_reason = ""
    occ.link_version += 1
    occ.save()
    _record(occ, OccurrenceEvent.Action.REOPENED, by, "web", note, previous)
    return occ


def mark_missed(today: datetime.date) -> list[int]:
    """Open tasks past their grace period become missed. Returns the ids it changed."""
    candidates = Occurrence.objects.open().filter(grace_until__lt=today)
    ids = list(candidates.values_list("pk", flat=True))
    if not ids:
        return []
    with transaction.atomic():
        # The conditional update decides; a concurrent run changes nothing twice.
        changed = list(
            Occurrence.objects.filter(pk__in=ids, state=Occurrence.State.OPEN)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)
        )
        Occurrence.objects.filter(pk__in=changed, state=Occurrence.State.OPEN).update(
            state=Occurrence.State.MISSED, link_version=F("link_version") + 1
        )
        OccurrenceEvent.objects.bulk_create(
            [OccurrenceEvent(occurrence_id=pk, action=OccurrenceEvent.Action.MISSED, via="system") for pk in changed]
        )
    return changed
