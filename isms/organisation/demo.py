"""The demo organisation: Northwind Analytics Ltd, certified seven months ago, and its certification cycle."""

import datetime

from dateutil.relativedelta import relativedelta

from isms.accounts.models import User

from .models import Certificate, Organisation
from .services import certificate_save

SCOPE = (
    "The information security management system of Northwind Analytics Ltd covering the design, development, "
    "operation and support of the Northwind SaaS analytics platform, delivered from the London office and "
    "the company's cloud hosting (AWS eu-west-2), including the people, processes and suppliers supporting it. "
    "Excluded: the on-premises payroll system operated by an outsourced provider."
)


def load(*, users: dict[str, User], today: datetime.date) -> Certificate:
    org = Organisation.current()
    org.name = "Northwind Analytics Ltd"
    org.scope = SCOPE
    org.save()
    # Certified seven months ago: surveillance year 1 is coming up, the rest of the cycle is ahead.
    issue = today - relativedelta(months=7)
    certificate = Certificate.objects.filter(certificate_number="NW-27001-0420").first()
    return certificate_save(
        certificate=certificate,
        organisation=org,
        certification_body="BSI Assurance UK (example)",
        certificate_number="NW-27001-0420",
        issue_date=issue,
    )
