"""Calendar subscriptions (ICS feeds) and the printable year calendar (PDF): building them; the pages are in
views.py.

Calendar apps (Outlook, Google Calendar, Apple Calendar) fetch a feed without signing in, so each feed
lives behind a secret URL: a CalendarFeed row holds a random token, the token is the only key, and
regenerating it makes the old URL stop working (404). A person's feed carries the tasks they own; the
organisation feed carries every task and is offered to managers and viewers only. Feeds are read-only:
people act on a task through the link back to its page, which needs a sign-in.
"""

import calendar
import datetime
import logging
import secrets
from collections import Counter, defaultdict

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event

from isms.foundation import identity, reach

from .models import CalendarFeed, Kind, Occurrence
from .selectors import calendar_queryset
from .services import horizon

logger = logging.getLogger(__name__)

# A feed shows this much of the past, so recent misses and completions stay visible in the calendar app.
FEED_PAST_DAYS = 90
PDF_YEARS = range(2000, 2101)
# How many external audits and management reviews the PDF lists before "and N more", to stay on one page.
PDF_MILESTONES_MAX = 14
MILESTONE_KINDS = (Kind.EXTERNAL_AUDIT, Kind.MANAGEMENT_REVIEW)

SUFFIX = {
    Occurrence.State.DONE: " [done]",
    Occurrence.State.MISSED: " [missed]",
    Occurrence.State.SKIPPED: " [skipped]",
}


# ---------------------------------------------------------------------------------------------- tokens


def new_token() -> str:
    return secrets.token_urlsafe(32)


def can_see_organisation_feed(user) -> bool:
    """Who may subscribe to every task: the people who see the whole calendar (the occurrence reach rule)."""
    return reach.sees_everything(user)


def user_feed(user) -> CalendarFeed:
    """The user's own feed, made on first use."""
    feed, _ = CalendarFeed.objects.get_or_create(user=user, defaults={"token": new_token()})
    return feed


def organisation_feed() -> CalendarFeed:
    feed, _ = CalendarFeed.objects.get_or_create(is_organisation=True, user=None, defaults={"token": new_token()})
    return feed


def feed_regenerate_token(*, user=None) -> CalendarFeed:
    """A new secret for the user's feed (or the organisation's, without a user); the old URL stops working."""
    lookup = {"user": user} if user is not None else {"is_organisation": True, "user": None}
    feed, _ = CalendarFeed.objects.update_or_create(**lookup, defaults={"token": new_token()})
    return feed


def feed_url(feed: CalendarFeed) -> str:
    name = "maintenance:feed_org_ics" if feed.is_organisation else "maintenance:feed_user_ics"
    return f"{settings.SITE_URL}{reverse(name, args=[feed.token])}"


# ------------------------------------------------------------------------------------------------- ICS


def occurrence_url(occurrence: Occurrence) -> str:
    return f"{settings.SITE_URL}{reverse('maintenance:occurrence', args=[occurrence.pk])}"


def feed_occurrences(today: datetime.date):
    """What a feed shows: from FEED_PAST_DAYS ago to the horizon, owner, schedule and department joined."""
    since = today - datetime.timedelta(days=FEED_PAST_DAYS)
    return calendar_queryset().filter(due_date__range=(since, horizon(today))).order_by("due_date", "pk")


def build_ics(occurrences, *, name: str, today: datetime.date) -> bytes:
    """An iCalendar document with one all-day event per occurrence."""
    cal = Calendar()
    cal.add("prodid", "-//ISMS tracker//Maintenance calendar//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-caldesc", "ISMS maintenance tasks. Read-only: open a task's link to act on it.")
    cal.add("x-published-ttl", "PT1H")  # how often to refresh, for clients that honour it
    stamp = timezone.now()
    for occ in occurrences:
        link = occurrence_url(occ)
        status = occ.status_label(today)
        kind = occ.schedule.get_kind_display()
        lines = [f"Owner: {occ.owner}", f"Kind: {kind}", f"Status: {status}"]
        if occ.department_id:
            lines.append(f"Department: {occ.department.name}")
        lines += ["", f"Open the task: {link}"]

        event = Event()
        event.add("uid", f"occurrence-{occ.pk}@isms")
        event.add("dtstamp", stamp)
        event.add("dtstart", occ.due_date)
        event.add("dtend", occ.due_date + datetime.timedelta(days=1))
        event.add("summary", occ.title + SUFFIX.get(occ.state, ""))
        event.add("description", "\n".join(lines))
        event.add("url", link)
        event.add("categories", [kind])
        event.add("transp", "TRANSPARENT")  # a due date does not make anyone busy
        cal.add_component(event)
    return cal.to_ical()


# ------------------------------------------------------------------------------------------------- PDF

# Worst first: a day shows the colour of its most pressing task.
PDF_STATUS = [
    ("late", "Overdue or missed"),
    ("due", "Due (reminders running)"),
    ("upcoming", "Upcoming"),
    ("done", "Done"),
    ("skipped", "Skipped"),
]
_RANK = {key: rank for rank, (key, _) in enumerate(PDF_STATUS)}
_PDF_STATUS_OF = {
    Occurrence.Status.OVERDUE: "late",
    Occurrence.Status.MISSED: "late",
    Occurrence.Status.DUE: "due",
    Occurrence.Status.UPCOMING: "upcoming",
    Occurrence.Status.DONE_ON_TIME: "done",
    Occurrence.Status.DONE_LATE: "done",
    Occurrence.Status.SKIPPED: "skipped",
}


def year_grid(occurrences, year: int, today: datetime.date) -> tuple[list[dict], Counter]:
    """Twelve months of six Monday-first weeks; each day with its count and worst status."""
    per_day: dict[datetime.date, list[str]] = defaultdict(list)
    totals: Counter = Counter()
    for occ in occurrences:
        status = _PDF_STATUS_OF[occ.status(today)]
        per_day[occ.due_date].append(status)
        totals[status] += 1
    cal = calendar.Calendar(firstweekday=calendar.MONDAY)
    months = []
    for month in range(1, 13):
        weeks = cal.monthdatescalendar(year, month)
        while len(weeks) < 6:  # same height for every month
            weeks.append([d + datetime.timedelta(days=7) for d in weeks[-1]])
        rows = []
        for week in weeks:
            row = []
            for day in week:
                statuses = per_day.get(day, []) if day.month == month else []
                row.append(
                    {
                        "date": day,
                        "in_month": day.month == month,
                        "count": len(statuses),
                        "status": min(statuses, key=_RANK.__getitem__) if statuses else "",
                        "is_today": day == today,
                    }
                )
            rows.append(row)
        months.append({"name": calendar.month_name[month], "weeks": rows})
    return months, totals


def calendar_pdf_context(occurrences, *, year: int, today: datetime.date | None = None) -> dict:
    """What the printable year shows of `occurrences` (already narrowed to the reader's reach)."""
    today = today or timezone.localdate()
    occurrences = list(occurrences.filter(due_date__year=year).order_by("due_date", "title"))
    months, totals = year_grid(occurrences, year, today)
    milestones = [o for o in occurrences if o.schedule.kind in MILESTONE_KINDS]
    for occ in milestones:
        occ.pdf_status = _PDF_STATUS_OF[occ.status(today)]
    return {
        "organisation_name": identity.organisation_name(),
        "year": year,
        "months": months,
        "weekdays": ["M", "T", "W", "T", "F", "S", "S"],
        "legend": PDF_STATUS,
        "totals": [(key, label, totals[key]) for key, label in PDF_STATUS],
        "total": sum(totals.values()),
        "milestones": milestones[:PDF_MILESTONES_MAX],
        "milestones_more": max(len(milestones) - PDF_MILESTONES_MAX, 0),
        "printed_at": timezone.localtime(),
    }
