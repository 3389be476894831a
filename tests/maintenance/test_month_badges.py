"""The month view's badges describe the month shown and the filters, and say so; its owner filter offers only
the owners whose tasks the person may see (a control owner sees only their own tasks, so gets no owner filter)."""

import datetime
import re

import pytest
from django.urls import reverse

from isms.maintenance.services import mark_missed, occurrence_complete
from tests.conftest import local
from tests.factories import make_schedule

D = datetime.date
TODAY = D(2026, 3, 10)


def task(owner, due: datetime.date, title: str):
    return make_schedule(owner=owner, rrule="", start_date=due, title=title, today=due - datetime.timedelta(days=60))


@pytest.fixture
def tasks(clock, owner, other_owner):
    """Around 10 March 2026: a missed task in February, an overdue, a due, a done one in March and two in May."""
    clock.move_to(D(2026, 1, 1))
    task(owner, D(2026, 2, 10), "Missed February review")
    task(owner, D(2026, 3, 5), "Overdue March review")
    task(other_owner, D(2026, 3, 6), "Overdue HR check")
    task(owner, D(2026, 3, 15), "Due March report")
    done = task(owner, D(2026, 3, 2), "Done March backup test")
    task(owner, D(2026, 5, 12), "Upcoming May audit")
    task(other_owner, D(2026, 5, 20), "Upcoming May HR check")
    clock.move_to(TODAY)
    occurrence_complete(occurrence=done.occurrences.get(), by=owner, now=local(D(2026, 3, 1)))
    mark_missed(TODAY)


def badges(response) -> dict[str, int]:
    """The badges as a person reads them: {"overdue": 1, "missed": 0, ...}."""
    text = re.search(r'<p class="small mb-2" id="month-counts">(.*?)</p>', response.content.decode(), re.S).group(1)
    return {label: int(n) for n, label in re.findall(r">(\d+) (overdue|missed|due|upcoming|done)<", text)}


def test_a_future_month_counts_only_its_own_tasks(client_as, compliance, tasks):
    response = client_as(compliance).get(reverse("maintenance:month"), {"year": 2026, "month": 5})
    assert badges(response) == {"overdue": 0, "missed": 0, "due": 0, "upcoming": 2, "done": 0}
    assert "Tasks due in May 2026" in response.content.decode()


def test_this_month_counts_its_tasks_as_of_today(client_as, compliance, tasks):
    response = client_as(compliance).get(reverse("maintenance:month"), {"year": 2026, "month": 3})
    assert badges(response) == {"overdue": 2, "missed": 0, "due": 1, "upcoming": 0, "done": 1}
    february = client_as(compliance).get(reverse("maintenance:month"), {"year": 2026, "month": 2})
    assert badges(february) == {"overdue": 0, "missed": 1, "due": 0, "upcoming": 0, "done": 0}


def test_the_badges_follow_the_filters_and_say_so(client_as, compliance, other_owner, tasks):
    response = client_as(compliance).get(
        reverse("maintenance:month"), {"year": 2026, "month": 3, "owner": other_owner.pk}
    )
    assert badges(response) == {"overdue": 1, "missed": 0, "due": 0, "upcoming": 0, "done": 0}
    assert "Tasks due in March 2026 that match the filters" in response.content.decode()


def test_a_control_owner_counts_only_their_own_tasks_and_gets_no_owner_filter(
    client_as, owner, other_owner, compliance, tasks
):
    client = client_as(owner)
    response = client.get(reverse("maintenance:month"), {"year": 2026, "month": 3})
    assert badges(response) == {"overdue": 1, "missed": 0, "due": 1, "upcoming": 0, "done": 1}
    assert "owner" not in response.context["form"].fields
    body = response.content.decode()
    assert other_owner.get_full_name() not in body and compliance.get_full_name() not in body
    # Asking for someone else's tasks by hand changes nothing: the page still shows only their own.
    forced = client.get(reverse("maintenance:month"), {"year": 2026, "month": 3, "owner": other_owner.pk})
    assert badges(forced) == badges(response)
    agenda = client.get(reverse("maintenance:agenda"))
    assert "owner" not in agenda.context["form"].fields


def test_people_who_see_every_task_may_filter_by_any_owner(client_as, compliance, viewer, owner, other_owner, tasks):
    for person in (compliance, viewer):
        choices = client_as(person).get(reverse("maintenance:month")).context["form"].fields["owner"].queryset
        assert {owner, other_owner} <= set(choices)  # everyone who owns a task


def test_the_dashboard_counts_a_task_with_a_long_lead_as_due(client_as, compliance, owner, clock):
    """An external audit reminded 60 days ahead is "due" for all those days: counted, whatever rows are skipped."""
    from django.urls import reverse

    from isms.maintenance.models import Occurrence
    from isms.maintenance.selectors import status_counts
    from tests.factories import make_schedule

    make_schedule(
        owner=owner,
        title="Surveillance audit",
        rrule="",
        start_date=clock.today + datetime.timedelta(days=50),
        reminder_days=[60, 30, 7],
    )
    assert status_counts(Occurrence.objects.all(), clock.today)["due"] == 1
    assert client_as(compliance).get(reverse("dashboard")).context["counts"]["due"] == 1
