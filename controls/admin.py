"""Controls in Django admin: read-only. Catalogues are loaded from their files, controls and the SoA change on
their pages (an approved SoA version is frozen), so nothing here bypasses those rules."""

from django.contrib import admin

from isms.foundation.admin_site import ReadOnlyAdmin

from .models import Control, Framework, Requirement, SoAEntry, SoAVersion


@admin.register(Framework)
class FrameworkAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "version"]


@admin.register(Requirement)
class RequirementAdmin(ReadOnlyAdmin):
    list_display = ["identifier", "title", "framework", "retired"]
    list_filter = ["framework", "retired"]
    search_fields = ["identifier", "title"]


@admin.register(Control)
class ControlAdmin(ReadOnlyAdmin):
    list_display = ["reference", "name", "owner", "status"]
    list_filter = ["status"]
    search_fields = ["reference", "name"]


@admin.register(SoAEntry)
class SoAEntryAdmin(ReadOnlyAdmin):
    list_display = ["requirement", "applicable", "status"]


@admin.register(SoAVersion)
class SoAVersionAdmin(ReadOnlyAdmin):
    list_display = ["framework", "number", "approved_at"]
