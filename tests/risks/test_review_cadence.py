"""The review cadence, in time: a review task on the owner's calendar at the interval of the risk's level
(overridable), the review recorded (even with no change) moves the next one, the queue shows what is due and
overdue, and a review asked for out of cycle comes forward to today."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from isms.maintenance.models import Occurrence
from isms.maintenance.services import mark_missed
from risks import selectors, services
from tests.conftest import FROZEN_TODAY

D = datetime.date


@pytest.mark.parametrize(
    ("residual", "months"), [((1, 2), 12), ((2, 4), 6), ((3, 4), 3), ((4, 4), 1)]
)  # low, medium, high, critical
def test_the_review_interval_follows_the_level(clock, owner, make_risk, residual, months):
    risk = make_risk(owner, inherent_likelihood=5, inherent_impact=5, residual_likelihood=residual[0],
                     residual_impact=residual[1])  # fmt: skip
    task = services.open_review_task(risk)
    expected = {12: D(2027, 3, 10), 6: D(2026, 9, 10), 3: D(2026, 6, 10), 1: D(2026, 4, 10)}[months]
    assert risk.next_review_on == expected == task.due_date
    assert task.owner == owner and task.schedule.kind == "risk_review"


def test_an_interval_set_on_the_risk_overrides_the_level(clock, compliance, owner, make_risk):
    risk = make_risk(owner)  # medium: half-yearly
    risk, _ = services.risk_update(risk=risk, by=compliance, review_months=2)
    assert risk.next_review_on == D(2026, 5, 10) == services.open_review_task(risk).due_date


def test_a_review_with_no_change_is_recorded_and_moves_the_next_one(clock, client_as, owner, make_risk):
    risk = make_risk(owner)  # next review 10 September
    clock.move_to(D(2026, 9, 14))
    client = client_as(owner)
    form = client.get(reverse("risks:review", args=[risk.pk])).context["form"]
    data = {k: v for k, v in ((n, form[n].value()) for n in form.fields) if v is not None}
    data.update(note="Scores still right; backups tested in August.", reviewed_on="2026-09-14")
    assert client.post(reverse("risks:review", args=[risk.pk]), data).status_code == 302
    risk.refresh_from_db()
    review = risk.assessments.order_by("-number").first()
    assert review.kind == "review" and review.changed == [] and review.reason.startswith("Scores still right")
    assert risk.last_reviewed_on == D(2026, 9, 14) and risk.next_review_on == D(2027, 3, 14)
    done = Occurrence.objects.get(schedule__purpose="review", due_date=D(2026, 9, 10))
    assert done.state == "done" and done.completed_by == owner  # the task on the calendar is done, late
    assert services.open_review_task(risk).due_date == D(2027, 3, 14)


def test_a_review_dated_in_the_future_is_refused_and_nothing_saved(clock, owner, make_risk):
    risk = make_risk(owner)
    with pytest.raises(ValidationError) as refused:
        services.risk_review(risk=risk, by=owner, note="Checked", reviewed_on=FROZEN_TODAY + datetime.timedelta(days=1))
    assert "future" in refused.value.message_dict["reviewed_on"][0]
    assert risk.assessments.count() == 1 and services.open_review_task(risk).state == "open"


def test_a_review_without_a_note_is_refused(clock, owner, make_risk):
    risk = make_risk(owner)
    with pytest.raises(ValidationError) as refused:
        services.risk_review(risk=risk, by=owner, note="  ")
    assert "even when nothing changed" in refused.value.message_dict["note"][0]


def test_marking_the_review_task_done_on_the_calendar_records_the_review(clock, client_as, owner, make_risk):
    risk = make_risk(owner, review_months=1)
    task = services.open_review_task(risk)
    clock.move_to(task.due_date)
    response = client_as(owner).post(reverse("maintenance:complete", args=[task.pk]), {"note": "No change this month."})
    assert response.status_code in (200, 302)
    risk.refresh_from_db()
    review = risk.assessments.order_by("-number").first()
    assert review.kind == "review" and review.reason == "No change this month." and review.occurrence_id == task.pk
    assert risk.next_review_on == D(2026, 5, 10)


def test_the_queue_shows_overdue_due_and_reviewed(clock, client_as, viewer, owner, make_risk):
    quarterly = make_risk(owner, title="Quarterly", residual_likelihood=3, residual_impact=4)  # 10 June
    yearly = make_risk(owner, title="Yearly", residual_likelihood=1, residual_impact=2)  # 10 March 2027
    clock.move_to(D(2026, 6, 1))
    queue = selectors.queue(viewer)
    assert queue["due"] == [quarterly] and not queue["overdue"]
    clock.move_to(D(2026, 7, 1))
    mark_missed(clock.today)  # past its grace period the task is missed; the risk stays overdue
    queue = selectors.queue(viewer)
    assert queue["overdue"] == [quarterly] and queue["due"] == []
    services.risk_review(risk=yearly, by=owner, note="Early look")
    page = client_as(viewer).get(reverse("risks:queue")).content.decode()
    assert "Quarterly" in page.split("Asked for out of cycle")[0]  # in the overdue section
    assert "Yearly" in page.split("Reviewed in the last")[1]


def test_a_review_asked_for_out_of_cycle_comes_forward_and_is_answered(clock, client_as, compliance, owner, make_risk):
    risk = make_risk(owner, residual_likelihood=1, residual_impact=2)  # next review in a year
    response = client_as(compliance).post(
        reverse("risks:request_review", args=[risk.pk]), {"reason": "Incident INC-7 touched this system."}
    )
    assert response.status_code == 302
    risk.refresh_from_db()
    assert risk.next_review_on == clock.today == services.open_review_task(risk).due_date
    queue = selectors.queue(compliance)
    assert [r.reason for r in queue["requested"]] == ["Incident INC-7 touched this system."]
    assessment = services.risk_review(risk=risk, by=owner, note="Reviewed after INC-7: no change")
    assert selectors.queue(compliance)["requested"] == []
    assert risk.review_requests.get().answered_by == assessment


def test_other_apps_can_ask_for_a_review(clock, owner, make_risk):
    risk = make_risk(owner)
    request = services.risk_review_request(risk=risk, reason="Change CH-3 affects it", source="change")
    assert request.source == "change" and request.requested_by is None
