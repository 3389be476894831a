from django.contrib import admin

from .models import Certificate, CycleAudit, Organisation


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "updated_at"]


class CycleAuditInline(admin.TabularInline):
    model = CycleAudit
    extra = 0


@admin.register(Certificate)
class CertificateAdmin(admin.ModelAdmin):
    list_display = ["certificate_number", "certification_body", "issue_date", "expiry_date"]
    inlines = [CycleAuditInline]
