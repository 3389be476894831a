"""Coverage: a control's (or a requirement's) year of tasks as a strip, with the gaps visible, the summary
a person reads first, and a table of the same tasks; built in a fixed number of queries."""

import datetime
import re
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evidence import coverage
from evidence.services import evidence_add_link, evidence_add_note
from evidence.services import occurrence_complete_with_evidence as occurrence_complete
from isms.maintenance.models import Occurrence
from isms.maintenance.services import mark_missed, occurrence_skip, schedule_materialise
from tests.evidence.conftest import TODAY, D, add_file, at, upload
from tests.factories import make_certificate, make_control, make_requirement, make_schedule

YEAR = {"start": "2025-03-01", "end": "2026-02-28"}
FIRST_DUE = D(2025, 3, 15)


class Strips(HTMLParser):
    """Reads the strips as a browser lays them out: per strip, its marks and segments with their classes and
    positions (percent of the period's width)."""

    def __init__(self, body: str):
        super().__init__()
        self.strips = []
        self.feed(body)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if "cov-strip" in classes:
            self.strips.append({"marks": [], "segments": []})
        elif self.strips and ("cov-mark" in classes or "cov-seg" in classes):
            # Positions travel as data-left / data-width (static/js/isms.js sets them; no inline style under the CSP).
            left = float(re.search(r"([\d.]+)%", a["data-left"]).group(1))
            width = re.search(r"([\d.]+)%", a.get("data-width") or "")
            kind = "marks" if "cov-mark" in classes else "segments"
            self.strips[-1][kind].append(
                {"classes": classes, "left": left, "width": float(width.group(1)) if width else None}
            )


def monthly(owner, control, title="Monthly access review", start=FIRST_DUE):
    return make_schedule(owner=owner, title=title, start_date=start, subject=control, today=start)


@pytest.fixture
def year(clock, owner, compliance):
    """AC-01's monthly review over March 2025 – February 2026, seen on 10 March 2026: six on time, one five
    days late, one missed, one skipped, one done without evidence, one with two files, one late."""
    control = make_control(owner, reference="AC-01")
    schedule = monthly(owner, control)
    occs = {o.due_date.month: o for o in schedule.occurrences.filter(due_date__lte=D(2026, 2, 28))}
    assert len(occs) == 12
    for month in (3, 4, 5, 6, 7, 8):
        occurrence_complete(occurrence=occs[month], by=owner, files=[upload()], now=at(occs[month].due_date))
    occurrence_complete(occurrence=occs[9], by=owner, files=[upload()], now=at(D(2025, 9, 20)))
    occurrence_skip(occurrence=occs[11], by=compliance, reason="Identity provider migration froze all accounts")
    occurrence_complete(occurrence=occs[12], by=owner, now=at(D(2025, 12, 15)))  # no evidence
    occurrence_complete(occurrence=occs[1], by=owner, files=[upload(), upload("b.txt")], now=at(D(2026, 1, 14)))
    occurrence_complete(occurrence=occs[2], by=owner, files=[upload()], now=at(D(2026, 2, 17)))
    mark_missed(TODAY)  # October was never done
    # Evidence filed for the control itself: one in the period, one before it, one corrected (counts once).
    evidence_add_note(
        note="Access policy v3 approved", by=compliance, source="web", control=control, effective_date=D(2025, 6, 1)
    )
    evidence_add_note(note="Old policy", by=compliance, source="web", control=control, effective_date=D(2024, 12, 1))
    v1 = evidence_add_link(
        url="https://wiki.example.com/joiners", by=owner, source="web", control=control, effective_date=D(2025, 10, 1)
    )
    evidence_add_link(
        url="https://wiki.example.com/joiners-v2",
        by=owner,
        source="web",
        supersedes=v1,
        correction_reason="The page moved.",
        effective_date=D(2025, 10, 1),
    )
    return {"control": control, "schedule": schedule, "occs": occs}


def test_a_year_of_a_control_as_a_strip_with_its_gaps(client, compliance, year):
    client.force_login(compliance)
    response = client.get(reverse("evidence:control_coverage", args=[year["control"].pk]), YEAR)
    body = response.content.decode()
    assert response.status_code == 200

    summary = "10 of 11 done, 8 on time, 2 late, 1 missed; 1 skipped; 12 pieces of evidence"
    assert summary in body
    assert "2 gaps" in body

    (strip,) = Strips(body).strips
    marks = strip["marks"]
    assert len(marks) == 12
    statuses = [next(c[4:] for c in m["classes"] if c.startswith("cov-") and c != "cov-mark") for m in marks]
    assert statuses == ["done_on_time"] * 6 + [
        "done_late",
        "missed",
        "skipped",
        "done_on_time",
        "done_on_time",
        "done_late",
    ]
    # Positioned by date over the 365 days of the period, in order.
    assert marks[0]["left"] == pytest.approx(14.5 / 365 * 100, abs=0.01)
    assert marks[-1]["left"] == pytest.approx(
        (D(2026, 2, 15) - D(2025, 3, 1)).days * 100 / 365 + 0.5 * 100 / 365, abs=0.01
    )
    assert [m["left"] for m in marks] == sorted(m["left"] for m in marks)
    assert "no-evidence" in marks[9]["classes"]  # done in December without evidence
    # The gaps: the stretch up to the missed October task and the one up to December's, hatched.
    gaps = [s for s in strip["segments"] if "cov-seg-gap" in s["classes"]]
    assert len(gaps) == 2
    sep, octo, nov, dec = (year["occs"][m].due_date for m in (9, 10, 11, 12))
    period = coverage.Period(D(2025, 3, 1), D(2026, 2, 28))
    assert gaps[0]["left"] == pytest.approx(period.edge(sep + datetime.timedelta(days=1)), abs=0.01)
    assert gaps[0]["left"] + gaps[0]["width"] == pytest.approx(period.edge(octo + datetime.timedelta(days=1)), abs=0.01)
    assert gaps[1]["left"] == pytest.approx(period.edge(nov + datetime.timedelta(days=1)), abs=0.01)
    kinds = [next(c[8:] for c in s["classes"] if c.startswith("cov-seg-")) for s in strip["segments"]]
    assert kinds == ["covered"] * 6 + ["late", "gap", "skipped", "gap", "covered", "late"]
    # The legend and the accessible table of the same tasks.
    for label in ("Done on time", "Done late", "Missed or overdue", "Skipped", "Still to come", "Gap: no evidence"):
        assert label in body
    table = body[body.index("<table") : body.index("</table>")]
    assert table.count("<tr") == 13
    assert "5 days late" in table and "Not done" in table and "table-danger" in table
    # Direct evidence: the policy and the corrected wiki page, not the old policy nor version 1.
    assert "Access policy v3 approved" in body and "joiners-v2" in body
    assert "Old policy" not in body and 'wiki.example.com/joiners"' not in body


def test_the_coverage_selector_counts_what_the_page_shows(compliance, year):
    period = coverage.Period(D(2025, 3, 1), D(2026, 2, 28))
    result = coverage.control_coverage(control=year["control"], period=period, user=compliance, today=TODAY)
    s = result.summary
    assert (s.done, s.expected, s.on_time, s.late, s.missed, s.skipped, s.ahead, s.gaps, s.evidence) == (
        10,
        11,
        8,
        2,
        1,
        1,
        0,
        2,
        12,
    )
    assert [m.timing for m in result.strips[0].marks][6:9] == ["5 days late", "Not done", "Skipped"]


def test_upcoming_tasks_are_outlined_and_not_counted_as_expected(client, compliance, year):
    schedule_materialise(schedule=year["schedule"], today=TODAY)  # the daily job has kept the horizon ahead
    client.force_login(compliance)
    body = client.get(
        reverse("evidence:control_coverage", args=[year["control"].pk]), {"start": "2026-01-01", "end": "2026-06-30"}
    ).content.decode()
    (strip,) = Strips(body).strips
    classes = [m["classes"] for m in strip["marks"]]
    assert len(classes) == 6  # 15 January – 15 June
    assert "cov-due" in classes[2]  # 15 March: reminders have started
    assert all("cov-upcoming" in c for c in classes[3:])
    kinds = [next(c[8:] for c in s["classes"] if c.startswith("cov-seg-")) for s in strip["segments"]]
    assert kinds == ["covered", "late", "ahead", "ahead", "ahead", "ahead"]
    assert "2 of 2 done, 1 on time, 1 late; 4 still to come; 3 pieces of evidence" in body
    assert 'class="cov-today"' in body


def test_requirement_coverage_aggregates_its_controls(client, compliance, owner, other_owner, clock):
    access = make_requirement(identifier="5.15", title="Access control")
    identity = make_requirement(identifier="5.16", title="Identity management")
    ac = make_control(owner, reference="AC-01", requirements=[access, identity])
    iam = make_control(other_owner, reference="IAM-01", requirements=[access])
    for control, who in ((ac, owner), (iam, other_owner)):
        schedule = monthly(who, control, title=f"{control.reference} review", start=D(2025, 12, 1))
        for occ in schedule.occurrences.filter(due_date__lt=TODAY):
            occurrence_complete(occurrence=occ, by=who, files=[upload()], now=at(occ.due_date))
    add_file(compliance, control=ac, effective_date=D(2026, 1, 5))  # AC-01's own evidence: counts for both
    add_file(compliance, requirement=access, effective_date=D(2026, 1, 6))  # only for 5.15
    # Filed for 5.15 and on one of AC-01's tasks: counted once, on the task (so for 5.16 too).
    task = Occurrence.objects.filter(schedule__title="AC-01 review").earliest("due_date")
    add_file(compliance, requirement=access, occurrence=task, control=ac, effective_date=D(2026, 1, 7))
    period = {"start": "2025-12-01", "end": "2026-02-28"}
    client.force_login(compliance)

    body = client.get(reverse("evidence:requirement_coverage", args=[access.pk]), period).content.decode()
    # One line per control (its marks are on the control's own coverage page).
    assert body.count('data-testid="control-row"') == 2 and "AC-01 review" in body and "IAM-01 review" in body
    assert "6 of 6 done, 6 on time; 9 pieces of evidence" in body  # 3 tasks × 2 controls + 1 more on a task + 2 direct

    body = client.get(reverse("evidence:requirement_coverage", args=[identity.pk]), period).content.decode()
    assert body.count('data-testid="control-row"') == 1 and "IAM-01 review" not in body
    assert "3 of 3 done, 3 on time; 5 pieces of evidence" in body  # AC-01's 3 tasks (4 files) + its own evidence

    # An owner sees the part they own, and is told so.
    client.force_login(owner)
    body = client.get(reverse("evidence:requirement_coverage", args=[access.pk]), period).content.decode()
    assert body.count('data-testid="control-row"') == 1 and "Showing the 1 of 2 mapped controls that you own" in body


def test_the_default_period_is_the_year_before_the_next_external_audit(client, compliance, owner, clock):
    control = make_control(owner)
    url = reverse("evidence:control_coverage", args=[control.pk])
    client.force_login(compliance)
    body = client.get(url).content.decode()  # no certificate yet: the last 12 months
    assert "11 Mar 2025 – 10 Mar 2026: the last 12 months" in body

    certificate = make_certificate(issue_date=D(2025, 6, 1))
    audit = certificate.audits.get(kind="surveillance_1")
    assert audit.planned_date == D(2026, 5, 1)
    body = client.get(url).content.decode()
    assert "1 May 2025 – 30 Apr 2026: the 12 months before the surveillance audit (year 1) on 1 May 2026" in body
    assert 'value="2025-05-01"' in body and 'value="2026-04-30"' in body
    default = coverage.default_period(TODAY)
    assert (default.start, default.end) == (D(2025, 5, 1), D(2026, 4, 30))
    # On the audit's day it is still the next one; the day after, the second surveillance audit is.
    assert coverage.default_period(D(2026, 5, 1)).end == D(2026, 4, 30)
    nxt = certificate.audits.get(kind="surveillance_2").planned_date
    assert coverage.default_period(D(2026, 5, 2)).end == nxt - datetime.timedelta(days=1)


def test_a_bad_period_falls_back_to_the_default_with_a_message(client, compliance, owner, clock):
    control = make_control(owner)
    client.force_login(compliance)
    url = reverse("evidence:control_coverage", args=[control.pk])
    body = client.get(url, {"start": "2026-02-01", "end": "2025-01-01"}).content.decode()
    assert "The period ends before it starts." in body and "the last 12 months" in body
    body = client.get(url, {"start": "2010-01-01", "end": "2026-01-01"}).content.decode()
    assert "five years or less" in body
    body = client.get(url, {"start": "not a date", "end": "2026-01-01"}).content.decode()
    assert "the last 12 months" in body
    assert "no periodic activity" in body


def test_coverage_takes_the_same_number_of_queries_for_one_or_many_tasks(client, compliance, owner, clock):
    few = make_control(owner, reference="FEW-01")
    monthly(owner, few, start=D(2025, 12, 1))
    many = make_control(owner, reference="MANY-01")
    for n in range(3):
        schedule = make_schedule(
            owner=owner,
            title=f"Weekly {n}",
            rrule="FREQ=WEEKLY",
            reminder_days=[3, 1],
            start_date=D(2025, 3, 1),
            subject=many,
            today=D(2025, 3, 1),
        )
        for occ in schedule.occurrences.filter(due_date__lt=TODAY)[:20]:
            occurrence_complete(occurrence=occ, by=owner, files=[upload()], now=at(occ.due_date))
    add_file(compliance, control=many, effective_date=D(2025, 6, 1))
    client.force_login(compliance)

    def queries(control):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("evidence:control_coverage", args=[control.pk]), YEAR)
        assert response.status_code == 200
        return len(ctx.captured_queries), response.content.decode()

    few_count, few_body = queries(few)
    many_count, many_body = queries(many)
    assert len(Strips(many_body).strips) == 3 and len(Strips(many_body).strips[0]["marks"]) == 53
    assert many_count == few_count


def test_many_pieces_of_direct_evidence_are_counted_and_the_newest_listed(client, compliance, owner, clock):
    control = make_control(owner, reference="LG-01", name="Log review")
    for n in range(25):
        evidence_add_note(
            note=f"Weekly log review {n}",
            by=owner,
            source="web",
            control=control,
            effective_date=TODAY - datetime.timedelta(days=n),
        )
    client.force_login(compliance)
    response = client.get(reverse("evidence:control_coverage", args=[control.pk]))
    cov = response.context["coverage"]
    assert cov.direct_total == 25 and len(cov.direct_evidence) == 20
    assert cov.direct_evidence[0].effective_date == TODAY  # newest first
    assert cov.summary.evidence == 25
    body = response.content.decode()
    assert "The 20 newest of 25 are listed" in body and f"control={control.pk}" in body


def test_with_hundreds_of_tasks_the_table_lists_only_the_gaps(client, compliance, year, monkeypatch):
    monkeypatch.setattr(coverage, "TABLE_ROWS_MAX", 3)
    client.force_login(compliance)
    response = client.get(reverse("evidence:control_coverage", args=[year["control"].pk]))
    cov = response.context["coverage"]
    body = response.content.decode()
    assert cov.table_gaps_only and "The gaps in the period" in body
    table = body.split("The gaps in the period", 1)[1]
    gaps = sum(1 for strip in cov.strips for m in strip.marks if m.is_gap)
    assert table.count("<tr class=") == gaps


def test_a_requirement_behind_eighty_controls_is_summarised_per_control(client, compliance, owner, clock):
    """83 controls behind one requirement made a 4 MB page: it now shows one line per control (its counts and a
    compact strip, linking to the control's own coverage for the marks), lists the gaps up to a bound, stays
    under 300 KB, and takes the same number of queries as a requirement behind one control."""
    from controls.models import Control
    from isms.maintenance.models import Schedule

    wide = make_requirement(identifier="Art. 5", title="Principles")
    narrow = make_requirement(identifier="Art. 6", title="Lawfulness")
    template = monthly(owner, make_control(owner, reference="C-000", requirements=[wide, narrow]))
    controls = Control.objects.bulk_create(
        Control(reference=f"C-{n:03}", name=f"Control {n}", owner=owner, status="implemented") for n in range(1, 80)
    )
    Control.requirements.through.objects.bulk_create(
        [Control.requirements.through(control_id=c.pk, requirement_id=wide.pk) for c in controls]
        + [Control.requirements.through(control_id=controls[0].pk, requirement_id=narrow.pk)]
    )
    fields = {f.attname: getattr(template, f.attname) for f in Schedule._meta.concrete_fields if f.attname != "id"}
    schedules = Schedule.objects.bulk_create(
        Schedule(**{**fields, "subject_id": c.pk, "title": f"{c.reference} weekly check"}) for c in controls
    )
    occurrences = []
    for schedule in schedules:
        for week in range(52):
            due = D(2025, 3, 3) + datetime.timedelta(weeks=week)
            missed = week % 5 == 0
            done = not missed and due < TODAY
            occurrences.append(
                Occurrence(
                    schedule=schedule,
                    due_date=due,
                    title=schedule.title,
                    owner=owner,
                    remind_from=due - datetime.timedelta(days=3),
                    grace_until=due + datetime.timedelta(days=7),
                    state="missed" if missed else "done" if done else "open",
                    completed_on=due if done else None,
                )
            )
    Occurrence.objects.bulk_create(occurrences)
    client.force_login(compliance)

    def page(requirement):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("evidence:requirement_coverage", args=[requirement.pk]), YEAR)
        assert response.status_code == 200
        return len(ctx.captured_queries), response

    few_queries, _ = page(narrow)
    many_queries, response = page(wide)
    body = response.content.decode()
    assert len(body.encode()) < 300 * 1024
    assert many_queries == few_queries
    cov = response.context["coverage"]
    assert len(cov.controls) == 80
    assert str(cov.summary) in body  # the same figures as before, for the whole requirement
    rows = body.count('data-testid="control-row"')
    assert rows == 80
    assert reverse("evidence:control_coverage", args=[controls[0].pk]) in body
    # Each control's line: 52 weekly tasks, every fifth missed, the rest done without evidence up to today; the
    # same as on the control's own coverage page.
    line = body.split(f">{controls[0].reference}</a>", 1)[1].split("</tr>", 1)[0]
    period = coverage.Period(D(2025, 3, 1), D(2026, 2, 28))

    def marks_of(control):
        own = coverage.control_coverage(control=control, period=period, user=compliance, today=TODAY)
        return [m for strip in own.strips for m in strip.marks]

    marks = marks_of(controls[0])
    missed = sum(m.status == "missed" for m in marks)
    unproven = sum(m.without_evidence for m in marks)
    assert missed == 11 and unproven > 20
    assert f'data-count="missed">{missed}<' in line and f'data-count="no_evidence">{unproven}<' in line
    # The gap table is bounded and says how many more there are.
    gaps = sum(m.is_gap for control in cov.controls for m in marks_of(control))
    assert cov.gap_count == gaps
    table = body.split("The gaps in the period", 1)[1].split("</table>", 1)[0]
    assert table.count('<tr class="table-danger">') == coverage.GAPS_SHOWN
    assert f"and {gaps - coverage.GAPS_SHOWN} more" in body


def _old_compact_strip(segments_by_strip) -> list[tuple[str, str]]:
    """A control's compact strip as the requirement page drew it before it was summarised in one pass: each
    of 100 columns the worst kind of any segment of any of the control's strips within it, runs as paths."""
    severity = coverage.SEVERITY
    worst = [len(severity)] * 100
    for segments in segments_by_strip:
        for seg in segments:
            first = min(int(seg.left * 100 / 100), 99)
            last = max(first, min(int(-(-(seg.left + seg.width) * 100 // 100)) - 1, 99))
            for col in range(first, last + 1):
                worst[col] = min(worst[col], severity.index(seg.kind))
    runs, start = {}, 0
    for col in range(1, 101):
        if col == 100 or worst[col] != worst[start]:
            if worst[start] < len(severity):
                runs.setdefault(worst[start], []).append(f"M{start} 0h{col - start}v1h-{col - start}z")
            start = col
    return [(severity[rank], "".join(parts)) for rank, parts in sorted(runs.items())]


@pytest.mark.parametrize(
    "start, end",
    [
        (D(2025, 3, 1), D(2026, 2, 28)),  # the year fixture's year
        (D(2025, 11, 1), D(2026, 4, 30)),  # today inside: tasks overdue, due and still to come
        (D(2024, 6, 1), D(2026, 6, 30)),  # before any task: the first ones stand for the usual interval
    ],
)
def test_a_requirements_figures_are_those_of_its_controls_own_coverage(
    start, end, compliance, owner, other_owner, year, monkeypatch
):
    """The requirement page counts from a few columns of each task in one pass; every figure, strip and gap it
    shows is what each control's own coverage (every task as a mark) adds up to."""
    monkeypatch.setattr(coverage, "GAPS_SHOWN", 4)
    requirement = make_requirement(identifier="5.15", title="Access control")
    year["control"].requirements.add(requirement)
    logs = make_control(other_owner, reference="LG-01", name="Log review", requirements=[requirement])
    weekly = make_schedule(
        owner=other_owner,
        title="Weekly log review",
        rrule="FREQ=WEEKLY",
        reminder_days=[3, 1],
        start_date=D(2025, 9, 1),
        subject=logs,
        today=D(2025, 9, 1),
    )
    for n, occ in enumerate(weekly.occurrences.filter(due_date__lt=TODAY).order_by("due_date")):
        if n % 4 == 3:
            continue  # left open: overdue, then missed
        late = datetime.timedelta(days=2 if n % 5 == 0 else 0)
        files = [] if n % 7 == 0 else [upload()]
        occurrence_complete(occurrence=occ, by=other_owner, files=files, now=at(occ.due_date + late))
    quarterly = make_schedule(
        owner=other_owner,
        title="Quarterly export check",
        rrule="FREQ=MONTHLY;INTERVAL=3",
        start_date=D(2025, 12, 20),
        subject=logs,
        today=TODAY,
    )
    schedule_materialise(schedule=quarterly, today=TODAY)
    schedule_materialise(schedule=year["schedule"], today=TODAY)
    mark_missed(TODAY)
    make_control(owner, reference="ZZ-01", name="Not yet scheduled", requirements=[requirement])
    add_file(compliance, requirement=requirement, effective_date=D(2026, 1, 6))

    period = coverage.Period(start, end)
    controls = coverage.controls_for_requirement(compliance, requirement)
    cov = coverage.requirement_coverage(
        requirement=requirement, controls=controls, period=period, user=compliance, today=TODAY
    )

    total, gaps, marks = coverage.Summary(), [], {}
    assert [line.control for line in cov.by_control] == controls
    for line in cov.by_control:
        own = coverage.control_coverage(control=line.control, period=period, user=compliance, today=TODAY)
        expected = coverage.Summary()
        for strip in own.strips:
            expected.merge(strip.summary)
            for mark in strip.marks:
                marks[mark.occurrence.pk] = mark
                if mark.is_gap:
                    gaps.append((mark.occurrence.due_date, line.control.reference, mark.occurrence.pk))
        assert line.summary == expected
        assert line.activities == [strip.schedule.title for strip in own.strips]
        assert line.paths == _old_compact_strip(strip.segments for strip in own.strips)
        total.merge(expected)
    assert cov.summary == coverage.Summary(**{**vars(total), "evidence": total.evidence + cov.direct_total})
    assert cov.mark_count == len(marks) and cov.gap_count == len(gaps) == total.gaps > 4
    gaps.sort(key=lambda gap: gap[:2], reverse=True)  # newest first, as the table has always listed them
    assert [mark.occurrence.pk for _, mark in cov.gaps_shown] == [gap[2] for gap in gaps[:4]]
    for control, mark in cov.gaps_shown:
        own = marks[mark.occurrence.pk]
        assert control.reference == next(g[1] for g in gaps if g[2] == mark.occurrence.pk)
        assert (mark.status, mark.evidence_count, mark.can_open, mark.timing, mark.without_evidence_reason) == (
            own.status,
            own.evidence_count,
            own.can_open,
            own.timing,
            own.without_evidence_reason,
        )
    assert any(line.paths for line in cov.by_control)


def test_each_activitys_summary_is_kept_until_one_of_its_tasks_or_their_evidence_changes(
    compliance, owner, other_owner, admin_user, year, clock
):
    """The requirement summaries keep each activity's tally under a token the database changes: a second look
    summarises nothing again; completing a task, deleting its evidence or a task being missed changes that
    activity's tally (and only that one); the next day is summarised afresh."""
    from django.core.cache import cache

    from evidence.models import ActivityCoverageToken
    from evidence.services import evidence_delete

    other = make_control(other_owner, reference="HR-01")
    monthly(other_owner, other, title="Monthly screening check")
    requirement = make_requirement()
    controls = [year["control"], other]
    period = coverage.Period(D(2025, 3, 1), D(2026, 2, 28))
    cache.clear()

    def figures(today=TODAY):
        with CaptureQueriesContext(connection) as ctx:
            cov = coverage.requirement_coverage(
                requirement=requirement,
                controls=controls,
                period=period,
                user=compliance,
                today=today,
                summary_only=True,
            )
        by_ref = {line.control.reference: line.summary for line in cov.by_control}
        return by_ref, len(ctx.captured_queries)

    def token(control):
        return ActivityCoverageToken.objects.get(
            schedule__subject_id=control.pk, schedule__subject_type__model="control"
        ).token

    first, cold = figures()
    again, warm = figures()
    assert again == first and warm == cold - 2  # nothing summarised again: no task read
    # As its own coverage page says (the figures are the same as a control's page, whatever is kept).
    own = coverage.control_coverage(control=year["control"], period=period, user=compliance, today=TODAY)
    own.summary.evidence -= own.direct_total  # the control's page also counts what is filed on the control itself
    assert first["AC-01"] == own.summary

    # Olga completes February's screening check with a file: her activity's token changes, AC-01's does not.
    before = token(year["control"]), token(other)
    feb = other.schedules.get().occurrences.get(due_date=D(2026, 2, 15))
    occurrence_complete(occurrence=feb, by=other_owner, files=[upload()], now=at(D(2026, 2, 15)))
    assert token(year["control"]) == before[0] and token(other) != before[1]
    after, queries = figures()
    assert after["AC-01"] == first["AC-01"]
    assert (after["HR-01"].on_time, after["HR-01"].evidence) == (
        first["HR-01"].on_time + 1,
        first["HR-01"].evidence + 1,
    )
    assert queries == cold  # one activity summarised again: its tasks read

    # The file is deleted: the task is now done without evidence, a gap.
    evidence_delete(item=feb.evidence.get(), by=admin_user, reason="Wrong person's record.")
    deleted, _ = figures()
    assert (deleted["HR-01"].no_evidence, deleted["HR-01"].gaps) == (
        after["HR-01"].no_evidence + 1,
        after["HR-01"].gaps + 1,
    )

    # The next day, March's check is overdue: summarised afresh for that day.
    later, _ = figures(today=D(2026, 3, 16))
    assert later["AC-01"] == deleted["AC-01"]
