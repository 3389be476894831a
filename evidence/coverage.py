"""Coverage: the proof that a control operated consistently over a period, not in a burst before the audit.

For a control (or every control mapped to a framework requirement) and a period, each occurrence of its
periodic activities with its status, timing and live evidence, laid out as a strip of the period in which
missed tasks and tasks done without evidence show as gaps. Built in a fixed number of queries, whatever
the number of occurrences."""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

from dateutil.relativedelta import relativedelta
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, IntegerField, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from controls.models import Control, Requirement
from isms.foundation import reach
from isms.maintenance.models import Occurrence, Schedule
from isms.maintenance.selectors import with_no_evidence_reasons

from .models import EvidenceItem

S = Occurrence.Status
MAX_PERIOD_DAYS = 5 * 366  # a longer strip would be unreadable; five years covers two certification cycles


# --- the period -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """The dates a coverage page shows, both included, and why those dates."""

    start: datetime.date
    end: datetime.date
    reason: str = ""

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def left(self, day: datetime.date) -> float:
        """Where the middle of `day` falls on the strip, in percent of its width."""
        return round(((day - self.start).days + 0.5) / self.days * 100, 3)

    def edge(self, day: datetime.date) -> float:
        """Where `day` begins on the strip, in percent, clipped to the strip."""
        return round(min(max((day - self.start).days, 0), self.days) / self.days * 100, 3)


def default_period(today: datetime.date) -> Period:
    """The 12 months before the next external audit of the certificate in force: what that audit will look
    at. Without a certificate, or with no audit ahead, the last 12 months."""
    from isms.organisation.models import Certificate

    certificate = Certificate.objects.current()
    if certificate is not None:
        audit = certificate.audits.filter(planned_date__gte=today).order_by("planned_date").first()
        if audit is not None:
            return Period(
                start=audit.planned_date - relativedelta(months=12),
                end=audit.planned_date - datetime.timedelta(days=1),
                reason=f"the 12 months before the {audit.get_kind_display().lower()} on {audit.planned_date:%-d %B %Y}",
            )
    return Period(
        start=today - relativedelta(months=12) + datetime.timedelta(days=1),
        end=today,
        reason="the last 12 months" + ("" if certificate else " (no certificate is recorded yet)"),
    )


# --- what a strip is made of ------------------------------------------------------------------------------------


@dataclass
class Mark:
    """One occurrence on a strip."""

    occurrence: Occurrence
    status: str
    left: float
    evidence_count: int
    can_open: bool
    without_evidence_reason: str = ""

    @property
    def without_evidence(self) -> bool:
        """Marked done with no live evidence: shown apart from a task done with evidence."""
        return self.is_done and self.evidence_count == 0

    @property
    def status_label(self) -> str:
        return S(self.status).label

    @property
    def days_late(self) -> int | None:
        occ = self.occurrence
        if occ.completed_on is None or occ.completed_on <= occ.due_date:
            return None
        return (occ.completed_on - occ.due_date).days

    @property
    def timing(self) -> str:
        match self.status:
            case S.DONE_ON_TIME:
                return "On time"
            case S.DONE_LATE:
                days = self.days_late
                return f"{days} day{'s' if days != 1 else ''} late"
            case S.MISSED | S.OVERDUE:
                return "Not done"
            case S.SKIPPED:
                return "Skipped"
        return "Not yet due"

    @property
    def is_done(self) -> bool:
        return self.status in (S.DONE_ON_TIME, S.DONE_LATE)

    @property
    def is_gap(self) -> bool:
        """Expected and not proven: missed, overdue, or marked done without any live evidence."""
        return self.status in (S.MISSED, S.OVERDUE) or (self.is_done and self.evidence_count == 0)

    @property
    def describe(self) -> str:
        occ = self.occurrence
        text = f"{occ.title}, due {occ.due_date:%-d %b %Y}: {self.status_label.lower()}"
        if occ.completed_on:
            text += f" on {occ.completed_on:%-d %b %Y}"
        if self.without_evidence:
            return f"{text}; done without evidence: {self.without_evidence_reason or 'no reason recorded'}"
        return f"{text}; {self.evidence_count} piece{'s' if self.evidence_count != 1 else ''} of evidence"


@dataclass(frozen=True)
class Segment:
    """The stretch of the period an occurrence stands for (from the previous one to it)."""

    left: float
    width: float
    kind: str  # covered, late, gap, skipped, ahead


@dataclass
class Summary:
    """The counts a person reads first: "11 of 12 done, 10 on time, 1 missed; 14 pieces of evidence"."""

    on_time: int = 0
    late: int = 0
    missed: int = 0
    overdue: int = 0
    skipped: int = 0
    ahead: int = 0
    gaps: int = 0
    evidence: int = 0
    no_evidence: int = 0  # done (on time or late) without any live evidence

    def add(self, mark: Mark) -> None:
        key = {
            S.DONE_ON_TIME: "on_time",
            S.DONE_LATE: "late",
            S.MISSED: "missed",
            S.OVERDUE: "overdue",
            S.SKIPPED: "skipped",
        }.get(mark.status, "ahead")
        setattr(self, key, getattr(self, key) + 1)
        self.gaps += mark.is_gap
        self.no_evidence += mark.without_evidence
        self.evidence += mark.evidence_count

    def merge(self, other: "Summary") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def done(self) -> int:
        return self.on_time + self.late

    @property
    def expected(self) -> int:
        """Occurrences that should have been done by now (skipped ones and those still ahead excluded)."""
        return self.done + self.missed + self.overdue

    def __str__(self) -> str:
        text = f"{self.done} of {self.expected} done, {self.on_time} on time"
        for count, word in ((self.late, "late"), (self.missed, "missed"), (self.overdue, "overdue")):
            if count:
                text += f", {count} {word}"
        extra = []
        if self.skipped:
            extra.append(f"{self.skipped} skipped")
        if self.ahead:
            extra.append(f"{self.ahead} still to come")
        extra.append(f"{self.evidence} piece{'s' if self.evidence != 1 else ''} of evidence")
        return f"{text}; {'; '.join(extra)}"


@dataclass
class Strip:
    """One periodic activity over the period."""

    schedule: Schedule
    control: Control
    marks: list[Mark] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    summary: Summary = field(default_factory=Summary)


@dataclass
class ControlLine:
    """One control on a requirement's coverage: its activities' counts and a compact strip (the control's own
    coverage page has the marks)."""

    control: Control
    activities: list[Schedule] = field(default_factory=list)
    summary: Summary = field(default_factory=Summary)
    paths: list[tuple[str, str]] = field(default_factory=list)  # (kind, SVG path) on a STRIP_COLUMNS-wide strip

    @property
    def open(self) -> int:
        """Tasks not yet done that are not late either: still to come."""
        return self.summary.ahead

    @property
    def missed_or_overdue(self) -> int:
        return self.summary.missed + self.summary.overdue


DIRECT_SHOWN = 20
TABLE_ROWS_MAX = 200
GAPS_SHOWN = 50  # a requirement's page lists this many gaps; each control's page lists all of its own
STRIP_COLUMNS = 100  # a control's compact strip: the period in 100 columns, each the worst stretch within it
# Worst first: a column shows a gap if any activity of the control has a gap within it.
SEVERITY = ("gap", "late", "covered", "skipped", "ahead")


@dataclass
class Coverage:
    period: Period
    today: datetime.date
    controls: list[Control]
    strips: list[Strip]
    direct_evidence: list[EvidenceItem]  # the newest DIRECT_SHOWN; direct_total counts them all
    summary: Summary
    ticks: list[tuple[float, str, str]]
    direct_total: int = 0

    @cached_property
    def mark_count(self) -> int:
        return sum(len(strip.marks) for strip in self.strips)

    @cached_property
    def gap_marks(self) -> list[tuple[Strip, Mark]]:
        """Every task missed, overdue or done without evidence, newest due first."""
        gaps = [(strip, mark) for strip in self.strips for mark in strip.marks if mark.is_gap]
        gaps.sort(key=lambda pair: (pair[1].occurrence.due_date, pair[0].control.reference), reverse=True)
        return gaps

    @property
    def gaps_shown(self) -> list[tuple[Strip, Mark]]:
        return self.gap_marks[:GAPS_SHOWN]

    @property
    def gaps_more(self) -> int:
        return max(len(self.gap_marks) - GAPS_SHOWN, 0)

    @cached_property
    def by_control(self) -> list[ControlLine]:
        """One line per control, in the order of the controls (those without an activity in the period too)."""
        lines = {c.pk: ControlLine(control=c) for c in self.controls}
        columns: dict[int, list[int]] = {pk: [len(SEVERITY)] * STRIP_COLUMNS for pk in lines}
        for strip in self.strips:
            line = lines[strip.control.pk]
            line.activities.append(strip.schedule)
            line.summary.merge(strip.summary)
            worst = columns[strip.control.pk]
            for seg in strip.segments:
                rank = SEVERITY.index(seg.kind)
                first = min(int(seg.left * STRIP_COLUMNS / 100), STRIP_COLUMNS - 1)
                last = max(first, min(int(-(-(seg.left + seg.width) * STRIP_COLUMNS // 100)) - 1, STRIP_COLUMNS - 1))
                for col in range(first, last + 1):
                    worst[col] = min(worst[col], rank)
        for pk, line in lines.items():
            line.paths = _paths(columns[pk])
        return list(lines.values())

    @property
    def table_gaps_only(self) -> bool:
        """With hundreds of tasks (a requirement mapped to dozens of controls) the table lists only the gaps;
        the strips still show every task."""
        return self.mark_count > TABLE_ROWS_MAX

    @property
    def today_left(self) -> float | None:
        return self.period.left(self.today) if self.period.start <= self.today <= self.period.end else None


# --- building it ------------------------------------------------------------------------------------------------


def controls_for_requirement(user, requirement: Requirement) -> list[Control]:
    """The mapped controls whose coverage the user may see (the control reach rule: for an owner, their own)."""
    controls = requirement.controls.select_related("owner", "department").order_by("reference")
    return list(reach.rule_for(Control).with_coverage_visible(user, controls))


def control_coverage(*, control: Control, period: Period, user, today: datetime.date) -> Coverage:
    direct = Q(control=control, occurrence__isnull=True)
    return _coverage([control], period=period, user=user, today=today, direct=direct)


def requirement_coverage(
    *, requirement: Requirement, controls: list[Control], period: Period, user, today: datetime.date
) -> Coverage:
    """Across every mapped control: a control's evidence counts for each requirement it satisfies."""
    direct = Q(requirement=requirement) | Q(control__in=[c.pk for c in controls], occurrence__isnull=True)
    return _coverage(controls, period=period, user=user, today=today, direct=direct)


def _coverage(controls: list[Control], *, period: Period, user, today: datetime.date, direct: Q) -> Coverage:
    by_pk = {c.pk: c for c in controls}
    schedules = list(
        Schedule.objects.filter(subject_type=ContentType.objects.get_for_model(Control), subject_id__in=list(by_pk))
        .select_related("owner")
        .order_by("title", "pk")
    )
    schedules.sort(key=lambda s: by_pk[s.subject_id].reference)  # stable: by control, then by title
    on_strips = {"schedule__in": [s.pk for s in schedules], "due_date__range": (period.start, period.end)}
    live_count = (
        EvidenceItem.objects.live()
        .filter(occurrence=OuterRef("pk"))
        .order_by()
        .values("occurrence")
        .annotate(n=Count("pk"))
        .values("n")
    )
    occurrences = list(
        Occurrence.objects.filter(**on_strips)
        .select_related("owner", "completed_by")
        .annotate(evidence_count=Coalesce(Subquery(live_count, output_field=IntegerField()), 0))
        .order_by("due_date", "pk")
    )
    # The due date just before the period, per schedule: where the first occurrence's stretch begins.
    before = dict(
        Occurrence.objects.filter(schedule__in=on_strips["schedule__in"], due_date__lt=period.start)
        .order_by()
        .values("schedule")
        .annotate(last=Max("due_date"))
        .values_list("schedule", "last")
    )
    openable = set(reach.visible(user, Occurrence).filter(**on_strips).values_list("pk", flat=True))
    reasons = {
        occ.pk: occ.without_evidence_reason
        for occ in with_no_evidence_reasons(o for o in occurrences if o.state == "done" and not o.evidence_count)
    }
    by_schedule = defaultdict(list)
    for occ in occurrences:
        by_schedule[occ.schedule_id].append(occ)

    strips, total = [], Summary()
    for schedule in schedules:
        occs = by_schedule.get(schedule.pk, [])
        if not occs and not schedule.active:
            continue  # an old activity with nothing in this period
        strip = Strip(schedule=schedule, control=by_pk[schedule.subject_id])
        for occ in occs:
            mark = Mark(
                occurrence=occ,
                status=occ.status(today),
                left=period.left(occ.due_date),
                evidence_count=occ.evidence_count,
                can_open=occ.pk in openable,
                without_evidence_reason=reasons.get(occ.pk, ""),
            )
            strip.marks.append(mark)
            strip.summary.add(mark)
        strip.segments = _segments(strip.marks, before.get(schedule.pk), period)
        total.merge(strip.summary)
        strips.append(strip)

    in_period = Q(effective_date__range=(period.start, period.end)) | Q(
        period_start__lte=period.end, period_end__gte=period.start
    )
    direct_qs = (
        reach.visible(user, EvidenceItem)
        .live()
        .filter(direct)
        .filter(in_period)
        .exclude(**{f"occurrence__{k}": v for k, v in on_strips.items()})  # already counted on its task
    )
    # Counted in the database; only the newest are listed (the library has the rest), so a requirement
    # mapped to dozens of controls renders as fast as one with a single control.
    direct_total = direct_qs.count()
    direct_evidence = list(
        direct_qs.select_related("submitted_by", "control", "requirement").order_by("-effective_date", "-pk")[
            :DIRECT_SHOWN
        ]
    )
    total.evidence += direct_total
    return Coverage(
        period=period,
        today=today,
        controls=controls,
        strips=strips,
        direct_evidence=direct_evidence,
        direct_total=direct_total,
        summary=total,
        ticks=month_ticks(period),
    )


def _segments(marks: list[Mark], previous_due: datetime.date | None, period: Period) -> list[Segment]:
    """Each occurrence stands for the stretch since the one before it. A stretch is covered when the task was
    done with evidence, a gap when it was missed or done without evidence, and ahead while still to come."""
    segments = []
    for i, mark in enumerate(marks):
        due = mark.occurrence.due_date
        if i > 0:
            since = marks[i - 1].occurrence.due_date
        elif previous_due is not None:
            since = previous_due
        elif len(marks) > 1:
            since = due - (marks[1].occurrence.due_date - due)  # the first ever: assume the usual interval
        else:
            since = due
        since = since + datetime.timedelta(days=1)
        if mark.is_gap:
            kind = "gap"
        elif mark.status == S.DONE_ON_TIME:
            kind = "covered"
        elif mark.status == S.DONE_LATE:
            kind = "late"
        elif mark.status == S.SKIPPED:
            kind = "skipped"
        else:
            kind = "ahead"
        left = period.edge(since)
        right = period.edge(due + datetime.timedelta(days=1))
        if right - left > 0:
            segments.append(Segment(left=left, width=round(right - left, 3), kind=kind))
    return segments


def _paths(columns: list[int]) -> list[tuple[str, str]]:
    """Runs of columns of the same kind as one SVG path per kind (x in columns, a strip 1 high)."""
    runs: dict[int, list[str]] = defaultdict(list)
    start = 0
    for col in range(1, len(columns) + 1):
        if col == len(columns) or columns[col] != columns[start]:
            if columns[start] < len(SEVERITY):
                runs[columns[start]].append(f"M{start} 0h{col - start}v1h-{col - start}z")
            start = col
    return [(SEVERITY[rank], "".join(parts)) for rank, parts in sorted(runs.items())]


def month_ticks(period: Period) -> list[tuple[float, str, str]]:
    """Labels along the strip, (left, month, year shown with it): every month, or every quarter or year on long
    periods. The year is given on the first label and on each January."""
    months = (period.end.year - period.start.year) * 12 + period.end.month - period.start.month
    step = 1 if months <= 18 else 3 if months <= 40 else 12
    day = period.start.replace(day=1)
    if day < period.start:
        day += relativedelta(months=1)
    ticks = []
    while day <= period.end:
        if (day.month - 1) % step == 0 or step == 1:
            year = f"{day:%Y}" if not ticks or day.month == 1 else ""
            ticks.append((period.edge(day), f"{day:%b}", year))
        day += relativedelta(months=1)
    return ticks
