"""Calendar pages: month grid, agenda, my tasks, occurrences and schedules, and the emailed task link."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from isms.accounts.roles import MANAGERS, STAFF
from isms.foundation.permissions import role_required

from . import links, selectors, services
from .forms import CalendarFilterForm, CompleteForm, ReassignForm, ReopenForm, ScheduleForm, SkipForm
from .models import Occurrence, Schedule, TaskLinkUse

SESSION_GRANTS = "task_link_grants"
MY_LATE_SHOWN = 50


def _filtered(request, today):
    form = CalendarFilterForm(request.GET or None)
    qs = selectors.calendar_queryset().visible_to(request.user)
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
    context = {
        "form": form,
        "weeks": selectors.month_grid(qs, year, mon, today),
        "first": first,
        "prev": prev,
        "next": nxt,
        "today": today,
        "filter_query": query.urlencode(),
        "counts": selectors.status_counts(qs, today),
    }
    return render(request, "maintenance/month.html", context)


@role_required(STAFF)
def agenda(request):
    today = timezone.localdate()
    form, qs = _filtered(request, today)
    try:
        start = datetime.date.fromisoformat(request.GET["from"]) if request.GET.get("from") else None
    except ValueError:
        start = None
    if start:
        qs = qs.filter(due_date__gte=start)
    elif not form.filters().get("status"):
        qs = qs.filter(due_date__gte=today - datetime.timedelta(days=30))
    page = Paginator(qs.order_by("due_date", "title", "pk"), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "maintenance/agenda.html",
        {"form": form, "page": page, "today": today, "filter_query": query.urlencode(), "start": start},
    )


@role_required(STAFF)
def my_tasks(request):
    today = timezone.localdate()
    mine = selectors.calendar_queryset().filter(owner=request.user)
    late = mine.overdue(today).order_by("-due_date")
    context = {
        "today": today,
        # Years of missed history must not make the page grow: the most recent late work, and a count.
        "late": late[:MY_LATE_SHOWN],
        "late_total": late.count(),
        "due": mine.due(today).order_by("due_date"),
        "upcoming": mine.upcoming(today).filter(due_date__lte=today + datetime.timedelta(days=90)).order_by("due_date"),
        "recent": mine.filter(
            state__in=["done", "skipped"], due_date__gte=today - datetime.timedelta(days=60)
        ).order_by("-due_date"),
    }
    return render(request, "maintenance/mine.html", context)


def _occurrence_for(request, pk: int) -> Occurrence:
    """The occurrence if the user may see it; 404 otherwise, so ids cannot be probed."""
    qs = Occurrence.objects.select_related("schedule", "owner", "department", "completed_by").visible_to(request.user)
    return get_object_or_404(qs, pk=pk)


def _can_complete(user, occ: Occurrence) -> bool:
    return user.is_manager or occ.owner_id == user.pk


@role_required(STAFF)
def occurrence_detail(request, pk: int):
    occ = _occurrence_for(request, pk)
    context = {
        "occ": occ,
        "today": timezone.localdate(),
        "events": occ.events.select_related("actor"),
        "evidence": occ.evidence.select_related("submitted_by"),
        "can_complete": occ.is_actionable and _can_complete(request.user, occ),
        "complete_form": CompleteForm(),
        "reassign_form": ReassignForm(initial={"to": occ.owner_id}),
        "skip_form": SkipForm(),
        "reopen_form": ReopenForm(),
    }
    return render(request, "maintenance/occurrence.html", context)


def _act(request, occ, form, action) -> object:
    """Run a domain action from a bound form; show form errors and domain refusals as messages."""
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("maintenance:occurrence", occ.pk)
    try:
        action(form.cleaned_data)
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    return redirect("maintenance:occurrence", occ.pk)


@require_POST
@role_required(STAFF)
def occurrence_complete(request, pk: int):
    occ = _occurrence_for(request, pk)
    if not _can_complete(request.user, occ):
        raise PermissionDenied("Only the task's owner or the compliance team can complete it.")
    form = CompleteForm(request.POST, request.FILES)

    def complete(data):
        done = services.occurrence_complete(
            occurrence=occ, by=request.user, note=data["note"], files=data["files"], links=data["links"], via="web"
        )
        messages.success(request, f"Marked done ({done.status_label().lower()}).")

    return _act(request, occ, form, complete)


@require_POST
@role_required(MANAGERS)
def occurrence_reassign(request, pk: int):
    occ = _occurrence_for(request, pk)

    def reassign(data):
        services.occurrence_reassign(occurrence=occ, to=data["to"], by=request.user, note=data["note"])
        messages.success(request, f"Reassigned to {data['to']}; they have been emailed the task.")

    return _act(request, occ, ReassignForm(request.POST), reassign)


@require_POST
@role_required(MANAGERS)
def occurrence_skip(request, pk: int):
    occ = _occurrence_for(request, pk)

    def skip(data):
        services.occurrence_skip(occurrence=occ, by=request.user, reason=data["reason"])
        messages.success(request, "Skipped; the reason is kept in the history.")

    return _act(request, occ, SkipForm(request.POST), skip)


@require_POST
@role_required(MANAGERS)
def occurrence_reopen(request, pk: int):
    occ = _occurrence_for(request, pk)

    def reopen(data):
        services.occurrence_reopen(occurrence=occ, by=request.user, note=data["note"])
        messages.success(request, "Reopened; the earlier record stays in the history.")

    return _act(request, occ, ReopenForm(request.POST), reopen)


@role_required(MANAGERS | {"viewer"})
def schedule_list(request):
    today = timezone.localdate()
    schedules = (
        Schedule.objects.select_related("owner", "department")
        .annotate(
            open_count=Count("occurrences", filter=Q(occurrences__state="open")),
            late_count=Count(
                "occurrences",
                filter=Q(occurrences__state="missed") | Q(occurrences__state="open", occurrences__due_date__lt=today),
            ),
        )
        .order_by("title")
    )
    page = Paginator(schedules, 50).get_page(request.GET.get("page"))
    return render(request, "maintenance/schedules.html", {"page": page})


@role_required(MANAGERS | {"viewer"})
def schedule_detail(request, pk: int):
    schedule = get_object_or_404(Schedule.objects.select_related("owner", "department", "escalate_to"), pk=pk)
    occurrences = schedule.occurrences.select_related("owner").order_by("-due_date")
    page = Paginator(occurrences, 25).get_page(request.GET.get("page"))
    return render(
        request, "maintenance/schedule.html", {"schedule": schedule, "page": page, "today": timezone.localdate()}
    )


@role_required(MANAGERS)
def schedule_create(request):
    form = ScheduleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        schedule = services.schedule_save(by=request.user, **form.schedule_fields())
        count = schedule.occurrences.count()
        messages.success(
            request, f"Schedule created with {count} occurrence{'s' if count != 1 else ''} on the calendar."
        )
        return redirect("maintenance:schedule", schedule.pk)
    return render(request, "maintenance/schedule_form.html", {"form": form, "title": "New schedule"})


@role_required(MANAGERS)
def schedule_edit(request, pk: int):
    schedule = get_object_or_404(Schedule, pk=pk)
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
    return render(request, "maintenance/task_link_refused.html", {"message": refusal.message}, status=403)


@login_not_required
def task_link(request):
    """GET: a page whose script posts the token from the URL fragment. POST: check it, grant this task."""
    if request.method != "POST":
        return render(request, "maintenance/task_link_open.html")
    token = request.POST.get("token", "")
    try:
        occ = links.resolve(token)
    except links.LinkRefused as refusal:
        return _refused(request, refusal)
    _record_use(request, TaskLinkUse.Outcome.OPENED, occ)
    grants = request.session.get(SESSION_GRANTS, {})
    grants[str(occ.pk)] = token
    request.session[SESSION_GRANTS] = grants
    return redirect("maintenance:task_link_task", occ.pk)


@login_not_required
def task_link_task(request, pk: int):
    """The one task a link opened: read it, attach evidence, mark it done. Nothing else is reachable."""
    token = request.session.get(SESSION_GRANTS, {}).get(str(pk))
    if token is None:
        return render(
            request,
            "maintenance/task_link_refused.html",
            {"message": "Open this task from the link in your email."},
            status=403,
        )
    try:
        occ = links.resolve(token)
    except links.LinkRefused as refusal:
        return _refused(request, refusal)
    if occ.pk != pk:
        raise Http404
    form = CompleteForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.occurrence_complete(
                occurrence=occ,
                by=occ.owner,
                note=data["note"],
                files=data["files"],
                links=data["links"],
                via="task link",
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            _record_use(request, TaskLinkUse.Outcome.COMPLETED, occ)
            grants = request.session.get(SESSION_GRANTS, {})
            grants.pop(str(pk), None)
            request.session[SESSION_GRANTS] = grants
            occ.refresh_from_db()
            return render(request, "maintenance/task_link_done.html", {"occ": occ})
    evidence = occ.evidence.all()
    return render(
        request,
        "maintenance/task_link_task.html",
        {"occ": occ, "form": form, "evidence": evidence, "today": timezone.localdate()},
    )
