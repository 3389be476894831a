"""Evidence: files, links and notes recorded as the work happens.

Files are streamed to storage under MEDIA_ROOT (outside the web root) with their SHA-256, and are
served only through a permission-checked view. Submitted evidence is never edited: a correction is a new
version that supersedes the old one, and only an administrator may delete, with a reason, which leaves a
tombstone (the row, its hash and who deleted it and why) while the file itself is removed."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


def evidence_path(instance: "EvidenceItem", filename: str) -> str:
    # The stored name is ours, never the uploader's: no path tricks, no collisions.
    return f"evidence/{instance.submitted_at:%Y/%m}/{uuid.uuid4().hex}"


class EvidenceQuerySet(models.QuerySet):
    def live(self):
        """Not deleted and not superseded by a correction: what counts as evidence now."""
        return self.filter(deleted_at__isnull=True, superseded_by__isnull=True)


class EvidenceItem(models.Model):
    """One piece of evidence: a file, a link or a note, with who submitted it and when (server time)."""

    class Type(models.TextChoices):
        FILE = "file", "File"
        LINK = "link", "Link"
        NOTE = "note", "Note"

    class Source(models.TextChoices):
        WEB = "web", "Web"
        TASK_LINK = "task_link", "Emailed task link"
        API = "api", "API"

    type = models.CharField(max_length=10, choices=Type.choices)
    title = models.CharField(max_length=255)
    file = models.FileField(upload_to=evidence_path, blank=True, max_length=300)
    original_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    url = models.URLField(max_length=1000, blank=True)
    note = models.TextField(blank=True)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.WEB)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    submitted_at = models.DateTimeField()
    # What it is evidence for.
    occurrence = models.ForeignKey(
        "maintenance.Occurrence", null=True, blank=True, on_delete=models.PROTECT, related_name="evidence"
    )
    control = models.ForeignKey(
        "controls.Control", null=True, blank=True, on_delete=models.PROTECT, related_name="evidence"
    )
    requirement = models.ForeignKey(
        "controls.Requirement", null=True, blank=True, on_delete=models.PROTECT, related_name="evidence"
    )
    # When it applies.
    effective_date = models.DateField(
        default=timezone.localdate, help_text="The date the evidence takes effect (e.g. the scan's date)."
    )
    period_start = models.DateField(null=True, blank=True, help_text="Start of the period it covers.")
    period_end = models.DateField(null=True, blank=True, help_text="End of the period it covers.")
    expires_on = models.DateField(
        null=True, blank=True, help_text="A renewal task is put on the calendar for this date."
    )
    # Versions and deletion.
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    version = models.PositiveIntegerField(default=1)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deletion_reason = models.TextField(blank=True)

    objects = EvidenceQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        indexes = [
            models.Index(fields=["occurrence", "submitted_at"]),
            models.Index(fields=["control", "effective_date"]),
            models.Index(fields=["requirement", "effective_date"]),
            models.Index(fields=["effective_date"]),
            models.Index(fields=["submitted_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__isnull=True)
                | models.Q(period_start__isnull=True)
                | models.Q(period_end__gte=models.F("period_start")),
                name="evidence_period_in_order",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None
