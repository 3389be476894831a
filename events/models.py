"""The registers that keep the ISMS in step with the business: incidents, change records ("does this change
affect our ISMS?"), suppliers and ISMS objectives (ISO/IEC 27001 6.2, 6.3, 8.2, A.5.19–5.28, A.8.32).

Each turns an event into the reviews the standard asks for: an incident opens an out-of-cycle review of each
risk it is recorded against, a change's "yes" answers open review tasks, a supplier downgraded in a review
opens reviews of its risks, and certificates and contracts raise tasks before they run out. The writes, and so
the rules that span models, are in services.py; `clean()` holds what any writer must keep."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from isms.foundation.forms import check_date_bounds


class Counter(models.Model):
    """A numbered sequence (incidents, changes), taken under a row lock: never max()+1."""

    name = models.CharField(max_length=40, unique=True)
    value = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.value}"


# --------------------------------------------------------------------------------------------------- incidents


class Severity(models.Model):
    """One level of the incident severity scale; the compliance team sets the scale (labels, what each
    means, colours). Level 1 is the least severe."""

    level = models.PositiveSmallIntegerField(unique=True)
    label = models.CharField(max_length=60)
    description = models.CharField(max_length=300, blank=True)
    colour = models.CharField(max_length=7, default="#6c757d", help_text="A colour such as #c62828.")

    class Meta:
        ordering = ["level"]
        verbose_name_plural = "severities"

    def __str__(self) -> str:
        return self.label

    def clean(self) -> None:
        import re

        if not re.fullmatch(r"#[0-9a-fA-F]{6}", self.colour or ""):
            raise ValidationError({"colour": "Give the colour as # and six hexadecimal digits, e.g. #c62828."})


class IncidentCategory(models.TextChoices):
    MALWARE = "malware", "Malware or ransomware"
    PHISHING = "phishing", "Phishing or social engineering"
    ACCESS = "access", "Unauthorised access"
    DATA = "data", "Data loss or disclosure"
    AVAILABILITY = "availability", "Outage or loss of availability"
    PHYSICAL = "physical", "Physical or environmental"
    SUPPLIER = "supplier", "Supplier incident"
    ERROR = "error", "Human error"
    OTHER = "other", "Other"


class IncidentStatus(models.TextChoices):
    REPORTED = "reported", "Reported"
    INVESTIGATING = "investigating", "Investigating"
    CONTAINED = "contained", "Contained"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


class Incident(models.Model):
    """An information security incident (A.5.24–5.28): what happened, when it occurred and was detected, how
    severe, what it touched, what was done, and what was learnt. Recorded against risks, it opens an
    out-of-cycle review of each (once per incident and risk: `IncidentRiskReview`). Closing it records whether
    it revealed a nonconformity."""

    number = models.PositiveIntegerField(unique=True, editable=False)
    reference = models.CharField(max_length=20, unique=True, editable=False)
    title = models.CharField(max_length=200)
    description = models.TextField("what happened")
    occurred_on = models.DateField("occurred on", help_text="When it happened, as far as is known.")
    detected_on = models.DateField("detected on", help_text="When it was noticed.")
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reported_at = models.DateTimeField(default=timezone.now)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="incidents",
        help_text="Who handles it until it is closed.",
    )
    severity = models.ForeignKey(Severity, on_delete=models.PROTECT, related_name="incidents")
    category = models.CharField(max_length=20, choices=IncidentCategory.choices, default=IncidentCategory.OTHER)
    affected = models.TextField("affected assets or processes", blank=True)
    controls = models.ManyToManyField("controls.Control", blank=True, related_name="incidents")
    risks = models.ManyToManyField("risks.Risk", blank=True, related_name="incidents")
    containment = models.TextField("containment", blank=True, help_text="What was done to stop it spreading.")
    resolution = models.TextField("resolution", blank=True, help_text="How it was resolved.")
    lessons_learned = models.TextField("lessons learned", blank=True)
    status = models.CharField(max_length=20, choices=IncidentStatus.choices, default=IncidentStatus.REPORTED)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reveals_nonconformity = models.BooleanField(
        "reveals a nonconformity", null=True, blank=True, help_text="Answered when the incident is closed."
    )
    nonconformity_note = models.TextField(blank=True, help_text="Which requirement was not met, and how.")
    # The nonconformity raised from this incident. Nonconformities come with the audit programme (audits/, a layer
    # above this one), so this is its id rather than a foreign key: audits fills it in when it raises one.
    nonconformity_id = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-number"]
        indexes = [models.Index(fields=["status"]), models.Index(fields=["owner"])]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def is_closed(self) -> bool:
        return self.status == IncidentStatus.CLOSED

    def clean(self) -> None:
        check_date_bounds(occurred_on=self.occurred_on, detected_on=self.detected_on)
        errors: dict[str, str] = {}
        today = timezone.localdate()
        if self.detected_on and self.detected_on > today:
            errors["detected_on"] = "It cannot have been detected after today."
        if self.occurred_on and self.occurred_on > today:
            errors["occurred_on"] = "It cannot have occurred after today."
        if self.occurred_on and self.detected_on and self.occurred_on > self.detected_on:
            errors["occurred_on"] = (
                f"It occurred on {self.occurred_on:%d %B %Y}, after it was detected on {self.detected_on:%d %B %Y}: "
                "an incident is detected on or after the day it occurs. Check both dates."
            )
        if errors:
            raise ValidationError(errors)


class IncidentRiskReview(models.Model):
    """The out-of-cycle review an incident asked of one risk: one per incident and risk, whatever happens to the
    incident afterwards (edited, the risk unlinked and linked again), so a risk is never asked twice."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="risk_reviews")
    risk = models.ForeignKey("risks.Risk", on_delete=models.CASCADE, related_name="incident_reviews")
    request = models.ForeignKey(
        "risks.ReviewRequest", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["incident", "risk"], name="one_review_per_incident_and_risk")]

    def __str__(self) -> str:
        return f"{self.incident.reference} → review of {self.risk.reference}"


# --------------------------------------------------------------------------------------------------- changes


class ReviewKind(models.TextChoices):
    SCOPE = "scope", "Scope review"
    RISKS = "risks", "Review of the affected risks"
    SOA = "soa", "Statement of Applicability review"
    SUPPLIER = "supplier", "Supplier review"


#: The questionnaire: (field, question, the reviews a "yes" calls for). Order is the form's.
QUESTIONS: list[tuple[str, str, tuple[str, ...]]] = [
    ("changes_scope", "Does it change the scope of the ISMS?", (ReviewKind.SCOPE,)),
    ("changes_assets", "Does it add or remove assets or systems?", (ReviewKind.RISKS,)),
    (
        "changes_supplier",
        "Does it add or change a supplier that handles our information?",
        (ReviewKind.SUPPLIER, ReviewKind.RISKS),
    ),
    (
        "changes_locations",
        "Does it change our locations (offices, data centres, where people work)?",
        (ReviewKind.SCOPE, ReviewKind.RISKS),
    ),
    (
        "changes_obligations",
        "Does it change our legal, regulatory or contractual obligations?",
        (ReviewKind.SCOPE, ReviewKind.SOA),
    ),
    ("changes_people", "Does it change people or roles with security duties?", (ReviewKind.SOA,)),
    ("changes_controls", "Does it change how a control operates?", (ReviewKind.SOA, ReviewKind.RISKS)),
]
QUESTION_FIELDS = [name for name, _, _ in QUESTIONS]


class ChangeStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class Change(models.Model):
    """A planned or occurred change to the business (6.3, 8.1, A.8.32), with the questionnaire "does this change
    affect our ISMS?". Each "yes" opens the reviews it calls for (`ChangeReview`, tasks on the calendar); a
    change with any "yes" needs the compliance team's approval, and closes only when its reviews are done."""

    number = models.PositiveIntegerField(unique=True, editable=False)
    reference = models.CharField(max_length=20, unique=True, editable=False)
    title = models.CharField("what changes", max_length=200)
    description = models.TextField("details", blank=True)
    planned_on = models.DateField("when", help_text="When the change takes effect (planned, or when it happened).")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="changes", help_text="Who owns the change."
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    changes_scope = models.BooleanField(null=True)
    changes_assets = models.BooleanField(null=True)
    changes_supplier = models.BooleanField(null=True)
    changes_locations = models.BooleanField(null=True)
    changes_obligations = models.BooleanField(null=True)
    changes_people = models.BooleanField(null=True)
    changes_controls = models.BooleanField(null=True)
    assets = models.TextField(
        "assets or systems affected", blank=True, help_text="Named assets help suggest the risks to review."
    )
    supplier = models.ForeignKey(
        "Supplier",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="changes",
        help_text="The supplier added or changed, if it is in the register.",
    )
    risks = models.ManyToManyField("risks.Risk", blank=True, related_name="changes", verbose_name="affected risks")
    status = models.CharField(max_length=10, choices=ChangeStatus.choices, default=ChangeStatus.OPEN)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approval_note = models.TextField(blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    reveals_nonconformity = models.BooleanField(
        "reveals a nonconformity", null=True, blank=True, help_text="Answered when the change is closed."
    )
    nonconformity_note = models.TextField(blank=True, help_text="Which requirement was not met, and how.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def answers(self) -> list[tuple[str, str, bool | None]]:
        """(field, question, answer) in the questionnaire's order."""
        return [(name, question, getattr(self, name)) for name, question, _ in QUESTIONS]

    def yes_answers(self) -> list[str]:
        return [name for name, _, _ in QUESTIONS if getattr(self, name)]

    def reviews_called_for(self) -> list[str]:
        """The review kinds the "yes" answers call for, each once, in ReviewKind order."""
        called = {kind for name, _, kinds in QUESTIONS if getattr(self, name) for kind in kinds}
        return [kind for kind in ReviewKind.values if kind in called]

    @property
    def needs_approval(self) -> bool:
        return bool(self.yes_answers())

    @property
    def is_closed(self) -> bool:
        return self.status == ChangeStatus.CLOSED

    def clean(self) -> None:
        check_date_bounds(planned_on=self.planned_on)
        unanswered = [question for name, question, _ in QUESTIONS if getattr(self, name) is None]
        if unanswered:
            raise ValidationError(
                "Answer every question with yes or no: "
                + ("none is answered yet." if len(unanswered) == len(QUESTIONS) else f"{len(unanswered)} still open.")
            )


class ChangeReview(models.Model):
    """A review a change calls for: a task on the calendar for its owner, done when the task is."""

    change = models.ForeignKey(Change, on_delete=models.CASCADE, related_name="reviews")
    kind = models.CharField(max_length=20, choices=ReviewKind.choices)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField()
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["change", "kind"]
        constraints = [models.UniqueConstraint(fields=["change", "kind"], name="one_review_of_a_kind_per_change")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.change.reference}"

    @property
    def is_done(self) -> bool:
        return self.done_at is not None


# --------------------------------------------------------------------------------------------------- suppliers


class Criticality(models.TextChoices):
    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


#: Months between reviews, by criticality (critical suppliers every year).
REVIEW_MONTHS = {Criticality.CRITICAL: 12, Criticality.HIGH: 12, Criticality.MEDIUM: 24, Criticality.LOW: 36}


class Rating(models.TextChoices):
    """A review's outcome, best first; a review that lowers it is a downgrade."""

    APPROVED = "approved", "Approved"
    CONDITIONS = "conditions", "Approved with conditions"
    WATCH = "watch", "Under watch"
    REJECTED = "rejected", "Not acceptable"


RATING_ORDER = {value: i for i, value in enumerate(Rating.values)}


class Supplier(models.Model):
    """A supplier in the register (A.5.19–5.22): what it provides, how critical it is, which of our information
    it handles, its contract and certifications. Reviewed on a cadence set by its criticality; its certificates'
    expiries and its contract's end raise tasks before they come."""

    name = models.CharField(max_length=200, unique=True)
    service = models.CharField("service provided", max_length=300)
    criticality = models.CharField(max_length=10, choices=Criticality.choices, default=Criticality.MEDIUM)
    data_handled = models.TextField("our information it handles", blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="suppliers",
        help_text="Who manages the relationship and reviews the supplier.",
    )
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=50, blank=True)
    contract_start = models.DateField(null=True, blank=True)
    contract_end = models.DateField(null=True, blank=True)
    notice_days = models.PositiveIntegerField(
        "notice period (days)", default=0, help_text="How long before the end notice must be given."
    )
    controls = models.ManyToManyField("controls.Control", blank=True, related_name="suppliers")
    risks = models.ManyToManyField("risks.Risk", blank=True, related_name="suppliers")
    rating = models.CharField(max_length=20, choices=Rating.choices, blank=True, help_text="From its last review.")
    last_reviewed_on = models.DateField(null=True, blank=True)
    next_review_on = models.DateField(null=True, blank=True)
    active = models.BooleanField(default=True, help_text="Still a supplier; no longer reviewed when not.")
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def review_months(self) -> int:
        return REVIEW_MONTHS[Criticality(self.criticality)]

    def clean(self) -> None:
        check_date_bounds(contract_start=self.contract_start, contract_end=self.contract_end)
        if self.contract_start and self.contract_end and self.contract_end < self.contract_start:
            raise ValidationError({"contract_end": "The contract ends before it starts: check both dates."})
        if self.notice_days is not None and self.notice_days > 730:
            raise ValidationError({"notice_days": "Give a notice period of at most 730 days."})


class Certificate(models.Model):
    """A certification a supplier holds (an ISO/IEC 27001 certificate, a SOC 2 report…) and when it expires."""

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="certificates")
    name = models.CharField("certification", max_length=200, help_text="e.g. ISO/IEC 27001:2022")
    issuer = models.CharField("issued by", max_length=200, blank=True)
    number = models.CharField("certificate number", max_length=100, blank=True)
    expires_on = models.DateField()

    class Meta:
        ordering = ["expires_on"]

    def __str__(self) -> str:
        return f"{self.name} ({self.supplier})"

    def clean(self) -> None:
        check_date_bounds(expires_on=self.expires_on)


class SupplierReview(models.Model):
    """One review of a supplier: its outcome (the rating), the assessment and its evidence. Never edited."""

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="reviews")
    reviewed_on = models.DateField()
    outcome = models.CharField(max_length=20, choices=Rating.choices)
    previous = models.CharField(max_length=20, choices=Rating.choices, blank=True)
    criticality = models.CharField(max_length=10, choices=Criticality.choices)
    assessment = models.TextField(help_text="What was checked and what was found.")
    evidence_link = models.URLField("evidence", max_length=500, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-reviewed_on", "-at"]

    def __str__(self) -> str:
        return f"Review of {self.supplier} on {self.reviewed_on}"

    @property
    def downgraded(self) -> bool:
        return bool(self.previous) and RATING_ORDER[self.outcome] > RATING_ORDER[self.previous]


# --------------------------------------------------------------------------------------------------- objectives


class ObjectiveStatus(models.TextChoices):
    NOT_STARTED = "not_started", "No progress recorded"
    ON_TRACK = "on_track", "On track"
    AT_RISK = "at_risk", "At risk"
    ACHIEVED = "achieved", "Achieved"
    MISSED = "missed", "Missed"


class Objective(models.Model):
    """An ISMS objective (6.2): what, how it is measured, the target, who owns it and by when. Its progress
    entries say whether it is on track: compared with a straight line from the baseline at the start to the
    target on the due date."""

    title = models.CharField("objective", max_length=200)
    description = models.TextField(blank=True)
    measure = models.CharField("how it is measured", max_length=300)
    unit = models.CharField(max_length=30, blank=True, help_text="e.g. %, days, incidents")
    baseline = models.DecimalField(max_digits=12, decimal_places=2, help_text="Where it stands at the start.")
    target = models.DecimalField(max_digits=12, decimal_places=2)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="objectives")
    start_on = models.DateField("from")
    due_on = models.DateField("to be met by")
    progress_every_months = models.PositiveSmallIntegerField(
        "progress update every (months)",
        null=True,
        blank=True,
        help_text="Puts a recurring progress update on the owner's calendar; empty for none.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_on", "title"]

    def __str__(self) -> str:
        return self.title

    @property
    def higher_is_better(self) -> bool:
        return self.target >= self.baseline

    def clean(self) -> None:
        check_date_bounds(start_on=self.start_on, due_on=self.due_on)
        if self.start_on and self.due_on and self.due_on <= self.start_on:
            raise ValidationError({"due_on": "The date to meet it by comes after its start."})
        if self.baseline is not None and self.target is not None and self.baseline == self.target:
            raise ValidationError({"target": "The target is where the baseline already is: set the level to reach."})
        if self.progress_every_months is not None and not 1 <= self.progress_every_months <= 12:
            raise ValidationError({"progress_every_months": "Every 1 to 12 months, or leave it empty."})

    def expected_at(self, day: datetime.date) -> Decimal:
        """Where it should stand on `day`: on the straight line from baseline (start) to target (due date)."""
        span = (self.due_on - self.start_on).days
        done = min(max((day - self.start_on).days, 0), span)
        return self.baseline + (self.target - self.baseline) * Decimal(done) / Decimal(span)

    def reached(self, value: Decimal) -> bool:
        return value >= self.target if self.higher_is_better else value <= self.target

    def status(self, entries: list[ProgressEntry], today: datetime.date | None = None) -> str:
        """On track, at risk, achieved or missed, from its entries (oldest first)."""
        today = today or timezone.localdate()
        latest = entries[-1] if entries else None
        if latest is not None and self.reached(latest.value):
            return ObjectiveStatus.ACHIEVED
        if today > self.due_on:
            return ObjectiveStatus.MISSED
        if latest is None:
            return ObjectiveStatus.NOT_STARTED
        expected = self.expected_at(latest.recorded_on)
        ahead = latest.value >= expected if self.higher_is_better else latest.value <= expected
        return ObjectiveStatus.ON_TRACK if ahead else ObjectiveStatus.AT_RISK


class ProgressEntry(models.Model):
    """Where an objective stood on a day, as measured."""

    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="entries")
    recorded_on = models.DateField("measured on")
    value = models.DecimalField(max_digits=12, decimal_places=2)
    note = models.TextField(blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["objective", "recorded_on", "at"]
        verbose_name_plural = "progress entries"

    def __str__(self) -> str:
        return f"{self.objective}: {self.value} on {self.recorded_on}"

    def clean(self) -> None:
        check_date_bounds(recorded_on=self.recorded_on)
        if self.recorded_on and self.recorded_on > timezone.localdate():
            raise ValidationError(
                {"recorded_on": "Progress is recorded for today or an earlier day, not a day still to come."}
            )
