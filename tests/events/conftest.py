"""Events tests: risks to record incidents and changes against, a supplier, and helpers to find the tasks the
registers put on the calendar."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType

from events import services
from isms.maintenance.models import Occurrence
from risks.models import ReviewRequest

NO = {
    "changes_scope": False,
    "changes_assets": False,
    "changes_supplier": False,
    "changes_locations": False,
    "changes_obligations": False,
    "changes_people": False,
    "changes_controls": False,
}


def tasks_of(subject, purpose: str):
    """The tasks the calendar holds for `subject` and `purpose`."""
    return Occurrence.objects.filter(
        schedule__subject_type=ContentType.objects.get_for_model(subject),
        schedule__subject_id=subject.pk,
        schedule__purpose=purpose,
    ).select_related("schedule", "owner")


def review_requests(source: str):
    return ReviewRequest.objects.filter(source=source)


@pytest.fixture
def make_risk(compliance):
    from risks.services import risk_create

    def make(title: str, owner, asset: str = "Laptops"):
        return risk_create(
            by=compliance,
            title=title,
            asset=asset,
            threat="Theft",
            vulnerability="No disk encryption",
            owner=owner,
            inherent_likelihood=3,
            inherent_impact=3,
            residual_likelihood=2,
            residual_impact=2,
            treatment="mitigate",
        )

    return make


@pytest.fixture
def two_risks(make_risk, owner, other_owner):
    return make_risk("Laptop theft", owner), make_risk("Payroll supplier breach", other_owner, asset="Payroll SaaS")


@pytest.fixture
def severity(db):
    return services.severity_scale_ensure()[1]


@pytest.fixture
def supplier(clock, compliance, owner):
    return services.supplier_save(by=compliance, name="PayFlow", service="Payroll", criticality="critical", owner=owner)


def objective_fields(owner, today: datetime.date, **extra) -> dict:
    return {
        "title": "Staff trained",
        "measure": "Share of staff trained",
        "unit": "%",
        "baseline": Decimal(50),
        "target": Decimal(90),
        "owner": owner,
        "start_on": today - datetime.timedelta(days=100),
        "due_on": today + datetime.timedelta(days=100),
        **extra,
    }
