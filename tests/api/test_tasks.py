"""GET /api/v1/tasks/: my open and missed tasks only; POST /api/v1/tasks/{id}/complete/: done with evidence."""

import datetime
import hashlib

import pytest
from django.urls import reverse

from evidence.models import EvidenceItem
from isms.maintenance.models import Occurrence, OccurrenceEvent
from isms.maintenance.services import mark_missed, occurrence_complete
from tests.api.conftest import PDF, upload
from tests.factories import make_control, make_schedule

TASKS = "/api/v1/tasks/"


def _complete_url(occ) -> str:
    return f"/api/v1/tasks/{occ.pk}/complete/"


@pytest.fixture
def other(other_owner):
    return other_owner


def test_my_tasks_lists_only_my_open_and_missed_tasks(api, owner, other, clock):
    today = clock.today
    mine = make_schedule(
        owner, start_date=today - datetime.timedelta(days=70), today=today - datetime.timedelta(days=70)
    )
    mark_missed(today)
    done = mine.occurrences.filter(state="open").first()
    occurrence_complete(occurrence=done, by=owner, note="ok")
    make_schedule(other, title="Other's backup test")

    response = api(owner, scopes=["tasks:read"]).get(TASKS)
    assert response.status_code == 200
    body = response.json()
    ids = [t["id"] for t in body["results"]]
    expected = list(
        Occurrence.objects.filter(owner=owner, state__in=["open", "missed"])
        .order_by("due_date", "pk")
        .values_list("pk", flat=True)
    )
    assert ids == expected[:50] and body["count"] == len(expected)
    assert done.pk not in ids
    states = {t["state"] for t in body["results"]}
    assert states == {"open", "missed"}
    first = body["results"][0]
    assert first["status"] == "missed" and first["owner"] == owner.username
    assert first["title"] == "Monthly vulnerability scan" and first["kind"] == "control_activity"
    assert first["web_url"].endswith(f"/calendar/occurrences/{first['id']}/")
    assert first["complete_url"].endswith(_complete_url(Occurrence(pk=first["id"])))


def test_tasks_can_be_filtered_by_status_and_due_date(api, owner, clock):
    today = clock.today
    make_schedule(owner, start_date=today - datetime.timedelta(days=3), today=today - datetime.timedelta(days=3))
    client = api(owner)
    overdue = client.get(TASKS, {"status": "overdue"}).json()["results"]
    assert [t["status"] for t in overdue] == ["overdue"]
    soon = client.get(TASKS, {"due_before": (today + datetime.timedelta(days=40)).isoformat()}).json()["results"]
    assert all(t["due_date"] <= (today + datetime.timedelta(days=40)).isoformat() for t in soon) and soon


@pytest.mark.parametrize("params", [{"status": "done_on_time"}, {"due_before": "soon"}])
def test_a_bad_filter_is_a_400(api, owner, params):
    response = api(owner).get(TASKS, params)
    assert response.status_code == 400 and list(response.json()) == list(params)


def test_the_task_of_a_control_names_the_control(api, owner):
    control = make_control(owner)
    make_schedule(owner, subject=control)
    task = api(owner).get(TASKS).json()["results"][0]
    assert task["control"] == control.pk


def test_complete_my_task_with_a_file_and_a_link(api, owner, stored_files):
    control = make_control(owner)
    occurrence = make_schedule(owner, subject=control).occurrences.first()
    response = api(owner).post(
        _complete_url(occurrence),
        {"note": "No criticals.", "files": [upload("scan.pdf")], "links": ["https://scanner.example/r/7"]},
        format="multipart",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["state"] == "done" and body["status"] == "done_on_time" and body["completion_note"] == "No criticals."
    assert body["completed_by"] == owner.username
    assert sorted(e["type"] for e in body["evidence"]) == ["file", "link"]
    occurrence.refresh_from_db()
    assert occurrence.state == "done" and occurrence.completed_by == owner
    assert occurrence.events.get().via == "api" and occurrence.events.get().action == OccurrenceEvent.Action.COMPLETED
    item = EvidenceItem.objects.get(type="file")
    assert item.source == "api" and item.control == control and item.sha256 == hashlib.sha256(PDF).hexdigest()
    assert stored_files() == [item.file.name]


def test_complete_with_json(api, owner):
    occurrence = make_schedule(owner).occurrences.first()
    response = api(owner).post(_complete_url(occurrence), {"note": "done", "links": ["https://x.example/1"]})
    assert response.status_code == 200 and response.json()["evidence"][0]["url"] == "https://x.example/1"


def test_files_in_json_are_refused(api, owner):
    occurrence = make_schedule(owner).occurrences.first()
    response = api(owner).post(_complete_url(occurrence), {"files": ["c2NhbiByZXBvcnQ="]})
    assert response.status_code == 400 and "files" in response.json()


def test_a_bad_link_is_a_400_naming_it(api, owner):
    occurrence = make_schedule(owner).occurrences.first()
    response = api(owner).post(_complete_url(occurrence), {"links": ["https://ok.example/", "file:///etc/passwd"]})
    assert response.status_code == 400
    assert response.json() == {"links": {"1": ["Enter a web address starting with http:// or https://."]}}
    occurrence.refresh_from_db()
    assert occurrence.state == "open"


def test_another_owners_task_is_a_404(api, owner, other):
    theirs = make_schedule(other).occurrences.first()
    response = api(owner).post(_complete_url(theirs), {"note": "mine now"})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.state == "open"


def test_a_viewer_sees_the_task_but_may_not_complete_it(api, viewer, owner):
    occurrence = make_schedule(owner).occurrences.first()
    response = api(viewer).post(_complete_url(occurrence), {"note": "x"})
    assert response.status_code == 403
    assert response.json()["detail"] == "Only the task's owner or the compliance team can complete it."


def test_a_viewer_who_owns_a_task_completes_it_as_on_the_web(api, viewer, client_as):
    """One reach rule: leadership may own work (a management review task) and complete it, web and API alike."""
    first, second = make_schedule(viewer, title="Management review").occurrences.all()[:2]
    assert api(viewer).post(_complete_url(first), {"note": "Minutes attached"}).status_code == 200
    response = client_as(viewer).post(reverse("maintenance:complete", args=[second.pk]), {"note": "Held"})
    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.state == second.state == "done"
    assert first.completed_by == second.completed_by == viewer


def test_a_manager_may_complete_anyones_task(api, compliance, owner):
    occurrence = make_schedule(owner).occurrences.first()
    response = api(compliance).post(_complete_url(occurrence), {"note": "Done for the owner."})
    assert response.status_code == 200 and response.json()["completed_by"] == compliance.username


def test_a_missed_task_can_still_be_completed_late(api, owner, clock):
    today = clock.today
    make_schedule(owner, start_date=today - datetime.timedelta(days=40), today=today - datetime.timedelta(days=40))
    mark_missed(today)
    missed = Occurrence.objects.filter(owner=owner, state="missed").first()
    response = api(owner).post(_complete_url(missed), {"note": "Late, sorry."})
    assert response.status_code == 200 and response.json()["status"] == "done_late"
