"""The calendar's notices: which reminders, overdue notices, escalations and digests are due, and what each says.

Beat's scan calls `scan()`: it marks missed tasks, works out every reminder, overdue notice and escalation
that is due today, and writes one Notice row per (occurrence, slot, recipient) with a unique key through the
notice engine (`isms.notices`), which sends each exactly once. Only the latest applicable reminder is written,
so after days of downtime an owner gets one reminder, not one per missed day. The kinds below declare, for the
engine, what each email says and when it no longer applies (a reminder for a task done meanwhile)."""

import datetime
import json

from django.conf import settings
from django.db.models import CharField, Exists, OuterRef, Q, Subquery, TextChoices, TextField, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils import timezone

from isms.accounts.models import User
from isms.foundation.reach import may_own_work
from isms.foundation.roles import STAFF, Role
from isms.notices import engine
from isms.notices.kinds import NoticeKind, register
from isms.notices.models import Notice

from .digests import digest_headers, digest_settings_url
from .links import task_link_url
from .models import Occurrence, Schedule
from .reach import needs_new_owner, why_owner_cannot_act
from .services import mark_missed

# After downtime, escalations for tasks missed longer ago than this are not sent any more.
ESCALATION_CATCH_UP = datetime.timedelta(days=7)


class Slot(TextChoices):
    """The calendar's kinds of notice (Notice.kind)."""

    REMINDER = "maintenance.reminder", "Reminder"
    OVERDUE = "maintenance.overdue", "Overdue"
    ESCALATED = "maintenance.escalated", "Escalated"
    ASSIGNED = "maintenance.assigned", "Assigned"
    OWNER_DIGEST = "maintenance.owner_digest", "Weekly digest"
    TEAM_DIGEST = "maintenance.team_digest", "Compliance digest"
    ORPHANED = "maintenance.orphaned", "Needs a new owner"


def _team() -> list[User]:
    """The compliance team: compliance managers, or the administrators if there are none."""
    team = list(User.objects.filter(is_active=True, role=Role.COMPLIANCE).exclude(email=""))
    return team or list(User.objects.filter(is_active=True, role=Role.ADMIN).exclude(email=""))


def _occurrence_type_id() -> int:
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(Occurrence).pk


def _task_notice(key: str, slot: str, occurrence_id: int, recipient_id: int, **data) -> Notice:
    return engine.notice_row(
        key=key,
        kind=slot,
        recipient_id=recipient_id,
        subject_type_id=_occurrence_type_id(),
        subject_id=occurrence_id,
        data=data,
    )


def _with_assignment(qs):
    """Annotate when the current owner's "assigned" notice was written: that email counts as the reminder (or
    overdue notice) whose day had come when it was sent, so a new owner is not emailed twice within a minute."""
    latest = (
        Notice.objects.filter(
            kind=Slot.ASSIGNED,
            subject_type_id=_occurrence_type_id(),
            subject_id=OuterRef("pk"),
            recipient_id=OuterRef("owner_id"),
        )
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    return qs.annotate(assigned_at=Subquery(latest))


def _longest_lead() -> int:
    """The most days before its due date that any schedule reminds its owner: a task due later than that is
    reminded of nothing today (plan_reminders takes a task's reminder days from its schedule)."""
    leads = Schedule.objects.order_by().values_list("reminder_days", flat=True).distinct()
    return max(
        (max((d for d in days if isinstance(d, int)), default=0) for days in leads if isinstance(days, list)),
        default=0,
    )


def _latest_key(kind: str, recipient="owner_id") -> Subquery:
    """The key of the latest notice of `kind` about this task to its owner (or another recipient column)."""
    return Subquery(
        Notice.objects.filter(
            kind=kind,
            subject_type_id=_occurrence_type_id(),
            subject_id=OuterRef("pk"),
            recipient_id=OuterRef(recipient),
        )
        .order_by("-pk")
        .values("key")[:1]
    )


def _key_written(*parts) -> Exists:
    """A notice with the key made of `parts` (strings, and the task's columns as OuterRef) exists: the
    unique key's index answers it for each task in the query, so tasks already told are not read at all."""
    key = Concat(*(Value(p) if isinstance(p, str) else Cast(p, CharField()) for p in parts), output_field=CharField())
    return Exists(Notice.objects.filter(key=key))


def _written(kind: str, tasks: set[int]) -> set[str]:
    """The keys of the notices of `kind` already written about `tasks`, read through the notices' subject index
    (1,000 tasks a query): the scan leaves those out before making a row, so the engine has nothing to check when
    nothing is new, and the question grows with today's tasks, not with the keys of every recipient."""
    ordered, written = sorted(tasks), set()
    for i in range(0, len(ordered), engine.BATCH):
        written.update(
            Notice.objects.filter(
                kind=kind, subject_type_id=_occurrence_type_id(), subject_id__in=ordered[i : i + engine.BATCH]
            )
            .order_by()
            .values_list("key", flat=True)
        )
    return written


# The scan's queries read only the tasks of today's windows, never the horizon ahead or the history: each is
# bounded by an index range (docs/benchmarks.md, Growth), and each is a plain query with no order (a server-side
# cursor is planned for fast first rows, a row-by-row walk of the whole index).


def plan_reminders(today: datetime.date) -> list[Notice]:
    """The latest reminder whose day has come for each open task, unless it was written already: the key of the
    latest reminder to the owner, read beside the task, says so; only the tasks it does not clear are asked when
    their owner was given them (`_with_assignment`), and the engine checks the keys of what is left."""
    candidates = (
        Occurrence.objects.open()
        .owner_can_act()  # a task whose owner cannot act goes to the compliance team instead (plan_orphaned)
        .filter(
            remind_from__lte=today,
            due_date__gte=today,
            # No schedule reminds earlier than this: the index of open tasks reads only these days.
            due_date__lte=today + datetime.timedelta(days=_longest_lead()),
        )
        .annotate(last_reminder=_latest_key(Slot.REMINDER))
        .order_by()
        # The schedule's reminder days as text, decoded once per distinct list (a few), not once per task.
        .annotate(days=Cast("schedule__reminder_days", TextField()))
        .values_list("pk", "due_date", "owner_id", "days", "last_reminder")
    )
    decoded: dict[str, list[int]] = {}
    due = {}
    for pk, due_date, owner_id, days, last_reminder in candidates:
        reminder_days = decoded.get(days) or decoded.setdefault(days, json.loads(days))
        reached = [d for d in reminder_days if d >= (due_date - today).days]
        if not reached:
            continue
        n = min(reached)  # the most recent reminder whose day has come; older missed ones are not sent
        key = f"occ:{pk}:remind:{n}:to:{owner_id}"
        if key != last_reminder:  # not written yet, as far as the latest reminder says
            due[pk] = (key, due_date, owner_id, n)
    pending = list(due)
    assigned_at = {}
    for i in range(0, len(pending), engine.BATCH):
        chunk = Occurrence.objects.filter(pk__in=pending[i : i + engine.BATCH]).order_by()
        assigned_at.update(_with_assignment(chunk).values_list("pk", "assigned_at"))
    rows = []
    for pk, (key, due_date, owner_id, n) in due.items():
        at = assigned_at.get(pk)
        if at and timezone.localdate(at) >= due_date - datetime.timedelta(days=n):
            continue  # the owner was given the task since this reminder's day: the assignment email said it
        rows.append(_task_notice(key, Slot.REMINDER, pk, owner_id, days_before=n))
    return rows


def plan_overdue(today: datetime.date) -> list[Notice]:
    candidates = (
        _with_assignment(
            Occurrence.objects.open()
            .owner_can_act()
            .filter(due_date__lt=today, grace_until__gte=today)
            .exclude(_key_written("occ:", OuterRef("pk"), ":overdue:to:", OuterRef("owner_id")))
        )
        .order_by()
        .values_list("pk", "due_date", "owner_id", "assigned_at")
    )
    return [
        _task_notice(f"occ:{pk}:overdue:to:{owner_id}", Slot.OVERDUE, pk, owner_id)
        for pk, due_date, owner_id, assigned_at in candidates
        # An owner given the task once it was late was told so by the assignment email.
        if not (assigned_at and timezone.localdate(assigned_at) > due_date)
    ]


def plan_escalations(today: datetime.date) -> list[Notice]:
    team = None
    rows = []
    # Read through the partial index of missed tasks by grace_until: last week's, not every missed task in history.
    candidates = list(
        Occurrence.objects.filter(state=Occurrence.State.MISSED, grace_until__gte=today - ESCALATION_CATCH_UP)
        .order_by()
        .values_list("pk", "schedule__escalate_to_id")
    )
    contacts = {contact for _, contact in candidates if contact}
    # A contact who can no longer act (deactivated, now an auditor) is replaced by the compliance team.
    reachable = set(
        User.objects.filter(pk__in=contacts, is_active=True, role__in=STAFF)
        .exclude(email="")
        .values_list("pk", flat=True)
    )
    for pk, contact in candidates:
        if contact in reachable:
            recipients = [contact]
        else:
            team = team if team is not None else [u.pk for u in _team()]
            recipients = team
        rows += [(f"occ:{pk}:escalated:to:{r}", pk, r) for r in recipients]
    written = _written(Slot.ESCALATED, {pk for _, pk, _ in rows}) if rows else set()
    return [_task_notice(key, Slot.ESCALATED, pk, r) for key, pk, r in rows if key not in written]


def _orphaned_key(occurrence_id: int, owner_id: int, recipient_id: int) -> str:
    return f"occ:{occurrence_id}:orphaned:owner:{owner_id}:to:{recipient_id}"


def plan_orphaned(today: datetime.date) -> list[Notice]:
    """Open tasks whose owner can no longer act, once their reminders would have started: the compliance team is
    told instead, once per task and owner (the unique key), so that someone gives the task a new owner."""
    candidates = Occurrence.objects.orphaned().open().filter(remind_from__lte=today).order_by()
    team = None
    rows = []
    for pk, owner in candidates.values_list("pk", "owner_id"):
        team = team if team is not None else [u.pk for u in _team()]
        rows += [(_orphaned_key(pk, owner, r), pk, r, owner) for r in team]
    written = _written(Slot.ORPHANED, {pk for _, pk, _, _ in rows}) if rows else set()
    return [_task_notice(key, Slot.ORPHANED, pk, r, owner=owner) for key, pk, r, owner in rows if key not in written]


def notify_orphaned(occurrence: Occurrence) -> list[int]:
    """Tell the compliance team now that this task's owner can no longer act on it (the owner tried its link).
    Written once per task and owner, like the scan's: a second try, or the scan later, sends nothing more."""
    if not needs_new_owner(occurrence):
        return []
    pk, owner = occurrence.pk, occurrence.owner_id
    return engine.notices_create(
        [_task_notice(_orphaned_key(pk, owner, u.pk), Slot.ORPHANED, pk, u.pk, owner=owner) for u in _team()]
    )


def notify_assigned(occurrence: Occurrence) -> Notice | None:
    """Tell a task's new owner it is theirs (once per reassignment)."""
    return engine.notice_create(
        key=f"occ:{occurrence.pk}:assigned:v{occurrence.link_version}:to:{occurrence.owner_id}",
        kind=Slot.ASSIGNED,
        recipient=occurrence.owner,
        subject=occurrence,
    )


def scan(today: datetime.date | None = None, now: datetime.datetime | None = None) -> dict:
    """Beat's job: everything due today, each written once and queued."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    missed = mark_missed(today)
    planned = plan_reminders(today) + plan_overdue(today) + plan_escalations(today) + plan_orphaned(today)
    queued = engine.notices_create(planned)
    return {"missed": len(missed), "queued": len(queued)}


def iso_week(day: datetime.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def plan_digests(today: datetime.date | None = None) -> list[int]:
    """Weekly: a digest to each owner with open work, and one to each member of the compliance team."""
    today = today or timezone.localdate()
    week = iso_week(today)
    horizon = today + datetime.timedelta(days=settings.DIGEST_UPCOMING_DAYS)
    owners = (
        Occurrence.objects.filter(
            Q(state=Occurrence.State.OPEN, due_date__lte=horizon) | Q(state=Occurrence.State.MISSED)
        )
        .owner_can_act()
        .filter(owner__receives_digests=True)  # a person who turned digests off gets none
        .values_list("owner_id", flat=True)
        .distinct()
    )
    rows = [
        engine.notice_row(key=f"digest:owner:{week}:to:{o}", kind=Slot.OWNER_DIGEST, recipient_id=o) for o in owners
    ]
    rows += [
        engine.notice_row(key=f"digest:team:{week}:to:{u.pk}", kind=Slot.TEAM_DIGEST, recipient_id=u.pk)
        for u in _team()
        if u.receives_digests
    ]
    return engine.notices_create(rows)


# --- what each kind says, for the engine ------------------------------------------------------------------


def _occurrence(notice: Notice) -> Occurrence | None:
    if not hasattr(notice, "_occurrence"):
        notice._occurrence = Occurrence.objects.select_related("schedule", "owner").filter(pk=notice.subject_id).first()
    return notice._occurrence


def _owner_still_has_it(notice: Notice, today: datetime.date) -> bool:
    """The task is open and still the recipient's, and the reach rule still lets them act on it."""
    occ = _occurrence(notice)
    return (
        occ is not None
        and occ.state == Occurrence.State.OPEN
        and occ.owner_id == notice.recipient_id
        and may_own_work(occ.owner)
    )


def _assignee_still_has_it(notice: Notice, today: datetime.date) -> bool:
    """A reassigned task, open or missed (a missed task still needs doing), is still the recipient's to act on."""
    occ = _occurrence(notice)
    return occ is not None and occ.is_actionable and occ.owner_id == notice.recipient_id and may_own_work(occ.owner)


def _recipient_can_act(notice: Notice, today: datetime.date) -> bool:
    """An owner's digest is for someone who can still act on their tasks (its links would refuse otherwise) and
    still wants digests."""
    return may_own_work(notice.recipient) and notice.recipient.receives_digests


def _recipient_wants_digests(notice: Notice, today: datetime.date) -> bool:
    """Turned off after the digest was planned: it is not sent."""
    return notice.recipient.receives_digests


def _still_orphaned(notice: Notice, today: datetime.date) -> bool:
    """Nobody has given the task a new owner yet, and its owner still cannot act on it."""
    occ = _occurrence(notice)
    return occ is not None and occ.owner_id == notice.data.get("owner") and needs_new_owner(occ)


def _still_missed(notice: Notice, today: datetime.date) -> bool:
    occ = _occurrence(notice)
    return occ is not None and occ.state == Occurrence.State.MISSED


def occ_url(occ: Occurrence) -> str:
    return reverse("maintenance:occurrence", args=[occ.pk])


def _task_context(notice: Notice, today: datetime.date) -> dict:
    occ = _occurrence(notice)
    return {
        "occurrence": occ,
        "schedule": occ.schedule,
        "days_left": (occ.due_date - today).days,
        "days_late": (today - occ.due_date).days,
        "task_url": task_link_url(occ) if notice.kind not in (Slot.ESCALATED, Slot.ORPHANED) else None,
        "detail_url": f"{settings.SITE_URL}{occ_url(occ)}",
    }


def _orphaned_context(notice: Notice, today: datetime.date) -> dict:
    occ = _occurrence(notice)
    return {**_task_context(notice, today), "why": why_owner_cannot_act(occ.owner)}


def _owner_digest_context(notice: Notice, today: datetime.date) -> dict:
    from . import selectors

    return {
        **selectors.owner_digest(notice.recipient, today),
        "digest_settings_url": digest_settings_url(notice.recipient),
    }


def _team_digest_context(notice: Notice, today: datetime.date) -> dict:
    from . import selectors

    return {**selectors.team_digest(today), "digest_settings_url": digest_settings_url(notice.recipient)}


for _slot, _applies, _context in [
    (Slot.REMINDER, _owner_still_has_it, _task_context),
    (Slot.OVERDUE, _owner_still_has_it, _task_context),
    (Slot.ASSIGNED, _assignee_still_has_it, _task_context),
    (Slot.ESCALATED, _still_missed, _task_context),
    (Slot.ORPHANED, _still_orphaned, _orphaned_context),
    (Slot.OWNER_DIGEST, _recipient_can_act, _owner_digest_context),
    (Slot.TEAM_DIGEST, _recipient_wants_digests, _team_digest_context),
]:
    _name = _slot.value.split(".", 1)[1]
    register(
        NoticeKind(
            _slot.value,
            template=f"maintenance/email/{_name}",
            context=_context,
            **({"still_applies": _applies} if _applies else {}),
            **({"headers": digest_headers} if _slot in (Slot.OWNER_DIGEST, Slot.TEAM_DIGEST) else {}),
        )
    )
