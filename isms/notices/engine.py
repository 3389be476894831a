"""Sending each notice exactly once.

`notice_create()` / `notices_create()` write Notice rows with unique keys in the caller's transaction and queue
their delivery when it commits. `deliver()` claims a row with a conditional update before sending (only one
claimant wins) and marks it sent only when the mail server accepted it; a failed send keeps the claim for a
growing pause (`retry_pause`) and `requeue_stale()` (beat, every minute) queues it again, as it does any notice
whose queued delivery was lost, so none is lost and an outage does not flood the queue."""

import datetime
import logging
from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from isms.foundation.emails import build_email

from .kinds import kind_of
from .models import Notice

log = logging.getLogger(__name__)

CLAIM = datetime.timedelta(minutes=10)
# Unsent notices older than this are queued again (lost enqueue, crashed worker).
REQUEUE_AFTER = datetime.timedelta(minutes=5)
BATCH = 1000


def _enqueue(notice_ids: list[int]) -> None:
    """Queue delivery; if the broker is down the notices stay unsent and are re-queued later."""
    from .tasks import deliver_notice

    for pk in notice_ids:
        try:
            deliver_notice.delay(pk)
        except Exception:  # noqa: BLE001 - any broker failure: the row is the source of truth
            log.warning("Could not queue notice %s; it will be re-queued", pk, exc_info=True)


def notice_row(
    *, key: str, kind: str, recipient_id: int, subject=None, subject_type_id=None, subject_id=None, data=None
):
    """An unsaved Notice for `notices_create`; `subject` may be an object, or given as type and id."""
    if subject is not None:
        subject_type_id = ContentType.objects.get_for_model(subject).pk
        subject_id = subject.pk
    return Notice(
        key=key,
        kind=kind,
        recipient_id=recipient_id,
        subject_type_id=subject_type_id,
        subject_id=subject_id,
        data=data or {},
    )


def notice_create(*, key: str, kind: str, recipient, subject=None, data: dict | None = None) -> Notice | None:
    """Write one notice; queue its delivery when the transaction commits. None if the key exists already."""
    kind_of(kind)  # refuse an undeclared kind now, not when sending
    row = notice_row(key=key, kind=kind, recipient_id=recipient.pk, subject=subject, data=data)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        return None
    transaction.on_commit(lambda: _enqueue([row.pk]))
    return row


def notices_create(rows: Iterable[Notice]) -> list[int]:
    """Insert the notices whose key is new; return their ids (queued on commit). Safe to run concurrently."""
    rows = list(rows)
    if not rows:
        return []
    keys = [r.key for r in rows]
    existing = set()
    for i in range(0, len(keys), BATCH):
        existing.update(Notice.objects.filter(key__in=keys[i : i + BATCH]).values_list("key", flat=True))
    fresh = [r for r in rows if r.key not in existing]
    if not fresh:
        return []
    with transaction.atomic():
        # ignore_conflicts: a concurrent run may insert the same keys; the unique key decides.
        Notice.objects.bulk_create(fresh, ignore_conflicts=True, batch_size=BATCH)
        ids: list[int] = []
        fresh_keys = [r.key for r in fresh]
        for i in range(0, len(fresh_keys), BATCH):
            ids += Notice.objects.filter(key__in=fresh_keys[i : i + BATCH], sent_at__isnull=True).values_list(
                "pk", flat=True
            )
        transaction.on_commit(lambda: _enqueue(ids))
    return ids


def requeue_stale(now: datetime.datetime | None = None) -> list[int]:
    """Queue again the unsent notices nobody holds a claim on, older than REQUEUE_AFTER."""
    now = now or timezone.now()
    ids = list(
        Notice.objects.filter(sent_at__isnull=True, cancelled_at__isnull=True, created_at__lt=now - REQUEUE_AFTER)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .values_list("pk", flat=True)[:5000]
    )
    if ids:
        _enqueue(ids)
    return ids


def retry_pause(attempts: int) -> datetime.timedelta:
    """5 minutes after the first failure, doubling up to 6 hours: an SMTP outage does not flood the queue."""
    return min(datetime.timedelta(minutes=5) * 2 ** (attempts - 1), datetime.timedelta(hours=6))


def build_notice_email(notice: Notice, today: datetime.date):
    kind = kind_of(notice.kind)
    context = {"notice": notice, "recipient": notice.recipient, "today": today, **kind.context(notice, today)}
    return build_email(kind.template, [notice.recipient.email], context)


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
    notice = Notice.objects.select_related("recipient").get(pk=notice_id)
    today = timezone.localdate(now)
    recipient = notice.recipient
    if not (recipient.is_active and recipient.email) or not kind_of(notice.kind).still_applies(notice, today):
        Notice.objects.filter(pk=notice_id).update(cancelled_at=now, claimed_until=None)
        return "cancelled"
    try:
        build_notice_email(notice, today).send()
    except Exception as exc:  # noqa: BLE001 - any mail failure: keep the notice, try again later
        attempts = notice.attempts + 1
        # Hold the claim for a growing pause; requeue_stale() queues it again once the pause is over.
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
