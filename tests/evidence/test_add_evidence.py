"""Adding evidence through the form: a file, a link or a note for a task, a control or a requirement. Bad
files are refused with a form error and leave neither a file in MEDIA_ROOT nor a row."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from evidence.models import EvidenceItem
from tests.evidence.conftest import D, stored_files


@pytest.fixture
def add_url(world):
    return reverse("evidence:create", args=["control", world["mine"].pk])


def test_owner_adds_a_file_to_their_control_with_its_period(client, owner, world, add_url, media_root):
    client.force_login(owner)
    content = b"Access review 2026 Q1: 212 accounts, 9 removed.\n"
    response = client.post(
        add_url,
        {
            "type": "file",
            "title": "Q1 access review export",
            "file": SimpleUploadedFile("review.csv", content),
            "effective_date": "2026-03-09",
            "period_start": "2026-01-01",
            "period_end": "2026-03-31",
        },
    )
    item = EvidenceItem.objects.get(title="Q1 access review export")
    assert response.status_code == 302 and response["Location"] == reverse("evidence:detail", args=[item.pk])
    assert (item.type, item.source, item.control, item.submitted_by) == ("file", "web", world["mine"], owner)
    assert (item.effective_date, item.period_start, item.period_end) == (D(2026, 3, 9), D(2026, 1, 1), D(2026, 3, 31))
    assert item.sha256 == hashlib.sha256(content).hexdigest() and item.size == len(content)
    assert item.content_type == "text/csv"
    page = client.get(reverse("evidence:detail", args=[item.pk])).content.decode()
    for fact in (item.sha256, "review.csv", "1 Jan 2026 – 31 Mar 2026", "9 March 2026", "AC-01", "Web"):
        assert fact in page


def test_evidence_on_a_task_also_counts_for_its_control(client, owner, world):
    occ = world["mine_occ"]
    client.force_login(owner)
    client.post(
        reverse("evidence:create", args=["occurrence", occ.pk]),
        {"type": "link", "url": "https://tickets.example.com/ISMS-42"},
    )
    item = EvidenceItem.objects.get(url="https://tickets.example.com/ISMS-42")
    assert item.occurrence == occ and item.control == world["mine"]


def test_a_note_and_a_link_need_their_content(client, owner, add_url):
    client.force_login(owner)
    response = client.post(add_url, {"type": "note", "note": "   "})
    assert "Write the note." in response.content.decode()
    response = client.post(add_url, {"type": "link", "url": "javascript:alert(document.cookie)"})
    assert "is not a web address" in response.content.decode()
    response = client.post(add_url, {"type": "file"})
    assert "Choose a file." in response.content.decode()
    response = client.post(
        add_url, {"type": "note", "note": "ok", "period_start": "2026-03-01", "period_end": "2026-01-01"}
    )
    assert "The period ends before it starts." in response.content.decode()
    assert not EvidenceItem.objects.filter(control__reference="AC-01", occurrence=None).exists()


BAD_FILES = {
    "empty": (SimpleUploadedFile("empty.txt", b""), "empty"),
    "html named pdf": (
        SimpleUploadedFile("scan.pdf", b"<!doctype html><html><script>alert(1)</script></html>"),
        "its content is not a PDF file",
    ),
    "exe named pdf": (SimpleUploadedFile("report.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200), "not accepted"),
    "html named txt": (SimpleUploadedFile("notes.txt", b"hello <script>steal()</script>"), "HTML or script"),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_bad_files_are_refused_and_leave_nothing(client, owner, world, add_url, media_root, case):
    before = (EvidenceItem.objects.count(), sorted(stored_files(media_root)))
    upload, message = BAD_FILES[case]
    upload.seek(0)
    client.force_login(owner)
    response = client.post(add_url, {"type": "file", "file": upload})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert (EvidenceItem.objects.count(), sorted(stored_files(media_root))) == before


@override_settings(EVIDENCE_MAX_UPLOAD_MB=1)
def test_a_file_over_the_limit_is_refused_and_leaves_nothing(client, owner, world, add_url, media_root):
    before = (EvidenceItem.objects.count(), sorted(stored_files(media_root)))
    client.force_login(owner)
    big = SimpleUploadedFile("big.txt", b"x" * (2 * 1024 * 1024))
    response = client.post(add_url, {"type": "file", "file": big})
    assert response.status_code == 200 and "larger than the 1 MB limit" in response.content.decode()
    assert (EvidenceItem.objects.count(), sorted(stored_files(media_root))) == before


def test_a_path_in_the_file_name_is_stored_safely(client, owner, world, add_url, media_root, tmp_path):
    client.force_login(owner)
    response = client.post(
        add_url, {"type": "file", "file": SimpleUploadedFile("../../etc/passwd.txt", b"root:x:0:0\n")}
    )
    assert response.status_code == 302
    item = EvidenceItem.objects.get(sha256=hashlib.sha256(b"root:x:0:0\n").hexdigest())
    assert item.original_name == "passwd.txt"
    stored = (media_root / item.file.name).resolve()
    assert stored.is_file() and stored.is_relative_to(media_root.resolve())
    assert "passwd" not in item.file.name and ".." not in item.file.name
    assert not (tmp_path / "etc").exists() and not (media_root.parent / "etc").exists()


def test_viewer_cannot_add(client, viewer, add_url):
    client.force_login(viewer)
    assert client.post(add_url, {"type": "note", "note": "hello"}).status_code == 403
    assert not EvidenceItem.objects.filter(note="hello").exists()
