"""Read-side queries for the calendar pages, digests and feeds. Each builds its rows in a fixed number of
queries, whatever the number of occurrences."""

import calendar
import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connections
from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, Subquery, When, Window
from django.db.models.functions import Coalesce, RowNumber
from django.urls import reverse
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR

from .models import Kind, Occurrence, status_of


def calendar_queryset():
    return Occurrence.objects.select_related("owner", "department", "schedule").only(
        "pk",
        "due_date",
        "title",
        "state",
        "remind_from",
        "grace_until",
        "completed_on",
        "owner__username",
        "owner__first_name",
        "owner__last_name",
        "department__name",
        "schedule__kind",
    )


def filter_occurrences(qs, *, owner=None, department=None, kind=None, status=None, today=None):
    if owner:
        qs = qs.filter(owner=owner)
    if department:
        qs = qs.filter(department=department)
    if kind:
        qs = qs.filter(schedule__kind=kind)
    if status:
        qs = qs.with_status(status, today)
    return qs


# The first few of one person's tasks (or of a rare kind) by due date. Nulls first (or last, descending) changes
# nothing, the date is never null, but it keeps PostgreSQL from reading the due-date index in that order: given a
# LIMIT it walked the whole calendar until it had found them (~28,000 rows for the busiest owner's late work,
# ~25 ms; all 97,000 when there are none); instead it reads the matching rows through the owner or state index
# and sorts them (~1 ms).
BY_DUE_DATE = F("due_date").asc(nulls_first=True)
BY_DUE_DATE_DESC = F("due_date").desc(nulls_last=True)

# --- rows of task lists -----------------------------------------------------------------------------------------

# What a row of a task list shows, read as values: no model objects (an occurrence, its owner, department and
# schedule per row) are made for a page of rows.
TASK_FIELDS = (
    "pk",
    "due_date",
    "title",
    "state",
    "remind_from",
    "completed_on",
    "owner__first_name",
    "owner__last_name",
    "owner__username",
    "department__name",
    "schedule__kind",
)
BADGE = {
    "upcoming": "text-bg-light border",
    "due": "text-bg-warning",
    "overdue": "text-bg-danger",
    "missed": "text-bg-dark",
    "done_on_time": "text-bg-success",
    "done_late": "text-bg-info",
    "skipped": "text-bg-secondary",
}
_KINDS = dict(Kind.choices)
_STATUS_LABELS = dict(Occurrence.Status.choices)


def occurrence_url_maker():
    """A function from a task's id to its page's path: reverse() once per page rather than once per row."""
    marker = 987654321
    head, tail = reverse("maintenance:occurrence", args=[marker]).split(str(marker))
    return lambda pk: f"{head}{pk}{tail}"


def day_text(day: datetime.date) -> str:
    """The date as the template filter `date:"D j M Y"` writes it ("Mon 2 Mar 2026"), without its cost per row
    (a date filter was a fifth of a page of 70 rows)."""
    return f"{WEEKDAYS_ABBR[day.weekday()]} {day.day} {MONTHS_3[day.month].title()} {day.year}"


def task_rows(values, today: datetime.date) -> list[dict]:
    """Rows of `TASK_FIELDS` values as a task list shows them: the link, the due date in words, the owner's name,
    the kind of work and the status as of `today`, with its label and badge; `late` when overdue or missed.
    Dictionaries, so that a template reads each cell with one lookup."""
    url = occurrence_url_maker()
    days: dict[datetime.date, str] = {}
    # The labels are translated strings: each looked up once per list rather than once per row.
    kinds = {key: str(label) for key, label in _KINDS.items()}
    labels = {key: str(label) for key, label in _STATUS_LABELS.items()}
    rows = []
    for v in values:
        due = v["due_date"]
        if due not in days:
            days[due] = day_text(due)
        status = str(status_of(v["state"], v["due_date"], v["remind_from"], v["completed_on"], today))
        owner = f"{v['owner__first_name']} {v['owner__last_name']}".strip() or v["owner__username"]
        rows.append(
            {
                "pk": v["pk"],
                "url": url(v["pk"]),
                "due_date": due,
                "due": days[due],
                "title": v["title"],
                "kind": kinds.get(v["schedule__kind"], v["schedule__kind"]),
                "owner": owner,
                "department": v["department__name"] or "—",
                "status": status,
                "status_label": labels[status],
                "badge": BADGE[status],
                "late": status in ("overdue", "missed"),
            }
        )
    return rows


def rows_of(qs, today: datetime.date, limit: int | None = None) -> list[dict]:
    """`task_rows` of an ordered queryset, at most `limit` of them: one query."""
    values = qs.values(*TASK_FIELDS)
    return task_rows(values[:limit] if limit else values, today)


# --- the month view -------------------------------------------------------------------------------------------


@dataclass
class Day:
    date: datetime.date
    in_month: bool
    is_today: bool
    occurrences: list = field(default_factory=list)
    more: int = 0  # tasks due that day beyond the ones shown
    more_late: int = 0  # of those, how many are overdue or missed


@dataclass
class Month:
    weeks: list[list[Day]]
    counts: dict[str, int]  # the month's tasks as they stand today: overdue, missed, due, upcoming, done


def _urgency(today: datetime.date) -> Case:
    """Most urgent first: overdue or missed, then due, then upcoming, then done or skipped."""
    S = Occurrence.State
    return Case(
        When(Q(state=S.MISSED) | Q(state=S.OPEN, due_date__lt=today), then=0),
        When(state=S.OPEN, remind_from__lte=today, then=1),
        When(state=S.OPEN, then=2),
        default=3,
        output_field=IntegerField(),
    )


def _first_per_day(qs, today: datetime.date, per_day: int) -> list[dict]:
    """The `per_day` most urgent tasks of each due date in `qs` (then by title), as `TASK_FIELDS` values ordered by
    date and urgency: a row number per due date in SQL, so a day of hundreds of tasks reads four.

    The row number is filtered by an outer SELECT written here around the queryset's own SQL, which is what Django
    writes for a filter on a window function too, but compiling it through Django took ~3 ms of CPU per month view
    (of ~25): it resolves the whole expression tree again for the outer query."""
    ranked = qs.annotate(
        rank=Window(RowNumber(), partition_by=F("due_date"), order_by=[_urgency(today).asc(), "title", "pk"])
    ).values_list(*TASK_FIELDS, "rank")
    compiler = ranked.query.get_compiler(qs.db)
    sql, params = compiler.as_sql()
    with connections[qs.db].cursor() as cursor:
        cursor.execute(f'SELECT * FROM ({sql}) ranked WHERE ranked."rank" <= %s', [*params, per_day])  # noqa: S608
        found = cursor.fetchall()
    # The same columns as the inner query's: its converters apply (SQLite returns dates as text).
    converters = compiler.get_converters([column for column, _, _ in compiler.select[: compiler.col_count]])
    if converters:
        found = list(compiler.apply_converters(found, converters))
    # The date and then the row number within it: most urgent first.
    found.sort(key=lambda row: (row[1], row[-1]))
    return [dict(zip(TASK_FIELDS, row, strict=False)) for row in found]


def month_view(qs, year: int, month: int, today: datetime.date, per_day: int = 4) -> Month:
    """Weeks (Monday first) of the month, each day with at most `per_day` tasks, the most urgent first, and a
    count of the rest; and the month's badges. Two queries whatever the number of tasks: the tasks shown
    (`_first_per_day`) and one aggregate of every day's counts by status, from which the month's badges are
    summed. "+N more" links to the agenda for that day."""
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    first, last = weeks[0][0], weeks[-1][-1]
    in_grid = qs.filter(due_date__range=(first, last))
    by_day = defaultdict(list)
    for row in task_rows(_first_per_day(in_grid, today, per_day), today):
        by_day[row["due_date"]].append(row)
    open_ = Q(state=Occurrence.State.OPEN)
    per_date = {
        row.pop("due_date"): row
        for row in in_grid.order_by()
        .values("due_date")
        .annotate(
            total=Count("pk"),
            overdue=Count("pk", filter=open_ & Q(due_date__lt=today)),
            missed=Count("pk", filter=Q(state=Occurrence.State.MISSED)),
            due=Count("pk", filter=open_ & Q(remind_from__lte=today, due_date__gte=today)),
            upcoming=Count("pk", filter=open_ & Q(remind_from__gt=today)),
            done=Count("pk", filter=Q(state=Occurrence.State.DONE)),
        )
    }
    counts = dict.fromkeys(("overdue", "missed", "due", "upcoming", "done"), 0)
    for day, row in per_date.items():
        if day.year == year and day.month == month:
            for key in counts:
                counts[key] += row[key]
    grid = []
    for week in weeks:
        days = []
        for d in week:
            shown = by_day.get(d, [])
            row = per_date.get(d, {"total": 0, "overdue": 0, "missed": 0})
            days.append(
                Day(
                    d,
                    d.month == month,
                    d == today,
                    shown,
                    more=row["total"] - len(shown),
                    more_late=row["overdue"] + row["missed"] - sum(1 for o in shown if o["late"]),
                )
            )
        grid.append(days)
    return Month(grid, counts)


def status_counts(qs, today: datetime.date, *, mine_of=None) -> dict[str, int]:
    """How many tasks are overdue, due, upcoming (next 30 days), missed: one aggregate query. With `mine_of`, also
    `mine_now`: how many of that person's own are on their list now (overdue, due or missed), in the same query.

    Every task it counts is missed, or open and reminded by `soon` (an overdue or due task's reminders have begun,
    an upcoming one's begin before its due date), so only those rows are read: the same figures, without going
    through years of done history (11 → 5 ms on the benchmark's 97k tasks)."""
    soon = today + datetime.timedelta(days=30)
    qs = qs.filter(Q(state=Occurrence.State.MISSED) | Q(state=Occurrence.State.OPEN, remind_from__lte=soon))
    counts = {
        "overdue": Count("pk", filter=Q(state=Occurrence.State.OPEN, due_date__lt=today)),
        "due": Count("pk", filter=Q(state=Occurrence.State.OPEN, remind_from__lte=today, due_date__gte=today)),
        "upcoming": Count("pk", filter=Q(state=Occurrence.State.OPEN, remind_from__gt=today, due_date__lte=soon)),
        "missed": Count("pk", filter=Q(state=Occurrence.State.MISSED)),
    }
    if mine_of is not None:
        # Overdue, due or missed: of the rows read, all but the open ones whose first reminder is still ahead.
        later = Q(state=Occurrence.State.OPEN, remind_from__gt=today)
        counts["mine_now"] = Count("pk", filter=Q(owner=mine_of) & ~later)
    return qs.aggregate(**counts)


# --- my tasks -------------------------------------------------------------------------------------------------


def my_tasks(user, today: datetime.date, *, shown: int = 20, recent_shown: int = 10) -> dict:
    """The person's own work in four sections, each its first rows and how many there are in all: late (overdue
    or missed, most recent first), due now (soonest first), coming up in the next 90 days (soonest first) and
    finished in the last 60 days (most recent first). Five queries whatever the number of tasks: one count of
    the four sections, then each section's first rows. The agenda pages through the rest of each section."""
    S = Occurrence.State
    ahead = today + datetime.timedelta(days=90)
    since = today - datetime.timedelta(days=60)
    which = {
        "late": Q(state=S.OPEN, due_date__lt=today) | Q(state=S.MISSED),
        "due": Q(state=S.OPEN, remind_from__lte=today, due_date__gte=today),
        "upcoming": Q(state=S.OPEN, remind_from__gt=today, due_date__lte=ahead),
        "recent": Q(state__in=[S.DONE, S.SKIPPED], due_date__gte=since),
    }
    order = {"late": BY_DUE_DATE_DESC, "due": BY_DUE_DATE, "upcoming": BY_DUE_DATE, "recent": BY_DUE_DATE_DESC}
    mine = Occurrence.objects.filter(owner=user)
    totals = mine.filter(which["late"] | which["due"] | which["upcoming"] | which["recent"]).aggregate(
        **{name: Count("pk", filter=q) for name, q in which.items()}
    )
    sections = {
        name: rows_of(
            mine.filter(q).order_by(order[name], "title", "pk"),
            today,
            limit=recent_shown if name == "recent" else shown,
        )
        for name, q in which.items()
    }
    return {"totals": totals, "ahead": ahead, "since": since, **sections}


def owner_digest(user, today: datetime.date) -> dict:
    horizon = today + datetime.timedelta(days=settings.DIGEST_UPCOMING_DAYS)
    from .links import task_link_url

    mine = list(
        calendar_queryset()
        .filter(owner=user)
        .filter(Q(state=Occurrence.State.OPEN, due_date__lte=horizon) | Q(state=Occurrence.State.MISSED))
        .order_by("due_date")
    )
    for occ in mine:
        occ.task_url = task_link_url(occ)
        occ.status_now = occ.status_label(today)
    return {
        "late": [o for o in mine if o.due_date < today],
        "due_today": [o for o in mine if o.due_date == today],
        "coming": [o for o in mine if o.due_date > today],
        "horizon": horizon,
    }


def team_digest(today: datetime.date) -> dict:
    """The compliance team's week: late work by owner and department, each task overdue (past its due date) or
    missed (past its grace period) and linked to its page, late corrective actions on their own; tasks that need a
    new owner; work done without the evidence it asks for."""
    site = settings.SITE_URL
    late = list(calendar_queryset().overdue(today).order_by("owner__last_name", "due_date"))
    orphaned = list(calendar_queryset().orphaned().order_by("due_date", "pk"))
    by_owner = defaultdict(list)
    by_department = defaultdict(int)
    for occ in late + orphaned:
        occ.status_now = occ.status_label(today).lower()
        occ.page_url = f"{site}{reverse('maintenance:occurrence', args=[occ.pk])}"
    for occ in late:
        by_owner[occ.owner].append(occ)
        by_department[occ.department.name if occ.department else "No department"] += 1
    return {
        "late": late,
        "overdue": [o for o in late if o.state == Occurrence.State.OPEN],
        "missed": [o for o in late if o.state == Occurrence.State.MISSED],
        "orphaned": orphaned,
        # Late corrective actions (of nonconformities) again on their own: the auditor's first question.
        "corrective_actions": [o for o in late if o.schedule.kind == Kind.CORRECTIVE_ACTION],
        "by_owner": sorted(by_owner.items(), key=lambda kv: (-len(kv[1]), str(kv[0]))),
        "by_department": sorted(by_department.items(), key=lambda kv: -kv[1]),
        "done_without_evidence": done_without_evidence_since(today - datetime.timedelta(days=7), today),
    }


def done_without_evidence_since(start: datetime.date, today: datetime.date) -> list[Occurrence]:
    """Tasks done from `start` to yesterday without the evidence their schedule requires (the week a digest
    covers), each with `without_evidence_reason`; the evidence app decides what counts (purposes hook)."""
    from . import purposes

    done = Occurrence.objects.select_related("owner", "completed_by").filter(
        completed_on__gte=start, completed_on__lt=today
    )
    return with_no_evidence_reasons(purposes.done_without_attachments(done).order_by("completed_at", "pk"))


def with_no_evidence_reasons(occurrences) -> list[Occurrence]:
    """The tasks as a list, each with `without_evidence_reason`: why its owner marked it done without the
    evidence it asks for (kept in the completion's history entry), in one query for all of them."""
    from .models import OccurrenceEvent

    occurrences = list(occurrences)
    reasons = dict(
        OccurrenceEvent.objects.filter(
            occurrence__in=[o.pk for o in occurrences], action=OccurrenceEvent.Action.COMPLETED
        )
        .order_by("at", "pk")  # the latest completion wins (a task reopened and done again)
        .values_list("occurrence_id", "data__without_evidence")
    )
    for occ in occurrences:
        occ.without_evidence_reason = reasons.get(occ.pk) or ""
    return occurrences


def _count_of(occurrences) -> Subquery:
    """A correlated count per schedule: worked out only for the rows the page shows, not the whole table."""
    counted = occurrences.filter(schedule=OuterRef("pk")).order_by().values("schedule").annotate(n=Count("pk"))
    return Coalesce(Subquery(counted.values("n"), output_field=IntegerField()), 0)


def schedule_list(user, today: datetime.date):
    """The schedules `user` may see, each with its open and late task counts (one query for the page)."""
    from isms.foundation import reach

    from .models import Schedule

    return (
        reach.visible(user, Schedule)
        .select_related("owner", "department")
        .annotate(
            open_count=_count_of(Occurrence.objects.filter(state=Occurrence.State.OPEN)),
            late_count=_count_of(
                Occurrence.objects.filter(
                    Q(state=Occurrence.State.MISSED) | Q(state=Occurrence.State.OPEN, due_date__lt=today)
                )
            ),
        )
        .order_by("title", "pk")
    )


# How an action reached the task, in words for its history.
VIA_WORDS = {"web": "on the task page", "task link": "from the emailed link", "api": "through the API", "system": ""}


def task_history(occurrence) -> list:
    """The task's history for its page, each event with `details` in words: whom a reassignment went from and to,
    why a task that asked for evidence was done without it, where a date moved from. Two queries."""
    from isms.accounts.models import User

    from .models import OccurrenceEvent

    events = list(occurrence.events.select_related("actor"))
    people_ids = {
        e.data.get(k) for e in events for k in ("from", "to") if e.action == OccurrenceEvent.Action.REASSIGNED
    }
    people = {u.pk: str(u) for u in User.objects.filter(pk__in=[p for p in people_ids if p])}
    for event in events:
        details = []
        if event.action == OccurrenceEvent.Action.REASSIGNED:
            before = people.get(event.data.get("from"), "a former owner")
            details.append(f"from {before} to {people.get(event.data.get('to'), '—')}")
        if event.action == OccurrenceEvent.Action.COMPLETED:
            if event.data.get("late"):
                details.append("after the due date")
            if event.data.get("without_evidence"):
                details.append(f"without evidence: {event.data['without_evidence']}")
        if event.action == OccurrenceEvent.Action.RESCHEDULED and event.data.get("from"):
            details.append(f"moved from {event.data['from']}")
        event.details = "; ".join(details)
        event.via_words = VIA_WORDS.get(event.via, event.via)
    return events
