"""Writes that touch the certificate and its cycle together."""

import datetime

from django.db import transaction
from django.utils import timezone

from isms.accounts.models import User
from isms.foundation.forms import check_date_bounds
from isms.foundation.roles import Role
from isms.maintenance.models import Kind
from isms.maintenance.services import schedule_for

from .calendar import CERTIFICATION_AUDIT
from .models import Certificate, CycleAudit, Organisation


@transaction.atomic
def certificate_save(
    *,
    certificate: Certificate | None = None,
    organisation: Organisation,
    certification_body: str,
    certificate_number: str,
    issue_date: datetime.date,
    expiry_date: datetime.date | None = None,
    standard: str = "ISO/IEC 27001:2022",
) -> Certificate:
    """Create or update a certificate and (re)plan its cycle. Dates outside 2000–2100 are refused before
    anything is worked out from them or written."""
    check_date_bounds(issue_date=issue_date, expiry_date=expiry_date)
    certificate = certificate or Certificate(organisation=organisation)
    certificate.standard = standard
    certificate.certification_body = certification_body
    certificate.certificate_number = certificate_number
    certificate.issue_date = issue_date
    certificate.expiry_date = expiry_date or Certificate.default_expiry(issue_date)
    certificate.full_clean()
    certificate.save()
    cycle_plan(certificate=certificate)
    return certificate


def cycle_plan(*, certificate: Certificate) -> list[CycleAudit]:
    """Create the cycle's audits at their default dates; move those nobody has adjusted."""
    planned = certificate.planned_audit_dates()
    existing = {audit.kind: audit for audit in certificate.audits.all()}
    for kind, day in planned.items():
        audit = existing.get(kind)
        if audit is None:
            existing[kind] = CycleAudit.objects.create(certificate=certificate, kind=kind, planned_date=day)
        elif not audit.is_adjusted and audit.planned_date != day:
            audit.planned_date = day
            audit.save(update_fields=["planned_date"])
    audits = sorted(existing.values(), key=lambda a: a.planned_date)
    for audit in audits:
        cycle_audit_to_calendar(audit)
    return audits


def cycle_audit_to_calendar(audit: CycleAudit) -> None:
    """Put the audit on the maintenance calendar as a one-off task for the compliance team, and keep it there
    at the audit's current date. Without a compliance manager or administrator there is nobody to own it yet;
    the next save of the certificate or the audit date puts it on the calendar."""
    owner = (
        User.objects.filter(is_active=True, role=Role.COMPLIANCE).exclude(email="").order_by("pk").first()
        or User.objects.filter(is_active=True, role=Role.ADMIN).exclude(email="").order_by("pk").first()
    )
    if owner is None:
        return
    schedule_for(
        subject=audit,
        purpose=CERTIFICATION_AUDIT,
        title=f"{audit.get_kind_display()}: {audit.certificate.certification_body}",
        start_date=audit.planned_date,
        owner=owner,
        kind=Kind.EXTERNAL_AUDIT,
        department=owner.department,
        reminder_days=[60, 30, 7],
        grace_days=14,
        description=(
            f"External {audit.get_kind_display().lower()} of certificate {audit.certificate.certificate_number}. "
            "Confirm the dates and the audit plan with the certification body, check that nothing is overdue, "
            "that every control has evidence for the period and that open nonconformities are addressed."
        ),
    )


@transaction.atomic
def cycle_audit_adjust(*, audit: CycleAudit, planned_date: datetime.date, notes: str, by) -> CycleAudit:
    """A person moves an audit date; the change is kept through later re-planning."""
    audit.planned_date = planned_date
    audit.notes = notes
    audit.adjusted_by = by
    audit.adjusted_at = timezone.now()
    audit.full_clean()
    audit.save(update_fields=["planned_date", "notes", "adjusted_by", "adjusted_at"])
    cycle_audit_to_calendar(audit)
    return audit


@transaction.atomic
def cycle_audit_reset(*, audit: CycleAudit) -> CycleAudit:
    """Return an adjusted audit to the date the cycle plans for it."""
    audit.planned_date = audit.certificate.planned_audit_dates()[audit.kind]
    audit.adjusted_by = None
    audit.adjusted_at = None
    audit.save(update_fields=["planned_date", "adjusted_by", "adjusted_at"])
    cycle_audit_to_calendar(audit)
    return audit
