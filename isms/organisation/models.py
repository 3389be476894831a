"""The organisation, its ISMS scope and its certification cycle.

One installation serves one organisation. A certificate lasts three years; from its issue date the
cycle is planned: surveillance audits in years one and two and recertification before expiry. A person
may move any planned date; re-planning never overwrites a date a person set.
"""

import datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from isms.foundation.forms import check_date_bounds


def _working_day(day: datetime.date) -> datetime.date:
    """The day itself, or the Monday after when it falls on a weekend."""
    return day + datetime.timedelta(days=(7 - day.weekday()) % 7) if day.weekday() >= 5 else day


class Organisation(models.Model):
    """The organisation whose ISMS this is, and the scope statement its certificate covers."""

    name = models.CharField(max_length=200)
    scope = models.TextField(
        "ISMS scope statement",
        blank=True,
        help_text="What the ISMS covers: locations, services, systems and exclusions (clause 4.3).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name

    @classmethod
    def current(cls) -> "Organisation":
        """The installation's organisation, created with a placeholder name on first use."""
        org = cls.objects.order_by("pk").first()
        return org or cls.objects.create(name="Our organisation")


class CertificateQuerySet(models.QuerySet):
    def current(self) -> "Certificate | None":
        """The certificate in force: the most recently issued one."""
        return self.order_by("-issue_date", "-pk").first()


class Certificate(models.Model):
    """An ISO/IEC 27001 certificate issued by a certification body, valid for three years."""

    VALIDITY = relativedelta(years=3, days=-1)

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="certificates")
    standard = models.CharField(max_length=100, default="ISO/IEC 27001:2022")
    certification_body = models.CharField(max_length=200)
    certificate_number = models.CharField(max_length=100)
    issue_date = models.DateField()
    expiry_date = models.DateField(
        help_text="Three years from issue less a day, unless the certificate says otherwise."
    )

    objects = CertificateQuerySet.as_manager()

    class Meta:
        ordering = ["-issue_date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expiry_date__gt=models.F("issue_date")), name="certificate_expires_after_issue"
            )
        ]

    def __str__(self) -> str:
        return f"{self.standard} {self.certificate_number}"

    @classmethod
    def default_expiry(cls, issue_date: datetime.date) -> datetime.date:
        return issue_date + cls.VALIDITY

    def clean(self) -> None:
        """Its dates fall within the dates the app accepts (2000–2100), whoever saves it: the cycle is planned
        from them, and a year such as 9999 would leave no room for three years of audits."""
        check_date_bounds(issue_date=self.issue_date, expiry_date=self.expiry_date)

    def planned_audit_dates(self) -> dict[str, datetime.date]:
        """Where each audit of the cycle falls by default.

        ISO/IEC 17021-1 asks for the first surveillance audit within 12 months of the certification
        decision and at least once a year after; recertification must be decided before expiry, so it
        is planned three months ahead to leave time to close findings. A date on a weekend moves to the
        Monday after: auditors do not visit on Sundays.
        """
        return {
            CycleAudit.Kind.SURVEILLANCE_1: _working_day(self.issue_date + relativedelta(months=11)),
            CycleAudit.Kind.SURVEILLANCE_2: _working_day(self.issue_date + relativedelta(months=23)),
            CycleAudit.Kind.RECERTIFICATION: _working_day(self.expiry_date - relativedelta(months=3)),
        }


class CycleAudit(models.Model):
    """One external audit of a certificate's cycle, with a date a person can adjust."""

    class Kind(models.TextChoices):
        SURVEILLANCE_1 = "surveillance_1", "Surveillance audit (year 1)"
        SURVEILLANCE_2 = "surveillance_2", "Surveillance audit (year 2)"
        RECERTIFICATION = "recertification", "Recertification audit (year 3)"

    certificate = models.ForeignKey(Certificate, on_delete=models.CASCADE, related_name="audits")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    planned_date = models.DateField()
    adjusted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    adjusted_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["planned_date"]
        constraints = [models.UniqueConstraint(fields=["certificate", "kind"], name="one_audit_per_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.planned_date:%d %b %Y}"

    @property
    def is_adjusted(self) -> bool:
        """A person has set this date; automatic re-planning leaves it alone."""
        return self.adjusted_at is not None

    # The certificate year each audit must fall in (ISO/IEC 17021-1: the first surveillance within 12 months of
    # certification, then one each year; recertification before expiry).
    YEAR = {Kind.SURVEILLANCE_1: 1, Kind.SURVEILLANCE_2: 2, Kind.RECERTIFICATION: 3}

    def allowed_window(self) -> tuple[datetime.date, datetime.date]:
        """The first and last day this audit may fall on: its year of the certificate (the last year ends at
        the expiry)."""
        cert = self.certificate
        year = self.YEAR[self.kind]
        start = cert.issue_date + relativedelta(years=year - 1)
        end = cert.expiry_date if year == 3 else cert.issue_date + relativedelta(years=year) - datetime.timedelta(1)
        return start, min(end, cert.expiry_date)

    def clean(self) -> None:
        """Each audit of the cycle falls in its own year of the certificate, whoever sets the date; the years do
        not overlap, so the audits stay in order and about a year apart."""
        if not self.planned_date or not self.certificate_id:
            return
        start, end = self.allowed_window()
        label = self.get_kind_display()
        if not start <= self.planned_date <= end:
            raise ValidationError(
                {
                    "planned_date": f"{label} must fall in year {self.YEAR[self.kind]} of the certificate: "
                    f"{start:%d %b %Y} to {end:%d %b %Y}."
                }
            )
