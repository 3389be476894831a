"""ISMS objectives: on track, at risk, achieved or missed from their progress entries; a chart drawn on the
server; an optional recurring progress task."""

import datetime
import re
from decimal import Decimal

from django.urls import reverse

from events import services
from events.models import ObjectiveStatus, ProgressEntry
from isms.maintenance.models import Occurrence

from .conftest import objective_fields, tasks_of


def _entries(objective, *values_by_days_ago, today):
    return [
        ProgressEntry(objective=objective, recorded_on=today - datetime.timedelta(days=ago), value=Decimal(v))
        for ago, v in values_by_days_ago
    ]


def test_how_an_objective_is_going_is_worked_out_from_its_entries(clock, compliance, owner):
    # Baseline 50 a hundred days ago, target 90 in a hundred days: the planned path passes 70 today.
    objective = services.objective_save(by=compliance, **objective_fields(owner, clock.today))
    today = clock.today
    assert objective.status([], today) == ObjectiveStatus.NOT_STARTED
    assert objective.status(_entries(objective, (0, "72"), today=today), today) == ObjectiveStatus.ON_TRACK
    assert objective.status(_entries(objective, (0, "61"), today=today), today) == ObjectiveStatus.AT_RISK
    assert objective.status(_entries(objective, (0, "91"), today=today), today) == ObjectiveStatus.ACHIEVED
    later = today + datetime.timedelta(days=101)
    assert objective.status(_entries(objective, (0, "80"), today=today), later) == ObjectiveStatus.MISSED

    # Lower is better when the target is below the baseline (fewer phishing clicks).
    clicks = services.objective_save(
        by=compliance, **objective_fields(owner, today, title="Fewer clicks", baseline=Decimal(14), target=Decimal(4))
    )
    assert clicks.status(_entries(clicks, (0, "8"), today=today), today) == ObjectiveStatus.ON_TRACK
    assert clicks.status(_entries(clicks, (0, "12"), today=today), today) == ObjectiveStatus.AT_RISK


def test_progress_dated_in_the_future_is_refused_and_nothing_saved(client_as, clock, compliance, owner):
    objective = services.objective_save(by=compliance, **objective_fields(owner, clock.today))
    response = client_as(owner).post(
        reverse("events:objective_progress", args=[objective.pk]), {"recorded_on": "2026-03-11", "value": "75"}
    )
    assert "Progress is recorded for today or an earlier day, not a day still to come." in response.content.decode()
    assert not ProgressEntry.objects.exists()


def test_the_objective_page_draws_its_progress(client_as, clock, compliance, owner):
    objective = services.objective_save(by=compliance, **objective_fields(owner, clock.today))
    for days_ago, value in ((90, "52"), (60, "58"), (30, "66"), (0, "72")):
        services.progress_record(
            objective=objective, by=owner, recorded_on=clock.today - datetime.timedelta(days=days_ago), value=value
        )
    page = client_as(owner).get(reverse("events:objective", args=[objective.pk])).content.decode()
    assert "On track" in page
    (points,) = re.findall(r'<polyline points="([^"]+)"', page)
    assert len(points.split()) == 4
    assert 'aria-label="Progress of Staff trained: latest 72 % on 10 Mar 2026, target 90 % by 18 Jun 2026"' in page
    assert "<script" not in page.split("<svg")[1].split("</svg>")[0]


def test_a_progress_update_can_be_a_recurring_task_which_recording_progress_completes(clock, compliance, owner):
    objective = services.objective_save(
        by=compliance, **objective_fields(owner, clock.today, start_on=clock.today, progress_every_months=3)
    )
    tasks = list(tasks_of(objective, "progress").order_by("due_date"))
    assert tasks[0].due_date == datetime.date(2026, 6, 10) and tasks[0].owner == owner
    assert tasks[0].schedule.rrule == "FREQ=MONTHLY;INTERVAL=3"
    clock.move_to(tasks[0].due_date)
    services.progress_record(objective=objective, by=owner, recorded_on=clock.today, value=Decimal(70))
    tasks[0].refresh_from_db()
    assert tasks[0].state == Occurrence.State.DONE

    services.objective_save(by=compliance, objective=objective, progress_every_months=None)
    assert not tasks_of(objective, "progress").filter(state=Occurrence.State.OPEN).exists()
