"""Evidence: files, links and notes recorded as the work happens.

Files are streamed to storage under MEDIA_ROOT (outside the web root) with their SHA-256, and are
served only through a permission-checked view. Submitted evidence is not edited."""

import uuid

from django.conf import settings
from django.db import models


def evidence_path(instance: "EvidenceItem", filename: str) -> str:
    # The stored name is ours, never the uploader's: no path tricks, no collisions.
    return f"evidence/{instance.submitted_at:%Y/%m}/{uuid.uuid4().hex}"


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
    occurrence = models.ForeignKey(
        "maintenance.Occurrence", null=True, blank=True, on_delete=models.PROTECT, related_name="evidence"
    )

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        indexes = [models.Index(fields=["occurrence", "submitted_at"])]

    def __str__(self) -> str:
        return self.title
