"""Calendar pages: month grid, agenda, my tasks, occurrences and schedules, the emailed task link, the
calendar feeds and the printable year.

Every object is fetched through the reach rule (reach.py): a task outside the user's reach is a 404, an
action they may not take a 403 that says why."""

import datetime
import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from isms.accounts.services import user_digests_set
from isms.foundation import identity, reach
from isms.foundation.lists import ListPage
from isms.foundation.pagecache import cached_page
from isms.foundation.pdf import render_pdf
from isms.foundation.permissions import role_required
from isms.foundation.ratelimit import rate_limited
from isms.foundation.roles import MANAGERS, STAFF

from . import digests, feeds, links, notices, purposes, recurrence, selectors, services
from .filtersets import ScheduleFilterSet
from .forms import CalendarFilterForm, ReassignForm, ReopenForm, ScheduleForm, SkipForm
from .models import CalendarFeed, Occurrence, Schedule, TaskLinkUse
from .reach import needs_new_owner, why_owner_cannot_act
from .tables import ScheduleTable

logger = logging.getLogger(__name__)

# The tasks emailed links opened in this browser, by occurrence id: links.grant()'s ids and times, never the
# token. Each ends when its task is done, when its short life is over, or when the browser signs in as another.
SESSION_GRANTS = "task_link_open"
_OLD_SESSION_GRANTS = "task_link_grants"  # raw tokens, kept by earlier versions until the task was done
MAX_GRANTS = 5


def _filtered(request, today):
    form = CalendarFilterForm(request.GET or None, user=request.user)
    qs = reach.visible(request.user, selectors.calendar_queryset())
    return form, selectors.filter_occurrences(qs, today=today, **form.filters())


def _month_param(request, today) -> tuple[int, int]:
    try:
        year = int(request.GET.get("year", today.year))
        month = int(request.GET.get("month", today.month))
        datetime.date(year, month, 1)
    except (ValueError, OverflowError):  # not a number, no such month, or a year too big for a date
        raise Http404("No such month.") from None
    if not 2000 <= year <= 2100:
        raise Http404("No such month.")
    return year, month


@role_required(STAFF)
@cached_page
def month(request):
    today = timezone.localdate()
    year, mon = _month_param(request, today)
    form, qs = _filtered(request, today)
    first = datetime.date(year, mon, 1)
    prev = first - datetime.timedelta(days=1)
    nxt = first + datetime.timedelta(days=32)
    query = request.GET.copy()
    query.pop("year", None)
    query.pop("month", None)
    shown = selectors.month_view(qs, year, mon, today)
    context = {
        "form": form,
        "weeks": shown.weeks,
        "first": first,
        "prev": prev,
        "next": nxt,
        "today": today,
        "filter_query": query.urlencode(),
        # "+N more" adds the day: the agenda with the month's filters, up to the date.
        "agenda_link": f"{reverse('maintenance:agenda')}?{query.urlencode()}{'&' if query else ''}",
        "counts": shown.counts,
        "filtered": bool(form.filters()),
    }
    return render(request, "maintenance/month.html", context)


def _date_param(request, name: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(request.GET[name]) if request.GET.get(name) else None
    except ValueError:  # a date that is not one is left out, not an error
        return None


@role_required(STAFF)
@cached_page
def agenda(request):
    today = timezone.localdate()
    form, qs = _filtered(request, today)
    start, end = _date_param(request, "from"), _date_param(request, "to")
    if start:
        qs = qs.filter(due_date__gte=start)
    elif not form.filters().get("status"):
        qs = qs.filter(due_date__gte=today - datetime.timedelta(days=30))
    if end:  # the month view's "+N more" asks for one day: from and to that day
        qs = qs.filter(due_date__lte=end)
    page = Paginator(qs.order_by("due_date", "title", "pk").values(*selectors.TASK_FIELDS), 50).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": selectors.task_rows(page.object_list, today),
        "today": today,
        "filter_query": query.urlencode(),
        "start": start,
        "end": end,
    }
    return render(request, "maintenance/agenda.html", context)


@role_required(STAFF)
@cached_page
def my_tasks(request):
    today = timezone.localdate()
    # However many tasks a person owns, the page shows the first rows of each section and how many there are;
    # the agenda pages through the rest (its links are on the page).
    context = {"today": today, "agenda_url": reverse("maintenance:agenda"), **selectors.my_tasks(request.user, today)}
    return render(request, "maintenance/mine.html", context)


def _occurrence_for(request, pk: int, action: str = "view") -> Occurrence:
    """The occurrence if the user may see it (else 404, so ids cannot be probed) and do `action` (else 403)."""
    qs = Occurrence.objects.select_related("schedule", "owner", "department", "completed_by")
    return reach.get_or_404(request, qs, action, pk=pk)


@never_cache  # a task page: no copy in a browser's or proxy's cache (Cache-Control: no-store)
@role_required(STAFF)
def occurrence_detail(request, pk: int):
    occ = _occurrence_for(request, pk)
    return render(request, "maintenance/occurrence.html", _detail_context(request, occ))


def _detail_context(request, occ: Occurrence, **bound_forms) -> dict:
    """The task page's context; `bound_forms` replaces a blank form with the one that was just sent, errors and all."""
    return {
        "occ": occ,
        "today": timezone.localdate(),
        "events": selectors.task_history(occ),
        "subject": purposes.subject_link(occ.schedule),
        "can": reach.may_all(request.user, ["complete", "reassign", "skip", "reopen"], occ),
        "can_see_schedule": reach.may(request.user, "view", occ.schedule),
        "needs_new_owner": needs_new_owner(occ),
        "why_owner_cannot_act": why_owner_cannot_act(occ.owner),
        "complete_form": purposes.complete_form()(),
        "reassign_form": ReassignForm(initial={"to": occ.owner_id}),
        "skip_form": SkipForm(),
        "reopen_form": ReopenForm(),
        **purposes.attachments_context(request.user, occ),
        **bound_forms,
    }


def _act(request, occ, form, action, form_name: str) -> object:
    """Run a domain action from a bound form. A refusal (the form's or the service's) shows the task page again
    with that form as it was sent and its errors beside the fields, so nothing typed is lost."""
    if form.is_valid():
        try:
            action(form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("maintenance:occurrence", occ.pk)
    # What is wrong with the task as a whole goes in the banner (the form may not be shown, e.g. a task already
    # done); what is wrong with a field stays beside it.
    for error in form.errors.pop(NON_FIELD_ERRORS, []):
        messages.error(request, error)
    if form.errors:
        messages.error(request, "Nothing was changed: correct the form below.")
    context = _detail_context(request, occ, **{form_name: form})
    return render(request, "maintenance/occurrence.html", context, status=400)


@require_POST
@role_required(STAFF)
def occurrence_complete(request, pk: int):
    occ = _occurrence_for(request, pk, "complete")
    form = purposes.complete_form()(request.POST, request.FILES)

    def complete(data):
        done = purposes.complete_task(occurrence=occ, by=request.user, data=data, via="web")
        messages.success(request, f"Marked done ({done.status_label().lower()}).")

    return _act(request, occ, form, complete, "complete_form")


@require_POST
@role_required(MANAGERS)
def occurrence_reassign(request, pk: int):
    occ = _occurrence_for(request, pk, "reassign")

    def reassign(data):
        services.occurrence_reassign(occurrence=occ, to=data["to"], by=request.user, note=data["note"])
        messages.success(request, f"Reassigned to {data['to']}; they have been emailed the task.")

    return _act(request, occ, ReassignForm(request.POST), reassign, "reassign_form")


@require_POST
@role_required(MANAGERS)
def occurrence_skip(request, pk: int):
    occ = _occurrence_for(request, pk, "skip")

    def skip(data):
        services.occurrence_skip(occurrence=occ, by=request.user, reason=data["reason"])
        messages.success(request, "Skipped; the reason is kept in the history.")

    return _act(request, occ, SkipForm(request.POST), skip, "skip_form")


@require_POST
@role_required(MANAGERS)
def occurrence_reopen(request, pk: int):
    occ = _occurrence_for(request, pk, "reopen")

    def reopen(data):
        services.occurrence_reopen(occurrence=occ, by=request.user, note=data["note"])
        messages.success(request, "Reopened; the earlier record stays in the history.")

    return _act(request, occ, ReopenForm(request.POST), reopen, "reopen_form")


SCHEDULES = ListPage(
    title="Schedules",
    filterset=ScheduleFilterSet,
    table=ScheduleTable,
    empty_text="No schedules yet. Add one with “New schedule”, or adopt a periodic activity on a control's page.",
    template_name="maintenance/schedules.html",
)


@role_required(STAFF)
@cached_page
def schedule_list(request):
    reach.check(request.user, "view", Schedule)
    return SCHEDULES.render(request, selectors.schedule_list(request.user, timezone.localdate()))


@role_required(STAFF)
def schedule_detail(request, pk: int):
    reach.check(request.user, "view", Schedule)
    schedule = reach.get_or_404(request, Schedule.objects.select_related("owner", "department", "escalate_to"), pk=pk)
    occurrences = schedule.occurrences.order_by("-due_date").values(*selectors.TASK_FIELDS)
    page = Paginator(occurrences, 25).get_page(request.GET.get("page"))
    today = timezone.localdate()
    return render(
        request,
        "maintenance/schedule.html",
        {
            "schedule": schedule,
            "subject": purposes.subject_link(schedule),
            "page": page,
            "rows": selectors.task_rows(page.object_list, today),
            "today": today,
        },
    )


def _created_message(schedule: Schedule, today: datetime.date) -> str:
    """What a new schedule put on the calendar, never a silent nothing: how many tasks, the first and whether it
    is already overdue, the past dates left out, or when the first task will appear."""
    dates = list(schedule.occurrences.order_by("due_date").values_list("due_date", flat=True))
    if not dates:
        first = recurrence.validate(schedule.rrule, schedule.start_date, schedule.end_date)[0]
        months = settings.MAINTENANCE_HORIZON_MONTHS
        return (
            f"Schedule created. Its first task is due {date_format(first, 'j M Y')}, more than {months} months "
            f"ahead: it is put on the calendar {months} months before it is due."
        )
    count = len(dates)
    text = f"Schedule created: {count} task{'s' if count != 1 else ''} on the calendar, "
    text += f"due {date_format(dates[0], 'j M Y')}" if count == 1 else f"the first due {date_format(dates[0], 'j M Y')}"
    if dates[0] < today:
        text += ", already overdue"
    text += "."
    if schedule.rrule and schedule.start_date < dates[0] < today:
        text += f" Earlier dates since the start date ({date_format(schedule.start_date, 'j M Y')}) were not added."
    return text


@role_required(MANAGERS)
def schedule_create(request):
    form = ScheduleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        schedule = services.schedule_save(by=request.user, **form.schedule_fields())
        messages.success(request, _created_message(schedule, timezone.localdate()))
        return redirect("maintenance:schedule", schedule.pk)
    return render(request, "maintenance/schedule_form.html", {"form": form, "title": "New schedule"})


@role_required(MANAGERS)
def schedule_edit(request, pk: int):
    schedule = reach.get_or_404(request, Schedule, "edit", pk=pk)
    form = ScheduleForm(request.POST or None, instance=schedule)
    if request.method == "POST" and form.is_valid():
        # is_valid() already copied the new values onto `schedule`; the service needs the stored row to see
        # what changed (a new owner takes over the open occurrences of the previous one).
        stored = Schedule.objects.get(pk=schedule.pk)
        services.schedule_save(schedule=stored, by=request.user, **form.schedule_fields())
        messages.success(request, "Schedule saved; open occurrences ahead follow it, done ones are unchanged.")
        return redirect("maintenance:schedule", schedule.pk)
    return render(request, "maintenance/schedule_form.html", {"form": form, "title": f"Edit: {schedule.title}"})


# --- the emailed task link ---------------------------------------------------------------------------------


def _record_use(request, outcome: str, occurrence=None) -> None:
    TaskLinkUse.objects.create(
        occurrence=occurrence,
        outcome=outcome,
        ip_address=request.META.get("REMOTE_ADDR") or None,
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
    )


def _refused(request, refusal: links.LinkRefused):
    _record_use(request, refusal.outcome, refusal.occurrence)
    if refusal.orphaned:
        notices.notify_orphaned(refusal.occurrence)  # what the page says is then true: the team is told
    return render(request, "maintenance/task_link_refused.html", {"message": refusal.message}, status=403)


def _someone_else(request, occ):
    """The browser is signed in as another person than the task's owner: the link does not act in the owner's
    name for them (history and evidence name only who acted); they may open the task from their own calendar."""
    if not request.user.is_authenticated or request.user.pk == occ.owner_id:
        return None
    logger.info("Task link for occurrence %s refused: the browser is signed in as user %s", occ.pk, request.user.pk)
    _end_grant(request, occ.pk)
    context = {
        "message": f"You are signed in as {request.user}; this link is for {occ.owner}. "
        "Sign out, or open the task from your own calendar.",
        "signed_in_as": request.user,
        "occ_url": reverse("maintenance:occurrence", args=[occ.pk]) if reach.may(request.user, "view", occ) else None,
    }
    return render(request, "maintenance/task_link_refused.html", context, status=403)


def _grants(request) -> dict[str, dict]:
    """The grants still in their life; anything else (expired, or a token an earlier version kept) is dropped."""
    request.session.pop(_OLD_SESSION_GRANTS, None)
    now = timezone.now().timestamp()
    return {
        pk: g
        for pk, g in request.session.get(SESSION_GRANTS, {}).items()
        if isinstance(g, dict) and now <= g.get("until", 0)
    }


def _keep_grant(request, granted: dict) -> None:
    grants = _grants(request)
    grants[str(granted["o"])] = granted
    newest = sorted(grants.items(), key=lambda kv: kv[1]["until"])[-MAX_GRANTS:]
    request.session[SESSION_GRANTS] = dict(newest)


def _end_grant(request, pk: int) -> None:
    grants = _grants(request)
    grants.pop(str(pk), None)
    if grants:
        request.session[SESSION_GRANTS] = grants
    else:
        request.session.pop(SESSION_GRANTS, None)


@never_cache  # a task page: no copy in a browser's or proxy's cache (Cache-Control: no-store)
@login_not_required
@rate_limited("task-link")  # posts per address (RATE_LIMIT_*), for both task-link pages
def task_link(request):
    """GET: a page whose script posts the token from the URL fragment. POST: check it, grant this task."""
    if request.method != "POST":
        return render(request, "maintenance/task_link_open.html")
    try:
        occ, granted = links.grant(request.POST.get("token", ""))
    except links.LinkRefused as refusal:
        return _refused(request, refusal)
    if (other := _someone_else(request, occ)) is not None:
        return other
    _record_use(request, TaskLinkUse.Outcome.OPENED, occ)
    _keep_grant(request, granted)
    return redirect("maintenance:task_link_task", occ.pk)


@never_cache  # a task page: no copy in a browser's or proxy's cache (Cache-Control: no-store)
@login_not_required
@rate_limited("task-link")  # posts per address (RATE_LIMIT_*), for both task-link pages
def task_link_task(request, pk: int):
    """The one task a link opened: read it, attach evidence, mark it done. Nothing else is reachable."""
    request.session.pop(_OLD_SESSION_GRANTS, None)
    granted = request.session.get(SESSION_GRANTS, {}).get(str(pk))
    if not isinstance(granted, dict) or granted.get("o") != pk:
        return render(
            request,
            "maintenance/task_link_refused.html",
            {"message": "Open this task from the link in your email."},
            status=403,
        )
    try:
        occ = links.resolve_grant(granted)
    except links.LinkRefused as refusal:
        return _refused(request, refusal)
    if (other := _someone_else(request, occ)) is not None:
        return other
    form = purposes.complete_form()(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            purposes.complete_task(occurrence=occ, by=occ.owner, data=form.cleaned_data, via="task link")
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            _record_use(request, TaskLinkUse.Outcome.COMPLETED, occ)
            _end_grant(request, occ.pk)
            occ.refresh_from_db()
            return render(
                request,
                "maintenance/task_link_done.html",
                {"occ": occ, **purposes.attachments_context(None, occ)},
            )
    return render(
        request,
        "maintenance/task_link_task.html",
        {"occ": occ, "form": form, "today": timezone.localdate(), **purposes.attachments_context(None, occ)},
    )


def _ics_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@login_not_required
def feed_user_ics(request, token: str):
    """A person's own tasks. Public URL: the token is the key; gone once the person is inactive or not staff."""
    feed = CalendarFeed.objects.select_related("user").filter(token=token, is_organisation=False).first()
    if feed is None or not reach.is_staff_member(feed.user):
        raise Http404("No such feed.")
    today = timezone.localdate()
    occurrences = feeds.feed_occurrences(today).filter(owner=feed.user)
    content = feeds.build_ics(occurrences, name=f"ISMS tasks: {feed.user}", today=today)
    return _ics_response(content, "my-isms-tasks.ics")


@login_not_required
def feed_org_ics(request, token: str):
    """Every task of the organisation. Public URL: the token is the key."""
    if not CalendarFeed.objects.filter(token=token, is_organisation=True).exists():
        raise Http404("No such feed.")
    today = timezone.localdate()
    name = f"ISMS calendar: {identity.organisation_name()}"
    return _ics_response(feeds.build_ics(feeds.feed_occurrences(today), name=name, today=today), "isms-calendar.ics")


# --- calendar feeds and the printable year ----------------------------------------------------------------


def _webcal(url: str) -> str:
    return "webcal://" + url.split("://", 1)[1]


@role_required(STAFF)
def feeds_page(request):
    personal = feeds.user_feed(request.user)
    organisation = feeds.organisation_feed() if feeds.can_see_organisation_feed(request.user) else None
    context = {
        "personal_url": feeds.feed_url(personal),
        "organisation_url": feeds.feed_url(organisation) if organisation else None,
        "past_days": feeds.FEED_PAST_DAYS,
        "can_regenerate_org": reach.is_manager(request.user),
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
    feeds.feed_regenerate_token(user=request.user)
    messages.success(
        request, "Your calendar link was replaced. The old link no longer works: subscribe again with the new one."
    )
    return redirect("maintenance:feeds")


@require_POST
@role_required(MANAGERS)
def feed_org_regenerate(request):
    feeds.feed_regenerate_token()
    logger.info("Organisation calendar feed token regenerated by %s", request.user.username)
    messages.success(
        request,
        "The organisation calendar link was replaced. The old link no longer works: "
        "everyone who subscribed needs the new one.",
    )
    return redirect("maintenance:feeds")


@role_required(STAFF)
def calendar_pdf(request, year: int):
    """The year on one landscape A4 page, to print and pin up."""
    if year not in feeds.PDF_YEARS:
        raise Http404("No calendar for that year.")
    context = feeds.calendar_pdf_context(reach.visible(request.user, selectors.calendar_queryset()), year=year)
    context["scope_note"] = "all tasks" if feeds.can_see_organisation_feed(request.user) else "your tasks"
    context["printed_by"] = request.user
    # Sized to fit one page: the helper never hands out a second one.
    return render_pdf(
        "maintenance/calendar_pdf.html",
        context,
        request=request,
        title=f"ISMS calendar {year}",
        subject=f"The maintenance calendar of {year} ({context['scope_note']}), printed by {request.user}",
        filename=f"isms-calendar-{year}.pdf",
        inline=True,
        max_pages=1,
    )


# The signed token in the address is the proof (the link from the person's own digest), not a session: mail clients
# that offer "Unsubscribe" post here without one (RFC 8058), so there is no CSRF token either.
@csrf_exempt
@never_cache
@login_not_required
def digests_settings(request, token: str):
    """Turn one's weekly digest off, or on again, from the link in it."""
    user = digests.user_from_digest_token(token)
    if user is None:
        return render(request, "maintenance/digests.html", {"person": None}, status=404)
    if request.method == "POST":
        if request.POST.get("List-Unsubscribe") == "One-Click":
            user_digests_set(user=user, receive=False)
            return HttpResponse("The weekly digest is off.", content_type="text/plain; charset=utf-8")
        receive = request.POST.get("receive") == "on"
        if user_digests_set(user=user, receive=receive):
            messages.success(
                request, "Your weekly digest will come again on Mondays." if receive else "Your weekly digest is off."
            )
        return redirect("maintenance:digests", token)
    return render(request, "maintenance/digests.html", {"person": user})
