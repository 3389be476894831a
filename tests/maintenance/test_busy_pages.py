"""The calendar's pages for a busy organisation: a month cell shows the most urgent few tasks and "+N more" to the
rest of its day, My tasks shows the first rows of each section and how many there are, and every task stays
reachable from them (the agenda pages through the rest). Nothing here depends on timing."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import formats

from isms.maintenance.models import Occurrence
from isms.maintenance.selectors import day_text
from tests.factories import make_schedule

D = datetime.date
TODAY = D(2026, 3, 10)


@pytest.fixture(autouse=True)
def _today(clock):
    """The shared stopped clock: Tuesday 10 March 2026."""
    assert clock.today == TODAY


def add_tasks(owner, days: list[datetime.date], title: str, state: str = "open", lead: int = 3, **fields) -> list:
    """One task per day on one schedule of `owner`, written straight to the table (hundreds in a few queries)."""
    # A one-off far beyond the calendar's horizon: it has no task of its own yet.
    schedule = make_schedule(owner=owner, title=title, rrule="", start_date=D(2030, 1, 1))
    assert not schedule.occurrences.exists()
    done = state == Occurrence.State.DONE
    return Occurrence.objects.bulk_create(
        Occurrence(
            schedule=schedule,
            owner=owner,
            title=f"{title} {n:03d}",
            due_date=day,
            remind_from=day - datetime.timedelta(days=lead),
            grace_until=day + datetime.timedelta(days=7),
            state=state,
            completed_on=day if done else None,
            completed_at=datetime.datetime.combine(day, datetime.time(9), tzinfo=datetime.UTC) if done else None,
            **fields,
        )
        for n, day in enumerate(days)
    )


def every_day(first: datetime.date, count: int, step: int = 1) -> list[datetime.date]:
    return [first + datetime.timedelta(days=n * step) for n in range(count)]


def task_links(html: str) -> list[str]:
    return re.findall(r'href="(/calendar/occurrences/\d+/)"', html)


def url_of(occ) -> str:
    return reverse("maintenance:occurrence", args=[occ.pk])


def agenda_pages(client, query: str) -> list[str]:
    """Every task link of every page of the agenda at `query` (its "Next" links followed to the end)."""
    links, url = [], f"{reverse('maintenance:agenda')}?{query}"
    for _ in range(50):
        body = client.get(url.replace("&amp;", "&")).content.decode()
        links += task_links(body)
        following = re.search(r'href="(\?[^"]*page=\d+)">Next<', body)
        if not following:
            return links
        url = reverse("maintenance:agenda") + following.group(1)
    raise AssertionError("the agenda never ended")


# --- the month view -------------------------------------------------------------------------------------------


def test_a_busy_day_shows_its_most_urgent_tasks_first_and_links_to_the_rest(client_as, compliance, owner, clock):
    day = D(2026, 3, 6)  # four days ago: open tasks due then are overdue
    done = add_tasks(owner, [day] * 1, "A done review", state="done")
    # Schedules with titles sorting before the late ones: by title alone they would fill the cell.
    early = [add_tasks(owner, [day], f"Aaa check {n}", state="done")[0] for n in range(5)]
    overdue = [add_tasks(owner, [day], f"Overdue check {n}")[0] for n in range(3)]
    missed = add_tasks(owner, [day], "Missed check", state="missed")
    client = client_as(compliance)
    body = client.get(reverse("maintenance:month"), {"year": 2026, "month": 3}).content.decode()
    [cell] = [td for td in body.split("<td") if f"from={day:%Y-%m-%d}" in td]
    shown = task_links(cell)
    # The four shown are the late ones (overdue or missed), whatever their titles.
    assert sorted(shown) == sorted(url_of(o) for o in overdue + missed)
    assert "+6 more" in cell  # the six done ones
    # The link opens the agenda on that day only, and it lists every task of the day: nothing is lost.
    link = re.search(r'href="([^"]*agenda[^"]*)"', cell).group(1).replace("&amp;", "&")
    assert f"from={day:%Y-%m-%d}" in link and f"to={day:%Y-%m-%d}" in link
    agenda = client.get(link).content.decode()
    assert sorted(task_links(agenda)) == sorted(url_of(o) for o in done + early + overdue + missed)
    assert "Due on Friday 6 March 2026." in agenda


def test_more_says_when_late_tasks_are_among_those_not_shown(client_as, compliance, owner, clock):
    day = D(2026, 3, 5)
    for n in range(6):
        add_tasks(owner, [day], f"Overdue check {n}")
    body = client_as(compliance).get(reverse("maintenance:month"), {"year": 2026, "month": 3}).content.decode()
    link = re.search(r"<a class=\"([^\"]*)\" href=\"[^\"]*from=2026-03-05[^>]*>(.*?)</a>", body)
    assert "text-danger" in link.group(1)
    assert link.group(2).startswith("+2 more") and "2 late" in link.group(2)


def test_the_month_makes_the_same_queries_for_one_task_a_day_or_six(client_as, compliance, owner, clock):
    add_tasks(owner, every_day(D(2026, 3, 1), 31), "Daily log check")
    client = client_as(compliance)
    url = reverse("maintenance:month")
    client.get(url, {"year": 2026, "month": 3})
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(url, {"year": 2026, "month": 3})
    for n in range(5):
        add_tasks(owner, every_day(D(2026, 3, 1), 31), f"Daily door check {n}", state="done")
    with CaptureQueriesContext(connection) as many:
        body = client.get(url, {"year": 2026, "month": 3}).content.decode()
    assert len(many) == len(few)
    assert ">9 overdue<" in body and ">4 due<" in body and ">155 done<" in body
    assert body.count("+2 more") == 31  # six tasks a day, four shown


def test_the_filter_lists_keep_what_was_chosen(client_as, compliance, owner, other_owner, clock):
    add_tasks(owner, [D(2026, 3, 12)], "Mine")
    add_tasks(other_owner, [D(2026, 3, 13)], "Hers")
    body = client_as(compliance).get(reverse("maintenance:month"), {"owner": other_owner.pk, "kind": "training"})
    html = body.content.decode()
    assert f'<option value="{other_owner.pk}" selected>Olga Berg</option>' in html
    assert f'<option value="{owner.pk}">{owner}</option>' in html
    assert '<option value="training" selected>Training and awareness</option>' in html
    assert '<option value="" selected>Any department</option>' in html


def test_a_list_writes_dates_as_the_date_filter_does():
    for day in every_day(D(2026, 1, 1), 400, step=1):
        assert day_text(day) == formats.date_format(day, "D j M Y")


# --- my tasks ---------------------------------------------------------------------------------------------------


@pytest.fixture
def busy_owner(owner, clock):
    """45 late tasks (30 overdue since 8 February, 15 missed before), 25 due now, 30 coming up within 90 days, 5
    further ahead and 15 finished in the last 60 days."""
    tasks = {
        "overdue": add_tasks(owner, every_day(D(2026, 3, 9), 30, step=-1), "Overdue"),
        "missed": add_tasks(owner, every_day(D(2026, 2, 1), 15, step=-1), "Missed", state="missed"),
        "due": add_tasks(owner, every_day(D(2026, 3, 11), 25), "Due", lead=60),
        "upcoming": add_tasks(owner, every_day(D(2026, 4, 1), 30, step=2), "Upcoming"),
        "later": add_tasks(owner, every_day(D(2026, 9, 1), 5), "Later"),
        "recent": add_tasks(owner, every_day(D(2026, 3, 9), 15, step=-1), "Finished", state="done"),
    }
    return tasks


def section(body: str, heading: str) -> str:
    start = body.index(f">{heading}</h2>")
    end = body.find("<h2", start)
    return body[start : end if end != -1 else None]


def test_my_tasks_shows_the_first_rows_of_each_section_and_how_many_there_are(client_as, owner, busy_owner):
    body = client_as(owner).get(reverse("maintenance:mine")).content.decode()
    late = section(body, "Late")
    # The most recent late work first, overdue and missed alike.
    assert task_links(late) == [url_of(o) for o in busy_owner["overdue"][:20]]
    assert "Showing the 20 most recent of 45 late tasks." in late
    due = section(body, "Due now")
    assert task_links(due) == [url_of(o) for o in busy_owner["due"][:20]]
    assert "Showing the 20 due soonest of 25." in due
    coming = section(body, "Coming up (90 days)")
    assert task_links(coming) == [url_of(o) for o in busy_owner["upcoming"][:20]]
    assert "Showing the next 20 of 30 due by 8 Jun 2026." in coming
    finished = section(body, "Recently finished")
    assert task_links(finished) == [url_of(o) for o in busy_owner["recent"][:10]]
    assert "Showing the 10 most recent of 15 finished since 9 Jan 2026." in finished
    assert len(task_links(body)) == 70


def test_every_task_of_mine_is_reachable_from_my_tasks(client_as, owner, other_owner, busy_owner):
    """Following the page's links to the agenda (and its pages) reaches each of the owner's tasks: none is lost
    because the page shows only the first rows."""
    add_tasks(other_owner, every_day(D(2026, 3, 1), 10), "Someone else's")
    client = client_as(owner)
    body = client.get(reverse("maintenance:mine")).content.decode()
    reached = set(task_links(body))
    for query in re.findall(r'href="/calendar/agenda/\?([^"]*)"', body):
        reached |= set(agenda_pages(client, query))
    assert reached == {url_of(o) for tasks in busy_owner.values() for o in tasks}


def test_a_manager_reaches_only_their_own_tasks_from_my_tasks(client_as, compliance, owner, busy_owner):
    mine = add_tasks(compliance, every_day(D(2026, 3, 1), 3), "Mine")
    client = client_as(compliance)
    body = client.get(reverse("maintenance:mine")).content.decode()
    reached = set(task_links(body))
    for query in re.findall(r'href="/calendar/agenda/\?([^"]*)"', body):
        reached |= set(agenda_pages(client, query))
    assert reached == {url_of(o) for o in mine}


def test_my_tasks_makes_the_same_queries_for_five_tasks_or_five_hundred(client_as, owner, clock):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_as(owner)
    add_tasks(owner, every_day(D(2026, 3, 1), 5), "Few")
    client.get(reverse("maintenance:mine"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("maintenance:mine"))
    for kind, first, state in [("Late", D(2026, 3, 9), "open"), ("Old", D(2025, 1, 1), "missed")]:
        add_tasks(owner, every_day(first, 150, step=-1 if kind == "Late" else 1), kind, state=state)
    add_tasks(owner, every_day(D(2026, 3, 11), 200), "Ahead")
    with CaptureQueriesContext(connection) as many:
        body = client.get(reverse("maintenance:mine")).content.decode()
    assert len(many) == len(few)
    assert len(task_links(body)) <= 70


# --- the dashboard ----------------------------------------------------------------------------------------------


def test_the_dashboard_counts_my_list_and_everyones_in_one_go(client_as, compliance, owner, clock):
    add_tasks(compliance, every_day(D(2026, 3, 1), 3), "Mine overdue")
    add_tasks(compliance, every_day(D(2026, 3, 11), 2), "Mine due", lead=5)
    add_tasks(compliance, every_day(D(2026, 3, 25), 4), "Mine upcoming")
    add_tasks(owner, every_day(D(2026, 2, 1), 2), "Theirs missed", state="missed")
    response = client_as(compliance).get(reverse("dashboard"))
    assert response.context["counts"] == {"overdue": 3, "due": 2, "upcoming": 4, "missed": 2, "mine_now": 5}
    body = response.content.decode()
    assert re.search(r'display-6">5</div><div>on my list now', body)
    late = body[body.index("Late work") :]
    assert "Theirs missed 000" in late and "Mine overdue" not in late  # one's own late work is under "Your tasks"


def test_the_dashboard_makes_the_same_queries_whatever_the_tasks(client_as, compliance, owner, clock):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from isms.accounts.models import User

    client = client_as(compliance)
    add_tasks(owner, every_day(D(2026, 3, 1), 3), "Few")
    client.get(reverse("dashboard"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("dashboard"))
    add_tasks(compliance, every_day(D(2026, 1, 1), 60), "Mine")
    add_tasks(owner, every_day(D(2025, 1, 1), 100), "Late", state="missed")
    User.objects.filter(pk=owner.pk).update(is_active=False)  # their open tasks now need a new owner
    with CaptureQueriesContext(connection) as many:
        body = client.get(reverse("dashboard")).content.decode()
    assert "Needs a new owner (103)" in body
    assert len(many) <= len(few) + 1  # the list of tasks needing a new owner is read only when there are some


# --- the emailed task's page ------------------------------------------------------------------------------------


def test_the_emailed_task_page_keeps_each_fields_label_help_and_error_beside_it(client, link_task):
    from tests.maintenance.conftest import token_of

    client.post(reverse("maintenance:task_link"), {"token": token_of(link_task)})
    url = reverse("maintenance:task_link_task", args=[link_task.pk])
    body = client.get(url).content.decode()
    fields = {
        "note": ("Note", "What was done, what was found."),
        "files": ("Evidence files", None),
        "links": ("Evidence links", "One address per line (a ticket, a report, a dashboard)."),
        "without_evidence": ("Mark done without evidence", "When there is nothing to attach."),
        "without_evidence_reason": ("Why is there no evidence?", "Kept in the task&#x27;s history, for the auditor."),
    }
    for name, (label, help_text) in fields.items():
        assert re.search(rf'<label for="id_{name}" class="form-(check-)?label">{re.escape(label)}</label>', body), name
        assert f'name="{name}" id="id_{name}"' in body, name
        if help_text:
            assert f'<div id="id_{name}_helptext" class="form-text">{help_text}' in body, name
            assert re.search(rf'id="id_{name}"[^>]*aria-describedby="id_{name}_helptext"', body), name
    assert 'type="file" name="files" id="id_files" class="form-control" multiple' in body

    response = client.post(
        url, {"note": "Checked <all> rules", "links": "javascript:alert(1)", "without_evidence": "on"}
    )
    body = response.content.decode()
    link_task.refresh_from_db()
    assert link_task.state == "open"
    assert ">\nChecked &lt;all&gt; rules</textarea>" in body  # what was typed stays, escaped
    assert re.search(r'name="without_evidence" id="id_without_evidence"[^>]* checked', body)
    for name, error in [
        ("links", "javascript:alert(1) is not a web address"),
        ("without_evidence_reason", "Say why there is no evidence"),
    ]:
        assert re.search(rf'id="id_{name}"[^>]*is-invalid[^>]*aria-invalid="true"', body), name
        assert f'aria-describedby="id_{name}_helptext id_{name}_error"' in body, name
        assert re.search(rf'<div id="id_{name}_error" class="invalid-feedback d-block">.*?{re.escape(error)}', body), (
            name
        )
