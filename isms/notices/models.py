"""Every email the application sends is a Notice, written before it is sent.

`key` is unique: writing the row is what decides that this notice goes out, so a scan that runs twice, or two
beats, cannot send it twice. The row is claimed with a conditional update before sending and marked sent only
after the mail server accepted it. What a notice is about (a task, a policy to acknowledge, an evidence request)
is its `subject`; what it says and whether it still applies is declared by its `kind` (see kinds.py)."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models


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
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["sent_at", "cancelled_at", "created_at"]),
            models.Index(fields=["subject_type", "subject_id"]),
        ]

    def __str__(self) -> str:
        return self.key
