"""Which notices are due, and sending each exactly once.

Beat's scan calls `scan()`: it marks missed tasks, works out every reminder, overdue notice and escalation
that is due today, and writes one Notice row per (occurrence, slot, recipient) with a unique key, in the
transaction that queues its delivery. Only the latest applicable reminder is written, so after days of
downtime an owner gets one reminder, not one per missed day. `deliver()` claims a notice with a
conditional update before sending and marks it sent only when the mail server accepted it; a failed
send keeps the claim for a growing pause (`retry_pause`) and is then re-queued by the scan, as is any
notice whose queued delivery was lost, so none is lost and an outage does not flood the queue.
"""

import datetime
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from isms.accounts.models import User
from isms.accounts.roles import Role
from isms.foundation.emails import build_email

from .links import task_link_url
from .models import Notice, Occurrence
from .services import mark_missed

log = logging.getLogger(__name__)

CLAIM = datetime.timedelta(minutes=10)
# Unsent notices older than this are queued again by the scan (lost enqueue, crashed worker).
REQUEUE_AFTER = datetime.timedelta(minutes=5)
# After downtime, escalations for tasks missed longer ago than this are not sent any more.
ESCALATION_CATCH_UP = datetime.timedelta(days=7)


def _enqueue(notice_ids: list[int]) -> None:
    """Queue delivery; if the broker is down the notices stay unsent and the next scan re-queues them."""
    from .tasks import deliver_notice

    for pk in notice_ids:
        try:
            deliver_notice.delay(pk)
        except Exception:  # noqa: BLE001 - any broker failure: the row is the source of truth
            log.warning("Could not queue notice %s; the next scan will retry", pk, exc_info=True)


def notice_create(*, key: str, slot: str, recipient, occurrence=None, days_before=None) -> Notice | None:
    """Write the notice row; queue its delivery when the transaction commits. None if it already exists."""
    try:
        with transaction.atomic():
            notice = Notice.objects.create(
                key=key, slot=slot, recipient=recipient, occurrence=occurrence, days_before=days_before
            )
    except IntegrityError:
        return None
    transaction.on_commit(lambda: _enqueue([notice.pk]))
    return notice


def _bulk_create(rows: list[Notice]) -> list[int]:
    """Insert the notices whose key is new; return their ids (queued on commit)."""
    if not rows:
        return []
    keys = [r.key for r in rows]
    existing = set()
    for i in range(0, len(keys), 1000):
        existing.update(Notice.objects.filter(key__in=keys[i : i + 1000]).values_list("key", flat=True))
    fresh = [r for r in rows if r.key not in existing]
    if not fresh:
        return []
    with transaction.atomic():
        # ignore_conflicts: a concurrent scan may insert the same keys; the unique key decides.
        Notice.objects.bulk_create(fresh, ignore_conflicts=True, batch_size=1000)
        ids = []
        fresh_keys = [r.key for r in fresh]
        for i in range(0, len(fresh_keys), 1000):
            ids += Notice.objects.filter(key__in=fresh_keys[i : i + 1000], sent_at__isnull=True).values_list(
                "pk", flat=True
            )
        transaction.on_commit(lambda: _enqueue(ids))
    return ids


def _team() -> list[User]:
    """The compliance team: compliance managers, or the administrators if there are none."""
    team = list(User.objects.filter(is_active=True, role=Role.COMPLIANCE).exclude(email=""))
    return team or list(User.objects.filter(is_active=True, role=Role.ADMIN).exclude(email=""))


def plan_reminders(today: datetime.date) -> list[Notice]:
    rows = []
    candidates = (
        Occurrence.objects.open()
        .filter(remind_from__lte=today, due_date__gte=today)
        .select_related("schedule")
        .only("pk", "due_date", "owner_id", "schedule__reminder_days")
    )
    for occ in candidates.iterator(chunk_size=2000):
        days_left = (occ.due_date - today).days
        reached = [d for d in occ.schedule.reminder_days if d >= days_left]
        if not reached:
            continue
        n = min(reached)  # the most recent reminder whose day has come; older missed ones are not sent
        rows.append(
            Notice(
                key=f"occ:{occ.pk}:remind:{n}:to:{occ.owner_id}",
                slot=Notice.Slot.REMINDER,
                occurrence_id=occ.pk,
                recipient_id=occ.owner_id,
                days_before=n,
            )
        )
    return rows


def plan_overdue(today: datetime.date) -> list[Notice]:
    candidates = Occurrence.objects.open().filter(due_date__lt=today, grace_until__gte=today)
    return [
        Notice(key=f"occ:{pk}:overdue:to:{owner}", slot=Notice.Slot.OVERDUE, occurrence_id=pk, recipient_id=owner)
        for pk, owner in candidates.values_list("pk", "owner_id").iterator(chunk_size=2000)
    ]


def plan_escalations(today: datetime.date) -> list[Notice]:
    team = None
    rows = []
    candidates = Occurrence.objects.filter(
        state=Occurrence.State.MISSED, grace_until__gte=today - ESCALATION_CATCH_UP
    ).values_list("pk", "schedule__escalate_to_id")
    for pk, contact in candidates.iterator(chunk_size=2000):
        if contact:
            recipients = [contact]
        else:
            team = team if team is not None else [u.pk for u in _team()]
            recipients = team
        rows += [
            Notice(key=f"occ:{pk}:escalated:to:{r}", slot=Notice.Slot.ESCALATED, occurrence_id=pk, recipient_id=r)
            for r in recipients
        ]
    return rows


def requeue_stale(now: datetime.datetime) -> list[int]:
    ids = list(
        Notice.objects.filter(sent_at__isnull=True, cancelled_at__isnull=True, created_at__lt=now - REQUEUE_AFTER)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .values_list("pk", flat=True)[:5000]
    )
    if ids:
        _enqueue(ids)
    return ids


def scan(today: datetime.date | None = None, now: datetime.datetime | None = None) -> dict:
    """Beat's job: everything due today, each written once and queued."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    missed = mark_missed(today)
    queued = _bulk_create(plan_reminders(today) + plan_overdue(today) + plan_escalations(today))
    requeued = requeue_stale(now)
    return {"missed": len(missed), "queued": len(queued), "requeued": len(requeued)}


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
        .filter(owner__is_active=True)
        .values_list("owner_id", flat=True)
        .distinct()
    )
    rows = [Notice(key=f"digest:owner:{week}:to:{o}", slot=Notice.Slot.OWNER_DIGEST, recipient_id=o) for o in owners]
    rows += [
        Notice(key=f"digest:team:{week}:to:{u.pk}", slot=Notice.Slot.TEAM_DIGEST, recipient_id=u.pk) for u in _team()
    ]
    return _bulk_create(rows)


# --- delivery ---------------------------------------------------------------------------------------------


def _still_applies(notice: Notice, today: datetime.date) -> bool:
    occ = notice.occurrence
    if occ is None:
        return True
    if notice.slot in (Notice.Slot.REMINDER, Notice.Slot.OVERDUE, Notice.Slot.ASSIGNED):
        return occ.state == Occurrence.State.OPEN and occ.owner_id == notice.recipient_id
    if notice.slot == Notice.Slot.ESCALATED:
        return occ.state == Occurrence.State.MISSED
    return True


def retry_pause(attempts: int) -> datetime.timedelta:
    """5 minutes after the first failure, doubling up to 6 hours: an SMTP outage does not flood the queue."""
    return min(datetime.timedelta(minutes=5) * 2 ** (attempts - 1), datetime.timedelta(hours=6))


def deliver(notice_id: int, now: datetime.datetime | None = None) -> str:
    """Send one notice if nobody else is sending it and it was not sent. Returns what happened."""
    now = now or timezone.now()
    claimed = (
        Notice.objects.filter(pk=notice_id, sent_at__isnull=True, cancelled_at__isnull=True)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + CLAIM)
    )
    if claimed != 1:
        return "skipped"
    notice = Notice.objects.select_related("recipient", "occurrence__schedule", "occurrence__owner").get(pk=notice_id)
    if not _still_applies(notice, timezone.localdate(now)) or not notice.recipient.email:
        Notice.objects.filter(pk=notice_id).update(cancelled_at=now, claimed_until=None)
        return "cancelled"
    try:
        build_notice_email(notice, timezone.localdate(now)).send()
    except Exception as exc:  # noqa: BLE001 - any mail failure: keep the notice, try again later
        attempts = notice.attempts + 1
        # Hold the claim for a growing pause; the scan re-queues it once the pause is over.
        Notice.objects.filter(pk=notice_id).update(
            claimed_until=now + retry_pause(attempts),
            attempts=attempts,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        log.warning("Sending notice %s failed (attempt %s), will retry: %s", notice.key, attempts, exc)
        return "failed"
    Notice.objects.filter(pk=notice_id).update(
        sent_at=timezone.now(), claimed_until=None, attempts=notice.attempts + 1, last_error=""
    )
    return "sent"


TEMPLATES = {
    Notice.Slot.REMINDER: "maintenance/email/reminder",
    Notice.Slot.OVERDUE: "maintenance/email/overdue",
    Notice.Slot.ESCALATED: "maintenance/email/escalated",
    Notice.Slot.ASSIGNED: "maintenance/email/assigned",
    Notice.Slot.OWNER_DIGEST: "maintenance/email/owner_digest",
    Notice.Slot.TEAM_DIGEST: "maintenance/email/team_digest",
}


def build_notice_email(notice: Notice, today: datetime.date):
    from . import selectors

    context = {"notice": notice, "recipient": notice.recipient, "today": today}
    occ = notice.occurrence
    if occ is not None:
        context.update(
            occurrence=occ,
            schedule=occ.schedule,
            days_left=(occ.due_date - today).days,
            days_late=(today - occ.due_date).days,
            task_url=task_link_url(occ) if notice.slot != Notice.Slot.ESCALATED else None,
            detail_url=f"{settings.SITE_URL}{occ_url(occ)}",
        )
    elif notice.slot == Notice.Slot.OWNER_DIGEST:
        context.update(selectors.owner_digest(notice.recipient, today))
    elif notice.slot == Notice.Slot.TEAM_DIGEST:
        context.update(selectors.team_digest(today))
    return build_email(TEMPLATES[notice.slot], [notice.recipient.email], context)


def occ_url(occ: Occurrence) -> str:
    from django.urls import reverse

    return reverse("maintenance:occurrence", args=[occ.pk])
