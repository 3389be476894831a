"""Dates on the evidence pages stay within 1 January 2000 – 31 December 2100: a coverage period, an evidence
item's dates and the library's filters outside them are a message next to the field, never a server error, and
nothing is written."""

import pytest
from django.urls import reverse

from evidence.models import EvidenceItem
from isms.maintenance.models import Schedule
from tests.factories import make_control, make_requirement

BOUNDS = "between 1 January 2000 and 31 December 2100"


@pytest.fixture
def control(owner):
    return make_control(owner, requirements=[make_requirement()])


@pytest.mark.parametrize(
    "period",
    [
        {"start": "9999-01-01"},
        {"start": "9999-01-01", "end": "9999-12-31"},
        {"start": "2026-01-01", "end": "9999-12-31"},
        {"start": "0001-01-01", "end": "0001-12-31"},
    ],
)
@pytest.mark.parametrize("page", ["control_coverage", "requirement_coverage"])
def test_a_coverage_period_out_of_range_shows_the_default_period_with_a_message(
    client_as, compliance, control, clock, period, page
):
    pk = control.pk if page == "control_coverage" else control.requirements.get().pk
    response = client_as(compliance).get(reverse(f"evidence:{page}", args=[pk]), period)
    assert response.status_code == 200
    body = response.content.decode()
    assert BOUNDS in body and "the last 12 months" in body
    assert 'min="2000-01-01"' in body and 'max="2100-12-31"' in body


@pytest.mark.parametrize(
    "period", [{"start": "2096-01-01", "end": "2100-12-31"}, {"start": "2000-01-01", "end": "2004-12-31"}]
)
def test_a_coverage_period_at_the_edge_of_the_range_is_shown(client_as, compliance, control, clock, period):
    response = client_as(compliance).get(reverse("evidence:control_coverage", args=[control.pk]), period)
    assert response.status_code == 200
    assert response.context["coverage"].period.start.isoformat() == period["start"]


@pytest.mark.parametrize("field", ["effective_date", "period_start", "period_end", "expires_on"])
def test_evidence_dates_out_of_range_are_a_form_error_and_nothing_is_written(client_as, owner, control, clock, field):
    url = reverse("evidence:create", args=["control", control.pk])
    response = client_as(owner).post(url, {"type": "note", "note": "Reviewed", field: "9999-12-31"})
    assert response.status_code == 200
    assert BOUNDS in response.content.decode()
    assert not EvidenceItem.objects.exists()
    assert not Schedule.objects.filter(purpose="renewal").exists()


def test_evidence_expiring_in_2100_is_accepted_with_its_renewal_task(client_as, owner, control, clock):
    url = reverse("evidence:create", args=["control", control.pk])
    response = client_as(owner).post(url, {"type": "note", "note": "Contract", "expires_on": "2100-12-31"})
    assert response.status_code == 302
    assert EvidenceItem.objects.get().expires_on.year == 2100


@pytest.mark.parametrize("dates", [{"date_from": "9999-01-01"}, {"date_to": "0001-01-01"}])
def test_library_filters_out_of_range_show_a_message_and_the_unfiltered_list(client_as, compliance, clock, dates):
    response = client_as(compliance).get(reverse("evidence:index"), dates)
    assert response.status_code == 200
    assert BOUNDS in response.content.decode()
