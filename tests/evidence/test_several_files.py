"""Several files at once: every bad file is reported by name with its reason, nothing is recorded, and the
message names the good ones to choose again (a browser cannot keep chosen files after the page is sent)."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from evidence.forms import EvidenceForm, TaskCompleteForm
from evidence.models import EvidenceItem
from evidence.services import occurrence_complete_with_evidence
from isms.maintenance import links
from isms.maintenance.models import Occurrence
from tests.evidence.conftest import stored_files
from tests.factories import make_schedule


def files():
    return [
        SimpleUploadedFile("a.pdf", b"%PDF-1.4 report"),
        SimpleUploadedFile("tool.exe", b"MZ\x90\x00" + b"\x00" * 60),
        SimpleUploadedFile("notes.txt", b"fine\n"),
        SimpleUploadedFile("empty.csv", b""),
        SimpleUploadedFile("page.txt", b"<html><script>alert(1)</script>"),
    ]


@pytest.fixture
def task(clock, owner):
    return make_schedule(owner=owner).occurrences.first()


def test_the_completion_form_lists_every_bad_file_and_the_good_ones_to_choose_again(task):
    form = TaskCompleteForm({"note": "done"}, {"files": files()})
    assert not form.is_valid()
    text = " ".join(form.errors["files"])
    for bad in ("tool.exe", "empty.csv", "page.txt"):
        assert bad in text
    assert "Nothing was recorded" in text and "choose the files again" in text and "a.pdf, notes.txt were fine" in text


def test_the_service_refuses_the_whole_completion_and_names_every_bad_file(task, owner, media_root):
    with pytest.raises(ValidationError) as refused:
        occurrence_complete_with_evidence(occurrence=task, by=owner, files=files())
    text = " ".join(refused.value.messages)
    assert all(name in text for name in ("tool.exe", "empty.csv", "page.txt"))
    task.refresh_from_db()
    assert task.state == Occurrence.State.OPEN and not EvidenceItem.objects.exists() and not stored_files(media_root)


def test_the_task_link_page_keeps_the_note_and_links_and_lists_every_bad_file(client, task):
    client.post(reverse("maintenance:task_link"), {"token": links.make_token(task)})
    response = client.post(
        reverse("maintenance:task_link_task", args=[task.pk]),
        {"note": "Scanned everything", "links": "https://tickets.example/1", "files": files()},
    )
    body = response.content.decode()
    assert "tool.exe" in body and "empty.csv" in body and "page.txt" in body
    assert "Scanned everything" in body and "https://tickets.example/1" in body
    task.refresh_from_db()
    assert task.state == Occurrence.State.OPEN


def test_the_add_page_asks_to_choose_a_good_file_again_when_another_field_is_wrong(client, owner, world):
    client.force_login(owner)
    response = client.post(
        reverse("evidence:create", args=["control", world["mine"].pk]),
        {
            "type": "file",
            "file": SimpleUploadedFile("review.csv", b"a,b\n"),
            "period_start": "2026-03-01",
            "period_end": "2026-01-01",
        },
    )
    body = response.content.decode()
    assert "The period ends before it starts." in body and "choose review.csv again" in body.lower()
    form = EvidenceForm({"type": "file"}, {"file": SimpleUploadedFile("tool.exe", b"MZ\x90\x00" + b"\x00" * 60)})
    assert not form.is_valid() and "choose the file again" in " ".join(form.errors["file"]).lower()
