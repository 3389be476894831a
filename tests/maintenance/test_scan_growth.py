"""Beat's scan reads today's tasks, never the history: it asks the same queries whether the calendar holds ten past
tasks or two hundred, and a run with nothing new to send writes nothing."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from isms.maintenance import notices
from isms.maintenance.models import Occurrence
from isms.maintenance.notices import Slot
from isms.notices.models import Notice
from tests.factories import make_schedule

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def a_schedule(owner, title: str):
    """A one-off far beyond the calendar's horizon (no task of its own), to hang tasks on; reminders 14, 3, 1."""
    schedule = make_schedule(owner=owner, title=title, rrule="", start_date=datetime.date(2030, 1, 1))
    assert not schedule.occurrences.exists()
    return schedule


def task(schedule, owner, due: datetime.date, state: str = "open") -> Occurrence:
    done = state == Occurrence.State.DONE
    return Occurrence.objects.create(
        schedule=schedule,
        owner=owner,
        title=f"{schedule.title} {due}",
        due_date=due,
        remind_from=due - 14 * DAY,
        grace_until=due + 7 * DAY,
        state=state,
        completed_on=due if done else None,
        completed_at=datetime.datetime.combine(due, datetime.time(9), tzinfo=datetime.UTC) if done else None,
    )


def history(owner, today: datetime.date, first: int, count: int) -> None:
    """`count` past tasks, done and missed in turn, long past their grace period (nothing left to tell)."""
    schedule = a_schedule(owner, f"Past checks {first}")
    for n in range(first, first + count):
        task(schedule, owner, today - (30 + n) * DAY, state="missed" if n % 2 else "done")


def test_the_scan_asks_the_same_queries_whatever_the_history_and_writes_nothing_twice(
    clock, owner, compliance, inactive_user, no_broker
):
    today = clock.today
    work = a_schedule(owner, "Access review")
    reminded = task(work, owner, today + 3 * DAY)  # its 3-day reminder is due
    late = task(work, owner, today - 2 * DAY)  # overdue, within its grace period
    lapsed = task(work, owner, today - 9 * DAY)  # grace ended two days ago: missed now, and escalated
    orphaned = task(a_schedule(owner, "Badge audit"), inactive_user, today + 3 * DAY)  # its owner left
    history(owner, today, 0, 10)

    assert notices.scan(today=today) == {"missed": 1, "queued": 4}
    told = sorted(Notice.objects.values_list("kind", "subject_id", "recipient_id"))
    assert told == sorted(
        [
            (Slot.REMINDER, reminded.pk, owner.pk),
            (Slot.OVERDUE, late.pk, owner.pk),
            (Slot.ESCALATED, lapsed.pk, compliance.pk),
            (Slot.ORPHANED, orphaned.pk, compliance.pk),
        ]
    )

    with CaptureQueriesContext(connection) as few:
        assert notices.scan(today=today) == {"missed": 0, "queued": 0}
    history(owner, today, 10, 190)  # two hundred past tasks in all
    with CaptureQueriesContext(connection) as many:
        assert notices.scan(today=today) == {"missed": 0, "queued": 0}

    assert len(many) == len(few)
    assert [q["sql"] for q in many.captured_queries if not q["sql"].lstrip().upper().startswith("SELECT")] == []
    assert sorted(Notice.objects.values_list("kind", "subject_id", "recipient_id")) == told
