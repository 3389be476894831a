"""The demo organisation `make run` loads: one login per role, departments, a certificate and its cycle.

Loading is idempotent: running it again updates what is there instead of adding copies. Later apps add
their own demo data by appending a function to DEMO_STEPS.
"""

import datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from controls.demo import demo_controls
from isms.accounts.models import Department, User
from isms.accounts.roles import Role
from isms.maintenance.demo import demo_calendar
from isms.organisation.models import Certificate, Organisation
from isms.organisation.services import certificate_save

DEPARTMENTS = ["IT", "HR", "Legal", "Facilities", "Security", "Management"]

# username, first name, last name, role, department
DEMO_USERS = [
    ("admin", "Ada", "Admin", Role.ADMIN, "IT"),
    ("compliance", "Chris", "Compliance", Role.COMPLIANCE, "Security"),
    ("owner", "Olivia", "Owner", Role.OWNER, "IT"),
    ("viewer", "Victor", "Viewer", Role.VIEWER, "Management"),
    ("auditor", "Aude", "Auditor", Role.AUDITOR, None),
]

SCOPE = (
    "The information security management system of Northwind Analytics Ltd covering the design, development, "
    "operation and support of the Northwind SaaS analytics platform, delivered from the London office and "
    "the company's cloud hosting (AWS eu-west-2), including the people, processes and suppliers supporting it. "
    "Excluded: the on-premises payroll system operated by an outsourced provider."
)


def demo_users(password: str) -> dict[str, User]:
    departments = {name: Department.objects.get_or_create(name=name)[0] for name in DEPARTMENTS}
    users = {}
    for username, first, last, role, dept in DEMO_USERS:
        user, _ = User.objects.update_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@northwind.example",
                "role": role,
                "department": departments.get(dept),
                "is_active": True,
                "is_staff": role == Role.ADMIN,
                "is_superuser": role == Role.ADMIN,
            },
        )
        user.set_password(password)
        user.save(update_fields=["password"])
        users[username] = user
    return users


def demo_organisation(today: datetime.date) -> Certificate:
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


@transaction.atomic
def demo_load(*, password: str | None = None, today: datetime.date | None = None) -> dict[str, User]:
    today = today or timezone.localdate()
    users = demo_users(password or settings.DEMO_PASSWORD)
    demo_organisation(today)
    for step in DEMO_STEPS:
        step(users=users, today=today)
    return users


# Each app's part of the demo: functions called with users=… and today=….
DEMO_STEPS: list = [demo_calendar, demo_controls]
