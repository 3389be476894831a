"""Every email the application sends is a Notice, written before it is sent.

`key` is unique: writing the row is what decides that this notice goes out, so a scan that runs twice, or two
beats, cannot send it twice. The row is claimed with a conditional update before sending and marked sent only
after the mail server accepted it. What a notice is about (a task, a policy to acknowledge, an evidence request)
is its `subject`; what it says and whether it still applies is declared by its `kind` (see kinds.py).

No mail server can confirm "accepted" and our record of it in one step. So `handed_at` is written (and committed)
right before the email is handed to the server: a notice with `handed_at` and no `sent_at` is *in doubt* (the
worker stopped between the two, or is sending right now). Once its claim is over it is sent again with the same
Message-ID: at least once, never lost, and a repeat collapses in mail clients. `unconfirmed_sends` counts those
repeats, so a duplicate always leaves a trace."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models


class NoticeQuerySet(models.QuerySet):
    def in_doubt(self):
        """Handed to the mail server with no answer recorded: sending now, or the worker stopped meanwhile."""
        return self.filter(handed_at__isnull=False, sent_at__isnull=True, cancelled_at__isnull=True)

    def possibly_repeated(self):
        """Sent, after at least one earlier hand-over whose answer was never recorded (it may have arrived)."""
        return self.filter(sent_at__isnull=False, unconfirmed_sends__gt=0)

    def waiting_to_retry(self):
        """Refused by the mail server (or it could not be reached); tried again after a pause."""
        return self.filter(sent_at__isnull=True, cancelled_at__isnull=True, handed_at__isnull=True).exclude(
            last_error=""
        )

    def queued(self):
        """Not handed over yet and never refused."""
        return self.filter(sent_at__isnull=True, cancelled_at__isnull=True, handed_at__isnull=True, last_error="")


class Notice(models.Model):
    """One email to one person, sent exactly once (or cancelled when it no longer applies)."""

    key = models.CharField(max_length=160, unique=True)
    kind = models.CharField(max_length=60, help_text="What the notice says; declared by the app that sends it.")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices")
    subject_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.CASCADE)
    subject_id = models.PositiveBigIntegerField(null=True, blank=True)
    subject = GenericForeignKey("subject_type", "subject_id")
    data = models.JSONField(default=dict, blank=True, help_text="Facts the email needs, e.g. days before due.")
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(
        null=True, blank=True, help_text="Not sent because it no longer applied (the task was done first)."
    )
    handed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When it was last handed to the mail server; with no sent date, the answer was never recorded.",
    )
    attempts = models.PositiveIntegerField(default=0, help_text="Times it was handed to the mail server.")
    unconfirmed_sends = models.PositiveIntegerField(
        default=0,
        help_text="Times it was sent again after a hand-over whose answer was never recorded (a worker stopped): "
        "the person may have it more than once, each copy with the same Message-ID.",
    )
    last_error = models.TextField(blank=True)

    objects = NoticeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["sent_at", "cancelled_at", "created_at"]),
            models.Index(fields=["subject_type", "subject_id"]),
        ]

    def __str__(self) -> str:
        return self.key

    def delivery(self) -> str:
        """Where the notice stands, in words for the administrator's list."""
        maybe_earlier = self.handed_at is not None or self.unconfirmed_sends > 0
        if self.sent_at:
            return "Sent (an earlier attempt may also have arrived)" if self.unconfirmed_sends else "Sent"
        if self.cancelled_at:
            if maybe_earlier:
                return "Not sent again: no longer applied (an earlier attempt may have arrived)"
            return "Not sent: no longer applied"
        if self.handed_at:
            return "In doubt: handed to the mail server, no answer recorded"
        if self.last_error:
            return "Waiting to try again"
        return "Waiting to be sent"
