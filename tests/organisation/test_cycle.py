"""The certification cycle is planned from the certificate and can be adjusted by a person."""

import datetime

import pytest
from django.urls import reverse

from isms.organisation.models import CycleAudit
from isms.organisation.selectors import cycle_timeline
from isms.organisation.services import certificate_save, cycle_audit_adjust, cycle_audit_reset
from tests.factories import make_certificate

ISSUE = datetime.date(2026, 3, 1)


def dates(certificate):
    return {a.kind: a.planned_date for a in certificate.audits.all()}


@pytest.mark.django_db
def test_cycle_is_planned_from_the_issue_date():
    certificate = make_certificate(ISSUE)
    assert certificate.expiry_date == datetime.date(2029, 2, 28)
    assert dates(certificate) == {
        CycleAudit.Kind.SURVEILLANCE_1: datetime.date(2027, 2, 1),
        CycleAudit.Kind.SURVEILLANCE_2: datetime.date(2028, 2, 1),
        CycleAudit.Kind.RECERTIFICATION: datetime.date(2028, 11, 28),
    }


@pytest.mark.django_db
def test_replanning_moves_planned_dates_but_keeps_adjusted_ones(admin_user):
    certificate = make_certificate(ISSUE)
    s1 = certificate.audits.get(kind=CycleAudit.Kind.SURVEILLANCE_1)
    cycle_audit_adjust(audit=s1, planned_date=datetime.date(2027, 1, 18), notes="Agreed with BSI", by=admin_user)

    certificate_save(
        certificate=certificate,
        organisation=certificate.organisation,
        certification_body=certificate.certification_body,
        certificate_number=certificate.certificate_number,
        issue_date=datetime.date(2026, 4, 1),
    )
    planned = dates(certificate)
    assert planned[CycleAudit.Kind.SURVEILLANCE_1] == datetime.date(2027, 1, 18)
    assert planned[CycleAudit.Kind.SURVEILLANCE_2] == datetime.date(2028, 3, 1)
    assert certificate.audits.count() == 3

    cycle_audit_reset(audit=certificate.audits.get(kind=CycleAudit.Kind.SURVEILLANCE_1))
    assert dates(certificate)[CycleAudit.Kind.SURVEILLANCE_1] == datetime.date(2027, 3, 1)


@pytest.mark.django_db
def test_timeline_marks_today_and_the_next_audit():
    certificate = make_certificate(ISSUE)
    timeline = cycle_timeline(certificate, datetime.date(2026, 9, 1))
    assert [m.kind for m in timeline.milestones] == ["issue", "audit", "audit", "audit", "expiry"]
    assert timeline.next_milestone.label == "Surveillance audit (year 1)"
    assert timeline.days_to_next == 153
    assert 15 < timeline.today_position < 17  # six months into a three-year certificate

    after_expiry = cycle_timeline(certificate, datetime.date(2030, 1, 1))
    assert after_expiry.today_position is None and after_expiry.next_milestone is None


def test_timeline_page_shows_milestones_and_today(client_as, viewer, clock):
    clock.move_to(datetime.datetime(2026, 9, 1, 12, tzinfo=datetime.UTC))
    make_certificate(ISSUE)
    response = client_as(viewer).get(reverse("organisation:cycle"))
    body = response.content.decode()
    assert "Surveillance audit (year 1)" in body and "1 Feb 2027" in body
    assert 'data-testid="today-marker"' in body
    assert "in 153 days" in body
    assert "Adjust date" not in body  # a viewer reads, does not change


def test_manager_adjusts_an_audit_date(client_as, compliance):
    certificate = make_certificate(ISSUE)
    audit = certificate.audits.get(kind=CycleAudit.Kind.SURVEILLANCE_2)
    client = client_as(compliance)
    response = client.post(
        reverse("organisation:cycle_audit_edit", args=[audit.pk]), {"planned_date": "2028-01-10", "notes": "moved"}
    )
    assert response.status_code == 302
    audit.refresh_from_db()
    assert audit.planned_date == datetime.date(2028, 1, 10) and audit.adjusted_by == compliance
    page = client.get(reverse("organisation:cycle")).content.decode()
    assert "moved to 10 Jan 2028" in page and "date adjusted" in page


def test_audit_date_outside_the_certificate_is_refused(client_as, compliance):
    certificate = make_certificate(ISSUE)
    audit = certificate.audits.first()
    response = client_as(compliance).post(
        reverse("organisation:cycle_audit_edit", args=[audit.pk]), {"planned_date": "2031-01-01", "notes": ""}
    )
    assert response.status_code == 200
    assert "must fall in year 1 of the certificate: 01 Mar 2026 to 28 Feb 2027" in response.content.decode()
    audit.refresh_from_db()
    assert not audit.is_adjusted


@pytest.mark.parametrize(
    ("kind", "day", "words"),
    [
        # Surveillance year 1 after year 2 (which stays on 01 Feb 2028): out of its year, and out of order.
        (CycleAudit.Kind.SURVEILLANCE_1, datetime.date(2027, 6, 1), "must fall in year 1"),
        (CycleAudit.Kind.SURVEILLANCE_2, datetime.date(2027, 1, 15), "must fall in year 2"),
        (CycleAudit.Kind.SURVEILLANCE_2, datetime.date(2029, 3, 1), "must fall in year 2"),
        (CycleAudit.Kind.RECERTIFICATION, datetime.date(2029, 3, 1), "must fall in year 3"),
    ],
)
def test_the_cycle_keeps_its_order_and_its_yearly_spacing(compliance, kind, day, words):
    """The first surveillance within 12 months of certification, then one a year, recertification before expiry:
    refused by the service whoever asks (the page shows the same words)."""
    from django.core.exceptions import ValidationError

    certificate = make_certificate(ISSUE)
    audit = certificate.audits.get(kind=kind)
    planned = audit.planned_date
    with pytest.raises(ValidationError) as refused:
        cycle_audit_adjust(audit=audit, planned_date=day, notes="", by=compliance)
    assert words in refused.value.message_dict["planned_date"][0]
    audit.refresh_from_db()
    assert audit.planned_date == planned and not audit.is_adjusted


def test_certificate_form_plans_cycle_and_rejects_expiry_before_issue(client_as, compliance):
    client = client_as(compliance)
    url = reverse("organisation:certificate")
    data = {
        "standard": "ISO/IEC 27001:2022",
        "certification_body": "LRQA",
        "certificate_number": "X-1",
        "issue_date": "2026-05-01",
        "expiry_date": "2026-04-01",
    }
    response = client.post(url, data)
    assert "The expiry date must be after the issue date." in response.content.decode()
    assert CycleAudit.objects.count() == 0

    data["expiry_date"] = ""
    response = client.post(url, data)
    assert response.status_code == 302
    assert CycleAudit.objects.count() == 3
    assert client.get(reverse("organisation:cycle")).content.decode().count("Surveillance audit") >= 2


def test_organisation_scope_edit(client_as, admin_user):
    client = client_as(admin_user)
    response = client.post(reverse("organisation:edit"), {"name": "Acme", "scope": "All of Acme's SaaS."})
    assert response.status_code == 302
    page = client.get(reverse("organisation:detail"), follow=True).content.decode()
    assert "Acme" in page and "All of Acme&#x27;s SaaS." in page and "Organisation and scope saved." in page


def test_required_fields_are_reported(client_as, admin_user):
    response = client_as(admin_user).post(reverse("organisation:edit"), {"name": "", "scope": ""})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()


@pytest.mark.django_db
def test_an_audit_date_on_a_weekend_moves_to_the_monday_after():
    certificate = make_certificate(datetime.date(2026, 4, 21))  # + 11 months is Sunday 21 March 2027
    assert dates(certificate)[CycleAudit.Kind.SURVEILLANCE_1] == datetime.date(2027, 3, 22)
