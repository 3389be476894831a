"""Evidence in Django admin: readable, never changed or deleted there. Submitted evidence is immutable; a
correction is a new version and deletion goes through evidence_delete() (an administrator, a reason, a
tombstone), which the admin's delete would bypass."""

from django.contrib import admin
from django.db import models

from isms.foundation.admin_site import ReadOnlyAdmin

from .models import ApiToken, EvidenceItem


@admin.register(EvidenceItem)
class EvidenceItemAdmin(ReadOnlyAdmin):
    list_display = [
        "title",
        "type",
        "version",
        "source",
        "submitted_by",
        "submitted_at",
        "effective_date",
        "deleted_at",
    ]
    list_filter = ["type", "source", ("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["title", "original_name", "sha256"]
    date_hierarchy = "submitted_at"
    list_select_related = ["submitted_by"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    raw_id_fields = ["occurrence", "control", "requirement", "supersedes", "submitted_by", "deleted_by"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are made and revoked on the token pages; here they are only read (the secret is never stored)."""

    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "user__username"]
    list_select_related = ["user"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
