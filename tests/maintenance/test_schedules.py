"""Schedules make the right dates, keep occurrences a rolling horizon ahead, and never rewrite history."""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from evidence.services import evidence_add_link
from isms.maintenance import recurrence
from isms.maintenance.models import Occurrence, OccurrenceEvent, Schedule
from isms.maintenance.services import (
    mark_missed,
    materialise_all,
    occurrence_complete,
    occurrence_reassign,
    occurrence_skip,
    schedule_save,
)
from tests.factories import UserFactory, make_schedule

D = datetime.date


def at(day: datetime.date, hour: int = 9) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def due_dates(schedule) -> list[datetime.date]:
    return list(schedule.occurrences.order_by("due_date").values_list("due_date", flat=True))


# --- presets -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("preset", "start", "expected"),
    [
        ("once", D(2026, 1, 15), [D(2026, 1, 15)]),
        ("weekly", D(2026, 1, 15), [D(2026, 1, 15), D(2026, 1, 22), D(2026, 1, 29), D(2026, 2, 5)]),
        ("monthly", D(2026, 1, 15), [D(2026, 1, 15), D(2026, 2, 15), D(2026, 3, 15), D(2026, 4, 15)]),
        ("quarterly", D(2026, 1, 15), [D(2026, 1, 15), D(2026, 4, 15), D(2026, 7, 15), D(2026, 10, 15)]),
        ("half_yearly", D(2026, 1, 15), [D(2026, 1, 15), D(2026, 7, 15), D(2027, 1, 15)]),
        ("yearly", D(2026, 1, 15), [D(2026, 1, 15), D(2027, 1, 15)]),
        # FREQ=MONTHLY;BYMONTH=1,4,7,10;BYDAY=1MO: the first Monday of January, April, July and October.
        (
            "first_monday_quarter",
            D(2026, 1, 1),
            [D(2026, 1, 5), D(2026, 4, 6), D(2026, 7, 6), D(2026, 10, 5), D(2027, 1, 4)],
        ),
    ],
)
def test_each_preset_puts_tasks_on_the_expected_days(owner, preset, start, expected):
    rule = recurrence.PRESETS[preset][1]
    with time_machine.travel(at(D(2026, 1, 1)), tick=False):
        schedule = make_schedule(owner=owner, rrule=rule, start_date=start, reminder_days=[3])
    assert due_dates(schedule)[: len(expected)] == expected
    if preset in ("once", "half_yearly", "yearly", "first_monday_quarter"):
        assert due_dates(schedule) == expected  # nothing else before the horizon (1 Feb 2027)


def test_first_monday_of_each_quarter_is_the_documented_rule():
    assert recurrence.PRESETS["first_monday_quarter"][1] == "FREQ=MONTHLY;BYMONTH=1,4,7,10;BYDAY=1MO"


def test_a_count_limited_rule_stops_after_its_count(owner):
    with time_machine.travel(at(D(2026, 1, 1)), tick=False):
        schedule = make_schedule(owner=owner, rrule="FREQ=MONTHLY;COUNT=3", start_date=D(2026, 1, 20))
    assert due_dates(schedule) == [D(2026, 1, 20), D(2026, 2, 20), D(2026, 3, 20)]


def test_an_end_date_stops_the_schedule(owner):
    with time_machine.travel(at(D(2026, 1, 1)), tick=False):
        schedule = make_schedule(owner=owner, start_date=D(2026, 1, 20), end_date=D(2026, 4, 19))
    assert due_dates(schedule) == [D(2026, 1, 20), D(2026, 2, 20), D(2026, 3, 20)]


def test_a_single_date_makes_one_task(owner):
    with time_machine.travel(at(D(2026, 1, 1)), tick=False):
        schedule = make_schedule(owner=owner, rrule="", start_date=D(2026, 6, 30), title="Stage 2 audit")
    assert due_dates(schedule) == [D(2026, 6, 30)]
    assert schedule.is_one_off and schedule.recurrence_label() == "Once, on the start date"


def test_occurrence_carries_its_reminder_and_grace_dates(owner):
    with time_machine.travel(at(D(2026, 1, 1)), tick=False):
        schedule = make_schedule(owner=owner, start_date=D(2026, 3, 20), reminder_days=[1, 14, 3], grace_days=5)
    first = schedule.occurrences.order_by("due_date").first()
    assert schedule.reminder_days == [14, 3, 1]
    assert first.remind_from == D(2026, 3, 6) and first.grace_until == D(2026, 3, 25)
    assert first.title == schedule.title and first.owner == owner


# --- the horizon -----------------------------------------------------------------------------------------------


def test_occurrences_exist_thirteen_months_ahead(owner, settings):
    assert settings.MAINTENANCE_HORIZON_MONTHS == 13
    with time_machine.travel(at(D(2026, 1, 15)), tick=False):
        schedule = make_schedule(owner=owner)
    dates = due_dates(schedule)
    assert dates[0] == D(2026, 1, 15) and dates[-1] == D(2027, 2, 15)
    assert len(dates) == 14


def test_materialise_all_is_idempotent_and_follows_time(owner):
    with time_machine.travel(at(D(2026, 1, 15)), tick=False):
        schedule = make_schedule(owner=owner)
        inactive = make_schedule(owner=owner, title="Retired check", start_date=D(2026, 1, 20))
        Schedule.objects.filter(pk=inactive.pk).update(active=False)
        assert materialise_all() == 0
        assert materialise_all() == 0
    assert len(due_dates(schedule)) == 14

    with time_machine.travel(at(D(2026, 2, 20)), tick=False):
        assert materialise_all() == 1
        assert materialise_all() == 0
    assert due_dates(schedule)[-1] == D(2027, 3, 15)
    assert Occurrence.objects.filter(schedule=schedule).count() == 15
    assert due_dates(inactive)[-1] == D(2027, 1, 20)  # an inactive schedule is not extended

    with time_machine.travel(at(D(2026, 5, 1)), tick=False):
        assert materialise_all() == 2  # 15 April and 15 May 2027
    dates = due_dates(schedule)
    assert dates[-1] == D(2027, 5, 15)
    assert len(dates) == len(set(dates)) == 17  # none made twice


# --- editing ---------------------------------------------------------------------------------------------------


@pytest.fixture
def history(owner, compliance):
    """A monthly schedule from 10 Jan 2026 that, by 5 Feb, has a missed, a done and a skipped occurrence."""
    with time_machine.travel(at(D(2026, 1, 1)), tick=False):
        schedule = make_schedule(owner=owner, title="Firewall rule review", start_date=D(2026, 1, 10))
    by_date = {o.due_date: o for o in schedule.occurrences.all()}
    with time_machine.travel(at(D(2026, 2, 5)), tick=False):
        mark_missed(D(2026, 2, 5))
        occurrence_complete(occurrence=by_date[D(2026, 2, 10)], by=owner, note="Reviewed early")
        occurrence_skip(occurrence=by_date[D(2026, 3, 10)], by=compliance, reason="Firewall replaced in March")
    return schedule


def snapshot(schedule, day):
    occ = schedule.occurrences.get(due_date=day)
    return (occ.state, occ.title, occ.owner_id, occ.completed_at, occ.completion_note, occ.skip_reason)


def test_editing_a_schedule_updates_open_occurrences_and_leaves_history(history, owner, compliance):
    other = UserFactory(username="dana", first_name="Dana", last_name="Ng")
    third = UserFactory(username="eli", first_name="Eli", last_name="Moss")
    past = {day: snapshot(history, day) for day in (D(2026, 1, 10), D(2026, 2, 10), D(2026, 3, 10))}
    assert [s[0] for s in past.values()] == ["missed", "done", "skipped"]
    may = history.occurrences.get(due_date=D(2026, 5, 10))
    with time_machine.travel(at(D(2026, 2, 5)), tick=False):
        occurrence_reassign(occurrence=may, to=third, by=compliance)
        april_version = history.occurrences.get(due_date=D(2026, 4, 10)).link_version
        schedule_save(schedule=history, title="Firewall and VPN rule review", owner=other, by=compliance)

    for day, before in past.items():
        assert snapshot(history, day) == before, f"{day} was rewritten"
    april = history.occurrences.get(due_date=D(2026, 4, 10))
    assert (april.title, april.owner) == ("Firewall and VPN rule review", other)
    assert april.link_version == april_version + 1  # the old owner's emailed link stops working
    may.refresh_from_db()
    assert may.owner == third and may.title == "Firewall and VPN rule review"  # a hand reassignment is kept
    open_ahead = history.occurrences.filter(state="open", due_date__gte=D(2026, 2, 5)).exclude(pk=may.pk)
    assert set(open_ahead.values_list("owner_id", flat=True)) == {other.pk}


def test_changing_the_rule_removes_only_untouched_dates(history, owner, compliance):
    by_date = {o.due_date: o for o in history.occurrences.all()}
    with time_machine.travel(at(D(2026, 2, 5)), tick=False):
        occurrence_reassign(occurrence=by_date[D(2026, 5, 10)], to=compliance, by=compliance)
        evidence_add_link(
            url="https://tickets.example.com/FW-12", by=owner, source="web", occurrence=by_date[D(2026, 6, 10)]
        )
        schedule_save(schedule=history, rrule=recurrence.PRESETS["quarterly"][1], by=compliance)

    assert due_dates(history) == [
        D(2026, 1, 10),  # missed: history
        D(2026, 2, 10),  # done: history
        D(2026, 3, 10),  # skipped: history
        D(2026, 4, 10),
        D(2026, 5, 10),  # reassigned by hand: has history, kept
        D(2026, 6, 10),  # has evidence: kept
        D(2026, 7, 10),
        D(2026, 10, 10),
        D(2027, 1, 10),
    ]
    assert OccurrenceEvent.objects.filter(occurrence__due_date=D(2026, 5, 10), action="reassigned").exists()


def test_a_past_open_occurrence_is_not_removed_by_a_rule_change(owner, compliance):
    with time_machine.travel(at(D(2026, 1, 1)), tick=False):
        schedule = make_schedule(owner=owner, start_date=D(2026, 1, 10))
    with time_machine.travel(at(D(2026, 1, 12)), tick=False):
        schedule_save(schedule=schedule, rrule="FREQ=YEARLY", start_date=D(2026, 1, 3), by=compliance)
    assert due_dates(schedule) == [D(2026, 1, 10), D(2027, 1, 3)]
    past = schedule.occurrences.get(due_date=D(2026, 1, 10))
    assert past.state == "open" and past.status() == "overdue"  # still there to be done late


# --- the schedule form -----------------------------------------------------------------------------------------


def form_data(owner, **overrides):
    data = {
        "title": "Quarterly access review",
        "description": "Check who holds administrator rights and remove leavers.",
        "kind": "control_activity",
        "owner": owner.pk,
        "department": "",
        "recurrence": "quarterly",
        "custom_rrule": "",
        "start_date": "2026-02-02",
        "end_date": "",
        "reminder_days_text": "14, 3, 1",
        "grace_days": "7",
        "escalate_to": "",
    }
    data.update(overrides)
    return data


@time_machine.travel(at(D(2026, 1, 20)), tick=False)
def test_schedule_form_creates_a_schedule_and_its_occurrences(client_as, compliance, owner):
    client = client_as(compliance)
    response = client.post(reverse("maintenance:schedule_create"), form_data(owner, escalate_to=compliance.pk))
    schedule = Schedule.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("maintenance:schedule", args=[schedule.pk])
    assert schedule.rrule == "FREQ=MONTHLY;INTERVAL=3"
    assert schedule.reminder_days == [14, 3, 1] and schedule.grace_days == 7
    assert schedule.owner == owner and schedule.escalate_to == compliance and schedule.created_by == compliance
    assert due_dates(schedule) == [D(2026, 2, 2), D(2026, 5, 2), D(2026, 8, 2), D(2026, 11, 2), D(2027, 2, 2)]

    page = client.get(response["Location"]).content.decode()
    assert "Schedule created: 5 tasks on the calendar, the first due 2 Feb 2026." in page
    assert "Every quarter" in page and "Quarterly access review" in page


@time_machine.travel(at(D(2026, 1, 20)), tick=False)
def test_schedule_form_takes_a_custom_rule(client_as, compliance, owner):
    data = form_data(owner, recurrence="custom", custom_rrule="FREQ=MONTHLY;BYDAY=1MO", reminder_days_text="7")
    response = client_as(compliance).post(reverse("maintenance:schedule_create"), data)
    assert response.status_code == 302
    schedule = Schedule.objects.get()
    assert schedule.rrule == "FREQ=MONTHLY;BYDAY=1MO"
    assert due_dates(schedule)[:3] == [D(2026, 2, 2), D(2026, 3, 2), D(2026, 4, 6)]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"recurrence": "custom", "custom_rrule": "FREQ=SOMETIMES"},
            "custom_rrule",
            "FREQ=SOMETIMES is not a frequency: use DAILY, WEEKLY, MONTHLY or YEARLY.",
        ),
        ({"recurrence": "custom", "custom_rrule": "every second Tuesday"}, "custom_rrule", "not a recurrence rule"),
        ({"recurrence": "custom", "custom_rrule": ""}, "custom_rrule", "Write the rule, or pick one of the presets."),
        (
            {"recurrence": "custom", "custom_rrule": "FREQ=MONTHLY;UNTIL=20270101"},
            "custom_rrule",
            "Leave UNTIL and DTSTART out of the rule",
        ),
        (
            {"recurrence": "custom", "custom_rrule": "FREQ=MONTHLY;BYMONTH=13"},
            "custom_rrule",
            "BYMONTH takes month numbers from 1 (January) to 12 (December)",
        ),
        (
            {"recurrence": "custom", "custom_rrule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"},
            "custom_rrule",
            "This rule makes no date in the five years from the start date",
        ),
        ({"end_date": "2026-01-31"}, "end_date", "The end date is before the start date."),
        ({"recurrence": "weekly", "reminder_days_text": "14"}, "reminder_days_text", "Use a shorter lead time."),
        ({"recurrence": "monthly", "reminder_days_text": "31, 3"}, "reminder_days_text", "Use a shorter lead time."),
        ({"reminder_days_text": "soon, 3"}, "reminder_days_text", "Write whole numbers of days"),
        ({"reminder_days_text": "400"}, "reminder_days_text", "between 0 (on the due date) and 365"),
    ],
    ids=[
        "unknown-freq",
        "prose-rule",
        "custom-without-rule",
        "until-in-rule",
        "month-that-does-not-exist",
        "rule-without-dates",
        "end-before-start",
        "weekly-with-14-day-reminder",
        "lead-as-long-as-the-interval",
        "reminders-not-numbers",
        "reminder-too-far",
    ],
)
@time_machine.travel(at(D(2026, 1, 20)), tick=False)
def test_bad_schedule_input_is_explained_and_saves_nothing(client_as, compliance, owner, overrides, field, message):
    response = client_as(compliance).post(reverse("maintenance:schedule_create"), form_data(owner, **overrides))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field])
    assert message in response.content.decode().replace("&#x27;", "'")
    assert Schedule.objects.count() == 0 and Occurrence.objects.count() == 0


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=MONTHLY;BYDAY=+9MO",  # dateutil fails while iterating, not while parsing
        "FREQ=HOURLY",  # tasks fall on days
        "RRULE:FREQ=MONTHLY\nRRULE:FREQ=WEEKLY",  # two rules make a set, which has no end date to apply
        "EXDATE:20260302",
    ],
)
@time_machine.travel(at(D(2026, 1, 20)), tick=False)
def test_rules_dateutil_cannot_use_are_refused_not_a_server_error(client_as, compliance, owner, rule):
    data = form_data(owner, recurrence="custom", custom_rrule=rule, end_date="2026-12-31", reminder_days_text="0")
    response = client_as(compliance).post(reverse("maintenance:schedule_create"), data)
    assert response.status_code == 200
    assert "custom_rrule" in response.context["form"].errors
    assert Schedule.objects.count() == 0 and Occurrence.objects.count() == 0


@time_machine.travel(at(D(2026, 1, 20)), tick=False)
def test_owner_and_escalation_contact_need_an_email_address(client_as, compliance, owner):
    silent = UserFactory(username="noemail", email="", role="owner", first_name="Sam", last_name="Quiet")
    client = client_as(compliance)
    response = client.post(reverse("maintenance:schedule_create"), form_data(silent))
    assert "Sam Quiet has no email address, so could not be reminded. Add one first." in response.content.decode()
    response = client.post(reverse("maintenance:schedule_create"), form_data(owner, escalate_to=silent.pk))
    assert "Sam Quiet has no email address, so could not be told of missed tasks." in response.content.decode()
    assert Schedule.objects.count() == 0 and Occurrence.objects.count() == 0


def test_edit_view_keeps_done_occurrences(client_as, compliance, owner):
    with time_machine.travel(at(D(2026, 1, 1)), tick=False):
        schedule = make_schedule(owner=owner, title="Backup restore test", start_date=D(2026, 1, 10))
    first = schedule.occurrences.order_by("due_date").first()
    with time_machine.travel(at(D(2026, 1, 9)), tick=False):
        occurrence_complete(occurrence=first, by=owner, note="Restored the finance DB")
    other = UserFactory(username="dana", first_name="Dana", last_name="Ng")

    client = client_as(compliance)
    url = reverse("maintenance:schedule_edit", args=[schedule.pk])
    with time_machine.travel(at(D(2026, 1, 20)), tick=False):
        form = client.get(url).context["form"]
        assert form.initial["recurrence"] == "monthly" and form.initial["reminder_days_text"] == "14, 3, 1"
        data = form_data(
            other,
            title="Backup restore test (all systems)",
            recurrence="monthly",
            start_date="2026-01-10",
            reminder_days_text="7, 1",
        )
        response = client.post(url, data)
    assert response.status_code == 302

    first.refresh_from_db()
    assert (first.state, first.title, first.owner, first.completion_note) == (
        "done",
        "Backup restore test",
        owner,
        "Restored the finance DB",
    )
    ahead = schedule.occurrences.filter(due_date__gt=D(2026, 1, 20))
    assert ahead.count() == 13
    assert set(ahead.values_list("title", flat=True)) == {"Backup restore test (all systems)"}
    assert set(ahead.values_list("owner_id", flat=True)) == {other.pk}  # the new owner gets the open tasks
    feb = ahead.get(due_date=D(2026, 2, 10))
    assert feb.remind_from == D(2026, 2, 3)
    page = client.get(reverse("maintenance:schedule", args=[schedule.pk]), follow=True).content.decode()
    assert "done ones are unchanged" in page


def test_monthly_from_the_31st_falls_on_the_last_day_of_shorter_months():
    rule = recurrence.preset_rule("monthly", datetime.date(2027, 1, 31))
    dates = recurrence.occurrence_dates(rule, datetime.date(2027, 1, 31), None, datetime.date(2027, 5, 31))
    assert dates == [
        datetime.date(2027, 1, 31),
        datetime.date(2027, 2, 28),
        datetime.date(2027, 3, 31),
        datetime.date(2027, 4, 30),
        datetime.date(2027, 5, 31),
    ]
    assert recurrence.preset_of(rule) == "monthly"
    assert recurrence.describe(rule) == "Every month (or the month's last day)"
    quarterly = recurrence.preset_rule("quarterly", datetime.date(2027, 8, 30))
    assert recurrence.occurrence_dates(quarterly, datetime.date(2027, 8, 30), None, datetime.date(2028, 3, 1)) == [
        datetime.date(2027, 8, 30),
        datetime.date(2027, 11, 30),
        datetime.date(2028, 2, 29),
    ]


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("FREQ=MONTHLY;BYMONTHDAY=5", "Every month on day 5"),
        ("FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=15", "Every 3 months on day 15"),
        ("FREQ=MONTHLY;COUNT=11;BYMONTHDAY=25", "Every month on day 25, 11 times"),
        ("FREQ=MONTHLY;BYDAY=1MO", "Every month on the first Monday"),
        ("FREQ=WEEKLY;BYDAY=MO,WE", "Every week on Monday, Wednesday"),
        ("FREQ=YEARLY;BYMONTH=3", "Every year in Mar"),
        ("FREQ=MONTHLY;BYMONTH=1,4,7,10;BYDAY=1MO", "First Monday of each quarter"),
        ("", "Once, on the start date"),
    ],
)
def test_rules_are_described_in_words(rule, words):
    assert recurrence.describe(rule) == words
