"""An emailed task link opened in a browser signed in as someone else does not act in the owner's name: it says
who is signed in and whom the link is for, and offers to sign out or open the task from their own calendar.
History and evidence only ever name the person who acted."""

import html

import pytest
from django.urls import reverse

from evidence.models import EvidenceItem
from isms.maintenance.models import Occurrence
from tests.maintenance.conftest import token_of


@pytest.fixture(autouse=True)
def _quiet(no_broker):
    """No email leaves in these tests (tests/maintenance/conftest.py)."""


@pytest.fixture
def occ(link_task):
    return link_task


def open_link(client, occ):
    return client.post(reverse("maintenance:task_link"), {"token": token_of(occ)})


def complete(client, occ):
    url = reverse("maintenance:task_link_task", args=[occ.pk])
    return client.post(url, {"note": "Checked", "links": "https://tickets.example.com/FW-1"})


def text(response) -> str:
    return html.unescape(response.content.decode())


def assert_untouched(occ):
    occ.refresh_from_db()
    assert occ.state == Occurrence.State.OPEN and occ.completed_by is None
    assert not occ.events.exists() and not EvidenceItem.objects.exists()


def test_a_link_opened_while_signed_in_as_someone_else_is_refused_with_who_is_who(
    client_as, clock, occ, owner, other_owner
):
    client = client_as(other_owner)
    response = open_link(client, occ)
    body = text(response)
    assert response.status_code == 403
    assert (
        f"You are signed in as Olga Berg; this link is for {owner}. Sign out, or open the task from your own calendar."
        in body
    )
    assert f'action="{reverse("logout")}"' in body and "Sign out" in body
    assert reverse("maintenance:occurrence", args=[occ.pk]) not in body  # not Olga's to see: her own tasks instead
    assert reverse("maintenance:mine") in body

    assert complete(client, occ).status_code == 403  # nothing was granted
    assert_untouched(occ)


def test_a_manager_signed_in_is_sent_to_the_task_page_to_act_in_their_own_name(
    client_as, clock, occ, owner, compliance
):
    client = client_as(compliance)
    body = text(open_link(client, occ))
    assert f"You are signed in as {compliance}; this link is for {owner}." in body
    assert reverse("maintenance:occurrence", args=[occ.pk]) in body and f"Open the task as {compliance}" in body
    assert_untouched(occ)


def test_signing_in_as_someone_else_after_opening_the_link_stops_it(client, clock, occ, owner, compliance):
    assert open_link(client, occ).status_code == 302  # anonymous: the owner's own browser, as far as we know
    client.force_login(compliance)  # then someone signs in on that browser

    page = client.get(reverse("maintenance:task_link_task", args=[occ.pk]))
    assert page.status_code == 403 and f"You are signed in as {compliance}; this link is for {owner}." in text(page)
    assert complete(client, occ).status_code == 403
    assert_untouched(occ)


def test_the_owner_signed_in_uses_their_own_link_and_is_recorded(client_as, clock, occ, owner):
    client = client_as(owner)
    assert open_link(client, occ).status_code == 302
    response = complete(client, occ)
    assert response.status_code == 200 and "Thank you" in response.content.decode()
    occ.refresh_from_db()
    assert occ.completed_by == owner and occ.events.get().actor == owner
    assert EvidenceItem.objects.get().submitted_by == owner
