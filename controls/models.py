"""Frameworks and their requirements, the organisation's controls mapped to them, and the Statement of
Applicability with its approved, frozen versions."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models


class Framework(models.Model):
    """A catalogue of requirements: ISO/IEC 27001 Annex A, its clauses, GDPR, ISO 27701…"""

    code = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    version = models.CharField(max_length=40, blank=True)
    description = models.TextField(blank=True)
    has_soa = models.BooleanField(default=False, help_text="The Statement of Applicability is kept against it.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Requirement(models.Model):
    """One requirement of a framework (an Annex A control, a clause, a GDPR article)."""

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="requirements")
    identifier = models.CharField(max_length=40)
    title = models.CharField(max_length=300)
    group = models.CharField(max_length=200, blank=True, help_text="Theme, clause or chapter.")
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)
    retired = models.BooleanField(default=False, help_text="No longer in the catalogue file; kept for history.")

    class Meta:
        ordering = ["framework", "position"]
        constraints = [models.UniqueConstraint(fields=["framework", "identifier"], name="requirement_id_unique")]

    def __str__(self) -> str:
        return f"{self.identifier} {self.title}"


class ImplementationStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    PARTIAL = "partial", "Partially implemented"
    IMPLEMENTED = "implemented", "Implemented"
    NOT_APPLICABLE = "not_applicable", "Not applicable"


class Control(models.Model):
    """A control the organisation operates, mapped to requirements of one or more frameworks. Its evidence
    counts for every requirement it maps to; its recurring activities are schedules on the calendar."""

    reference = models.CharField(max_length=30, unique=True, help_text="Your own identifier, e.g. AC-01.")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="controls")
    department = models.ForeignKey(
        "accounts.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="controls"
    )
    status = models.CharField(
        "implementation status",
        max_length=20,
        choices=ImplementationStatus.choices,
        default=ImplementationStatus.PLANNED,
    )
    requirements = models.ManyToManyField(Requirement, blank=True, related_name="controls")
    schedules = GenericRelation("maintenance.Schedule", content_type_field="subject_type", object_id_field="subject_id")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["reference"]

    def __str__(self) -> str:
        return f"{self.reference} {self.name}"


class SoAEntry(models.Model):
    """The working Statement of Applicability line for one requirement of the SoA framework."""

    requirement = models.OneToOneField(Requirement, on_delete=models.CASCADE, related_name="soa_entry")
    applicable = models.BooleanField(default=True)
    justification = models.TextField(
        blank=True, help_text="Why the control is included (risk, law, contract) or why it is excluded."
    )
    status = models.CharField(
        "implementation status",
        max_length=20,
        choices=ImplementationStatus.choices,
        default=ImplementationStatus.PLANNED,
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["requirement__position"]
        verbose_name = "SoA entry"
        verbose_name_plural = "SoA entries"

    def __str__(self) -> str:
        return f"SoA {self.requirement.identifier}"


class SoAVersion(models.Model):
    """An approved, frozen Statement of Applicability. `entries` is the snapshot at approval; it is never
    edited afterwards, so what was approved is what an auditor reads."""

    framework = models.ForeignKey(Framework, on_delete=models.PROTECT, related_name="soa_versions")
    number = models.PositiveIntegerField()
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_by_name = models.CharField(
        max_length=300, blank=True, help_text="The approver's name as it was at approval, frozen with the version."
    )
    approved_at = models.DateTimeField()
    note = models.TextField(blank=True, help_text="What changed and why.")
    entries = models.JSONField(help_text="Frozen lines: identifier, title, group, applicable, justification…")

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["framework", "number"], name="soa_version_number_unique")]

    def __str__(self) -> str:
        return f"SoA version {self.number}"

    @property
    def approver(self) -> str:
        """Who approved it, as named at the time."""
        return self.approved_by_name or self.approved_by.get_full_name() or self.approved_by.username

    def previous(self) -> "SoAVersion | None":
        return SoAVersion.objects.filter(framework=self.framework, number__lt=self.number).order_by("-number").first()
