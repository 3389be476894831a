"""factory-boy factories for the models tests need."""

import datetime

import factory

from isms.accounts.models import Department, User
from isms.foundation.roles import Role
from isms.organisation.models import Organisation
from isms.organisation.services import certificate_save


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Department {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    role = Role.OWNER
    password = factory.django.Password("correct horse battery staple")


def make_certificate(issue_date: datetime.date = datetime.date(2026, 3, 1)):
    return certificate_save(
        organisation=Organisation.current(),
        certification_body="Example Certification Ltd",
        certificate_number="CERT-1",
        issue_date=issue_date,
    )


def make_schedule(owner, *, backfill: bool = False, **fields):
    """A monthly control activity starting today (unless given), made through the service as the UI does.

    backfill=True also makes the occurrences between the start date and `today` (history), as the demo does."""
    from django.utils import timezone

    from isms.maintenance.services import schedule_materialise, schedule_save

    values = {
        "title": "Monthly vulnerability scan",
        "kind": "control_activity",
        "owner": owner,
        "rrule": "FREQ=MONTHLY",
        "start_date": timezone.localdate(),
        "reminder_days": [14, 3, 1],
        "grace_days": 7,
        **fields,
    }
    schedule = schedule_save(**values)
    if backfill:
        today = fields.get("today") or timezone.localdate()
        schedule_materialise(schedule=schedule, today=today, since=schedule.start_date)
    return schedule


def make_requirement(
    framework_code: str = "iso27001-2022-annex-a", identifier: str = "5.15", title: str = "Access control"
):
    from controls.models import Framework, Requirement

    framework, _ = Framework.objects.get_or_create(
        code=framework_code,
        defaults={"name": "ISO/IEC 27001:2022 Annex A", "has_soa": framework_code.endswith("annex-a")},
    )
    requirement, _ = Requirement.objects.get_or_create(
        framework=framework, identifier=identifier, defaults={"title": title, "group": "Organizational controls"}
    )
    return requirement


def make_control(owner, reference: str = "AC-01", name: str = "User access management", requirements=()):
    from controls.models import Control

    control = Control.objects.create(
        reference=reference, name=name, owner=owner, department=owner.department, status="implemented"
    )
    control.requirements.set(requirements)
    return control
