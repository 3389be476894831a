"""The organisation in Django admin: read-only. The certificate's save plans the cycle and puts its audits on
the calendar (certificate_save), which an admin edit would bypass; the pages under Organisation change them."""

from django.contrib import admin

from isms.foundation.admin_site import ReadOnlyAdmin, ReadOnlyInline

from .models import Certificate, CycleAudit, Organisation


@admin.register(Organisation)
class OrganisationAdmin(ReadOnlyAdmin):
    list_display = ["name", "updated_at"]


class CycleAuditInline(ReadOnlyInline):
    model = CycleAudit


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdmin):
    list_display = ["certificate_number", "certification_body", "issue_date", "expiry_date"]
    inlines = [CycleAuditInline]
