"""The calendar's pages for a busy organisation in a real Chromium, wide and phone-sized: a month cell shows its four
most urgent tasks and "+N more", which opens the agenda on that day; My tasks shows the first rows of each section
and how many there are; the dashboard and the emailed task's page. Every page is checked by axe-core (conftest) and
photographed to test-artifacts/screenshots/ for a person to look at."""

import datetime

import pytest
from django.utils import timezone

from isms.maintenance.links import make_token
from isms.maintenance.models import Occurrence
from tests.factories import make_schedule

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDE, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}


def add_tasks(owner, days, title: str, state: str = "open", lead: int = 3) -> list[Occurrence]:
    """One task per day on one schedule of `owner`, written straight to the table."""
    # A one-off far beyond the calendar's horizon: it has no task of its own yet.
    far = timezone.localdate() + datetime.timedelta(days=4 * 365)
    schedule = make_schedule(owner=owner, title=title, rrule="", start_date=far)
    assert not schedule.occurrences.exists()
    done = state == Occurrence.State.DONE
    return Occurrence.objects.bulk_create(
        Occurrence(
            schedule=schedule,
            owner=owner,
            title=f"{title} {n:02d}" if len(days) > 1 else title,
            due_date=day,
            remind_from=day - datetime.timedelta(days=lead),
            grace_until=day + datetime.timedelta(days=7),
            state=state,
            completed_on=day if done else None,
            completed_at=timezone.now() if done else None,
        )
        for n, day in enumerate(days)
    )


def days_from(first: datetime.date, count: int, step: int = 1) -> list[datetime.date]:
    return [first + datetime.timedelta(days=n * step) for n in range(count)]


def test_a_busy_calendar_wide_and_on_a_phone(live_server, page, sign_in, screenshot, users):
    compliance, owner = users["compliance"], users["owner"]
    today = timezone.localdate()
    busy = today - datetime.timedelta(days=2) if today.day > 2 else today + datetime.timedelta(days=2)
    late = busy < today
    for n in range(3):
        add_tasks(owner, [busy], f"Firewall rule review {n}")
    for n in range(4):
        add_tasks(owner, [busy], f"Access review {n}", state="done")
    add_tasks(owner, days_from(today - datetime.timedelta(days=3), 30, step=-1), "Backup restore test")
    add_tasks(owner, days_from(today + datetime.timedelta(days=1), 25), "Patch report", lead=60)
    add_tasks(owner, days_from(today + datetime.timedelta(days=20), 30, step=2), "Supplier check")
    add_tasks(compliance, days_from(today - datetime.timedelta(days=40), 3, step=-1), "Risk register review")

    sign_in("compliance")
    page.goto(f"{live_server.url}/calendar/")
    cell = page.locator("td", has=page.locator(f'a[href*="from={busy:%Y-%m-%d}"]'))
    assert cell.locator(".calendar-item").count() == 4
    if late:  # the late ones come first, whatever their titles
        assert cell.locator(".calendar-item.status-overdue").count() == 3
    more = cell.get_by_role("link", name="+3 more")
    assert more.is_visible()
    screenshot("busy-month-wide")
    page.set_viewport_size(PHONE)
    screenshot("busy-month-phone")
    page.set_viewport_size(WIDE)
    more.click()
    page.wait_for_url(f"**/calendar/agenda/?from={busy:%Y-%m-%d}&to={busy:%Y-%m-%d}")
    assert page.get_by_text(f"Due on {busy:%A} {busy.day} {busy:%B %Y}.").is_visible()
    assert page.locator("tbody tr").count() == 7
    screenshot("busy-agenda-day")

    page.goto(f"{live_server.url}/")
    assert page.get_by_text("Late work").is_visible()
    screenshot("busy-dashboard-wide")
    page.set_viewport_size(PHONE)
    screenshot("busy-dashboard-phone")

    page.context.clear_cookies()
    page.set_viewport_size(WIDE)
    sign_in("owner")
    page.goto(f"{live_server.url}/calendar/mine/")
    assert page.get_by_text("Showing the 20 most recent of").is_visible()
    assert page.get_by_text("Showing the 20 due soonest of 25.").is_visible()
    screenshot("busy-mine-wide")
    page.set_viewport_size(PHONE)
    screenshot("busy-mine-phone")
    page.get_by_role("link", name="All 25 due now in the agenda").click()
    page.wait_for_url("**/calendar/agenda/?*status=due*")
    assert page.get_by_text("Page 1 of 1").count() == 0 and page.locator("tbody tr").count() == 25

    task = Occurrence.objects.filter(owner=owner, title="Patch report 00").get()
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/calendar/task/#{make_token(task)}")
    page.wait_for_url(f"{live_server.url}/calendar/task/{task.pk}/")
    assert page.get_by_label("Evidence links").is_visible()
    screenshot("busy-task-link-phone")
    page.set_viewport_size(WIDE)
    page.get_by_label("Evidence links").fill("not an address")
    page.get_by_role("button", name="Mark done").click()
    assert page.get_by_text("not an address is not a web address").is_visible()
    screenshot("busy-task-link-error-wide")
