"""The emailed task link opens one task for its owner, once, for a while, and nothing else."""

import datetime
import hashlib
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.conf import settings
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.test import override_settings
from django.urls import reverse

from evidence.models import EvidenceItem
from isms.maintenance import links
from isms.maintenance.models import Occurrence, OccurrenceEvent, TaskLinkUse
from isms.maintenance.services import occurrence_reassign, occurrence_skip
from isms.notices import engine
from tests.factories import UserFactory, make_schedule

NOW = datetime.datetime(2026, 3, 1, 9, 30, tzinfo=datetime.UTC)  # 09:30 in London too
DUE = datetime.date(2026, 3, 10)
REPORT = b"Ruleset export 2026-03-01\nallow tcp/443 from any to web01\n"


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    """Reassignment queues an email on commit; never reach for a Celery broker here."""
    queued = []
    monkeypatch.setattr(engine, "_enqueue", queued.extend)
    return queued


@pytest.fixture
def clock(clock):
    """The shared stopped clock, at the moment these links are sent."""
    clock.move_to(NOW)
    return clock


@pytest.fixture
def occ(clock, owner):
    schedule = make_schedule(
        owner=owner,
        title="Review firewall rules",
        description="Export the ruleset and compare it with the approved baseline.",
        start_date=DUE,
    )
    return schedule.occurrences.get(due_date=DUE)


def split(url: str) -> tuple[str, str]:
    """What the browser does with the emailed link: the path goes to the server, the fragment stays."""
    address, token = url.split("#", 1)
    return urlsplit(address).path, token


def open_link(client, url: str):
    """GET the page (whose script reads the fragment), then POST the token as that script does."""
    path, token = split(url)
    page = client.get(path)
    assert page.status_code == 200
    assert 'id="task-link-form"' in page.content.decode() and token not in page.content.decode()
    return client.post(reverse("maintenance:task_link"), {"token": token})


def outcomes() -> list[str]:
    return list(TaskLinkUse.objects.order_by("pk").values_list("outcome", flat=True))


def refused(response, outcome: str, message: str) -> None:
    body = response.content.decode()
    assert response.status_code == 403
    assert "This link does not open a task" in body and message in body
    assert outcomes()[-1] == outcome


def complete_via_link(client, occ, **data):
    url = reverse("maintenance:task_link_task", args=[occ.pk])
    return client.post(url, {"note": "", "links": "", **data})


# --- the path that works ---------------------------------------------------------------------------------------


def test_link_opens_the_task_and_marks_it_done_with_evidence(client, clock, occ, owner):
    url = links.task_link_url(occ)
    assert url.startswith(settings.SITE_URL + reverse("maintenance:task_link") + "#")

    response = open_link(client, url)
    task_url = reverse("maintenance:task_link_task", args=[occ.pk])
    assert response.status_code == 302 and response["Location"] == task_url

    page = client.get(task_url)
    body = page.content.decode()
    assert page.status_code == 200
    assert "Review firewall rules" in body and "compare it with the approved baseline" in body
    assert 'name="note"' in body and 'name="files"' in body and 'name="links"' in body and "Mark done" in body

    clock.move_to(NOW + datetime.timedelta(hours=2))
    response = complete_via_link(
        client,
        occ,
        note="Two stale rules removed.",
        files=SimpleUploadedFile("ruleset.txt", REPORT, content_type="text/plain"),
        links="https://tickets.example.com/FW-12",
    )
    assert response.status_code == 200
    assert "Thank you" in response.content.decode() and "done on time" in response.content.decode()

    occ.refresh_from_db()
    assert occ.state == Occurrence.State.DONE and occ.status() == Occurrence.Status.DONE_ON_TIME
    assert occ.completed_by == owner and occ.completion_note == "Two stale rules removed."
    assert occ.completed_at == NOW + datetime.timedelta(hours=2)  # the server's time, not one the browser sent

    file_item = occ.evidence.get(type=EvidenceItem.Type.FILE)
    assert file_item.sha256 == hashlib.sha256(REPORT).hexdigest()
    assert file_item.original_name == "ruleset.txt" and file_item.size == len(REPORT)
    assert file_item.source == EvidenceItem.Source.TASK_LINK and file_item.submitted_by == owner
    with file_item.file.open("rb") as stored:
        assert stored.read() == REPORT
    link_item = occ.evidence.get(type=EvidenceItem.Type.LINK)
    assert link_item.url == "https://tickets.example.com/FW-12" and link_item.source == "task_link"

    event = occ.events.get()
    assert (event.action, event.actor, event.via) == (OccurrenceEvent.Action.COMPLETED, owner, "task link")
    assert outcomes() == ["opened", "completed"]
    assert set(TaskLinkUse.objects.values_list("occurrence_id", flat=True)) == {occ.pk}
    assert TaskLinkUse.objects.first().ip_address == "127.0.0.1"


def test_a_link_without_a_token_explains_itself(client, db):
    page = client.get(reverse("maintenance:task_link")).content.decode()
    assert "This address has no task in it" in page
    response = client.post(reverse("maintenance:task_link"), {"token": ""})
    refused(response, "forged", "This link is not valid")


# --- refusals --------------------------------------------------------------------------------------------------


def test_a_used_link_is_refused_and_recorded(client, occ):
    url = links.task_link_url(occ)
    open_link(client, url)
    complete_via_link(client, occ, note="done")

    refused(open_link(client, url), "stale", "This task is already done")
    assert outcomes() == ["opened", "completed", "stale"]
    # The grant ended with the task: the task page itself no longer opens either.
    page = client.get(reverse("maintenance:task_link_task", args=[occ.pk]))
    assert page.status_code == 403 and "Open this task from the link in your email." in page.content.decode()


@pytest.mark.parametrize("where", ["payload", "signature"])
def test_an_altered_link_is_refused_as_forged(client, occ, where):
    path, token = split(links.task_link_url(occ))
    i = 2 if where == "payload" else len(token) - 3
    forged = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]
    response = client.post(reverse("maintenance:task_link"), {"token": forged})
    refused(response, "forged", "This link is not valid. Copy the whole link from the email.")
    use = TaskLinkUse.objects.get()
    assert use.occurrence is None  # nothing in a forged token is trusted
    assert occ.state == "open" and not occ.events.exists()


def test_a_token_signed_for_something_else_is_refused(client, occ):
    token = signing.dumps({"o": occ.pk, "u": occ.owner_id, "v": occ.link_version})  # right key, wrong salt
    refused(client.post(reverse("maintenance:task_link"), {"token": token}), "forged", "This link is not valid")


def test_an_expired_link_is_refused(client, clock, occ):
    url = links.task_link_url(occ)
    clock.move_to(NOW + datetime.timedelta(days=settings.TASK_LINK_DAYS - 1))
    assert open_link(client, url).status_code == 302  # still good the day before
    clock.move_to(NOW + datetime.timedelta(days=settings.TASK_LINK_DAYS, minutes=-1))
    assert open_link(client, url).status_code == 302  # and a minute before

    clock.move_to(NOW + datetime.timedelta(days=settings.TASK_LINK_DAYS, minutes=1))
    refused(open_link(client, url), "expired", "This link has expired.")
    # A page opened before expiry stops working too.
    page = client.get(reverse("maintenance:task_link_task", args=[occ.pk]))
    refused(page, "expired", "This link has expired.")
    occ.refresh_from_db()
    assert occ.state == "open"


def test_after_reassignment_the_old_owners_link_is_refused(client, occ, compliance):
    old_url = links.task_link_url(occ)
    open_link(client, old_url)  # opened before the change: the open page stops working as well
    newcomer = UserFactory(username="dana", first_name="Dana", last_name="Ng")
    occ = occurrence_reassign(occurrence=occ, to=newcomer, by=compliance)

    refused(open_link(client, old_url), "stale", "This task has been given to someone else")
    response = complete_via_link(client, occ, note="I did it anyway")
    refused(response, "stale", "given to someone else")
    occ.refresh_from_db()
    assert occ.state == "open"

    fresh = links.task_link_url(occ)  # the new owner's link works
    assert open_link(client, fresh).status_code == 302
    complete_via_link(client, occ, note="Done by Dana")
    occ.refresh_from_db()
    assert occ.state == "done" and occ.completed_by == newcomer


def test_after_the_task_is_skipped_the_link_is_refused(client, occ, compliance):
    url = links.task_link_url(occ)
    occurrence_skip(occurrence=occ, by=compliance, reason="Firewall decommissioned")
    refused(open_link(client, url), "stale", "This task was skipped")
    assert TaskLinkUse.objects.get().occurrence_id == occ.pk


# --- the link is not a login -----------------------------------------------------------------------------------


def test_the_link_never_signs_anyone_in(client, occ):
    open_link(client, links.task_link_url(occ))
    assert "_auth_user_id" not in client.session
    response = client.get(reverse("maintenance:month"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))

    complete_via_link(client, occ, note="done")
    assert "_auth_user_id" not in client.session
    response = client.get(reverse("maintenance:month"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_link_grants_only_its_own_task(client, occ, owner):
    other_schedule = make_schedule(owner=owner, title="Patch servers", start_date=DUE)
    sibling = occ.schedule.occurrences.exclude(pk=occ.pk).first()
    open_link(client, links.task_link_url(occ))

    for other in (sibling, other_schedule.occurrences.first()):
        page = client.get(reverse("maintenance:task_link_task", args=[other.pk]))
        assert page.status_code == 403 and "Open this task from the link in your email." in page.content.decode()
        post = complete_via_link(client, other, note="sneaky")
        assert post.status_code == 403
        other.refresh_from_db()
        assert other.state == "open"

    for name, kwargs in [
        ("maintenance:occurrence", {"pk": occ.pk}),
        ("maintenance:schedules", {}),
        ("maintenance:agenda", {}),
        ("dashboard", {}),
    ]:
        response = client.get(reverse(name, kwargs=kwargs))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), name
    admin = client.get(reverse("admin:index"))
    assert admin.status_code == 302 and "login" in admin["Location"]


# --- bad evidence ----------------------------------------------------------------------------------------------


def assert_nothing_done(occ):
    occ.refresh_from_db()
    assert occ.state == "open" and occ.completed_at is None
    assert not occ.evidence.exists() and not occ.events.exists()
    assert outcomes() == ["opened"]


@override_settings(EVIDENCE_MAX_UPLOAD_MB=1)
def test_an_oversized_file_is_refused_and_nothing_is_done(client, occ):
    open_link(client, links.task_link_url(occ))
    big = SimpleUploadedFile("dump.bin", b"x" * (1024 * 1024 + 1))
    response = complete_via_link(client, occ, note="all done", files=big, links="https://tickets.example.com/FW-1")
    assert response.status_code == 200
    body = response.content.decode()
    assert "dump.bin is larger than" in body and "1 MB" in body
    assert_nothing_done(occ)


def test_an_empty_file_is_refused_and_nothing_is_done(client, occ):
    open_link(client, links.task_link_url(occ))
    response = complete_via_link(client, occ, note="all done", files=SimpleUploadedFile("empty.txt", b""))
    assert response.status_code == 200
    assert response.context["form"].errors["files"]
    assert "empty" in response.content.decode()
    assert_nothing_done(occ)


def test_a_bad_evidence_address_is_refused(client, occ):
    open_link(client, links.task_link_url(occ))
    response = complete_via_link(client, occ, note="all done", links="javascript:alert(1)")
    assert "javascript:alert(1) is not a web address" in response.content.decode()
    assert_nothing_done(occ)


# --- the token stays secret ------------------------------------------------------------------------------------


def test_the_token_is_neither_shown_nor_stored(client, occ):
    path, token = split(links.task_link_url(occ))
    pages = [client.get(path), open_link(client, links.task_link_url(occ))]
    pages.append(client.get(reverse("maintenance:task_link_task", args=[occ.pk])))
    pages.append(complete_via_link(client, occ, note="done", files=SimpleUploadedFile("a.txt", b"evidence")))
    for response in pages:
        assert token not in response.content.decode()
        assert token not in response.get("Location", "")
    assert token not in str(dict(client.session.items()))  # the grant ended with the task

    assert not [f.name for f in TaskLinkUse._meta.get_fields() if "token" in f.name]
    # No column of any table holds it, the session table included (test_task_link_session.py): the session keeps
    # only which task the link opened and until when, checked again on every request.
    for model in apps.get_models():
        columns = [f.attname for f in model._meta.concrete_fields if isinstance(f, models.CharField | models.TextField)]
        columns += [f.attname for f in model._meta.concrete_fields if isinstance(f, models.JSONField)]
        for row in model.objects.values_list(*columns) if columns else []:
            assert not any(token in str(value) for value in row), f"{model.__name__} stores the token"
