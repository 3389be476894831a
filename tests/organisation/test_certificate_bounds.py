"""A certificate's dates stay within 1 January 2000 – 31 December 2100, on the page and in the service: a
certificate issued in 9999 is a message next to the field, not a server error, and nothing is written (no
certificate, no audits, no calendar task)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from isms.maintenance.models import Schedule
from isms.organisation.models import Certificate, CycleAudit, Organisation
from isms.organisation.services import certificate_save

BOUNDS = "between 1 January 2000 and 31 December 2100"


def form(**dates) -> dict:
    return {
        "standard": "ISO/IEC 27001:2022",
        "certification_body": "LRQA",
        "certificate_number": "X-1",
        "issue_date": "2026-05-01",
        "expiry_date": "",
        **dates,
    }


def nothing_written() -> bool:
    return not (Certificate.objects.exists() or CycleAudit.objects.exists() or Schedule.objects.exists())


@pytest.mark.parametrize(
    "dates, field",
    [
        ({"issue_date": "9999-01-01"}, "issue_date"),
        ({"issue_date": "9999-12-31", "expiry_date": ""}, "issue_date"),
        ({"issue_date": "1900-01-01"}, "issue_date"),
        ({"expiry_date": "9999-12-31"}, "expiry_date"),
    ],
)
def test_a_certificate_dated_out_of_range_is_a_form_error(client_as, compliance, clock, dates, field):
    response = client_as(compliance).post(reverse("organisation:certificate"), form(**dates))
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [f"Enter a date {BOUNDS}."]
    assert nothing_written()


def test_an_issue_date_whose_default_expiry_passes_2100_is_refused(client_as, compliance, clock):
    response = client_as(compliance).post(reverse("organisation:certificate"), form(issue_date="2099-06-01"))
    assert response.status_code == 200
    assert response.context["form"].errors["issue_date"] == [
        "Three years from this date is after 31 December 2100, the latest date accepted: enter the expiry date "
        "from the certificate."
    ]
    assert nothing_written()


@pytest.mark.parametrize(
    "dates",
    [
        {"issue_date": datetime.date(9999, 1, 1)},
        {"issue_date": datetime.date(2026, 5, 1), "expiry_date": datetime.date(9999, 12, 31)},
        {"issue_date": datetime.date(1999, 12, 31)},
    ],
)
def test_the_service_refuses_dates_out_of_range_whoever_calls_it(compliance, clock, dates):
    with pytest.raises(ValidationError) as refused:
        certificate_save(
            organisation=Organisation.current(), certification_body="LRQA", certificate_number="X-1", **dates
        )
    assert BOUNDS in " ".join(refused.value.messages)
    assert nothing_written()


def test_a_certificate_within_the_bounds_is_saved_and_planned(client_as, compliance, clock):
    response = client_as(compliance).post(reverse("organisation:certificate"), form(issue_date="2097-12-31"))
    assert response.status_code == 302
    assert Certificate.objects.get().expiry_date == datetime.date(2100, 12, 30)
    assert CycleAudit.objects.count() == 3
