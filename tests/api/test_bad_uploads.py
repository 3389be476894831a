"""Files the API refuses: each a 400 with a message, and nothing left behind (no file, no row)."""

from unittest import mock

import pytest
from django.db import DatabaseError

from evidence.models import EvidenceItem, IdempotencyRecord
from tests.api.conftest import PDF, upload
from tests.factories import make_control, make_schedule

URL = "/api/v1/evidence/"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


@pytest.fixture
def control(owner):
    return make_control(owner)


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("report.pdf", EXE, "report.pdf is a application/x-msdownload file, which is not accepted"),
        ("report.exe", EXE, "is not accepted as evidence"),
        ("report.pdf", HTML, "report.pdf is named .pdf but its content is not a PDF file."),
        ("report.html", HTML, "report.html: this kind of file is not accepted as evidence."),
        ("report.txt", HTML, "report.txt contains HTML or script"),
        ("report.txt", b"", "report.txt is empty."),
        ("report.png", PDF, "report.png contains a PDF file but is named .png."),
    ],
)
def test_disguised_active_empty_and_mislabelled_files_are_refused(
    api, owner, control, stored_files, name, content, message
):
    response = api(owner).post(URL, {"file": upload(name, content), "control": control.pk}, format="multipart")
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert stored_files() == []
    assert not EvidenceItem.objects.exists()


def test_a_file_over_the_limit_is_refused(api, owner, control, stored_files, settings):
    settings.EVIDENCE_MAX_UPLOAD_MB = 1
    big = b"a,b\n" * (1024 * 1024 // 4 + 1)
    response = api(owner).post(URL, {"file": upload("scan.csv", big), "control": control.pk}, format="multipart")
    assert response.status_code == 400
    assert response.json()["detail"] == "scan.csv is larger than the 1 MB limit."
    assert stored_files() == [] and not EvidenceItem.objects.exists()


@pytest.mark.parametrize(
    "name",
    ["../../etc/cron.d/evil.pdf", "..\\..\\windows\\evil.pdf", "/etc/passwd", "..", "reports&#47;..&#47;evil.pdf"],
)
def test_a_file_name_with_folders_is_refused_before_anything_is_stored(api, owner, control, stored_files, name):
    # Built by hand: Django's test client would strip the folders from the name itself.
    boundary = "----isms-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="control"\r\n\r\n{control.pk}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + PDF
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = api(owner).generic("POST", URL, body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 400
    assert "has folders or control characters in it" in response.json()["detail"]
    assert stored_files() == [] and not EvidenceItem.objects.exists()


def test_a_name_with_dots_but_no_folders_is_fine(api, owner, control, stored_files):
    response = api(owner).post(URL, {"file": upload("scan..2026.pdf"), "control": control.pk}, format="multipart")
    assert response.status_code == 201
    assert response.json()["original_name"] == "scan..2026.pdf"
    assert len(stored_files()) == 1


def test_if_the_write_fails_after_the_file_was_stored_the_file_is_removed(api, owner, control, stored_files):
    client = api(owner)
    with (
        mock.patch("evidence.api.services._remember", side_effect=DatabaseError("disk full")),
        pytest.raises(DatabaseError),
    ):
        client.post(URL, {"file": upload(), "control": control.pk}, format="multipart", HTTP_IDEMPOTENCY_KEY="k1")
    assert stored_files() == []
    assert not EvidenceItem.objects.exists() and not IdempotencyRecord.objects.exists()


def test_completing_a_task_with_one_bad_file_keeps_neither_file_and_leaves_the_task_open(api, owner, stored_files):
    occurrence = make_schedule(owner).occurrences.first()
    response = api(owner).post(
        f"/api/v1/tasks/{occurrence.pk}/complete/",
        {"note": "done", "files": [upload("good.pdf"), upload("bad.pdf", HTML)]},
        format="multipart",
    )
    assert response.status_code == 400
    assert "bad.pdf is named .pdf" in response.json()["detail"]
    assert stored_files() == []
    assert not EvidenceItem.objects.exists()
    occurrence.refresh_from_db()
    assert occurrence.state == "open" and not occurrence.events.exists()
