"""The events registers in Django admin: read-only (their writes carry rules: numbering, reviews opened, tasks on
the calendar), so nothing here bypasses them. The severity scale is set on its own page."""

from django.contrib import admin

from isms.foundation.admin_site import ReadOnlyAdmin

from .models import Change, ChangeReview, Incident, Objective, ProgressEntry, Severity, Supplier, SupplierReview


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    list_display = ["reference", "title", "severity", "status", "detected_on"]
    list_filter = ["status", "category"]
    search_fields = ["reference", "title"]


@admin.register(Severity)
class SeverityAdmin(ReadOnlyAdmin):
    list_display = ["level", "label"]


@admin.register(Change)
class ChangeAdmin(ReadOnlyAdmin):
    list_display = ["reference", "title", "planned_on", "status"]
    search_fields = ["reference", "title"]


@admin.register(ChangeReview)
class ChangeReviewAdmin(ReadOnlyAdmin):
    list_display = ["change", "kind", "owner", "due_on", "done_at"]


@admin.register(Supplier)
class SupplierAdmin(ReadOnlyAdmin):
    list_display = ["name", "criticality", "rating", "next_review_on", "active"]
    list_filter = ["criticality", "active"]
    search_fields = ["name"]


@admin.register(SupplierReview)
class SupplierReviewAdmin(ReadOnlyAdmin):
    list_display = ["supplier", "reviewed_on", "outcome"]


@admin.register(Objective)
class ObjectiveAdmin(ReadOnlyAdmin):
    list_display = ["title", "owner", "due_on"]


@admin.register(ProgressEntry)
class ProgressEntryAdmin(ReadOnlyAdmin):
    list_display = ["objective", "recorded_on", "value"]
