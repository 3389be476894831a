"""What an emailed task link leaves in the session table: which task it opened and until when, never the token,
and nothing once the task is done or the page's short life is over."""

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse

from tests.factories import make_schedule
from tests.maintenance.conftest import token_of


@pytest.fixture(autouse=True)
def _quiet(no_broker):
    """No email leaves in these tests (tests/maintenance/conftest.py)."""


@pytest.fixture
def occ(link_task):
    return link_task


def session_table() -> list[str]:
    """Every row of django_session, as stored and decoded."""
    rows = []
    for row in Session.objects.all():
        rows += [row.session_data, str(row.get_decoded())]
    return rows


def test_the_raw_token_never_reaches_the_session_table(client, clock, occ):
    token = token_of(occ)
    signature = token.rsplit(":", 1)[1]
    assert client.post(reverse("maintenance:task_link"), {"token": token}).status_code == 302
    page = client.get(reverse("maintenance:task_link_task", args=[occ.pk]))
    assert page.status_code == 200 and "Review firewall rules" in page.content.decode()

    rows = session_table()
    assert rows, "the grant lives in the session"
    assert not [r for r in rows if token in r or signature in r]

    client.post(reverse("maintenance:task_link_task", args=[occ.pk]), {"note": "done", "links": ""})
    assert not [r for r in session_table() if f"'{occ.pk}'" in r or "task_link" in r]  # the grant ended


def test_the_open_page_stops_after_a_while_and_the_link_opens_it_again(client, clock, occ):
    token = token_of(occ)
    client.post(reverse("maintenance:task_link"), {"token": token})
    clock.advance(hours=3)
    page = client.get(reverse("maintenance:task_link_task", args=[occ.pk]))
    assert page.status_code == 403
    assert "This page was open for too long. Open the link from your email again" in page.content.decode()
    assert client.post(reverse("maintenance:task_link"), {"token": token}).status_code == 302
    assert client.get(reverse("maintenance:task_link_task", args=[occ.pk])).status_code == 200


def test_two_links_open_side_by_side(client, clock, occ, owner):
    second = make_schedule(owner=owner, title="Patch servers", rrule="", start_date=clock.today).occurrences.get()
    for task in (occ, second):
        client.post(reverse("maintenance:task_link"), {"token": token_of(task)})
    for task in (occ, second):
        assert client.get(reverse("maintenance:task_link_task", args=[task.pk])).status_code == 200


def test_a_token_kept_by_an_earlier_version_is_dropped(client, clock, occ):
    session = client.session
    session["task_link_grants"] = {str(occ.pk): token_of(occ)}
    session.save()
    page = client.get(reverse("maintenance:task_link_task", args=[occ.pk]))
    assert page.status_code == 403 and "Open this task from the link in your email." in page.content.decode()
    assert not [r for r in session_table() if token_of(occ)[:20] in r]
