"""Writes on the calendar: saving schedules and materialising their occurrences, and what people do to an
occurrence (complete, reassign, skip, reopen). Each is atomic and leaves a history event.

The public API for domains: `schedule_for(subject, purpose=…, …)` keeps one schedule per (subject, purpose)
in step with the domain object; `schedule_retire(subject, purpose, reason)` takes it off the calendar;
`schedule_save(…, subject=…)` adds recurring activities (any number per subject)."""

import datetime
import logging

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from isms.foundation import reach

from . import purposes, recurrence
from .models import Occurrence, OccurrenceEvent, Schedule

log = logging.getLogger(__name__)

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
    "purpose",
    "evidence_required",
)


def horizon(today: datetime.date) -> datetime.date:
    """How far ahead occurrences exist."""
    return today + relativedelta(months=settings.MAINTENANCE_HORIZON_MONTHS)


@transaction.atomic
def schedule_save(
    *, schedule: Schedule | None = None, by=None, subject=None, today: datetime.date | None = None, **fields
) -> Schedule:
    """Create or update a schedule and bring its future occurrences in line with it.

    Occurrences that are done, skipped, missed or past are history and stay as they are. A new schedule dated
    in the past is never a silent nothing: its most recent date on or before today becomes a task too, overdue
    at once (a one-off's only date; a recurring schedule's latest past date). Earlier past dates are not made:
    they would read as missed work that may well have been done before the schedule was entered."""
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
    since = _latest_past_date(schedule, today) if creating else None
    schedule_materialise(
        schedule=schedule, today=today, since=since, previous_owner_id=previous_owner_id, entered_late=since is not None
    )
    return schedule


def _latest_past_date(schedule: Schedule, today: datetime.date) -> datetime.date | None:
    """The schedule's most recent due date before today, if it has one (bounded like every expansion)."""
    if schedule.start_date >= today:
        return None
    return recurrence.last_on_or_before(
        schedule.rrule, schedule.start_date, schedule.end_date, today - datetime.timedelta(days=1)
    )


def schedule_materialise(
    *,
    schedule: Schedule,
    today: datetime.date,
    since: datetime.date | None = None,
    previous_owner_id: int | None = None,
    entered_late: bool = False,
) -> int:
    """Create the schedule's occurrences from `since` (default today) to the horizon; align open future ones.

    `entered_late`: the schedule was just entered with a date already past; that task gets its whole grace period
    from today, so it is overdue (and reminded) rather than missed and escalated the moment it is entered.
    Safe to run any number of times. Returns how many occurrences were created."""
    since = since or today
    # Only the dates from `since` on are worked out (bounded in recurrence.occurrence_dates, whatever the rule).
    wanted = (
        set(recurrence.occurrence_dates(schedule.rrule, schedule.start_date, schedule.end_date, horizon(today), since))
        if schedule.active
        else set()
    )
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
            grace_until=max(day, today) + grace if entered_late else day + grace,
        )
        for day in sorted(wanted - existing.keys())
    ]
    Occurrence.objects.bulk_create(new, ignore_conflicts=True)

    # Open occurrences still ahead follow the schedule; history does not.
    for day, occ in existing.items():
        if occ.state != Occurrence.State.OPEN or day < today:
            continue
        if day not in wanted:
            if not _has_record(occ):
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
        try:
            with transaction.atomic():
                created += schedule_materialise(schedule=schedule, today=today)
        except recurrence.RecurrenceError as exc:
            # A rule stored before rules were read strictly (or written around the service) must not stop the
            # job for every other schedule; it is passed over until someone corrects it.
            log.warning("Schedule %s (%s) was not extended: %s", schedule.pk, schedule.title, exc)
    return created


def _has_record(occ: Occurrence) -> bool:
    """Something was recorded on the task (history, or anything another app attached, such as evidence), so it
    is kept even when its schedule no longer wants that date."""
    if occ.events.exists():
        return True
    for rel in Occurrence._meta.related_objects:
        if (
            rel.one_to_many
            and rel.related_model is not OccurrenceEvent
            and rel.related_model._default_manager.filter(**{rel.field.name: occ}).exists()
        ):
            return True
    return False


def _subject_filter(subject) -> dict:
    from django.contrib.contenttypes.models import ContentType

    return {"subject_type": ContentType.objects.get_for_model(subject), "subject_id": subject.pk}


@transaction.atomic
def schedule_for(
    *,
    subject,
    purpose: str,
    title: str,
    owner,
    start_date: datetime.date,
    kind: str,
    rrule: str = "",
    by=None,
    today: datetime.date | None = None,
    **extra,
) -> Schedule:
    """Keep the one schedule of `subject` for `purpose` in step with it (an audit date, an action's due date,
    an evidence renewal). A single date when `rrule` is empty; a moved date moves the open task with it (done
    ones stay history). Several purposes per subject are told apart: a nonconformity's corrective action and
    its effectiveness check are two schedules."""
    if not purpose:
        raise ValueError("schedule_for needs a purpose; recurring activities use schedule_save(subject=…)")
    schedule = Schedule.objects.select_for_update().filter(**_subject_filter(subject), purpose=purpose).first()
    if schedule is not None and not rrule and not schedule.rrule and schedule.start_date != start_date:
        # The date moved: the open occurrence moves with it (done ones stay history).
        moved = schedule.occurrences.filter(state=Occurrence.State.OPEN, due_date=schedule.start_date).first()
        if moved and not schedule.occurrences.filter(due_date=start_date).exists():
            _record(moved, OccurrenceEvent.Action.RESCHEDULED, None, "system", data={"from": str(moved.due_date)})
            moved.due_date = start_date
            moved.remind_from = start_date - datetime.timedelta(days=schedule.lead_days)
            moved.grace_until = start_date + datetime.timedelta(days=schedule.grace_days)
            moved.link_version += 1
            moved.save()
    fields = {"title": title, "start_date": start_date, "owner": owner, "kind": kind, "rrule": rrule, "active": True}
    return schedule_save(schedule=schedule, subject=subject, purpose=purpose, by=by, today=today, **fields, **extra)


@transaction.atomic
def schedule_retire(*, subject, purpose: str, reason: str, by=None) -> int:
    """Take the subject's schedule for `purpose` off the calendar: its open tasks are skipped with `reason`
    (kept in their history) and it makes no more. Returns how many open tasks were skipped."""
    skipped = 0
    for schedule in Schedule.objects.select_for_update().filter(**_subject_filter(subject), purpose=purpose):
        for occ in schedule.occurrences.filter(state__in=[Occurrence.State.OPEN, Occurrence.State.MISSED]):
            occ.state = Occurrence.State.SKIPPED
            occ.skip_reason = reason
            occ.link_version += 1
            occ.save(update_fields=["state", "skip_reason", "link_version"])
            _record(occ, OccurrenceEvent.Action.SKIPPED, by, "system", reason)
            skipped += 1
        if schedule.active:
            schedule.active = False
            schedule.save(update_fields=["active", "updated_at"])
    return skipped


def _record(occurrence: Occurrence, action: str, actor, via: str, note: str = "", data=None) -> OccurrenceEvent:
    return OccurrenceEvent.objects.create(
        occurrence=occurrence, action=action, actor=actor, via=via, note=note, data=data or {}
    )


def _lock(occurrence: Occurrence) -> Occurrence:
    """Re-read the row under a lock so two people acting at once cannot both win."""
    return Occurrence.objects.select_for_update().get(pk=occurrence.pk)


def occurrence_lock(occurrence: Occurrence, *, by=None) -> Occurrence:
    """Lock the task for a completion and check it can still be completed, and by `by` (the reach rule: its
    owner while they can act, or the compliance team), inside the caller's transaction."""
    occ = _lock(occurrence)
    if not occ.is_actionable:
        raise ValidationError(f"This task is already {occ.get_state_display().lower()}.")
    if by is not None:
        reach.check(by, "complete", occ)
    return occ


@transaction.atomic
def occurrence_complete(
    *,
    occurrence: Occurrence,
    by,
    note: str = "",
    via: str = "web",
    now: datetime.datetime | None = None,
    record: dict | None = None,
) -> Occurrence:
    """Mark the task done at server time, with a note. Late if after the due date. Evidence is attached by the
    evidence app's service, which calls this in the same transaction; `record` adds to the history entry (the
    reason a task that asks for evidence was done without it)."""
    now = now or timezone.now()
    occ = occurrence_lock(occurrence, by=by)
    occ.state = Occurrence.State.DONE
    occ.completed_at = now
    occ.completed_on = timezone.localdate(now)
    occ.completed_by = by
    occ.completion_note = note
    occ.link_version = F("link_version") + 1
    occ.save()
    data = {"late": occ.completed_on > occ.due_date, **(record or {})}
    _record(occ, OccurrenceEvent.Action.COMPLETED, by, via, note, data)
    occ.refresh_from_db()
    declared = purposes.purpose_of(occ.schedule)
    if declared is not None and declared.on_completed is not None:
        declared.on_completed(occurrence=occ, by=by)
    return occ


@transaction.atomic
def occurrence_reassign(*, occurrence: Occurrence, to, by, note: str = "") -> Occurrence:
    """Give the task to someone else; the old owner's link stops working and the new owner is told."""
    from .notices import notify_assigned

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
    notify_assigned(occ)
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
    # The grace period is never negative (due_date <= grace_until), so the (state, due_date) index reads only the
    # open tasks already past their due date, not every open task ahead.
    candidates = Occurrence.objects.open().filter(grace_until__lt=today, due_date__lt=today)
    ids = list(candidates.order_by().values_list("pk", flat=True))
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
        _missed_hooks(changed)
    return changed


def _missed_hooks(ids: list[int]) -> None:
    """Tell the domains whose tasks were missed (a missed control activity may raise a nonconformity)."""
    with_subject = Occurrence.objects.filter(pk__in=ids, schedule__subject_type__isnull=False).select_related(
        "schedule"
    )
    for occ in with_subject.iterator(chunk_size=500):
        declared = purposes.purpose_of(occ.schedule)
        if declared is not None and declared.on_missed is not None:
            declared.on_missed(occurrence=occ)
