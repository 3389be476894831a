"""Calendar subscriptions (ICS feeds) and the printable year calendar (PDF).

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
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from icalendar import Calendar, Event

from isms.accounts.roles import MANAGERS, STAFF
from isms.foundation.permissions import role_required
from isms.organisation.models import Organisation

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
    """Who may subscribe to every task: the people who see the whole calendar (see visible_to)."""
    return user.is_manager or user.role == "viewer"


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


def _ics_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@login_not_required
def feed_user_ics(request, token: str):
    """A person's own tasks. Public URL: the token is the key; gone once the person is inactive or not staff."""
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(token=token, is_organisation=False, user__is_active=True, user__role__in=STAFF)
        .first()
    )
    if feed is None:
        raise Http404("No such feed.")
    today = timezone.localdate()
    occurrences = feed_occurrences(today).filter(owner=feed.user)
    content = build_ics(occurrences, name=f"ISMS tasks: {feed.user}", today=today)
    return _ics_response(content, "my-isms-tasks.ics")


@login_not_required
def feed_org_ics(request, token: str):
    """Every task of the organisation. Public URL: the token is the key."""
    if not CalendarFeed.objects.filter(token=token, is_organisation=True).exists():
        raise Http404("No such feed.")
    today = timezone.localdate()
    name = f"ISMS calendar: {Organisation.current().name}"
    return _ics_response(build_ics(feed_occurrences(today), name=name, today=today), "isms-calendar.ics")


# ------------------------------------------------------------------------------------------- feeds page


def _webcal(url: str) -> str:
    return "webcal://" + url.split("://", 1)[1]


@role_required(STAFF)
def feeds_page(request):
    personal = user_feed(request.user)
    organisation = organisation_feed() if can_see_organisation_feed(request.user) else None
    context = {
        "personal_url": feed_url(personal),
        "organisation_url": feed_url(organisation) if organisation else None,
        "past_days": FEED_PAST_DAYS,
        "horizon_months": settings.MAINTENANCE_HORIZON_MONTHS,
        "this_year": timezone.localdate().year,
    }
    # webcal:// opens the subscription dialog of the desktop calendar app directly.
    context["personal_webcal"] = _webcal(context["personal_url"])
    context["organisation_webcal"] = _webcal(context["organisation_url"]) if organisation else None
    return render(request, "maintenance/feeds.html", context)


@require_POST
@role_required(STAFF)
def feed_regenerate(request):
    feed_regenerate_token(user=request.user)
    messages.success(
        request, "Your calendar link was replaced. The old link no longer works: subscribe again with the new one."
    )
    return redirect("maintenance:feeds")


@require_POST
@role_required(MANAGERS)
def feed_org_regenerate(request):
    feed_regenerate_token()
    logger.info("Organisation calendar feed token regenerated by %s", request.user.username)
    messages.success(
        request,
        "The organisation calendar link was replaced. The old link no longer works: "
        "everyone who subscribed needs the new one.",
    )
    return redirect("maintenance:feeds")


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


@role_required(STAFF)
def calendar_pdf(request, year: int):
    """The year on one landscape A4 page, to print and pin up."""
    if year not in PDF_YEARS:
        raise Http404("No calendar for that year.")
    import weasyprint  # heavy; only this view needs it

    today = timezone.localdate()
    # calendar_queryset() is an Occurrence queryset: visible_to narrows it to what this person may see.
    occurrences = list(
        calendar_queryset().visible_to(request.user).filter(due_date__year=year).order_by("due_date", "title")
    )
    months, totals = year_grid(occurrences, year, today)
    milestones = [o for o in occurrences if o.schedule.kind in MILESTONE_KINDS]
    for occ in milestones:
        occ.pdf_status = _PDF_STATUS_OF[occ.status(today)]
    html = render_to_string(
        "maintenance/calendar_pdf.html",
        {
            "organisation": Organisation.current(),
            "year": year,
            "months": months,
            "weekdays": ["M", "T", "W", "T", "F", "S", "S"],
            "legend": PDF_STATUS,
            "totals": [(key, label, totals[key]) for key, label in PDF_STATUS],
            "total": sum(totals.values()),
            "milestones": milestones[:PDF_MILESTONES_MAX],
            "milestones_more": max(len(milestones) - PDF_MILESTONES_MAX, 0),
            "scope_note": "all tasks" if can_see_organisation_feed(request.user) else "your tasks",
            "printed_by": request.user,
            "printed_at": timezone.localtime(),
        },
        request=request,
    )
    # Nothing is fetched: the page is self-contained, and a title can never make the renderer load a URL.
    fetcher = weasyprint.URLFetcher(allowed_protocols={"data"})
    document = weasyprint.HTML(string=html, url_fetcher=fetcher).render()
    if len(document.pages) > 1:  # the layout is sized to fit; never hand out a second page
        logger.warning("Calendar PDF for %s overflowed to %s pages; printing the first", year, len(document.pages))
        document = document.copy(document.pages[:1])
    response = HttpResponse(document.write_pdf(), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="isms-calendar-{year}.pdf"'
    return response


urlpatterns = [
    path("feeds/", feeds_page, name="feeds"),
    path("feeds/regenerate/", feed_regenerate, name="feed_regenerate"),
    path("feeds/organisation/regenerate/", feed_org_regenerate, name="feed_org_regenerate"),
    path("feeds/<str:token>/mine.ics", feed_user_ics, name="feed_user_ics"),
    path("feeds/<str:token>/organisation.ics", feed_org_ics, name="feed_org_ics"),
    path("print/<int:year>.pdf", calendar_pdf, name="calendar_pdf"),
]
