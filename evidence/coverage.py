"""Coverage: the proof that a control operated consistently over a period, not in a burst before the audit.

For a control (or every control mapped to a framework requirement) and a period, each occurrence of its
periodic activities with its status, timing and live evidence, laid out as a strip of the period in which
missed tasks and tasks done without evidence show as gaps. Built in a fixed number of queries, whatever
the number of occurrences."""

import datetime
import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import groupby
from operator import itemgetter
from typing import NamedTuple

from dateutil.relativedelta import relativedelta
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from controls.models import Control, Requirement
from isms.foundation import reach
from isms.foundation.queries import among
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
        mine, theirs = self.__dict__, other.__dict__
        for name in SUMMARY_FIELDS:
            mine[name] += theirs[name]

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


SUMMARY_FIELDS = tuple(Summary.__dataclass_fields__)


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
    activities: list[str] = field(default_factory=list)  # the titles of its periodic activities in the period
    summary: Summary = field(default_factory=Summary)
    # Per kind (in SEVERITY's order), the columns of the compact strip where a stretch of that kind falls, a bit
    # each: a column shows the worst kind that has it.
    masks: list[int] = field(default_factory=lambda: [0] * len(SEVERITY))

    @property
    def paths(self) -> list[tuple[str, str]]:
        """The compact strip (STRIP_COLUMNS wide) as (kind, SVG path)."""
        return _paths(self.masks)

    @property
    def activity_text(self) -> str:
        return "; ".join(self.activities) or "No periodic activity in the period"

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
SEVERITY_RANK = {kind: rank for rank, kind in enumerate(SEVERITY)}


@dataclass
class Coverage:
    """A control's coverage: every task of each of its periodic activities, as strips and as a table."""

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

    @property
    def table_gaps_only(self) -> bool:
        """With hundreds of tasks (a control with several weekly activities) the table lists only the gaps;
        the strips still show every task."""
        return self.mark_count > TABLE_ROWS_MAX

    @property
    def today_left(self) -> float | None:
        return self.period.left(self.today) if self.period.start <= self.today <= self.period.end else None


@dataclass
class RequirementCoverage:
    """A requirement's coverage: one line per mapped control (its counts and a compact strip) and the most
    recent gaps; each control's own coverage has its tasks one by one."""

    period: Period
    today: datetime.date
    controls: list[Control]
    by_control: list[ControlLine]
    summary: Summary
    mark_count: int  # the tasks in the period
    gap_count: int  # of which missed, overdue or done without evidence
    gaps_shown: list[tuple[Control, Mark]]  # the GAPS_SHOWN most recent, newest due first
    direct_evidence: list[EvidenceItem]
    ticks: list[tuple[float, str, str]]
    direct_total: int = 0

    @property
    def gaps_more(self) -> int:
        return self.gap_count - len(self.gaps_shown)

    @property
    def today_left(self) -> float | None:
        return self.period.left(self.today) if self.period.start <= self.today <= self.period.end else None


# --- building it ------------------------------------------------------------------------------------------------


def controls_for_requirement(user, requirement: Requirement) -> list[Control]:
    """The mapped controls whose coverage the user may see (the control reach rule: for an owner, their own)."""
    controls = requirement.controls.order_by("reference")  # the page shows their reference and name only
    return list(reach.rule_for(Control).with_coverage_visible(user, controls))


def control_coverage(
    *,
    control: Control,
    period: Period,
    user,
    today: datetime.date,
    task_links: bool = True,
    direct_counted: bool = True,
) -> Coverage:
    """Every task of the control's periodic activities in the period, with its status, timing and evidence.

    For a page that reads more itself (the auditor portal's control page): `task_links=False` when it links to no
    task (every mark's `can_open` is False); `direct_counted=False` when it reads the evidence filed on the control
    itself and counts it (`add_direct`)."""
    by_pk = {control.pk: control}
    schedules = list(
        _schedules(by_pk).annotate(due_before=_due_before(period)).select_related("owner").order_by("title", "pk")
    )
    on_strips = among("schedule", [s.pk for s in schedules]) & Q(due_date__range=(period.start, period.end))
    occurrences = list(
        Occurrence.objects.filter(on_strips)
        .select_related("owner")
        .annotate(evidence_count=_live_evidence_count())
        .order_by("due_date", "pk")
    )
    before = {s.pk: s.due_before for s in schedules}
    openable = set(reach.visible(user, Occurrence).filter(on_strips).values_list("pk", flat=True)) if task_links else ()
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
        strip = Strip(schedule=schedule, control=control)
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

    direct_total, direct_evidence = (
        _direct_evidence(Q(control=control, occurrence__isnull=True), on_strips, period=period, user=user)
        if direct_counted
        else (0, [])
    )
    total.evidence += direct_total
    return Coverage(
        period=period,
        today=today,
        controls=[control],
        strips=strips,
        direct_evidence=direct_evidence,
        direct_total=direct_total,
        summary=total,
        ticks=month_ticks(period),
    )


def add_direct(cov: Coverage, items: list[EvidenceItem]) -> None:
    """Count, as `control_coverage` does, the live items filed on the control itself that a page has read (its
    tasks' items excluded): those dated in the period, or covering part of it."""
    start, end = cov.period.start, cov.period.end
    control = cov.controls[0].pk
    n = sum(
        1
        for item in items
        if item.control_id == control
        and item.occurrence_id is None
        and (
            start <= item.effective_date <= end
            or (item.period_start and item.period_end and item.period_start <= end and item.period_end >= start)
        )
    )
    cov.direct_total += n
    cov.summary.evidence += n


# A task's outcome on a requirement's page, as an index into its counters (the Summary's fields, in order).
ON_TIME, LATE, MISSED, OVERDUE, SKIPPED, AHEAD, GAPS, EVIDENCE, NO_EVIDENCE = range(9)
# The kind of stretch a task stands for when it is not a gap, as a rank in SEVERITY.
RANK_OF = {ON_TIME: 2, LATE: 1, SKIPPED: 3, AHEAD: 4}


class _StripColumns:
    """Which columns of a compact strip a stretch of days falls in, as bits: those of the segment the control's
    own strip draws for it (`_segments`: from `Period.edge` of its first day to that of the day after its last),
    computed with the same arithmetic, once per distinct stretch (activities with the same rule share them)."""

    def __init__(self, period: Period):
        self.days = period.days
        self.edge = [round(d / period.days * 100, 3) for d in range(period.days + 1)]  # Period.edge, by day
        self.known: dict[tuple[int, int], int] = {}

    def bits(self, begin: int, end: int) -> int:
        """The stretch from day `begin` up to day `end` excluded (in days from the period's start, either clipped
        to the period), remembered as `known[begin, end]`."""
        left = self.edge[min(max(begin, 0), self.days)]
        right = self.edge[min(max(end, 0), self.days)]
        bits = 0
        if right - left > 0:
            width = round(right - left, 3)
            first = min(int(left * STRIP_COLUMNS / 100), STRIP_COLUMNS - 1)
            last = max(first, min(int(-(-(left + width) * STRIP_COLUMNS // 100)) - 1, STRIP_COLUMNS - 1))
            bits = (1 << (last + 1)) - (1 << first)
        self.known[begin, end] = bits
        return bits


class ActivityTally(NamedTuple):
    """One periodic activity's tasks in a period, summarised as requirement_coverage adds them up per control:
    the counters (a Summary's fields, in order), the compact strip's columns of each kind, and its gaps."""

    tasks: int
    counts: Sequence[int]
    masks: Sequence[int]
    gaps: Sequence[tuple[datetime.date, int]]  # (due date, task id), in due order


NO_TASKS = ActivityTally(0, [0] * 9, [0] * len(SEVERITY), [])
TALLY_FORMAT = 2  # in the cache key: a release that changes what is kept never reads an older release's tallies
TALLIES_KEPT_SECONDS = 36 * 3600  # until the day after: `today` is part of the key (what is overdue changes)


def activity_tallies(tokens: dict[int, int | None], period: Period, today: datetime.date) -> dict[int, ActivityTally]:
    """Each activity's tally for the period, by activity id (`tokens`: activity id -> its ActivityCoverageToken).

    The tallies of one set of activities (a page's: a requirement's controls, an engagement's) are kept together
    in the cache, each with the token it was made under; the database changes an activity's token whenever one of
    its tasks or their evidence changes. So a page over hundreds of controls reads their tallies in one round trip
    and summarises again only the activities whose token changed since (after a piece of evidence is added, one).
    An activity without a token has never had a task."""
    activities = hashlib.sha256(",".join(map(str, sorted(tokens))).encode()).hexdigest()[:32]
    key = f"coverage-tallies:{TALLY_FORMAT}:{activities}:{period.start}:{period.end}:{today}"
    kept = cache.get(key) or {}
    tallies, missing = {}, []
    for pk, token in tokens.items():
        if token is None:
            tallies[pk] = NO_TASKS
            continue
        found = kept.get(pk)
        if found is not None and found[0] == token:
            tallies[pk] = _unpacked(found)
        else:
            missing.append(pk)
    if missing:
        tallies.update(_summarise(missing, period, today))
        kept = {pk: _packed(token, tallies[pk]) for pk, token in tokens.items() if token is not None}
        cache.set(key, kept, TALLIES_KEPT_SECONDS)
    return tallies


# A tally as the cache keeps it: one flat tuple of integers (and its gaps), which is written and read back several
# times faster than nested lists: (token, tasks, the 9 counters, the masks, the gaps).
_COUNTS = slice(2, 11)
_MASKS = slice(11, 11 + len(SEVERITY))


def _packed(token: int, tally: ActivityTally) -> tuple:
    return (token, tally.tasks, *tally.counts, *tally.masks, tuple(tally.gaps))


def _unpacked(kept: tuple) -> ActivityTally:
    return ActivityTally(kept[1], kept[_COUNTS], kept[_MASKS], kept[-1])


def _summarise(activities: list[int], period: Period, today: datetime.date) -> dict[int, ActivityTally]:
    """The tallies of `activities` from a few columns of each task (no model objects): two queries."""
    due_before = dict(Schedule.objects.filter(among("pk", activities)).values_list("pk", _due_before(period)))
    rows = (
        Occurrence.objects.filter(among("schedule", activities) & Q(due_date__range=(period.start, period.end)))
        .order_by("schedule_id", "due_date", "pk")
        # The count as kept, None for a task without live evidence: no Coalesce, whose conversion of each of
        # thousands of values in Python cost a tenth of the portal's overview.
        .values_list("schedule_id", "pk", "due_date", "state", "completed_on", "evidence_tally__live")
    )
    by_schedule = {pk: list(group) for pk, group in groupby(rows, key=itemgetter(0))}
    start = period.start.toordinal()
    columns = _StripColumns(period)
    known = columns.known
    tallies = {}
    for activity in activities:
        occs = by_schedule.get(activity, ())
        if not occs:
            tallies[activity] = NO_TASKS
            continue
        count, mask, gaps = [0] * 9, [0] * len(SEVERITY), []
        tallies[activity] = ActivityTally(len(occs), count, mask, gaps)
        # The stretch each task stands for begins the day after the one before it (as _segments draws it),
        # in days from the start of the period.
        previous = due_before.get(activity)
        if previous is not None:
            since = previous.toordinal() - start + 1
        elif len(occs) > 1:  # the first ever: assume the usual interval
            since = 2 * occs[0][2].toordinal() - occs[1][2].toordinal() - start + 1
        else:
            since = occs[0][2].toordinal() - start + 1
        for _, pk, due, state, completed_on, evidence in occs:
            evidence = evidence or 0
            # Occurrence.status, with due and upcoming as one: "still to come".
            if state == "done":
                outcome = ON_TIME if completed_on <= due else LATE
                gap = not evidence
                count[NO_EVIDENCE] += gap
            else:
                if state == "skipped":
                    outcome = SKIPPED
                elif state == "missed":
                    outcome = MISSED
                else:
                    outcome = OVERDUE if today > due else AHEAD
                gap = outcome in (MISSED, OVERDUE)
            count[outcome] += 1
            count[EVIDENCE] += evidence
            if gap:
                count[GAPS] += 1
                gaps.append((due, pk))
            day = due.toordinal() - start + 1
            bits = known.get((since, day))  # inline: a call per task was a tenth of the page
            mask[0 if gap else RANK_OF[outcome]] |= columns.bits(since, day) if bits is None else bits
            since = day
    return tallies


def requirement_coverage(
    *,
    requirement: Requirement | None,
    controls: list[Control],
    period: Period,
    user,
    today: datetime.date,
    summary_only: bool = False,
) -> RequirementCoverage:
    """Across every mapped control: a control's evidence counts for each requirement it satisfies.

    Summarised per control from a few columns of each task (no model objects): a requirement behind 83 controls
    has ~7,500 tasks in a year, and loading them as objects with their owners cost ~0.8 s. Only the gaps listed
    are loaded whole. The counts and strips are those of the controls' own coverage pages (`control_coverage`,
    `_segments`); tests/evidence/test_coverage.py compares them. `summary_only`: only the per-control lines (then
    `requirement`, whose own evidence is not read, may be None)."""
    by_pk = {c.pk: c for c in controls}
    lines = {pk: ControlLine(control=c) for pk, c in by_pk.items()}
    schedules = list(
        _schedules(by_pk)
        .order_by("title", "pk")
        .values_list("pk", "title", "subject_id", "active", "coverage_token__token")
    )
    schedules.sort(key=lambda s: by_pk[s[2]].reference)  # stable: by control, then by title
    tallies = activity_tallies({s[0]: s[4] for s in schedules}, period, today)

    counters: dict[int, list[int]] = {}
    # Per control and kind, the columns of its compact strip where a stretch of that kind falls (a bit each).
    masks: dict[int, list[int]] = {}
    gaps = []  # (due date, control reference, position of the activity, task id): sorted below as the page lists them
    mark_count = 0
    for position, (schedule_pk, title, control_pk, active, _) in enumerate(schedules):
        tally = tallies[schedule_pk]
        if not tally.tasks and not active:
            continue  # an old activity with nothing in this period
        lines[control_pk].activities.append(title)
        mark_count += tally.tasks
        # Most controls have one activity: its figures are the control's (copied), else added up.
        count, mask = counters.get(control_pk), masks.get(control_pk)
        if count is None:
            counters[control_pk], masks[control_pk] = list(tally.counts), list(tally.masks)
        else:
            counters[control_pk] = [a + b for a, b in zip(count, tally.counts, strict=True)]
            masks[control_pk] = [a | b for a, b in zip(mask, tally.masks, strict=True)]
        if tally.gaps:
            reference = by_pk[control_pk].reference
            gaps.extend((due, reference, position, pk) for due, pk in tally.gaps)

    total = Summary()
    for pk, line in lines.items():
        line.summary = Summary(*counters.get(pk, NO_TASKS.counts))
        line.masks = masks.get(pk) or list(NO_TASKS.masks)
        total.merge(line.summary)

    if summary_only:
        # The per-control counts and strips alone (the auditor portal's overview): no gap list, no direct evidence.
        return RequirementCoverage(
            period=period,
            today=today,
            controls=controls,
            by_control=list(lines.values()),
            summary=total,
            mark_count=mark_count,
            gap_count=len(gaps),
            gaps_shown=[],
            direct_evidence=[],
            ticks=month_ticks(period),
        )
    gaps.sort(key=itemgetter(2, 3))  # the order of the strips, then of each strip's tasks
    gaps.sort(key=itemgetter(0, 1), reverse=True)  # newest due first (stable: ties keep the order above)
    shown = [g[3] for g in gaps[:GAPS_SHOWN]]
    shown_occs = (
        Occurrence.objects.filter(pk__in=shown).select_related("owner").annotate(evidence_count=_live_evidence_count())
    )
    openable = set(reach.visible(user, Occurrence).filter(pk__in=shown).values_list("pk", flat=True))
    loaded = {o.pk: o for o in with_no_evidence_reasons(shown_occs)}
    control_of = {s[0]: by_pk[s[2]] for s in schedules}
    gaps_shown = []
    for pk in shown:
        occ = loaded[pk]
        mark = Mark(
            occurrence=occ,
            status=occ.status(today),
            left=period.left(occ.due_date),
            evidence_count=occ.evidence_count,
            can_open=pk in openable,
            without_evidence_reason=occ.without_evidence_reason if occ.state == "done" else "",
        )
        gaps_shown.append((control_of[occ.schedule_id], mark))

    direct = Q(requirement=requirement) | (among("control", by_pk) & Q(occurrence__isnull=True))
    on_strips = among("schedule", [s[0] for s in schedules]) & Q(due_date__range=(period.start, period.end))
    direct_total, direct_evidence = _direct_evidence(direct, on_strips, period=period, user=user)
    total.evidence += direct_total
    return RequirementCoverage(
        period=period,
        today=today,
        controls=controls,
        by_control=list(lines.values()),
        summary=total,
        mark_count=mark_count,
        gap_count=len(gaps),
        gaps_shown=gaps_shown,
        direct_evidence=direct_evidence,
        direct_total=direct_total,
        ticks=month_ticks(period),
    )


def _control_type() -> ContentType:
    return ContentType.objects.get_for_model(Control)


def _schedules(by_pk: dict[int, Control]):
    """The periodic activities of the controls."""
    return Schedule.objects.filter(Q(subject_type=_control_type()) & among("subject_id", by_pk))


def _live_evidence_count() -> Coalesce:
    """A task's live evidence items, as the database keeps them (`TaskEvidenceCount`): read with the task in one
    join, where counting each task's items (and whether a correction replaced each) was most of a big page."""
    return Coalesce(F("evidence_tally__live"), 0)


def _due_before(period: Period) -> Subquery:
    """An activity's last due date before the period (where the stretch of its first task in the period begins),
    found in the (activity, due date) index."""
    return Subquery(
        Occurrence.objects.filter(schedule=OuterRef("pk"), due_date__lt=period.start)
        .order_by("-due_date")
        .values("due_date")[:1]
    )


def _direct_evidence(direct: Q, on_strips: Q, *, period: Period, user) -> tuple[int, list[EvidenceItem]]:
    """Evidence filed for the control or requirement itself in the period (not on a task of the strips): how
    many, and the newest DIRECT_SHOWN."""
    in_period = Q(effective_date__range=(period.start, period.end)) | Q(
        period_start__lte=period.end, period_end__gte=period.start
    )
    direct_qs = (
        reach.visible(user, EvidenceItem)
        .live()
        .filter(direct)
        .filter(in_period)
        # Already counted on its task. As a subquery of the tasks' ids: PostgreSQL hashes them, where excluding
        # through a join read every task (GDPR Art. 5 on the load-test data: 93 -> 58 ms).
        .exclude(occurrence__in=Occurrence.objects.filter(on_strips).values("pk"))
    )
    # Counted in the database; only the newest are listed (the library has the rest), so a requirement
    # mapped to dozens of controls renders as fast as one with a single control.
    direct_total = direct_qs.count()
    direct_evidence = list(
        direct_qs.select_related("submitted_by", "control", "requirement").order_by("-effective_date", "-pk")[
            :DIRECT_SHOWN
        ]
    )
    return direct_total, direct_evidence


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


def _paths(masks: list[int]) -> list[tuple[str, str]]:
    """A compact strip as one SVG path per kind (x in columns, a strip 1 high): each column shows the worst kind
    whose mask has it (`masks[rank]`, a bit per column), and runs of columns of one kind are one rectangle."""
    paths, taken = [], 0
    for rank, mask in enumerate(masks):
        mask &= ~taken
        taken |= mask
        parts = []
        while mask:
            first = (mask & -mask).bit_length() - 1
            end = ((mask + (1 << first)) & ~mask).bit_length() - 1  # the first column past the run
            parts.append(f"M{first} 0h{end - first}v1h-{end - first}z")
            mask &= ~((1 << end) - 1)
        if parts:
            paths.append((SEVERITY[rank], "".join(parts)))
    return paths


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
