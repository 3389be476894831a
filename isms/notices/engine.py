"""Sending each notice exactly once.

`notice_create()` / `notices_create()` write Notice rows with unique keys in the caller's transaction and queue
their delivery when it commits. `deliver()` claims a row with a conditional update before sending (only one
claimant wins) and marks it sent only when the mail server accepted it; a failed send keeps the claim for a
growing pause (`retry_pause`) and `requeue_stale()` (beat, every minute) queues it again, as it does any notice
whose queued delivery was lost, so none is lost and an outage does not flood the queue.

What "sent once" means: right before the email is handed to the mail server, `handed_at` is committed. A worker
that dies after the server accepted the email but before `sent_at` is written leaves the notice *in doubt*
(`Notice.objects.in_doubt()`). When its claim is over (CLAIM, a few minutes) it is sent again, with the same
`Message-ID` (`notice_message_id`), and `unconfirmed_sends` counts the repeat: at least once, never lost, a repeat
collapsible by mail clients and always on record. Not sending it again would lose every notice whose worker died
before the server had it, which is the more likely case; a reminder that never comes is worse than one that
comes twice with the same Message-ID."""

import datetime
import hashlib
import logging
import re
import smtplib
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import get_connection
from django.db import IntegrityError, transaction
from django.db.models import Case, F, PositiveIntegerField, Q, When
from django.utils import timezone

from isms.foundation.emails import build_email

from .kinds import kind_of
from .models import Notice

log = logging.getLogger(__name__)

# How long a worker holds a notice while it sends it; after a crash the notice is free again this soon. Each wait on
# the mail server is bounded by SEND_TIMEOUT, so a send (some eight waits) ends well within its claim.
CLAIM = datetime.timedelta(minutes=3)
SEND_TIMEOUT = 20  # seconds
# Errors in which the mail server (or the network) said no before taking the email: it was certainly not sent.
REFUSED = (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused, ConnectionRefusedError, socket.gaierror)
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
    """Queue again the unsent notices nobody holds a claim on: at once when a claim ran out (a crashed worker,
    a retry pause over), after REQUEUE_AFTER when none was ever taken (its queued delivery may only be slow)."""
    now = now or timezone.now()
    ids = list(
        Notice.objects.filter(sent_at__isnull=True, cancelled_at__isnull=True)
        .filter(Q(claimed_until__isnull=True, created_at__lt=now - REQUEUE_AFTER) | Q(claimed_until__lt=now))
        .values_list("pk", flat=True)[:5000]
    )
    if ids:
        _enqueue(ids)
    return ids


def retry_pause(attempts: int) -> datetime.timedelta:
    """5 minutes after the first failure, doubling up to 6 hours: an SMTP outage does not flood the queue."""
    return min(datetime.timedelta(minutes=5) * 2 ** (attempts - 1), datetime.timedelta(hours=6))


def site_domain() -> str:
    """The site's host name (from SITE_URL), for Message-IDs and List-Ids; `isms.invalid` if it is not one."""
    host = urlsplit(settings.SITE_URL).hostname or ""
    if not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?", host):
        host = "isms.invalid"
    return host


def notice_message_id(notice: Notice) -> str:
    """The notice's Message-ID: the same on every attempt (a repeat collapses in mail clients), different for
    another notice and for another installation with the same keys. A digest: keys hold characters a Message-ID
    may not."""
    digest = hashlib.sha256(f"{settings.SITE_URL}\n{notice.key}".encode()).hexdigest()[:40]
    return f"<notice.{digest}@{site_domain()}>"


#: On every notice: it is automated mail (RFC 3834), so out-of-office and other automatic replies are not sent back
#: to it; X-Auto-Response-Suppress says the same to Microsoft Exchange and Outlook, which do not read RFC 3834.
AUTOMATED_HEADERS = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"}


def build_notice_email(notice: Notice, today: datetime.date):
    """The notice's email, with its own Message-ID and the automated-mail headers (and the kind's own), on a
    connection whose every wait is bounded."""
    kind = kind_of(notice.kind)
    context = {"notice": notice, "recipient": notice.recipient, "today": today, **kind.context(notice, today)}
    message = build_email(kind.template, [notice.recipient.email], context)
    message.extra_headers.update(AUTOMATED_HEADERS)
    message.extra_headers.update(kind.headers(notice))
    message.extra_headers["Message-ID"] = notice_message_id(notice)
    timeout = min(getattr(settings, "EMAIL_TIMEOUT", None) or SEND_TIMEOUT, SEND_TIMEOUT)
    message.connection = get_connection(timeout=timeout)
    return message


def deliver(notice_id: int, now: datetime.datetime | None = None) -> str:
    """Send one notice if nobody else is sending it and it was not sent. Returns what happened.

    Runs outside any transaction (as a Celery task does), so the hand-over is committed before the send."""
    now = now or timezone.now()
    claim = now + CLAIM
    claimed = (
        Notice.objects.filter(pk=notice_id, sent_at__isnull=True, cancelled_at__isnull=True)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=claim)
    )
    if claimed != 1:
        return "skipped"
    notice = Notice.objects.select_related("recipient").get(pk=notice_id)
    mine = Notice.objects.filter(pk=notice_id, claimed_until=claim, sent_at__isnull=True)  # still our claim
    today = timezone.localdate(now)
    recipient = notice.recipient
    if not (recipient.is_active and recipient.email) or not kind_of(notice.kind).still_applies(notice, today):
        mine.update(cancelled_at=now, claimed_until=None)
        return "cancelled"
    message = build_notice_email(notice, today)
    # The hand-over, committed before the server is asked. Only while the claim is still ours: a worker that
    # stalled past its claim sends nothing once another has taken over. A previous hand-over with no answer
    # recorded makes this a possible repeat, counted.
    handed = mine.update(
        handed_at=now,
        attempts=F("attempts") + 1,
        unconfirmed_sends=F("unconfirmed_sends")
        + Case(When(handed_at__isnull=False, then=1), default=0, output_field=PositiveIntegerField()),
    )
    if handed != 1:
        return "skipped"
    if notice.handed_at:
        log.warning(
            "Notice %s was handed to the mail server at %s with no answer recorded; sending it again with the same "
            "Message-ID",
            notice.key,
            notice.handed_at,
        )
    attempts = notice.attempts + 1
    try:
        message.send()
    except Exception as exc:  # noqa: BLE001 - any mail failure: keep the notice, try again later
        # Hold the claim for a growing pause; requeue_stale() queues it again once the pause is over. Refused: the
        # server does not have it. Anything else (a timeout, a dropped connection) may have come after it took
        # the email, so the notice stays in doubt and a repeat is counted.
        refused = isinstance(exc, REFUSED)
        mine.update(
            claimed_until=now + retry_pause(attempts),
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
            **({"handed_at": None} if refused else {}),
        )
        log.warning("Sending notice %s failed (attempt %s), will retry: %s", notice.key, attempts, exc)
        return "failed"
    # Accepted: recorded even if a stalled claim ran out meanwhile (the server has it either way).
    Notice.objects.filter(pk=notice_id).update(sent_at=timezone.now(), claimed_until=None, last_error="")
    return "sent"
