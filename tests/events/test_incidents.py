"""Incidents: numbered, dated sensibly, and each linked risk reviewed out of cycle exactly once per incident."""

import datetime

from django.urls import reverse

from events import services
from events.models import Incident, IncidentStatus
from risks.services import open_review_task

from .conftest import review_requests


def _report(by, severity, today, **extra):
    fields = {
        "title": "Laptop stolen from a car",
        "description": "Left on the back seat.",
        "occurred_on": today - datetime.timedelta(days=2),
        "detected_on": today - datetime.timedelta(days=1),
        "severity": severity,
    }
    return services.incident_create(by=by, **(fields | extra))


def test_an_incident_against_two_risks_opens_exactly_two_reviews_once_even_when_edited(
    clock, owner, compliance, severity, two_risks, make_risk
):
    first, second = two_risks
    incident = _report(owner, severity, clock.today, risks=[first, second])

    assert review_requests("incident").count() == 2
    for risk in (first, second):
        task = open_review_task(risk)
        assert task.due_date == clock.today  # brought forward: the owner reviews it now
        assert task.owner == risk.owner

    services.incident_update(incident=incident, by=compliance, title="Laptop stolen", status=IncidentStatus.CONTAINED)
    services.incident_update(incident=incident, by=compliance, risks=[first])  # unlinked…
    services.incident_update(incident=incident, by=compliance, risks=[first, second])  # …and linked again
    assert review_requests("incident").count() == 2
    assert incident.risk_reviews.count() == 2

    third = make_risk("Data on USB sticks", owner)
    services.incident_update(incident=incident, by=owner, risks=[first, second, third])
    assert review_requests("incident").count() == 3
    assert set(review_requests("incident").values_list("risk", flat=True)) == {first.pk, second.pk, third.pk}


def test_incident_references_come_from_a_sequence(clock, owner, severity):
    assert [_report(owner, severity, clock.today).reference for _ in range(3)] == ["INC-001", "INC-002", "INC-003"]


def test_an_incident_occurring_after_it_was_detected_is_refused_and_nothing_is_saved(client_as, clock, owner, severity):
    response = client_as(owner).post(
        reverse("events:incident_create"),
        {
            "title": "Phishing",
            "description": "Clicked a link",
            "occurred_on": "2026-03-08",
            "detected_on": "2026-03-05",
            "severity": severity.pk,
            "category": "phishing",
        },
    )
    assert response.status_code == 200
    assert "after it was detected on 05 March 2026" in response.content.decode()
    assert not Incident.objects.exists()


def test_an_incident_detected_in_the_future_is_refused(client_as, clock, owner, severity):
    response = client_as(owner).post(
        reverse("events:incident_create"),
        {"title": "x", "description": "y", "occurred_on": "2026-03-10", "detected_on": "2026-03-12",
         "severity": severity.pk, "category": "other"},
    )  # fmt: skip
    assert "cannot have been detected after today" in response.content.decode()
    assert not Incident.objects.exists()


def test_any_staff_member_reports_and_sees_their_own_but_not_anothers(client_as, clock, owner, other_owner, severity):
    client = client_as(owner)
    response = client.post(
        reverse("events:incident_create"),
        {"title": "Tailgating", "description": "Visitor followed me in", "occurred_on": "2026-03-10",
         "detected_on": "2026-03-10", "severity": severity.pk, "category": "physical"},
    )  # fmt: skip
    mine = Incident.objects.get()
    assert response.url == reverse("events:incident", args=[mine.pk])
    assert mine.reported_by == owner and mine.owner == owner
    _report(other_owner, severity, clock.today, title="Olga's incident")
    page = client.get(reverse("events:incidents")).content.decode()
    assert "Tailgating" in page and "Olga" not in page


def test_closing_asks_whether_it_reveals_a_nonconformity_and_records_the_answer(
    client_as, clock, owner, compliance, severity
):
    incident = _report(owner, severity, clock.today)
    client = client_as(compliance)
    url = reverse("events:incident_close", args=[incident.pk])

    response = client.post(url, {"lessons_learned": "Lock cars"})
    assert "Answer yes or no before closing the incident." in response.content.decode()
    response = client.post(url, {"reveals_nonconformity": "yes"})
    assert "Say which requirement was not met" in response.content.decode()
    incident.refresh_from_db()
    assert incident.status != IncidentStatus.CLOSED

    client.post(url, {"reveals_nonconformity": "yes", "nonconformity_note": "A.8.1: laptops not encrypted"})
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.CLOSED
    assert incident.reveals_nonconformity is True
    assert incident.nonconformity_note == "A.8.1: laptops not encrypted"
    assert incident.closed_by == compliance
    # A closed incident is a record: its handler can no longer change it.
    assert client_as(owner).get(reverse("events:incident_edit", args=[incident.pk])).status_code == 403


def test_the_severity_scale_is_configurable(client_as, clock, compliance, severity):
    from events.models import Severity

    client = client_as(compliance)
    assert client.get(reverse("events:severity")).status_code == 200
    rows = list(Severity.objects.order_by("level"))
    data = {"form-TOTAL_FORMS": str(len(rows)), "form-INITIAL_FORMS": str(len(rows)), "form-MIN_NUM_FORMS": "0",
            "form-MAX_NUM_FORMS": "7"}  # fmt: skip
    for i, row in enumerate(rows):
        data |= {f"form-{i}-id": row.pk, f"form-{i}-level": row.level, f"form-{i}-label": row.label,
                 f"form-{i}-description": row.description, f"form-{i}-colour": row.colour}  # fmt: skip
    data |= {"form-0-label": "Minor", "form-3-colour": "#aa0000", "form-2-DELETE": "on"}
    response = client.post(reverse("events:severity"), data)
    assert response.status_code == 302
    assert list(Severity.objects.values_list("label", flat=True)) == ["Minor", "Medium", "Critical"]
    css = client.get(reverse("events:severity_css")).content.decode()
    assert ".severity-4{background-color:#aa0000;color:#fff}" in css
    assert ".severity-2{background-color:#f9a825;color:#000}" in css  # black reads on amber, white does not


def test_a_severity_an_incident_is_recorded_at_cannot_be_removed(clock, compliance, owner, severity):
    import pytest
    from django.core.exceptions import ValidationError

    _report(owner, severity, clock.today)
    levels = [{"level": 1, "label": "Low", "colour": "#00aa00"}, {"level": 3, "label": "High", "colour": "#aa0000"}]
    with pytest.raises(ValidationError, match="Incidents are recorded at Medium"):
        services.severity_scale_save(by=compliance, levels=levels)


def test_a_control_owner_links_only_risks_they_may_see_and_keeps_those_they_may_not(
    client_as, clock, owner, compliance, severity, two_risks
):
    mine, olgas = two_risks  # Olga's risk is in HR: the owner (IT) does not see it in the register
    incident = _report(compliance, severity, clock.today, owner=owner, risks=[olgas])
    client = client_as(owner)
    form = client.get(reverse("events:incident_edit", args=[incident.pk])).content.decode()
    assert mine.title in form and olgas.title not in form
    client.post(
        reverse("events:incident_edit", args=[incident.pk]),
        {"title": "Lost laptop", "description": "x", "occurred_on": "2026-03-08", "detected_on": "2026-03-09",
         "severity": severity.pk, "category": "other", "status": "investigating", "risks": [mine.pk]},
    )  # fmt: skip
    assert set(incident.risks.all()) == {mine, olgas}


def test_a_linked_risk_outside_the_readers_part_of_the_register_shows_by_reference_only(
    client_as, clock, owner, compliance, severity, two_risks
):
    mine, olgas = two_risks
    incident = _report(owner, severity, clock.today, risks=[mine, olgas])
    page = client_as(owner).get(reverse("events:incident", args=[incident.pk])).content.decode()
    assert mine.title in page and olgas.reference in page and olgas.title not in page
    page = client_as(compliance).get(reverse("events:incident", args=[incident.pk])).content.decode()
    assert olgas.title in page
