"""Change records: the questionnaire's "yes" answers open exactly the reviews they call for, as tasks with owners
and due dates; a change closes only when approved and its reviews are done."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from events import services
from events.models import Change, ChangeReview
from isms.maintenance.models import Occurrence
from isms.maintenance.services import occurrence_complete

from .conftest import NO, review_requests, tasks_of


def _record(by, today, **answers):
    return services.change_create(
        by=by, title="Move payroll to PayFlow", planned_on=today + datetime.timedelta(days=30), **(NO | answers)
    )


def test_three_yes_answers_open_exactly_the_reviews_they_call_for_and_the_change_closes_only_when_they_are_done(
    clock, owner, compliance, supplier
):
    change = _record(
        owner, clock.today, changes_scope=True, changes_supplier=True, changes_controls=True, supplier=supplier
    )

    reviews = {r.kind: r for r in change.reviews.all()}
    # scope → scope review; a supplier → supplier review and risk review; a control → SoA review and risk review
    assert set(reviews) == {"scope", "risks", "soa", "supplier"}
    for review in reviews.values():
        (task,) = tasks_of(review, "review")
        assert task.due_date == clock.today + datetime.timedelta(days=30)  # by the change's date
        assert task.owner == review.owner
    assert reviews["supplier"].owner == owner  # the supplier's owner reviews the supplier
    assert reviews["scope"].owner == compliance
    assert tasks_of(reviews["risks"], "review").get().schedule.kind == "risk_review"
    assert tasks_of(reviews["supplier"], "review").get().schedule.kind == "supplier_review"

    with pytest.raises(ValidationError, match="not approved yet"):
        services.change_close(change=change, by=compliance)
    services.change_approve(change=change, by=compliance)
    with pytest.raises(ValidationError, match="are not done yet"):
        services.change_close(change=change, by=compliance)

    # Done on the calendar, as any task: the review is done with it.
    for kind in ("scope", "soa", "supplier"):
        occurrence_complete(occurrence=tasks_of(reviews[kind], "review").get(), by=compliance, note="Checked")
    with pytest.raises(ValidationError, match="the review of the affected risks is not done yet"):
        services.change_close(change=change, by=compliance)
    services.change_review_complete(review=reviews["risks"], by=compliance, note="R-01 reviewed")
    assert ChangeReview.objects.filter(change=change, done_at__isnull=False).count() == 4

    services.change_close(change=change, by=compliance)
    change.refresh_from_db()
    assert change.is_closed and change.closed_by == compliance


def test_a_change_with_every_answer_no_opens_nothing_and_needs_no_approval(clock, owner, compliance):
    change = _record(owner, clock.today)
    assert not change.reviews.exists() and not change.needs_approval
    services.change_close(change=change, by=compliance)


def test_a_change_with_no_answers_is_refused_with_a_clear_message_and_nothing_saved(client_as, clock, owner):
    response = client_as(owner).post(
        reverse("events:change_create"), {"title": "New office", "planned_on": "2026-04-01"}
    )
    assert response.status_code == 200
    assert "Answer the questions: none is answered. Each needs a yes or a no." in response.content.decode()
    assert not Change.objects.exists() and not Occurrence.objects.exists()


def test_a_question_left_open_is_pointed_out(client_as, clock, owner):
    data = {"title": "New office", "planned_on": "2026-04-01"} | {name: "no" for name in NO}
    data.pop("changes_people")
    response = client_as(owner).post(reverse("events:change_create"), data)
    assert response.content.decode().count("Answer yes or no.") == 1
    assert not Change.objects.exists()


def test_a_control_owner_records_a_change_on_the_page(client_as, clock, owner, compliance):
    data = {"title": "New payroll supplier", "planned_on": "2026-04-01"} | {name: "no" for name in NO}
    data["changes_supplier"] = "yes"
    response = client_as(owner).post(reverse("events:change_create"), data)
    change = Change.objects.get()
    assert response.url == reverse("events:change", args=[change.pk])
    assert change.owner == owner and change.requested_by == owner
    assert set(change.reviews.values_list("kind", flat=True)) == {"risks", "supplier"}
    page = client_as(owner).get(response.url).content.decode()
    assert "Awaiting approval" in page and "Supplier review" in page


def test_risks_linked_to_a_change_that_calls_for_a_risk_review_are_asked_once(clock, owner, compliance, two_risks):
    first, second = two_risks
    change = _record(owner, clock.today, changes_assets=True, assets="Laptops", risks=[first])
    assert list(review_requests("change").values_list("risk", flat=True)) == [first.pk]
    services.change_update(change=change, by=owner, risks=[first, second], title="Laptop refresh")
    assert review_requests("change").count() == 2
    services.change_update(change=change, by=owner, risks=[first, second])
    assert review_requests("change").count() == 2
    assert list(services.suggested_risks(change)) == [first]  # its asset is named in the change


def test_a_yes_taken_back_withdraws_its_open_review(clock, owner, compliance):
    change = _record(owner, clock.today, changes_scope=True, changes_people=True)
    soa = change.reviews.get(kind="soa")
    task = tasks_of(soa, "review").get()
    services.change_update(change=change, by=owner, changes_people=False)
    assert set(change.reviews.values_list("kind", flat=True)) == {"scope"}
    task.refresh_from_db()
    assert task.state == Occurrence.State.SKIPPED
