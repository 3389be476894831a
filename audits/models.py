"""Check and Act (ISO/IEC 27001 9.2, 9.3, 10.2): the internal audit programme over the certification cycle,
audits (internal and external) with their checklists and findings, the one nonconformity register whatever
the source, corrective actions with an effectiveness check, and management reviews compiled from live data.

Rules any writer must keep are in `clean()` or in services.py (`<entity>_<action>`); a signed-off audit and
approved minutes are frozen: the services refuse every later change."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Counter(models.Model):
    """A locked sequence (NC-001, IA-2026-01…): the next number is read and written under a row lock."""

    name = models.CharField(max_length=40, unique=True)
    value = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.value}"


class Programme(models.Model):
    """The internal audit programme of one certification cycle (one per certificate): how many audit slots a
    year and how many requirements or controls one audit takes at most (the planner's capacity)."""

    certificate = models.OneToOneField(
        "organisation.Certificate", on_delete=models.CASCADE, related_name="audit_programme"
    )
    audits_per_year = models.PositiveSmallIntegerField(
        default=11, help_text="Internal audit slots a year (one a month, with a month left for the external audit)."
    )
    items_per_audit = models.PositiveSmallIntegerField(
        default=12, help_text="How many requirements or controls one audit can check (the planner fills up to it)."
    )
    lead_auditor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who leads the slots unless another auditor is named on an audit.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Audit programme of certificate {self.certificate.certificate_number}"


class AuditKind(models.TextChoices):
    INTERNAL = "internal", "Internal audit"
    STAGE_1 = "stage_1", "Certification audit stage 1"
    STAGE_2 = "stage_2", "Certification audit stage 2"
    SURVEILLANCE_1 = "surveillance_1", "Surveillance audit (year 1)"
    SURVEILLANCE_2 = "surveillance_2", "Surveillance audit (year 2)"
    RECERTIFICATION = "recertification", "Recertification audit (year 3)"


EXTERNAL_KINDS = [k for k in AuditKind.values if k != AuditKind.INTERNAL]


class AuditStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    SIGNED_OFF = "signed_off", "Report signed off"


class Audit(models.Model):
    """One audit: an internal one of the programme (a slot, with criteria, scope, checklist and a report the
    lead auditor signs off, frozen after), or an external one by the certification body (stage 1/2 entered
    here; surveillance and recertification taken from the cycle's CycleAudit), with the body's findings."""

    programme = models.ForeignKey(Programme, null=True, blank=True, on_delete=models.CASCADE, related_name="audits")
    kind = models.CharField(max_length=20, choices=AuditKind.choices, default=AuditKind.INTERNAL)
    cycle_audit = models.OneToOneField(
        "organisation.CycleAudit", null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_record"
    )
    number = models.PositiveIntegerField(unique=True, editable=False)
    reference = models.CharField(max_length=20, unique=True, editable=False)
    title = models.CharField(max_length=200)
    planned_on = models.DateField("planned for")
    lead_auditor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="led_audits",
        help_text="Leads the audit and signs off its report. Must not audit their own department or controls.",
    )
    auditor_name = models.CharField(
        "auditors", max_length=200, blank=True, help_text="Other auditors, or the certification body's auditors."
    )
    criteria = models.TextField(
        blank=True, help_text="What the audit checks against: ISO/IEC 27001:2022, our policies, contracts…"
    )
    processes = models.TextField("processes audited", blank=True)
    departments = models.ManyToManyField("accounts.Department", blank=True, related_name="audits")
    scope = models.ManyToManyField(
        "controls.Requirement", blank=True, related_name="audits", help_text="Clauses and Annex A controls."
    )
    status = models.CharField(max_length=20, choices=AuditStatus.choices, default=AuditStatus.PLANNED)
    summary = models.TextField("report summary", blank=True)
    conclusion = models.TextField("audit conclusion", blank=True)
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    signed_off_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["planned_on", "number"]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def is_internal(self) -> bool:
        return self.kind == AuditKind.INTERNAL

    @property
    def is_frozen(self) -> bool:
        return self.status == AuditStatus.SIGNED_OFF


class Result(models.TextChoices):
    NOT_SAMPLED = "not_sampled", "Not sampled"
    CONFORMING = "conforming", "Conforming"
    MINOR = "minor", "Minor nonconformity"
    MAJOR = "major", "Major nonconformity"
    OBSERVATION = "observation", "Observation"
    OFI = "ofi", "Opportunity for improvement"


FINDING_RESULTS = (Result.MINOR, Result.MAJOR, Result.OBSERVATION, Result.OFI)
NC_RESULTS = (Result.MINOR, Result.MAJOR)


class ChecklistRow(models.Model):
    """One requirement or control of an internal audit's scope, with what the auditor found."""

    audit = models.ForeignKey(Audit, on_delete=models.CASCADE, related_name="rows")
    requirement = models.ForeignKey("controls.Requirement", on_delete=models.PROTECT, related_name="audit_rows")
    position = models.PositiveIntegerField(default=0)
    result = models.CharField(max_length=20, choices=Result.choices, default=Result.NOT_SAMPLED)
    notes = models.TextField(blank=True)
    evidence = models.ManyToManyField("evidence.EvidenceItem", blank=True, related_name="audit_rows")

    class Meta:
        ordering = ["position", "pk"]
        constraints = [models.UniqueConstraint(fields=["audit", "requirement"], name="one_row_per_requirement")]

    def __str__(self) -> str:
        return f"{self.audit.reference} {self.requirement.identifier}"


class Finding(models.Model):
    """A finding of the certification body at an external audit, with its close-out deadline."""

    audit = models.ForeignKey(Audit, on_delete=models.CASCADE, related_name="findings")
    grade = models.CharField(max_length=20, choices=[c for c in Result.choices if c[0] in FINDING_RESULTS])
    requirement = models.ForeignKey(
        "controls.Requirement", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    description = models.TextField()
    close_by = models.DateField("close out by", null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.get_grade_display()}: {self.description[:60]}"


class Source(models.TextChoices):
    INTERNAL_AUDIT = "internal_audit", "Internal audit"
    EXTERNAL_AUDIT = "external_audit", "External audit"
    MISSED_CONTROL = "missed_control", "Missed recurring control"
    INCIDENT = "incident", "Incident"
    CHANGE = "change", "Change"
    SELF = "self", "Self-identified"


class Severity(models.TextChoices):
    MINOR = "minor", "Minor"
    MAJOR = "major", "Major"


class CauseCategory(models.TextChoices):
    PEOPLE = "people", "People: awareness, skills, workload"
    PROCESS = "process", "Process: missing or unclear procedure"
    TECHNOLOGY = "technology", "Technology: tool or system failure"
    SUPPLIER = "supplier", "Supplier or third party"
    RESOURCES = "resources", "Resources or priorities"
    OTHER = "other", "Other"


class NCState(models.TextChoices):
    PROPOSED = "proposed", "Raised automatically, awaiting the compliance team"
    OPEN = "open", "Open"
    CHECKING = "checking", "Effectiveness check due"
    CLOSED = "closed", "Closed"
    DISMISSED = "dismissed", "Dismissed"


class Nonconformity(models.Model):
    """One nonconformity, whatever its source (10.2): reaction (correction), cause (five whys or free text with
    a category), whether it could happen elsewhere, corrective actions, and an effectiveness check by someone
    who did not implement them. It closes only when the check passes; a failed check reopens it (round + 1)."""

    number = models.PositiveIntegerField(unique=True, editable=False)
    reference = models.CharField(max_length=20, unique=True, editable=False)
    source = models.CharField(max_length=20, choices=Source.choices)
    state = models.CharField(max_length=20, choices=NCState.choices, default=NCState.OPEN)
    title = models.CharField(max_length=200)
    requirements = models.ManyToManyField(
        "controls.Requirement", blank=True, related_name="nonconformities", verbose_name="requirements not met"
    )
    description = models.TextField()
    objective_evidence = models.TextField(blank=True, help_text="What was seen that shows the requirement is not met.")
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MINOR)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="nonconformities")
    department = models.ForeignKey(
        "accounts.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="nonconformities"
    )
    raised_on = models.DateField(default=timezone.localdate)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    correction = models.TextField("correction (immediate)", blank=True)
    whys = models.JSONField(default=list, blank=True, help_text="Five whys, first answer first.")
    root_cause = models.TextField(blank=True)
    cause_category = models.CharField(max_length=20, choices=CauseCategory.choices, blank=True)
    elsewhere = models.BooleanField("could this happen elsewhere?", null=True, blank=True)
    places_checked = models.TextField(blank=True)
    check_after_days = models.PositiveSmallIntegerField(
        default=30, help_text="Days after the last corrective action before the effectiveness check."
    )
    checker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Checks the actions worked; never someone who implemented them.",
    )
    round = models.PositiveSmallIntegerField(default=1, help_text="Reopened by a failed check: round 2, 3…")
    # Where it came from (at most one of these, by source).
    audit = models.ForeignKey(Audit, null=True, blank=True, on_delete=models.SET_NULL, related_name="nonconformities")
    row = models.OneToOneField(
        ChecklistRow, null=True, blank=True, on_delete=models.SET_NULL, related_name="nonconformity"
    )
    finding = models.OneToOneField(
        Finding, null=True, blank=True, on_delete=models.SET_NULL, related_name="nonconformity"
    )
    control = models.ForeignKey(
        "controls.Control", null=True, blank=True, on_delete=models.SET_NULL, related_name="nonconformities"
    )
    occurrence = models.OneToOneField(
        "maintenance.Occurrence", null=True, blank=True, on_delete=models.SET_NULL, related_name="nonconformity"
    )
    incident = models.OneToOneField(
        "events.Incident", null=True, blank=True, on_delete=models.SET_NULL, related_name="nonconformity"
    )
    change = models.ForeignKey(
        "events.Change", null=True, blank=True, on_delete=models.SET_NULL, related_name="nonconformities"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    dismiss_reason = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-number"]
        indexes = [models.Index(fields=["state", "raised_on"]), models.Index(fields=["raised_on"])]
        verbose_name_plural = "nonconformities"

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.state in (NCState.PROPOSED, NCState.OPEN, NCState.CHECKING)


class CorrectiveAction(models.Model):
    """One corrective action of a nonconformity's round, owned and dated, a task on the calendar."""

    nonconformity = models.ForeignKey(Nonconformity, on_delete=models.CASCADE, related_name="actions")
    round = models.PositiveSmallIntegerField(default=1)
    title = models.CharField(max_length=200)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="corrective_actions")
    due_on = models.DateField("due")
    done_on = models.DateField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    evidence = models.ManyToManyField("evidence.EvidenceItem", blank=True, related_name="corrective_actions")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["round", "due_on", "pk"]

    def __str__(self) -> str:
        return self.title

    def is_overdue(self, today: datetime.date) -> bool:
        return self.done_on is None and self.due_on < today


class EffectivenessCheck(models.Model):
    """Did the round's corrective actions work? Scheduled a set time after the last one, by a checker who did
    not implement them; a pass closes the nonconformity, a fail reopens it."""

    class Outcome(models.TextChoices):
        PASSED = "passed", "Effective"
        FAILED = "failed", "Not effective"

    nonconformity = models.ForeignKey(Nonconformity, on_delete=models.CASCADE, related_name="checks")
    round = models.PositiveSmallIntegerField()
    due_on = models.DateField()
    checker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    note = models.TextField(blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked_at = models.DateTimeField(null=True, blank=True)
    checked_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["round"]
        constraints = [models.UniqueConstraint(fields=["nonconformity", "round"], name="one_check_per_round")]

    def __str__(self) -> str:
        return f"{self.nonconformity.reference} check {self.round}"


class InterestedParty(models.Model):
    """An interested party and what it requires of the ISMS (4.2), a free-text register; every change is dated
    so a management review can show what changed in its period (9.3.2 c)."""

    name = models.CharField(max_length=200)
    requirements = models.TextField("their needs and expectations")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    changed_at = models.DateTimeField(default=timezone.now)
    change_note = models.CharField("what changed", max_length=300, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "interested parties"

    def __str__(self) -> str:
        return self.name


class Feedback(models.Model):
    """Feedback from an interested party (9.3.2 e): a customer's questionnaire, a complaint, a regulator."""

    party = models.ForeignKey(
        InterestedParty, null=True, blank=True, on_delete=models.SET_NULL, related_name="feedback"
    )
    received_on = models.DateField()
    summary = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_on"]

    def __str__(self) -> str:
        return self.summary[:60]


class ReviewStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    OPEN = "open", "Meeting being recorded"
    APPROVED = "approved", "Minutes approved"


class ManagementReview(models.Model):
    """A management review (9.3): its input pack, compiled from live data for the period since the previous
    review, and its minutes: attendees, a note per input, decisions, actions and the conclusion. Approval
    freezes the minutes and the pack as it stood (`frozen_pack`); the server time of approval is kept apart
    from the meeting date."""

    number = models.PositiveIntegerField(unique=True, editable=False)
    reference = models.CharField(max_length=20, unique=True, editable=False)
    planned_on = models.DateField("planned for")
    chair = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="chaired_reviews")
    status = models.CharField(max_length=20, choices=ReviewStatus.choices, default=ReviewStatus.PLANNED)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    meeting_on = models.DateField("meeting date", null=True, blank=True)
    attendees = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="reviews_attended")
    other_attendees = models.CharField(max_length=300, blank=True)
    input_notes = models.JSONField(default=dict, blank=True)
    suitability = models.TextField("continuing suitability", blank=True)
    adequacy = models.TextField("adequacy", blank=True)
    effectiveness = models.TextField("effectiveness", blank=True)
    frozen_pack = models.JSONField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-planned_on", "-number"]

    def __str__(self) -> str:
        return f"{self.reference} management review"

    @property
    def is_frozen(self) -> bool:
        return self.status == ReviewStatus.APPROVED


class Decision(models.Model):
    """A decision of a management review (9.3.3), recorded by whoever was there (leadership included)."""

    review = models.ForeignKey(ManagementReview, on_delete=models.CASCADE, related_name="decisions")
    text = models.TextField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.text[:60]


class ReviewAction(models.Model):
    """An action from a management review, owned and dated, a task on the calendar; its status is read by the
    next reviews (9.3.2 a), never copied."""

    review = models.ForeignKey(ManagementReview, on_delete=models.CASCADE, related_name="actions")
    title = models.CharField(max_length=200)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="review_actions")
    due_on = models.DateField("due")
    done_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["due_on", "pk"]
        indexes = [models.Index(fields=["done_on", "due_on"])]

    def __str__(self) -> str:
        return self.title


OPEN_NC = Q(state__in=[NCState.PROPOSED, NCState.OPEN, NCState.CHECKING])
