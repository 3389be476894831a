"""The risk register: the risk criteria (a versioned matrix), risks and every assessment of them, the review
cadence, treatment actions and the treatment plan's approved versions, acceptances of residual risk as decision
records, and exceptions to controls.

A risk's current scores, treatment and controls are what its latest assessment recorded: the register shows
them, the history keeps every assessment with the matrix version it was made under (ISO/IEC 27001 6.1.2, 8.2).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

MIN_SIZE, MAX_SIZE = 3, 5


class Approvers(models.TextChoices):
    COMPLIANCE = "compliance", "The compliance team"
    COMPLIANCE_OR_MANAGER = "compliance_or_manager", "The compliance team or the risk owner's department manager"


class Matrix(models.Model):
    """One version of the risk criteria: the likelihood and impact scales (3 to 5 levels each, with labels,
    descriptions and colours), the score bands (low … critical, each with a colour and a default review
    interval) and the acceptance criteria (the highest residual score accepted without an approver, and who
    may approve above it). A version is never edited: changing the criteria makes the next version, so an old
    assessment is still read on the scale it was made on.

    likelihood_levels / impact_levels: [{"label", "description", "colour"}], level 1 first.
    bands: [{"key", "label", "upto" (highest score in the band), "colour", "review_months"}], lowest first."""

    number = models.PositiveIntegerField(unique=True)
    size = models.PositiveSmallIntegerField(help_text="Levels of likelihood and of impact: 3, 4 or 5.")
    likelihood_levels = models.JSONField()
    impact_levels = models.JSONField()
    bands = models.JSONField()
    acceptance_threshold = models.PositiveSmallIntegerField(
        help_text="The highest residual score the owner may accept without an approver."
    )
    approvers = models.CharField(max_length=30, choices=Approvers.choices, default=Approvers.COMPLIANCE)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-number"]
        verbose_name = "risk criteria version"

    def __str__(self) -> str:
        return f"Risk criteria version {self.number} ({self.size}×{self.size})"

    @classmethod
    def current(cls) -> Matrix | None:
        return cls.objects.order_by("-number").first()

    @property
    def max_score(self) -> int:
        return self.size * self.size

    @property
    def levels(self) -> range:
        return range(1, self.size + 1)

    def band(self, score: int | None) -> dict | None:
        """The band a score falls in (None for no score)."""
        if not score:
            return None
        for band in self.bands:
            if score <= band["upto"]:
                return band
        return self.bands[-1]

    def band_key(self, score: int | None) -> str:
        band = self.band(score)
        return band["key"] if band else ""

    def level_label(self, axis: str, value: int | None) -> str:
        levels = self.likelihood_levels if axis == "likelihood" else self.impact_levels
        if not value or not 1 <= value <= len(levels):
            return ""
        return levels[value - 1]["label"]

    def needs_approval(self, residual_score: int | None) -> bool:
        return bool(residual_score) and residual_score > self.acceptance_threshold

    def clean(self) -> None:
        """The scales have `size` levels each (3 to 5), every level and band has a label and a colour, the bands
        rise and the last one reaches the highest score, and the threshold is a score on the matrix."""
        errors: dict[str, str] = {}
        if not MIN_SIZE <= (self.size or 0) <= MAX_SIZE:
            errors["size"] = f"A matrix has {MIN_SIZE} to {MAX_SIZE} levels on each side."
            raise ValidationError(errors)
        for name, levels in (("likelihood_levels", self.likelihood_levels), ("impact_levels", self.impact_levels)):
            if len(levels or []) != self.size:
                errors[name] = (
                    f"Give exactly {self.size} levels, one a line, lowest first (you gave {len(levels or [])})."
                )
            elif any(not level.get("label") for level in levels):
                errors[name] = "Every level needs a label."
            elif any(not _is_colour(level.get("colour", "")) for level in levels):
                errors[name] = "A colour is written as #rrggbb, e.g. #2e7d32."
        bands = self.bands or []
        if not bands:
            errors["bands"] = "Give at least one band, e.g. “Low | 4 | #2e7d32 | 12”."
        else:
            uptos = [band.get("upto", 0) for band in bands]
            if uptos != sorted(set(uptos)) or uptos[0] < 1:
                errors["bands"] = "Each band must end on a higher score than the one before it."
            elif uptos[-1] != self.max_score:
                errors["bands"] = f"The last band must end on the highest score, {self.max_score}."
            elif any(not _is_colour(band.get("colour", "")) for band in bands):
                errors["bands"] = "A colour is written as #rrggbb, e.g. #c62828."
            elif any(not 1 <= int(band.get("review_months") or 0) <= 36 for band in bands):
                errors["bands"] = "Each band's review interval is 1 to 36 months."
            elif any(not band.get("label") for band in bands):
                errors["bands"] = "Every band needs a label."
        if self.acceptance_threshold is None or not 1 <= self.acceptance_threshold <= self.max_score:
            errors["acceptance_threshold"] = f"The threshold is a score from 1 to {self.max_score}."
        if errors:
            raise ValidationError(errors)


def _is_colour(value: str) -> bool:
    return len(value) == 7 and value.startswith("#") and all(c in "0123456789abcdefABCDEF" for c in value[1:])


class Counter(models.Model):
    """A numbered sequence (risk references), advanced under a row lock so two people adding a risk at once get
    two numbers, never the same one."""

    name = models.CharField(max_length=40, unique=True)
    value = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.value}"


class DepartmentManager(models.Model):
    """Who manages a department, for the acceptance criteria that let a risk owner's manager approve."""

    department = models.OneToOneField("accounts.Department", on_delete=models.CASCADE, related_name="risk_manager")
    manager = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="managed_departments")

    def __str__(self) -> str:
        return f"{self.manager} manages {self.department}"


class Treatment(models.TextChoices):
    MITIGATE = "mitigate", "Mitigate"
    ACCEPT = "accept", "Accept"
    TRANSFER = "transfer", "Transfer"
    AVOID = "avoid", "Avoid"


class Status(models.TextChoices):
    OPEN = "open", "Open"
    TREATING = "treating", "In treatment"
    ACCEPTED = "accepted", "Accepted"
    CLOSED = "closed", "Closed"


#: The fields an assessment records (its snapshot); a change to any of them is a new assessment.
ASSESSED = (
    "inherent_likelihood",
    "inherent_impact",
    "residual_likelihood",
    "residual_impact",
    "target_likelihood",
    "target_impact",
    "treatment",
    "treatment_plan",
    "target_date",
    "controls",
    "requirements",
)


class Risk(models.Model):
    """A risk in the register. Its scores, treatment and controls are those of its latest assessment (written
    only by the services, with the assessment); `next_review_on` is when its review task falls due."""

    number = models.PositiveIntegerField(unique=True)
    reference = models.CharField(max_length=20, unique=True)
    title = models.CharField(max_length=200)
    asset = models.CharField("asset or process", max_length=200)
    threat = models.TextField()
    vulnerability = models.TextField()
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="risks")
    department = models.ForeignKey(
        "accounts.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="risks"
    )
    controls = models.ManyToManyField("controls.Control", blank=True, related_name="risks")
    requirements = models.ManyToManyField(
        "controls.Requirement", blank=True, related_name="risks", verbose_name="Annex A controls"
    )
    matrix = models.ForeignKey(Matrix, on_delete=models.PROTECT, related_name="+")
    inherent_likelihood = models.PositiveSmallIntegerField()
    inherent_impact = models.PositiveSmallIntegerField()
    inherent_score = models.PositiveSmallIntegerField(editable=False)
    residual_likelihood = models.PositiveSmallIntegerField()
    residual_impact = models.PositiveSmallIntegerField()
    residual_score = models.PositiveSmallIntegerField(editable=False)
    target_likelihood = models.PositiveSmallIntegerField(null=True, blank=True)
    target_impact = models.PositiveSmallIntegerField(null=True, blank=True)
    target_score = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    treatment = models.CharField(max_length=20, choices=Treatment.choices, default=Treatment.MITIGATE)
    treatment_plan = models.TextField("how it is treated", blank=True)
    target_date = models.DateField(null=True, blank=True, help_text="When the target residual score is to be reached.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    review_months = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Review every so many months; empty: the default of its score band."
    )
    last_reviewed_on = models.DateField(null=True, blank=True)
    next_review_on = models.DateField(null=True, blank=True)
    assessment_count = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["number"]
        indexes = [
            models.Index(fields=["next_review_on"]),
            models.Index(fields=["inherent_likelihood", "inherent_impact"]),
            models.Index(fields=["residual_likelihood", "residual_impact"]),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def review_interval(self) -> int:
        """Months between reviews: the risk's own, else its residual band's default."""
        if self.review_months:
            return self.review_months
        band = self.matrix.band(self.residual_score)
        return int(band["review_months"]) if band else 12

    def clean(self) -> None:
        """Every score is a level of the matrix it is assessed on; the target is given whole or not at all."""
        errors: dict[str, str] = {}
        size = self.matrix.size if self.matrix_id else MAX_SIZE
        for field in (
            "inherent_likelihood",
            "inherent_impact",
            "residual_likelihood",
            "residual_impact",
            "target_likelihood",
            "target_impact",
        ):
            value = getattr(self, field)
            if value is None and field.startswith("target"):
                continue
            if value is None or not 1 <= value <= size:
                errors[field] = f"Choose a level from 1 to {size} (the matrix has {size} levels)."
        if (self.target_likelihood is None) != (self.target_impact is None):
            errors["target_impact"] = "Give both the target likelihood and the target impact, or neither."
        if self.review_months is not None and not 1 <= self.review_months <= 36:
            errors["review_months"] = "Review every 1 to 36 months, or leave it empty for the band's default."
        if errors:
            raise ValidationError(errors)

    def set_scores(self) -> None:
        """The scores follow from the levels (likelihood × impact)."""
        self.inherent_score = self.inherent_likelihood * self.inherent_impact
        self.residual_score = self.residual_likelihood * self.residual_impact
        self.target_score = (
            self.target_likelihood * self.target_impact if self.target_likelihood and self.target_impact else None
        )


class Assessment(models.Model):
    """One assessment of a risk: who, when (server time), why, under which matrix version, and a snapshot of
    every assessed field. Never edited: the history of a risk is its assessments."""

    class Kind(models.TextChoices):
        IDENTIFIED = "identified", "Identified"
        CHANGE = "change", "Changed"
        REVIEW = "review", "Reviewed"
        REASSESSMENT = "reassessment", "Reassessed for the year"
        IMPORT = "import", "Imported"

    risk = models.ForeignKey(Risk, on_delete=models.CASCADE, related_name="assessments")
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    matrix = models.ForeignKey(Matrix, on_delete=models.PROTECT, related_name="assessments")
    snapshot = models.JSONField()
    changed = models.JSONField(default=list, help_text="The assessed fields that differ from the assessment before.")
    inherent_score = models.PositiveSmallIntegerField()
    residual_score = models.PositiveSmallIntegerField()
    reason = models.TextField()
    reviewed_on = models.DateField(help_text="The day the assessment was made (no later than today).")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    by_name = models.CharField(max_length=300)
    at = models.DateTimeField(default=timezone.now)
    occurrence = models.ForeignKey(
        "maintenance.Occurrence", null=True, blank=True, on_delete=models.SET_NULL, related_name="risk_assessments"
    )
    via = models.CharField(max_length=10, default="web")

    class Meta:
        ordering = ["risk", "-number"]
        constraints = [models.UniqueConstraint(fields=["risk", "number"], name="assessment_number_per_risk")]
        indexes = [models.Index(fields=["risk", "-number"])]

    def __str__(self) -> str:
        return f"{self.risk.reference} assessment {self.number}"


class ReviewRequest(models.Model):
    """A review asked for out of cycle (by hand today; by an incident or a change later): why, from where,
    and the assessment that answered it."""

    risk = models.ForeignKey(Risk, on_delete=models.CASCADE, related_name="review_requests")
    reason = models.TextField()
    source = models.CharField(max_length=40, default="manual", help_text="What asked: manual, acceptance, incident…")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    answered_by = models.ForeignKey(Assessment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"Review of {self.risk.reference} requested: {self.reason[:40]}"


class Decision(models.TextChoices):
    REQUESTED = "requested", "Awaiting approval"
    APPROVED = "approved", "In force"
    REFUSED = "refused", "Refused"
    LAPSED = "lapsed", "Lapsed"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Acceptance(models.Model):
    """The acceptance of a risk's residual level as a decision record: who asked and why, the named approver,
    until when, and the risk as it stood when approved (scores, matrix version, linked controls). It lapses by
    itself on expiry or on a material change (a higher score, a linked control removed or no longer
    implemented), sending the risk back for review."""

    risk = models.ForeignKey(Risk, on_delete=models.CASCADE, related_name="acceptances")
    state = models.CharField(max_length=20, choices=Decision.choices, default=Decision.REQUESTED)
    justification = models.TextField()
    expires_on = models.DateField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="risk_approvals")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    matrix = models.ForeignKey(Matrix, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    snapshot = models.JSONField(default=dict, help_text="The risk as it stood when approved.")
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"Acceptance of {self.risk.reference} ({self.get_state_display()})"

    def in_force(self, today: datetime.date | None = None) -> bool:
        return self.state == Decision.APPROVED and self.expires_on >= (today or timezone.localdate())


class ControlException(models.Model):
    """An exception to a control: which control, why, what compensates, who owns and who approved it, until
    when. It lapses by itself on expiry; a renewal task comes before."""

    control = models.ForeignKey("controls.Control", on_delete=models.CASCADE, related_name="exceptions")
    title = models.CharField(max_length=200, help_text="What is exempted, e.g. “Legacy payroll server: no MFA”.")
    reason = models.TextField("why")
    compensating = models.TextField("compensating measures")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="control_exceptions")
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    expires_on = models.DateField()
    state = models.CharField(max_length=20, choices=Decision.choices, default=Decision.REQUESTED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"Exception to {self.control.reference}: {self.title}"

    def in_force(self, today: datetime.date | None = None) -> bool:
        return self.state == Decision.APPROVED and self.expires_on >= (today or timezone.localdate())


class TreatmentAction(models.Model):
    """One action of a risk's treatment: a task on the calendar for its owner, due on a date, done with
    evidence (the calendar's task page takes it)."""

    risk = models.ForeignKey(Risk, on_delete=models.CASCADE, related_name="actions")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="risk_actions")
    due_date = models.DateField()
    done_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["due_date", "pk"]

    def __str__(self) -> str:
        return f"{self.risk.reference}: {self.title}"

    @property
    def is_done(self) -> bool:
        return self.done_on is not None


class PlanVersion(models.Model):
    """A frozen version of the risk treatment plan, approved by the risk owners it names (6.1.3 e): each owner
    signs off their own risks; the version is approved when all have."""

    number = models.PositiveIntegerField(unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)
    entries = models.JSONField(help_text="The risks, their treatment and actions, frozen.")
    approved_at = models.DateTimeField(null=True, blank=True, help_text="When the last owner signed off.")

    class Meta:
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"Treatment plan version {self.number}"


class PlanSignoff(models.Model):
    """One risk owner's approval of their part of a treatment plan version, with their acceptance of the
    residual risks in it."""

    version = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="signoffs")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    owner_name = models.CharField(max_length=300)
    signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["owner_name"]
        constraints = [models.UniqueConstraint(fields=["version", "owner"], name="one_signoff_per_owner")]

    def __str__(self) -> str:
        return f"{self.owner_name} on {self.version}"
