"""Read-side queries for the organisation pages."""

import datetime
from dataclasses import dataclass

from .models import Certificate


@dataclass(frozen=True)
class Milestone:
    label: str
    date: datetime.date
    kind: str  # issue, audit, expiry
    position: float  # 0–100, along the certificate's life
    is_past: bool
    audit_id: int | None = None
    is_adjusted: bool = False


@dataclass(frozen=True)
class Timeline:
    certificate: Certificate
    milestones: list[Milestone]
    today: datetime.date
    today_position: float | None  # None when today is outside the certificate's life
    next_milestone: Milestone | None

    @property
    def days_to_next(self) -> int | None:
        return (self.next_milestone.date - self.today).days if self.next_milestone else None


def cycle_timeline(certificate: Certificate, today: datetime.date) -> Timeline:
    """The certificate's life from issue to expiry with its audits placed along it."""
    start, end = certificate.issue_date, certificate.expiry_date
    span = max((end - start).days, 1)

    def position(day: datetime.date) -> float:
        return round(min(max((day - start).days / span, 0), 1) * 100, 2)

    milestones = [Milestone("Certificate issued", start, "issue", 0.0, start < today)]
    for audit in certificate.audits.all():
        milestones.append(
            Milestone(
                audit.get_kind_display(),
                audit.planned_date,
                "audit",
                position(audit.planned_date),
                audit.planned_date < today,
                audit_id=audit.pk,
                is_adjusted=audit.is_adjusted,
            )
        )
    milestones.append(Milestone("Certificate expires", end, "expiry", 100.0, end < today))
    milestones.sort(key=lambda m: m.date)
    upcoming = [m for m in milestones if m.date >= today]
    return Timeline(
        certificate=certificate,
        milestones=milestones,
        today=today,
        today_position=position(today) if start <= today <= end else None,
        next_milestone=upcoming[0] if upcoming else None,
    )
