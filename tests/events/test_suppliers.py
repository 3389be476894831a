"""Suppliers: reviewed on a cadence set by criticality, certificates and contracts raise tasks before they run
out, and a downgrade asks for a review of the supplier's risks."""

import datetime

from dateutil.relativedelta import relativedelta
from django.urls import reverse

from events import services
from events.models import SupplierReview
from isms.maintenance.models import Occurrence

from .conftest import review_requests, tasks_of


def test_a_critical_supplier_is_reviewed_every_year_on_its_owners_calendar(clock, supplier, owner, compliance):
    (first,) = tasks_of(supplier, "review")
    assert first.due_date == clock.today + datetime.timedelta(days=30)  # a new supplier is assessed soon
    assert first.owner == owner and first.schedule.kind == "supplier_review"

    clock.move_to(first.remind_from)
    services.supplier_review_record(supplier=supplier, by=owner, outcome="approved", assessment="Questionnaire OK")
    first.refresh_from_db()
    assert first.state == Occurrence.State.DONE  # recording the review completes its task
    supplier.refresh_from_db()
    assert supplier.next_review_on == clock.today + relativedelta(years=1)
    assert tasks_of(supplier, "review").filter(state=Occurrence.State.OPEN).get().due_date == supplier.next_review_on

    services.supplier_save(by=compliance, supplier=supplier, criticality="low")
    supplier.refresh_from_db()
    assert supplier.next_review_on == clock.today + relativedelta(years=3)


def test_an_expiring_certificate_and_a_contract_end_raise_tasks_before_them(clock, supplier, compliance, owner):
    certificate = services.certificate_save(
        by=compliance, supplier=supplier, name="ISO/IEC 27001", expires_on=clock.today + datetime.timedelta(days=90)
    )
    (renewal,) = tasks_of(certificate, "expiry")
    assert renewal.due_date == clock.today + datetime.timedelta(days=60)
    assert renewal.owner == owner
    assert "renewed ISO/IEC 27001 certificate" in renewal.schedule.title

    services.certificate_save(
        by=compliance, supplier=supplier, certificate=certificate, name="ISO/IEC 27001",
        expires_on=clock.today + datetime.timedelta(days=400),
    )  # fmt: skip
    assert [t.due_date for t in tasks_of(certificate, "expiry")] == [clock.today + datetime.timedelta(days=370)]

    end = clock.today + relativedelta(months=6)
    services.supplier_save(by=compliance, supplier=supplier, contract_end=end, notice_days=90)
    (contract,) = tasks_of(supplier, "contract")
    assert contract.due_date == end - datetime.timedelta(days=120)  # before the notice deadline
    # A certificate expiring in under 30 days: the task is due today, not in the past.
    soon = services.certificate_save(
        by=compliance, supplier=supplier, name="Cyber Essentials", expires_on=clock.today + datetime.timedelta(days=9)
    )
    assert tasks_of(soon, "expiry").get().due_date == clock.today


def test_a_supplier_downgraded_in_a_review_asks_for_its_risks_reviews(clock, supplier, owner, compliance, two_risks):
    services.supplier_save(by=compliance, supplier=supplier, risks=list(two_risks))
    services.supplier_review_record(supplier=supplier, by=owner, outcome="approved", assessment="Fine")
    assert not review_requests("supplier").exists()

    review = services.supplier_review_record(
        supplier=supplier, by=owner, outcome="watch", assessment="Breach at their data centre"
    )
    assert review.downgraded
    assert set(review_requests("supplier").values_list("risk", flat=True)) == {r.pk for r in two_risks}
    assert "downgraded from approved to under watch" in review_requests("supplier").first().reason

    services.supplier_review_record(supplier=supplier, by=owner, outcome="approved", assessment="Fixed")
    assert review_requests("supplier").count() == 2  # an upgrade asks for nothing


def test_a_supplier_review_without_an_outcome_is_refused_and_nothing_saved(client_as, clock, supplier, owner):
    response = client_as(owner).post(
        reverse("events:supplier_review", args=[supplier.pk]), {"reviewed_on": "2026-03-10", "assessment": "OK"}
    )
    assert response.status_code == 200
    assert "Choose the outcome of the review: approved, with conditions" in response.content.decode()
    assert not SupplierReview.objects.exists()
    supplier.refresh_from_db()
    assert supplier.rating == ""


def test_a_review_on_the_page_keeps_its_evidence_link_on_the_task(client_as, clock, supplier, owner):
    clock.move_to(tasks_of(supplier, "review").get().remind_from)
    response = client_as(owner).post(
        reverse("events:supplier_review", args=[supplier.pk]),
        {"reviewed_on": clock.today.isoformat(), "outcome": "conditions", "assessment": "Two findings open",
         "evidence_link": "https://docs.example/payflow-questionnaire"},
    )  # fmt: skip
    assert response.status_code == 302
    task = tasks_of(supplier, "review").filter(state=Occurrence.State.DONE).get()
    assert [e.url for e in task.evidence.all()] == ["https://docs.example/payflow-questionnaire"]
    page = client_as(owner).get(reverse("events:supplier", args=[supplier.pk])).content.decode()
    assert "Approved with conditions" in page and "Two findings open" in page


def test_the_supplier_list_filters_and_downloads(client_as, clock, supplier, compliance, owner):
    services.supplier_save(by=compliance, name="CleanCo", service="Cleaning", criticality="low", owner=owner)
    client = client_as(compliance)
    page = client.get(reverse("events:suppliers"), {"criticality": "critical"}).content.decode()
    assert "PayFlow" in page and "CleanCo" not in page
    csv = client.get(reverse("events:suppliers"), {"export": "csv"}).content.decode()
    assert (
        csv.lstrip("\ufeff")
        .splitlines()[0]
        .startswith("Name,Service provided,Criticality,Our information it handles,Owner")
    )
    assert "CleanCo" in csv and "PayFlow" in csv


def test_a_review_recorded_ahead_of_its_date_keeps_its_files_as_evidence_and_moves_the_next(
    client_as, clock, supplier, owner, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    response = client_as(owner).post(
        reverse("events:supplier_review", args=[supplier.pk]),
        {"reviewed_on": clock.today.isoformat(), "outcome": "approved", "assessment": "Questionnaire complete",
         "files": [SimpleUploadedFile("questionnaire.txt", b"Q1: yes\nQ2: yes\n")]},
    )  # fmt: skip
    assert response.status_code == 302
    done = tasks_of(supplier, "review").get(state=Occurrence.State.DONE)
    assert [e.original_name for e in done.evidence.all()] == ["questionnaire.txt"]
    supplier.refresh_from_db()
    assert supplier.next_review_on == clock.today + relativedelta(years=1)
    assert tasks_of(supplier, "review").get(state=Occurrence.State.OPEN).due_date == supplier.next_review_on


def test_a_review_task_done_on_the_calendar_moves_the_next_review_on(clock, supplier, owner):
    task = tasks_of(supplier, "review").get()
    clock.move_to(task.due_date)
    from isms.maintenance.services import occurrence_complete

    occurrence_complete(occurrence=task, by=owner, note="Done by phone")
    supplier.refresh_from_db()
    assert supplier.next_review_on == task.due_date + relativedelta(years=1)
    assert not supplier.reviews.exists()  # no assessment recorded: the register shows none
