"""A recurrence rule cannot take the site down: rules are read strictly, a rule with no date in the five years
from its start is refused, and every expansion is bounded by a number of dates and a time budget, whoever
asks (the page, a domain service, the daily job). Refusals say what to change, in the same words on the page
and from the service, and name no software library."""

import datetime
import logging

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from isms.maintenance import recurrence
from isms.maintenance.models import Occurrence, Schedule
from isms.maintenance.services import materialise_all, schedule_save
from tests.factories import make_schedule

D = datetime.date
START = D(2026, 3, 10)

NEVER_MOVES_ON = "FREQ=MONTHLY;INTERVAL=0;BYMONTHDAY=1,10,20"  # from the issue: materialising never ended
NO_SUCH_DAY = "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30"  # from the issue: took seconds to refuse


def refusal(rule: str, start: datetime.date = START, end: datetime.date | None = None) -> str:
    with pytest.raises(recurrence.RecurrenceError) as refused:
        recurrence.validate(rule, start, end)
    return str(refused.value)


def test_a_rule_that_never_moves_on_is_refused():
    words = refusal(NEVER_MOVES_ON)
    assert "INTERVAL" in words and "1 or more" in words


def test_a_rule_with_no_date_in_five_years_is_refused_without_searching_further():
    words = refusal(NO_SUCH_DAY)
    assert "no date in the five years from the start date" in words
    # Every day of every month that has none: still refused, never searched to the end of the calendar.
    assert "no date" in refusal("FREQ=WEEKLY;BYMONTH=4;BYMONTHDAY=31")
    assert "no date" in refusal("FREQ=YEARLY;INTERVAL=8;BYMONTH=2;BYMONTHDAY=29", start=D(2027, 1, 1))


def test_a_rule_whose_dates_all_fall_after_the_end_date_is_refused():
    assert "between the start and the end date" in refusal("FREQ=YEARLY;BYMONTH=12", end=D(2026, 6, 30))


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("FREQ=MONTHLY;INTERVAL=-2", "INTERVAL"),
        ("FREQ=MONTHLY;INTERVAL=often", "INTERVAL"),
        ("FREQ=MONTHLY;COUNT=0", "COUNT"),
        ("FREQ=MONTHLY;COUNT=1000000", "COUNT"),
        ("FREQ=DAILY;BYHOUR=9,17", "Tasks fall on days"),
        ("FREQ=MINUTELY", "Tasks fall on days"),
        ("FREQ=MONTHLY;UNTIL=20270101", "Leave UNTIL and DTSTART out"),
        ("FREQ=SOMETIMES", "DAILY, WEEKLY, MONTHLY or YEARLY"),
        ("BYMONTHDAY=1", "FREQ="),
        ("FREQ=MONTHLY;BYMONTH=13", "BYMONTH"),
        ("FREQ=MONTHLY;BYMONTHDAY=32", "BYMONTHDAY"),
        ("FREQ=MONTHLY;BYDAY=+9MO", "at most five"),
        ("FREQ=WEEKLY;BYDAY=2MO", "monthly or yearly"),
        ("FREQ=MONTHLY;BYDAY=MONDAY", "BYDAY"),
        ("FREQ=MONTHLY;FREQ=WEEKLY", "twice"),
        ("FREQ=MONTHLY;EVERY=2", "EVERY"),
        ("every second Tuesday", "not a recurrence rule"),
        ("RRULE:FREQ=MONTHLY\nRRULE:FREQ=WEEKLY", "one rule"),
    ],
)
def test_strict_reading_says_what_to_change_and_names_no_library(rule, words):
    text = refusal(rule)
    assert words in text
    assert "dateutil" not in text.lower() and "python" not in text.lower()


def test_every_expansion_is_bounded_by_a_number_of_dates(monkeypatch):
    monkeypatch.setattr(recurrence, "MAX_DATES", 10)
    with pytest.raises(recurrence.RecurrenceError) as refused:
        recurrence.occurrence_dates("FREQ=DAILY", START, None, START + datetime.timedelta(days=365))
    assert "more than 10 dates" in str(refused.value)
    assert len(recurrence.occurrence_dates("FREQ=DAILY", START, None, START + datetime.timedelta(days=9))) == 10


def test_every_expansion_is_bounded_by_a_time_budget(monkeypatch):
    monkeypatch.setattr(recurrence, "TIME_BUDGET", -1.0)  # already spent: the first look at the clock stops it
    with pytest.raises(recurrence.RecurrenceError) as refused:
        recurrence.occurrence_dates("FREQ=DAILY", START, None, START + datetime.timedelta(days=365))
    assert "too long to work out" in str(refused.value)


def test_expansion_from_a_later_day_keeps_the_rules_rhythm():
    """Materialising from today on a schedule started long ago gives the dates the rule has from today on."""
    dates = recurrence.occurrence_dates("FREQ=WEEKLY;INTERVAL=2", D(2001, 1, 1), None, D(2026, 4, 1), since=START)
    assert dates == [D(2026, 3, 23)]  # 2001-01-01 and 2026-03-09 are Mondays 1,314 weeks apart
    assert recurrence.last_on_or_before("FREQ=WEEKLY;INTERVAL=2", D(2001, 1, 1), None, START) == D(2026, 3, 9)


def test_dates_near_the_end_of_the_calendar_are_refused_not_a_server_error():
    assert "no date" in refusal("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", start=D(9998, 3, 1))


@pytest.mark.django_db
def test_the_service_refuses_the_rules_from_the_issue_with_the_words_of_the_form(client_as, compliance, owner, clock):
    for rule in (NEVER_MOVES_ON, NO_SUCH_DAY):
        with pytest.raises(ValidationError) as refused:
            schedule_save(title="Scan", kind="control_activity", owner=owner, rrule=rule, start_date=START)
        service_words = refused.value.message_dict["rrule"]
        response = client_as(compliance).post(
            reverse("maintenance:schedule_create"),
            {
                "title": "Scan",
                "kind": "control_activity",
                "owner": owner.pk,
                "recurrence": "custom",
                "custom_rrule": rule,
                "start_date": START.isoformat(),
                "reminder_days_text": "0",
                "grace_days": "7",
            },
        )
        assert response.status_code == 200
        assert response.context["form"].errors["custom_rrule"] == service_words
    assert not Schedule.objects.exists() and not Occurrence.objects.exists()


@pytest.mark.django_db
def test_a_stored_rule_that_never_moves_on_does_not_stop_the_daily_job(owner, clock, caplog):
    """A rule saved before rules were read strictly (or written straight into the database) is passed over
    with a warning; every other schedule is still extended."""
    good = make_schedule(owner=owner, title="Monthly scan")
    bad = make_schedule(owner=owner, title="Broken rule", start_date=START + datetime.timedelta(days=1))
    Schedule.objects.filter(pk=bad.pk).update(rrule=NEVER_MOVES_ON)
    Occurrence.objects.all().delete()
    with caplog.at_level(logging.WARNING, logger="isms.maintenance.services"):
        created = materialise_all(START)
    assert created == good.occurrences.count() == 14
    assert not bad.occurrences.exists()
    assert "Broken rule" in caplog.text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"grace_days": 3_000_000}, "grace_days", "between 0 and 365 days"),
        ({"grace_days": 366}, "grace_days", "between 0 and 365 days"),
        ({"start_date": D(9999, 12, 31)}, "start_date", "between 2000 and 2100"),
        ({"start_date": D(1999, 12, 31)}, "start_date", "between 2000 and 2100"),
        ({"end_date": D(9999, 1, 1)}, "end_date", "between 2000 and 2100"),
    ],
)
def test_out_of_range_numbers_and_dates_are_refused_by_the_service_and_the_form(
    client_as, compliance, owner, clock, fields, field, words
):
    values = {"title": "Scan", "kind": "control_activity", "owner": owner, "rrule": "FREQ=MONTHLY"}
    values |= {"start_date": START, "reminder_days": [3], "grace_days": 7, **fields}
    with pytest.raises(ValidationError) as refused:
        schedule_save(**values)
    assert words in " ".join(refused.value.message_dict[field])

    data = {
        "title": "Scan",
        "kind": "control_activity",
        "owner": owner.pk,
        "recurrence": "monthly",
        "start_date": values["start_date"].isoformat(),
        "end_date": values["end_date"].isoformat() if values.get("end_date") else "",
        "reminder_days_text": "3",
        "grace_days": str(values["grace_days"]),
    }
    response = client_as(compliance).post(reverse("maintenance:schedule_create"), data)
    assert response.status_code == 200
    assert response.context["form"].errors[field] == refused.value.message_dict[field]
    assert not Schedule.objects.exists()
