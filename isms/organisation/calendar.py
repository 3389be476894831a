"""What the organisation app's tasks mean on the calendar: the certification audits of the cycle."""

from django.urls import reverse

from isms.maintenance.purposes import Purpose, register

CERTIFICATION_AUDIT = "certification-audit"

register(
    Purpose(
        model="organisation.CycleAudit",
        purpose=CERTIFICATION_AUDIT,
        label=lambda audit: f"{audit.get_kind_display()} of certificate {audit.certificate.certificate_number}",
        url=lambda audit: reverse("organisation:cycle"),
    )
)
