"""The printable year calendar: one landscape A4 page, only what the reader may see."""

import calendar
import datetime
import io
import logging
import zoneinfo

import pytest
from django.urls import reverse
from pypdf import PdfReader

from isms.maintenance.feeds import year_grid
from isms.maintenance.models import Occurrence
from isms.organisation.models import Organisation
from tests import factories

TODAY = datetime.date(2026, 6, 15)
NOW = datetime.datetime(2026, 6, 15, 10, 0, tzinfo=zoneinfo.ZoneInfo("Europe/London"))
MONTHS = list(calendar.month_name)[1:]  # January … December


@pytest.fixture(autouse=True)
def frozen(clock):
    """Every test here runs on the shared stopped clock, at this module's moment."""
    clock.move_to(NOW)


@pytest.fixture
def organisation(db):
    org = Organisation.current()
    org.name = "Acme Widgets Ltd"
    org.save()
    return org


# Reminders that fit each frequency: the first must come after the previous task is due.
REMINDERS = {"FREQ=DAILY": [0], "FREQ=WEEKLY": [3, 1]}


def make_schedule(owner, title, *, rrule="FREQ=MONTHLY", start=datetime.date(2026, 1, 10), kind="control_activity"):
    reminders = REMINDERS.get(rrule, [14, 3, 1])
    return factories.make_schedule(
        owner,
        title=title,
        rrule=rrule,
        start_date=start,
        kind=kind,
        today=TODAY,
        backfill=True,
        reminder_days=reminders,
    )


def pdf_text(response) -> tuple[PdfReader, str]:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def test_the_year_on_one_page(client_as, organisation, owner, compliance):
    make_schedule(owner, "Review firewall rules", rrule="FREQ=WEEKLY")
    make_schedule(compliance, "Surveillance audit", rrule="", start=datetime.date(2026, 9, 14), kind="external_audit")
    make_schedule(
        compliance,
        "Management review",
        rrule="FREQ=MONTHLY;INTERVAL=6",
        start=datetime.date(2026, 3, 2),
        kind="management_review",
    )

    response = client_as(compliance).get(reverse("maintenance:calendar_pdf", args=[2026]))

    reader, text = pdf_text(response)
    assert response["Content-Disposition"] == 'inline; filename="isms-calendar-2026.pdf"'
    assert len(reader.pages) == 1
    width, height = reader.pages[0].mediabox.width, reader.pages[0].mediabox.height
    assert width > height  # landscape
    assert round(float(width) / 72 * 25.4) == 297 and round(float(height) / 72 * 25.4) == 210  # A4
    assert "Acme Widgets Ltd" in text
    assert "2026" in text
    for month in MONTHS:
        assert month in text
    assert "Surveillance audit" in text
    assert "Management review" in text
    assert "Overdue or missed" in text  # the legend


def test_a_busy_year_still_fits_on_one_page(client_as, organisation, compliance, caplog):
    make_schedule(compliance, "Daily log review", rrule="FREQ=DAILY")
    for month in range(1, 13):
        for day in (3, 17):
            make_schedule(
                compliance,
                f"External audit with a long name that must not wrap the page {month}-{day}",
                rrule="",
                start=datetime.date(2026, month, day),
                kind="external_audit",
            )
    compliance.first_name = "Maximilian-Alexander"
    compliance.save()
    organisation.name = "The Very Long Name of an Organisation Holding Company International Limited " * 2
    organisation.save()

    with caplog.at_level(logging.WARNING, logger="isms.foundation.pdf"):
        reader, text = pdf_text(client_as(compliance).get(reverse("maintenance:calendar_pdf", args=[2026])))

    assert len(reader.pages) == 1
    assert not caplog.records  # it fits by itself: the guard that drops extra pages was not needed
    assert "more" in text  # the audit list is cut short rather than spilling onto a second page


def test_an_owner_prints_only_their_own_tasks(client_as, organisation, owner, compliance):
    make_schedule(owner, "Review firewall rules")
    make_schedule(
        compliance, "Recertification audit", rrule="", start=datetime.date(2026, 11, 2), kind="external_audit"
    )

    _, text = pdf_text(client_as(owner).get(reverse("maintenance:calendar_pdf", args=[2026])))

    assert "Recertification audit" not in text
    assert "None planned in 2026" in text


@pytest.mark.parametrize("year", [1800, 1999, 2101])
def test_years_out_of_range_are_404(client_as, compliance, year):
    assert client_as(compliance).get(reverse("maintenance:calendar_pdf", args=[year])).status_code == 404


def test_auditors_cannot_print_the_calendar(client_as, auditor):
    assert client_as(auditor).get(reverse("maintenance:calendar_pdf", args=[2026])).status_code == 403


def test_a_day_shows_its_count_in_the_colour_of_its_worst_task(owner):
    schedule = make_schedule(owner, "Review firewall rules")
    make_schedule(owner, "Patch servers")
    make_schedule(owner, "Check admin accounts")
    make_schedule(owner, "Renew the TLS certificate", rrule="", start=datetime.date(2026, 6, 20))
    day = datetime.date(2026, 5, 10)
    done, missed, _open = Occurrence.objects.filter(due_date=day).order_by("pk")
    done.state, done.completed_on = Occurrence.State.DONE, day
    done.save()
    missed.state = Occurrence.State.MISSED
    missed.save()

    months, totals = year_grid(Occurrence.objects.all(), 2026, TODAY)

    cells = {c["date"]: c for m in months for week in m["weeks"] for c in week if c["in_month"]}
    assert (cells[day]["count"], cells[day]["status"]) == (3, "late")  # missed and open-but-overdue beat done
    assert cells[datetime.date(2026, 6, 10)]["status"] == "late"  # open, past its due date
    assert cells[datetime.date(2026, 6, 20)]["status"] == "due"  # reminders running
    assert cells[datetime.date(2026, 7, 10)]["status"] == "upcoming"
    assert cells[datetime.date(2026, 5, 11)]["count"] == 0
    assert months[0]["weeks"][0][0]["date"].weekday() == 0  # Monday first
    assert all(len(m["weeks"]) == 6 for m in months)
    assert totals["done"] == 1 and sum(totals.values()) == schedule.occurrences.count() * 3 + 1
