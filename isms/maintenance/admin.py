"""The calendar in Django admin: read-only. Saving a schedule materialises its occurrences and completing a
task records its history and evidence (services.py); the calendar pages do both, the admin would bypass them."""

from django.contrib import admin

from isms.foundation.admin_site import ReadOnlyAdmin

from .models import Occurrence, Schedule, TaskLinkUse


@admin.register(Schedule)
class ScheduleAdmin(ReadOnlyAdmin):
    list_display = ["title", "kind", "owner", "rrule", "start_date", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["title"]
    list_select_related = ["owner"]


@admin.register(Occurrence)
class OccurrenceAdmin(ReadOnlyAdmin):
    list_display = ["title", "due_date", "owner", "state", "completed_at"]
    list_filter = ["state"]
    search_fields = ["title"]
    date_hierarchy = "due_date"
    list_select_related = ["owner"]
    raw_id_fields = ["schedule", "owner", "completed_by"]


@admin.register(TaskLinkUse)
class TaskLinkUseAdmin(ReadOnlyAdmin):
    list_display = ["occurrence", "outcome", "at", "ip_address"]
    list_filter = ["outcome"]
