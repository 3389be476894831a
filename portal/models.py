"""Engagements and what happens inside one: the auditor's samples, evidence requests, evidence packs and every
action they take (the log)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


class Area(models.TextChoices):
    """The parts of the ISMS beyond requirements and controls that an engagement may show."""

    RISKS = "risks", "Risk register and treatment plan"
    INTERNAL_AUDITS = "internal_audits", "Internal audits"
    NONCONFORMITIES = "nonconformities", "Nonconformities and corrective actions"
    MANAGEMENT_REVIEWS = "management_reviews", "Management reviews"
    INCIDENTS = "incidents", "Incidents"
    CHANGES = "changes", "Change records"
    SUPPLIERS = "suppliers", "Suppliers"
    OBJECTIVES = "objectives", "ISMS objectives"


class EngagementStatus(models.TextChoices):
    UPCOMING = "upcoming", "Not open yet"
    OPEN = "open", "Open"
    EXPIRED = "expired", "Access ended"
    ENDED = "ended", "Ended early"


class EngagementQuerySet(models.QuerySet):
    def open_on(self, today: datetime.date):
        """Engagements whose access window includes `today` and that nobody has ended."""
        return self.filter(ended_at__isnull=True, access_starts_on__lte=today, access_ends_on__gte=today)


class Engagement(models.Model):
    """An external audit's access to the ISMS: who (auditors), for what (frameworks, requirements, controls and
    areas in scope), over which period of the ISMS's life (the period under audit), and when they may look (the
    access window, inclusive). Outside the window or the scope an auditor sees nothing."""

    title = models.CharField(max_length=200, help_text="E.g. “Surveillance audit 2026”.")
    certification_body = models.CharField(max_length=200, help_text="The organisation the auditors work for.")
    audit = models.ForeignKey(
        "audits.Audit",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="engagements",
        help_text="The cycle's external audit this engagement is for, when it is one.",
    )
    period_start = models.DateField("period under audit from")
    period_end = models.DateField("period under audit until")
    access_starts_on = models.DateField("access from")
    access_ends_on = models.DateField("access until", help_text="Access ends at the end of this day.")
    frameworks = models.ManyToManyField("controls.Framework", related_name="+")
    requirements = models.ManyToManyField(
        "controls.Requirement",
        blank=True,
        related_name="+",
        help_text="Leave empty for every requirement of the frameworks.",
    )
    controls = models.ManyToManyField(
        "controls.Control",
        blank=True,
        related_name="+",
        help_text="Leave empty for every control mapped to the requirements in scope.",
    )
    areas = models.JSONField(default=list, blank=True, help_text="Which other parts of the ISMS the auditors see.")
    auditors = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="engagements")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    end_reason = models.TextField(blank=True)

    objects = EngagementQuerySet.as_manager()

    class Meta:
        ordering = ["-access_starts_on", "-pk"]
        indexes = [models.Index(fields=["access_starts_on", "access_ends_on"])]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        errors = {}
        if self.period_start and self.period_end and self.period_end < self.period_start:
            errors["period_end"] = "The period under audit ends before it starts: put its last day after its first."
        if self.access_starts_on and self.access_ends_on and self.access_ends_on < self.access_starts_on:
            errors["access_ends_on"] = "Access ends before it starts: put the last day of access after the first."
        unknown = set(self.areas or []) - set(Area.values)
        if unknown:
            errors["areas"] = "Choose the areas from the list."
        if errors:
            raise ValidationError(errors)

    def status_on(self, today: datetime.date) -> str:
        if self.ended_at:
            return EngagementStatus.ENDED
        if today < self.access_starts_on:
            return EngagementStatus.UPCOMING
        if today > self.access_ends_on:
            return EngagementStatus.EXPIRED
        return EngagementStatus.OPEN

    @property
    def status(self) -> str:
        return self.status_on(timezone.localdate())

    def get_status_display(self) -> str:
        return EngagementStatus(self.status).label

    def area_labels(self) -> list[str]:
        return [Area(a).label for a in Area.values if a in (self.areas or [])]


class SamplePopulation(models.TextChoices):
    """What a sample is drawn from."""

    CONTROL_ACTIVITIES = "control_activities", "A control's activities"
    REQUIREMENT_ACTIVITIES = "requirement_activities", "The activities of a requirement's controls"
    EVIDENCE = "evidence", "A control's evidence items"
    INCIDENTS = "incidents", "Incidents"
    CHANGES = "changes", "Change records"
    NONCONFORMITIES = "nonconformities", "Nonconformities"
    CORRECTIVE_ACTIONS = "corrective_actions", "Corrective actions"
    RISK_ASSESSMENTS = "risk_assessments", "Risk assessments"


class Sample(models.Model):
    """A sample drawn from a population in the period under audit. The seed is stored, so drawing again from
    the same population gives the same items; the auditor and the team see the same sample."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="samples")
    population = models.CharField(max_length=30, choices=SamplePopulation.choices)
    control = models.ForeignKey("controls.Control", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    requirement = models.ForeignKey(
        "controls.Requirement", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    period_start = models.DateField()
    period_end = models.DateField()
    seed = models.BigIntegerField()
    population_size = models.PositiveIntegerField()
    sample_size = models.PositiveIntegerField()
    size_rule = models.CharField(max_length=200, help_text="The line of the size table that applied, in words.")
    title = models.CharField(max_length=300)
    note = models.TextField(blank=True)
    drawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    drawn_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-drawn_at", "-pk"]

    def __str__(self) -> str:
        return self.title


class SampleItem(models.Model):
    """One record in a sample: drawn by the seed, or added by hand by the auditor."""

    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="items")
    item_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    item_id = models.PositiveBigIntegerField()
    item = GenericForeignKey("item_type", "item_id")
    label = models.CharField(max_length=400, help_text="What the record was when drawn, for the record.")
    position = models.PositiveIntegerField()
    added_by_hand = models.BooleanField(default=False)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)
    reason = models.TextField(blank=True, help_text="Why an item was added by hand.")

    class Meta:
        ordering = ["sample", "position"]
        constraints = [
            models.UniqueConstraint(fields=["sample", "item_type", "item_id"], name="sample_item_once"),
        ]

    def __str__(self) -> str:
        return self.label


class RequestState(models.TextChoices):
    OPEN = "open", "Waiting for an answer"
    ANSWERED = "answered", "Answered, waiting for the auditor"
    ACCEPTED = "accepted", "Accepted"
    WITHDRAWN = "withdrawn", "Withdrawn"


class EvidenceRequest(models.Model):
    """Something an auditor asks for: on a sample item, a control, or in free text. Each ask (the first and
    every "ask again") is a round, and each round is a task on the calendar for the person who answers."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="requests")
    number = models.PositiveIntegerField(help_text="Numbered within the engagement.")
    sample_item = models.ForeignKey(
        SampleItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests"
    )
    control = models.ForeignKey("controls.Control", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    text = models.TextField("what is asked for")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="evidence_requests", help_text="Who answers."
    )
    due_on = models.DateField()
    state = models.CharField(max_length=20, choices=RequestState.choices, default=RequestState.OPEN)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdraw_reason = models.TextField(blank=True, help_text="Why the request was withdrawn.")

    class Meta:
        ordering = ["engagement", "number"]
        constraints = [models.UniqueConstraint(fields=["engagement", "number"], name="request_number_unique")]
        indexes = [models.Index(fields=["state", "due_on"])]

    def __str__(self) -> str:
        return f"Request {self.number}"


class RequestRound(models.Model):
    """One ask of a request and its answer: the calendar task (schedule subject) the owner completes with evidence."""

    request = models.ForeignKey(EvidenceRequest, on_delete=models.CASCADE, related_name="rounds")
    number = models.PositiveIntegerField()
    text = models.TextField(help_text="What was asked in this round (the first ask, or why it is asked again).")
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    asked_at = models.DateTimeField(default=timezone.now)
    due_on = models.DateField()
    answered_at = models.DateTimeField(null=True, blank=True)
    schedules = GenericRelation("maintenance.Schedule", content_type_field="subject_type", object_id_field="subject_id")

    class Meta:
        ordering = ["request", "number"]
        constraints = [models.UniqueConstraint(fields=["request", "number"], name="request_round_unique")]

    def __str__(self) -> str:
        return f"{self.request}, round {self.number}"


class PackState(models.TextChoices):
    QUEUED = "queued", "Waiting to start"
    BUILDING = "building", "Being built"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class EvidencePack(models.Model):
    """A ZIP of an engagement's evidence files in scope and period with an index (PDF and CSV) and a signed
    manifest of SHA-256 hashes, built by a worker."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="packs")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=20, choices=PackState.choices, default=PackState.QUEUED)
    files_total = models.PositiveIntegerField(default=0)
    files_done = models.PositiveIntegerField(default=0)
    bytes_total = models.PositiveBigIntegerField(default=0)
    bytes_done = models.PositiveBigIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    file = models.CharField(max_length=300, blank=True, help_text="The ZIP's path under the packs directory.")
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    key_fingerprint = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]

    def __str__(self) -> str:
        return f"Evidence pack of {self.requested_at:%d %b %Y %H:%M}"


class AuditorAction(models.Model):
    """One thing an auditor did (or tried): who, what, when, from where. Written by the portal's middleware for
    every request an auditor makes, and by the services for what a request changed."""

    class Kind(models.TextChoices):
        VIEW = "view", "Viewed a page"
        DOWNLOAD = "download", "Downloaded a file"
        EXPORT = "export", "Exported"
        SAMPLE = "sample", "Drew or changed a sample"
        REQUEST = "request", "Asked for evidence"
        ACCEPT = "accept", "Accepted an answer"
        PACK = "pack", "Asked for an evidence pack"
        REFUSED = "refused", "Refused"
        SIGN_IN = "sign_in", "Signed in"

    engagement = models.ForeignKey(Engagement, null=True, blank=True, on_delete=models.CASCADE, related_name="actions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    what = models.CharField(max_length=500, help_text="What was seen, fetched or asked, in words.")
    method = models.CharField(max_length=10, blank=True)
    path = models.CharField(max_length=1000, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["engagement", "at"]), models.Index(fields=["user", "at"])]

    def __str__(self) -> str:
        return f"{self.user} {self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"
