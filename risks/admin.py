"""The risk register in Django admin: read-only where writes carry rules (every change is an assessment, through
the pages); department managers (who may approve acceptances when the criteria allow) are set here."""

from django.contrib import admin

from isms.foundation.admin_site import ReadOnlyAdmin

from .models import Acceptance, Assessment, ControlException, DepartmentManager, Matrix, PlanVersion, Risk


@admin.register(Risk)
class RiskAdmin(ReadOnlyAdmin):
    list_display = ["reference", "title", "owner", "inherent_score", "residual_score", "status", "next_review_on"]
    search_fields = ["reference", "title"]


@admin.register(Assessment)
class AssessmentAdmin(ReadOnlyAdmin):
    list_display = ["risk", "number", "kind", "by_name", "at"]


@admin.register(Matrix)
class MatrixAdmin(ReadOnlyAdmin):
    list_display = ["number", "size", "acceptance_threshold", "created_at"]


@admin.register(Acceptance)
class AcceptanceAdmin(ReadOnlyAdmin):
    list_display = ["risk", "state", "approver", "expires_on"]


@admin.register(ControlException)
class ControlExceptionAdmin(ReadOnlyAdmin):
    list_display = ["control", "title", "state", "approver", "expires_on"]


@admin.register(PlanVersion)
class PlanVersionAdmin(ReadOnlyAdmin):
    list_display = ["number", "created_at", "approved_at"]


@admin.register(DepartmentManager)
class DepartmentManagerAdmin(admin.ModelAdmin):
    list_display = ["department", "manager"]
