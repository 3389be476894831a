"""The calendar pages: month grid, agenda, my tasks, and what people do to an occurrence on the web."""

import calendar
import datetime
from html.parser import HTMLParser

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from evidence.models import EvidenceItem
from isms.maintenance.models import OccurrenceEvent
from isms.maintenance.services import mark_missed, occurrence_complete
from isms.notices import engine
from isms.notices.models import Notice
from tests.factories import DepartmentFactory, UserFactory, make_schedule

D = datetime.date
TODAY = D(2026, 3, 10)


def at(day: datetime.date, hour: int = 9, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def task(owner, due: datetime.date, title: str, **fields):
    """A one-off task due on `due`, planned two months before (so it can already be in the past today)."""
    schedule = make_schedule(
        owner=owner, rrule="", start_date=due, title=title, today=due - datetime.timedelta(days=60), **fields
    )
    return schedule.occurrences.get()


@pytest.fixture
def clock(clock):
    """The shared stopped clock, on this module's day."""
    clock.move_to(at(TODAY))
    return clock


@pytest.fixture
def board(clock, owner, compliance):
    """The owner's tasks around 10 March 2026, one in each status."""
    tasks = {
        "missed": task(owner, D(2026, 2, 20), "Missed access review"),
        "done": task(owner, D(2026, 3, 2), "Done backup test"),
        "overdue": task(owner, D(2026, 3, 5), "Overdue firewall review"),
        "due": task(owner, D(2026, 3, 20), "Due patch report"),
        "upcoming": task(owner, D(2026, 3, 28), "Upcoming supplier check"),
    }
    occurrence_complete(occurrence=tasks["done"], by=owner, now=at(D(2026, 3, 1)))
    mark_missed(TODAY)
    for occ in tasks.values():
        occ.refresh_from_db()
    assert {k: o.status(TODAY) for k, o in tasks.items()} == {k: k.replace("done", "done_on_time") for k in tasks}
    return tasks


class MonthPage(HTMLParser):
    """Reads the month grid as a person sees it: cells in order, each with its task links, plus the nav links."""

    def __init__(self, body: str):
        super().__init__()
        self.cells, self.nav, self._in_grid = [], {}, False
        self.feed(body)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and "calendar-month" in (a.get("class") or ""):
            self._in_grid = True
        elif tag == "a" and a.get("rel") in ("prev", "next"):  # named "Previous month: ← Feb" to a screen reader
            self.nav[{"prev": "Previous month", "next": "Next month"}[a["rel"]]] = a["href"]
        elif self._in_grid and tag == "td":
            self.cells.append({"class": a.get("class") or "", "items": []})
        elif self._in_grid and tag == "a" and "calendar-item" in (a.get("class") or ""):
            self.cells[-1]["items"].append({"href": a["href"], "class": a["class"].split()})

    def handle_endtag(self, tag):
        if tag == "table":
            self._in_grid = False

    def by_date(self, year: int, month: int) -> dict:
        days = [d for week in calendar.Calendar(0).monthdatescalendar(year, month) for d in week]
        assert len(days) == len(self.cells)
        return dict(zip(days, self.cells, strict=True))


def occ_url(occ) -> str:
    return reverse("maintenance:occurrence", args=[occ.pk])


def listed(body: str, *occs) -> list[bool]:
    return [f'href="{occ_url(o)}"' in body for o in occs]


# --- month grid ------------------------------------------------------------------------------------------------


def test_month_grid_shows_each_task_on_its_day_with_its_status(client_as, compliance, board):
    body = client_as(compliance).get(reverse("maintenance:month"), {"year": 2026, "month": 3}).content.decode()
    page = MonthPage(body)
    cells = page.by_date(2026, 3)
    expected = {
        D(2026, 3, 2): ("done", "status-done_on_time"),
        D(2026, 3, 5): ("overdue", "status-overdue"),
        D(2026, 3, 20): ("due", "status-due"),
        D(2026, 3, 28): ("upcoming", "status-upcoming"),
    }
    for day, (key, css) in expected.items():
        [item] = cells[day]["items"]
        assert item["href"] == occ_url(board[key]) and css in item["class"], day
    assert sum(len(c["items"]) for c in cells.values()) == 4  # the missed task (20 Feb) is before this grid
    assert "calendar-today" in cells[TODAY]["class"]
    assert "bg-body-tertiary" in cells[D(2026, 2, 23)]["class"]  # leading days of February are greyed
    # The badges count March's tasks as they stand today (the missed one is in February).
    assert ">1 overdue<" in body and ">0 missed<" in body and ">1 due<" in body and ">1 done<" in body


def test_month_navigation_moves_a_month_and_keeps_filters(client_as, compliance, owner, board):
    client = client_as(compliance)
    url = reverse("maintenance:month")
    page = MonthPage(client.get(url, {"year": 2026, "month": 3, "owner": owner.pk}).content.decode())
    assert page.nav["Previous month"].startswith("?year=2026&month=2&")
    assert page.nav["Next month"].startswith("?year=2026&month=4&")
    assert f"owner={owner.pk}" in page.nav["Next month"]

    feb = client.get(url + page.nav["Previous month"])
    assert feb.context["first"] == D(2026, 2, 1)
    assert listed(feb.content.decode(), board["missed"]) == [True]

    december = MonthPage(client.get(url, {"year": 2026, "month": 12}).content.decode())
    assert december.nav["Next month"] == "?year=2027&month=1"  # no stray "&" without filters
    january = MonthPage(client.get(url, {"year": 2026, "month": 1}).content.decode())
    assert january.nav["Previous month"] == "?year=2025&month=12"

    current = client.get(url)  # no parameters: this month
    assert current.context["first"] == D(2026, 3, 1)


@pytest.mark.parametrize(
    "params",
    [
        {"year": "abc", "month": "3"},
        {"year": "2026", "month": "13"},
        {"year": "2026", "month": "0"},
        {"year": "2026", "month": ""},
        {"year": "1999", "month": "3"},
        {"year": "99999999999999999999", "month": "3"},
        {"year": "2026", "month": "-1"},
    ],
    ids=lambda p: f"{p['year']}-{p['month']}",
)
def test_a_month_that_does_not_exist_is_not_found(client_as, compliance, params):
    response = client_as(compliance).get(reverse("maintenance:month"), params)
    assert response.status_code == 404


def test_filters_narrow_month_and_agenda(client_as, compliance, owner, other_owner, clock):
    hr = DepartmentFactory(name="HR")
    mine = task(owner, D(2026, 3, 5), "Mine overdue control")
    risk = task(owner, D(2026, 3, 20), "Mine risk review", kind="risk_review")
    hers = task(other_owner, D(2026, 3, 12), "Hers in HR", department=hr)
    client = client_as(compliance)
    cases = [
        ({}, [True, True, True]),
        ({"owner": owner.pk}, [True, True, False]),
        ({"owner": other_owner.pk}, [False, False, True]),
        ({"department": hr.pk}, [False, False, True]),
        ({"kind": "risk_review"}, [False, True, False]),
        ({"status": "overdue"}, [True, False, False]),
        ({"status": "due"}, [False, True, True]),
        ({"status": "done_on_time"}, [False, False, False]),
        ({"owner": owner.pk, "kind": "control_activity"}, [True, False, False]),
    ]
    for params, expected in cases:
        for name in ("maintenance:month", "maintenance:agenda"):
            body = client.get(reverse(name), params).content.decode()
            assert listed(body, mine, risk, hers) == expected, (name, params)


def test_nonsense_filters_are_ignored_not_an_error(client_as, compliance, board):
    for name in ("maintenance:month", "maintenance:agenda"):
        response = client_as(compliance).get(reverse(name), {"owner": "x", "status": "late-ish", "from": "soon"})
        assert response.status_code == 200


# --- queries do not grow with rows -----------------------------------------------------------------------------


def add_daily_tasks(owner, count: int, title: str, department=None):
    make_schedule(
        owner=owner,
        title=title,
        rrule="FREQ=DAILY",
        start_date=D(2026, 3, 1),
        end_date=D(2026, 3, count),
        reminder_days=[0],
        department=department,
        today=D(2026, 2, 1),
    )


@pytest.mark.parametrize("name", ["maintenance:month", "maintenance:agenda", "maintenance:mine"])
def test_page_queries_do_not_grow_with_rows(client_as, compliance, owner, other_owner, clock, name):
    hr = DepartmentFactory(name="HR")
    add_daily_tasks(compliance, 5, "Daily log check")
    client = client_as(compliance)
    url = reverse(name)
    client.get(url)  # warm up the session and content types

    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    add_daily_tasks(compliance, 25, "Daily badge audit", department=hr)
    add_daily_tasks(owner, 15, "Daily door check")
    add_daily_tasks(other_owner, 15, "Daily alarm test", department=hr)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.status_code == 200
    if name != "maintenance:mine":
        assert response.content.decode().count("/calendar/occurrences/") >= 50
    assert len(many.captured_queries) == len(few.captured_queries), [q["sql"] for q in many.captured_queries]


def test_agenda_is_paginated(client_as, compliance, owner, clock):
    add_daily_tasks(owner, 30, "Daily log check")
    add_daily_tasks(owner, 30, "Daily door check")
    client = client_as(compliance)
    first = client.get(reverse("maintenance:agenda")).content.decode()
    assert first.count('href="/calendar/occurrences/') == 50
    assert "Page 1 of 2" in first and "page=2" in first
    second = client.get(reverse("maintenance:agenda"), {"page": 2}).content.decode()
    assert second.count('href="/calendar/occurrences/') == 10 and "Page 2 of 2" in second
    beyond = client.get(reverse("maintenance:agenda"), {"page": 99})
    assert beyond.status_code == 200 and "Page 2 of 2" in beyond.content.decode()


# --- my tasks and who sees what --------------------------------------------------------------------------------


def section(body: str, heading: str) -> str:
    """The HTML from a heading to the next heading."""
    start = body.index(f">{heading}</h2>")
    end = body.find("<h2", start)
    return body[start : end if end != -1 else None]


def test_my_tasks_sorts_my_work_into_sections(client_as, owner, other_owner, board):
    far = task(owner, D(2026, 9, 1), "Far away task")
    theirs = task(other_owner, D(2026, 3, 6), "Someone else's task")
    body = client_as(owner).get(reverse("maintenance:mine")).content.decode()
    sections = {
        "Late": [board["missed"], board["overdue"]],
        "Due now": [board["due"]],
        "Coming up (90 days)": [board["upcoming"]],
        "Recently finished": [board["done"]],
    }
    for heading, expected in sections.items():
        html = section(body, heading)
        assert all(listed(html, *expected)), heading
        others = [o for o in board.values() if o not in expected]
        assert not any(listed(html, *others)), heading
    assert listed(body, far, theirs) == [False, False]
    assert "table-danger" in section(body, "Late")  # late work stands out


def test_my_tasks_says_when_there_is_nothing(client_as, owner, clock):
    body = client_as(owner).get(reverse("maintenance:mine")).content.decode()
    assert "Nothing late. Well done." in body and "Nothing due right now." in body


def test_a_control_owner_sees_only_their_own_tasks(client_as, owner, other_owner, board):
    theirs = task(other_owner, D(2026, 3, 6), "Olga's task")
    client = client_as(owner)
    assert client.get(occ_url(theirs)).status_code == 404
    assert client.get(occ_url(board["due"])).status_code == 200
    for name in ("maintenance:agenda", "maintenance:month"):
        body = client.get(reverse(name)).content.decode()
        assert listed(body, theirs, board["due"]) == [False, True], name
        body = client.get(reverse(name), {"owner": other_owner.pk}).content.decode()
        assert listed(body, theirs) == [False], name
    response = client.post(reverse("maintenance:complete", args=[theirs.pk]), {"note": "not mine"})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.state == "open"


def test_a_viewer_reads_but_does_not_act(client_as, viewer, board):
    client = client_as(viewer)
    occ = board["due"]
    page = client.get(occ_url(occ))
    body = page.content.decode()
    assert page.status_code == 200 and "Due patch report" in body
    assert reverse("maintenance:complete", args=[occ.pk]) not in body and "Reassign" not in body
    for action in ("complete", "reassign", "skip"):
        response = client.post(reverse(f"maintenance:{action}", args=[occ.pk]), {"note": "x", "reason": "x"})
        assert response.status_code == 403, action
    occ.refresh_from_db()
    assert occ.state == "open" and not occ.events.exists()


# --- completing on the web -------------------------------------------------------------------------------------


def complete_on_web(client, occ, note="Checked and fixed."):
    return client.post(
        reverse("maintenance:complete", args=[occ.pk]),
        {
            "note": note,
            "files": SimpleUploadedFile("report.pdf", b"%PDF-1.4 report", content_type="application/pdf"),
            "links": "https://tickets.example.com/OPS-7\nhttps://wiki.example.com/runbook",
        },
        follow=True,
    )


def test_owner_completes_a_task_on_time_with_evidence(client_as, owner, board):
    occ = board["due"]
    response = complete_on_web(client_as(owner), occ)
    body = response.content.decode()
    assert response.redirect_chain[-1][0] == occ_url(occ)
    assert "Marked done (done on time)." in body and "status-done_on_time" in body
    occ.refresh_from_db()
    assert occ.state == "done" and occ.completed_by == owner and occ.completed_at == at(TODAY)
    evidence = occ.evidence.order_by("type", "url")
    assert [(e.type, e.source) for e in evidence] == [("file", "web"), ("link", "web"), ("link", "web")]
    assert "report.pdf" in body and "https://wiki.example.com/runbook" in body
    assert occ.events.get().via == "web"


def test_owner_completes_an_overdue_task_late(client_as, owner, board):
    response = complete_on_web(client_as(owner), board["overdue"])
    assert "Marked done (done late)." in response.content.decode()
    board["overdue"].refresh_from_db()
    assert board["overdue"].status() == "done_late"


def test_done_on_time_follows_the_local_date(client_as, owner):
    """00:30 in London on 11 July is still 10 July in UTC, but the task was done a day late."""
    with time_machine.travel(at(D(2026, 6, 1)), tick=False):
        on_time = task(owner, D(2026, 7, 10), "Summer review")
        late = task(owner, D(2026, 7, 10), "Summer restore test")
    client = client_as(owner)
    with time_machine.travel(at(D(2026, 7, 10), 23, 30), tick=False):
        assert "Marked done (done on time)." in complete_on_web(client, on_time).content.decode()
    with time_machine.travel(at(D(2026, 7, 11), 0, 30), tick=False):
        assert timezone.now().astimezone(datetime.UTC).date() == D(2026, 7, 10)
        assert "Marked done (done late)." in complete_on_web(client, late).content.decode()


def test_a_bad_evidence_link_is_explained_and_nothing_is_done(client_as, owner, board):
    occ = board["due"]
    response = client_as(owner).post(
        reverse("maintenance:complete", args=[occ.pk]), {"note": "done", "links": "not a link"}, follow=True
    )
    assert "not a link is not a web address" in response.content.decode()
    occ.refresh_from_db()
    assert occ.state == "open" and not occ.evidence.exists()


def test_a_done_task_cannot_be_done_twice(client_as, owner, board):
    response = complete_on_web(client_as(owner), board["done"])
    assert "This task is already done." in response.content.decode()
    assert board["done"].events.filter(action="completed").count() == 1


# --- what managers do ------------------------------------------------------------------------------------------


@pytest.fixture
def send_now(monkeypatch):
    """Deliver queued notices in-process, as the worker would."""
    monkeypatch.setattr(engine, "_enqueue", lambda ids: [engine.deliver(pk) for pk in ids])


def test_manager_reassigns_and_the_new_owner_is_emailed(
    client_as, compliance, owner, other_owner, board, send_now, django_capture_on_commit_callbacks
):
    occ = board["overdue"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as(compliance).post(
            reverse("maintenance:reassign", args=[occ.pk]), {"to": other_owner.pk, "note": "Owner on leave"}
        )
    assert response.status_code == 302
    occ.refresh_from_db()
    assert occ.owner == other_owner
    event = occ.events.get()
    assert (event.action, event.actor, event.note) == ("reassigned", compliance, "Owner on leave")
    assert event.data == {"from": owner.pk, "to": other_owner.pk}

    [message] = mail.outbox
    assert message.to == [other_owner.email]
    assert message.subject.startswith("Assigned to you: Overdue firewall review")
    page = client_as(compliance).get(occ_url(occ)).content.decode()
    assert "Reassigned to Olga Berg; they have been emailed the task." in page
    assert "Owner on leave" in page


def test_reassigning_to_someone_without_email_is_refused(client_as, compliance, owner, board):
    silent = UserFactory(username="silent", email="", first_name="Sam", last_name="Quiet")
    occ = board["due"]
    response = client_as(compliance).post(
        reverse("maintenance:reassign", args=[occ.pk]), {"to": silent.pk, "note": ""}, follow=True
    )
    assert "Sam Quiet has no email address, so could not be reminded." in response.content.decode()
    occ.refresh_from_db()
    assert occ.owner == owner and not occ.events.exists() and not Notice.objects.exists()


def test_skipping_needs_a_reason(client_as, compliance, board):
    occ = board["due"]
    client = client_as(compliance)
    for reason in ("", "   "):
        response = client.post(reverse("maintenance:skip", args=[occ.pk]), {"reason": reason}, follow=True)
        assert "Say why the task is skipped" in response.content.decode()
        occ.refresh_from_db()
        assert occ.state == "open" and not occ.events.exists()

    response = client.post(reverse("maintenance:skip", args=[occ.pk]), {"reason": "Server decommissioned"}, follow=True)
    body = response.content.decode()
    assert "Skipped; the reason is kept in the history." in body and "status-skipped" in body
    occ.refresh_from_db()
    assert occ.state == "skipped" and occ.skip_reason == "Server decommissioned"
    assert occ.events.get().note == "Server decommissioned"


def test_reopen_puts_a_done_task_back_and_keeps_its_history(client_as, compliance, owner, board):
    occ = board["due"]
    complete_on_web(client_as(owner), occ, note="Patched everything")
    client = client_as(compliance)
    response = client.post(reverse("maintenance:reopen", args=[occ.pk]), {"note": "Two hosts missed"}, follow=True)
    body = response.content.decode()
    assert "Reopened; the earlier record stays in the history." in body

    occ.refresh_from_db()
    assert occ.state == "open" and occ.status() == "due"
    assert occ.completed_at is None and occ.completion_note == ""
    events = list(occ.events.order_by("pk"))
    assert [e.action for e in events] == [OccurrenceEvent.Action.COMPLETED, OccurrenceEvent.Action.REOPENED]
    assert events[0].note == "Patched everything"
    assert events[1].data["state"] == "done" and events[1].data["completed_by"] == owner.pk
    assert occ.evidence.count() == 3  # evidence stays attached
    history = body[body.index(">History</h2>") :]
    assert "Completed" in history and "Reopened" in history and "Two hosts missed" in history


def test_reopening_a_skipped_task_long_past_makes_it_missed(client_as, compliance, board):
    occ = board["missed"]
    client = client_as(compliance)
    client.post(reverse("maintenance:skip", args=[occ.pk]), {"reason": "Out of scope"})
    client.post(reverse("maintenance:reopen", args=[occ.pk]), {"note": ""})
    occ.refresh_from_db()
    assert occ.state == "missed" and occ.skip_reason == ""
    assert list(occ.events.values_list("action", flat=True)) == ["missed", "skipped", "reopened"]


# --- evidence download -----------------------------------------------------------------------------------------


def test_evidence_download_is_for_people_who_may_see_the_task(client_as, owner, other_owner, auditor, board):
    occ = board["due"]
    complete_on_web(client_as(owner), occ)
    item = occ.evidence.get(type=EvidenceItem.Type.FILE)
    url = reverse("evidence:download", args=[item.pk])

    response = client_as(owner).get(url)
    assert response.status_code == 200
    assert (
        response["Content-Disposition"].startswith("attachment")
        and 'filename="report.pdf"' in response["Content-Disposition"]
    )
    assert response["Content-Type"] == "application/octet-stream"
    assert b"".join(response.streaming_content) == b"%PDF-1.4 report"

    assert client_as(other_owner).get(url).status_code == 404
    assert client_as(auditor).get(url).status_code == 403


def test_a_busy_day_shows_four_tasks_and_a_link_to_the_rest(client_as, compliance, owner):
    day = timezone.localdate() + datetime.timedelta(days=3)
    for n in range(7):
        make_schedule(owner=owner, title=f"Check {n}", start_date=day, rrule="")
    body = (
        client_as(compliance).get(reverse("maintenance:month"), {"year": day.year, "month": day.month}).content.decode()
    )
    assert body.count(">Check ") == 4
    assert "+3 more" in body and f"?from={day:%Y-%m-%d}" in body
