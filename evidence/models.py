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
        """Not deleted and not superseded by a correction: what counts as evidence now.

        Written as NOT EXISTS rather than a reverse join with IS NULL: PostgreSQL badly underestimates the
        join's rows and then plans the rest of a library page as nested loops (9 s instead of 0.2 s on
        200,000 items; docs/benchmarks.md)."""
        newer = self.model._default_manager.filter(supersedes=models.OuterRef("pk"))
        return self.filter(deleted_at__isnull=True).exclude(models.Exists(newer))


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
    # Evidence on a control's task is filed for that control (the service fills `control` from the task), so the
    # library finds a control's evidence in one index range. Only when the item was filed for another control as
    # well is the task's control kept here, so that it is listed under both; empty otherwise.
    task_control = models.ForeignKey(
        "controls.Control",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        db_index=False,  # the partial index below: the column is empty on nearly every row
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
    correction_reason = models.TextField(
        blank=True, help_text="Why this version replaces the previous one; kept on record for the auditor."
    )
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
            models.Index(fields=["-submitted_at", "-id"], name="evidence_newest_first"),
            # The library filtered by a control: its first page is 50 entries of this index, whatever the size.
            models.Index(fields=["control", "-submitted_at", "-id"], name="evidence_control_newest_first"),
            models.Index(
                fields=["task_control"], name="evidence_task_control", condition=models.Q(task_control__isnull=False)
            ),
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

    def first_version(self) -> "EvidenceItem":
        """Version 1 of this piece of evidence: what its versions have in common (its renewal task hangs here)."""
        item = self
        while item.supersedes_id:
            item = item.supersedes
        return item

    def newest_version(self) -> "EvidenceItem":
        """The version that replaces every other (this one if none does)."""
        item = self
        while (following := EvidenceItem.objects.filter(supersedes=item).first()) is not None:
            item = following
        return item


class ApiToken(models.Model):
    """A secret that lets a script act as one user through the evidence API, within its scopes.

    Only the SHA-256 of the secret is stored: the secret is shown once, when the token is made, and a
    lookup by hash needs no comparison that could leak timing. A "service" token is simply one that acts
    for a service account (a staff user who cannot sign in with a password). Revoked and expired tokens
    stay as rows, so the record of who could push evidence, and when, survives."""

    class Scope(models.TextChoices):
        EVIDENCE_WRITE = "evidence:write", "Push evidence (and read back evidence in reach)"
        TASKS_READ = "tasks:read", "Read my open tasks"
        TASKS_WRITE = "tasks:write", "Complete my tasks"
        EVENTS_READ = "events:read", "Read the incidents, changes, suppliers and objectives I may see"
        RISKS_READ = "risks:read", "Read the risks I may see, their assessments and the review queue"
        RISKS_WRITE = "risks:write", "Record reviews and changes of my risks"
        AUDITS_READ = "audits:read", "Read the audits, nonconformities and management reviews I may see"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What uses it, e.g. “Monthly scan upload on scanner-01”.")
    prefix = models.CharField(max_length=8, help_text="The secret's first characters, to recognise it.")
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_expired(self, now=None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    def state_label(self, now=None) -> str:
        """What the token list shows: Revoked, Expired or Active."""
        if self.is_revoked:
            return "Revoked"
        return "Expired" if self.is_expired(now) else "Active"

    def refusal(self, now=None) -> str | None:
        """Why this token may not be used now, in words the script's author can act on; None if it may."""
        if self.revoked_at is not None:
            return f"This token was revoked on {timezone.localtime(self.revoked_at):%d %B %Y at %H:%M}."
        if self.is_expired(now):
            return f"This token expired on {timezone.localtime(self.expires_at):%d %B %Y at %H:%M}."
        return None

    def has_scope(self, *scopes: str) -> bool:
        """True if the token carries any of `scopes`."""
        return any(scope in self.scopes for scope in scopes)


class IdempotencyRecord(models.Model):
    """The answer an API write gave for a client's Idempotency-Key, so a retry replays it instead of acting twice.

    Written in the same transaction as the write itself: either both exist or neither does. The
    fingerprint (SHA-256 over method, path, body fields and the hashes of uploaded files) tells a true retry
    from a different request that reuses the key. Only successful answers are kept: a refused request left
    nothing behind, so the client may fix it and send it again under the same key."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=300)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_per_user")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"


class TaskEvidenceCount(models.Model):
    """How many live evidence items (`EvidenceItem.objects.live()`) a task has, for the tasks that have any.

    Kept by the database itself: triggers on the evidence table (migration 0010) recount a task whenever one of
    its items is added, deleted, corrected, moved or removed, whoever writes it (services, imports, bulk loads,
    factories). Coverage reads a task's count here instead of counting its items on every page: counting them for
    the ~6,000 tasks of a year across 500 controls was most of the auditor portal's overview. Never written by
    the application; a task with no live evidence has no row."""

    occurrence = models.OneToOneField(
        "maintenance.Occurrence",
        primary_key=True,
        on_delete=models.DO_NOTHING,  # a task with evidence cannot be deleted (EvidenceItem.occurrence protects it)
        db_constraint=False,  # written by triggers only, which need no check of theirs
        related_name="evidence_tally",
    )
    live = models.PositiveIntegerField()

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.live} live item(s) on task {self.occurrence_id}"


class ActivityCoverageToken(models.Model):
    """A token that changes whenever anything a periodic activity's coverage is made of changes: one of its tasks
    is added, removed, moved, rescheduled, done, skipped or missed, or the live evidence of one changes.

    Kept by the database (triggers on the task and evidence tables, migration 0011); never written by the
    application. Coverage keeps each activity's summary for a period in the cache under this token
    (`coverage.requirement_coverage`), so a page over hundreds of controls recomputes only the activities that
    changed since it was last built. An activity with no task has no row."""

    schedule = models.OneToOneField(
        "maintenance.Schedule",
        primary_key=True,
        on_delete=models.DO_NOTHING,  # a row left by a deleted activity is never read again
        db_constraint=False,  # written by triggers only
        related_name="coverage_token",
    )
    token = models.BigIntegerField()

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"Coverage token {self.token} of activity {self.schedule_id}"
