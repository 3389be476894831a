"""The portal's records in Django admin: read-only. Engagements open, change and end through the compliance
team's pages (portal/services.py checks their rules), and the auditor log is a record nobody edits."""

from django.contrib import admin

from isms.foundation.admin_site import ReadOnlyAdmin

from .models import AuditorAction, Engagement, EvidencePack, EvidenceRequest, Sample


@admin.register(Engagement)
class EngagementAdmin(ReadOnlyAdmin):
    list_display = ["title", "certification_body", "period_start", "period_end", "access_starts_on", "access_ends_on"]
    search_fields = ["title", "certification_body"]


@admin.register(Sample)
class SampleAdmin(ReadOnlyAdmin):
    list_display = ["title", "engagement", "population", "population_size", "sample_size", "drawn_at"]


@admin.register(EvidenceRequest)
class EvidenceRequestAdmin(ReadOnlyAdmin):
    list_display = ["engagement", "number", "owner", "state", "due_on"]


@admin.register(EvidencePack)
class EvidencePackAdmin(ReadOnlyAdmin):
    list_display = ["engagement", "state", "requested_at", "files_total", "size"]


@admin.register(AuditorAction)
class AuditorActionAdmin(ReadOnlyAdmin):
    list_display = ["at", "user", "engagement", "kind", "what", "status_code", "ip"]
    list_filter = ["kind"]
    search_fields = ["what", "path"]
