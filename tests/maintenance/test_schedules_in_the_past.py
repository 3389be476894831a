"""A schedule dated in the past is never a silent nothing.

A one-off dated in the past becomes a task that is overdue at once (an audit due last week is overdue, not
forgotten). A recurring schedule started in the past gets its most recent past date, overdue at once, and
every date from today on; the earlier dates are not invented as missed work, since they may well have been
done before the schedule was entered. The page says what was put on the calendar."""

import datetime

import pytest
from django.urls import reverse

from isms.maintenance.models import Schedule
from isms.maintenance.services import schedule_save

D = datetime.date
TODAY = D(2026, 3, 10)


@pytest.fixture
def clock(clock):
    clock.move_to(TODAY)
    return clock


def form_data(owner, **overrides):
    return {
        "title": "Supplier audit",
        "kind": "supplier_review",
        "owner": owner.pk,
        "recurrence": "once",
        "start_date": "2026-03-03",
        "reminder_days_text": "14, 3",
        "grace_days": "7",
        **overrides,
    }


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.mark.django_db
def test_a_one_off_dated_last_week_is_a_task_overdue_at_once(client_as, compliance, owner, clock):
    response = client_as(compliance).post(reverse("maintenance:schedule_create"), form_data(owner), follow=True)
    occ = Schedule.objects.get().occurrences.get()
    assert occ.due_date == D(2026, 3, 3) and occ.status(TODAY) == "overdue"
    assert messages_of(response) == ["Schedule created: 1 task on the calendar, due 3 Mar 2026, already overdue."]


@pytest.mark.django_db
def test_a_recurring_schedule_started_in_the_past_gets_its_latest_past_date_and_the_future(
    client_as, compliance, owner, clock
):
    data = form_data(owner, title="Monthly firewall review", recurrence="monthly", start_date="2025-11-15")
    response = client_as(compliance).post(reverse("maintenance:schedule_create"), data, follow=True)
    dates = list(Schedule.objects.get().occurrences.order_by("due_date").values_list("due_date", flat=True))
    assert dates[:3] == [D(2026, 2, 15), D(2026, 3, 15), D(2026, 4, 15)]
    assert dates[-1] == D(2027, 3, 15) and len(dates) == 14  # 15 Feb 2026, then today to the 13-month horizon
    assert messages_of(response) == [
        "Schedule created: 14 tasks on the calendar, the first due 15 Feb 2026, already overdue. Earlier dates "
        "since the start date (15 Nov 2025) were not added."
    ]


@pytest.mark.django_db
def test_the_service_does_the_same_whoever_calls_it(owner, clock):
    one_off = schedule_save(title="Audit", kind="other", owner=owner, rrule="", start_date=D(2026, 1, 5))
    assert [o.status(TODAY) for o in one_off.occurrences.all()] == ["overdue"]
    weekly = schedule_save(
        title="Log review", kind="other", owner=owner, rrule="FREQ=WEEKLY", start_date=D(2026, 1, 5), reminder_days=[1]
    )
    assert weekly.occurrences.order_by("due_date").first().due_date == D(2026, 3, 9)  # the Monday before today


@pytest.mark.django_db
def test_a_schedule_whose_first_date_is_beyond_the_horizon_says_when_it_appears(client_as, compliance, owner, clock):
    data = form_data(owner, start_date="2028-01-10")
    response = client_as(compliance).post(reverse("maintenance:schedule_create"), data, follow=True)
    assert not Schedule.objects.get().occurrences.exists()
    assert messages_of(response) == [
        "Schedule created. Its first task is due 10 Jan 2028, more than 13 months ahead: it is put on the "
        "calendar 13 months before it is due."
    ]


@pytest.mark.django_db
def test_editing_a_schedule_does_not_add_past_dates(owner, compliance, clock):
    schedule = schedule_save(title="Scan", kind="other", owner=owner, rrule="FREQ=MONTHLY", start_date=D(2026, 4, 1))
    schedule_save(schedule=schedule, by=compliance, start_date=D(2026, 1, 1))
    assert schedule.occurrences.order_by("due_date").first().due_date == D(2026, 4, 1)
