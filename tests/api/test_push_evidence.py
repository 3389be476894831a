"""POST /api/v1/evidence/: a file (multipart) or a link or note (JSON) for a control, task or requirement,
recorded with source "api"; who may push for what follows the web's rules."""

import hashlib

import pytest

from evidence.models import EvidenceItem
from tests.api.conftest import PDF, upload
from tests.factories import make_control, make_requirement, make_schedule

URL = "/api/v1/evidence/"


@pytest.fixture
def control(owner):
    return make_control(owner)


def test_push_a_file_for_a_control(api, owner, control, stored_files):
    response = api(owner).post(
        URL,
        {
            "file": upload("scan-2026-03.pdf"),
            "control": control.pk,
            "title": "March vulnerability scan",
            "effective_date": "2026-03-01",
            "period_start": "2026-03-01",
            "period_end": "2026-03-31",
        },
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    item = EvidenceItem.objects.get()
    assert body["id"] == item.pk and body["sha256"] == hashlib.sha256(PDF).hexdigest() == item.sha256
    assert body["source"] == "api" and body["submitted_by"] == owner.username
    assert body["type"] == "file" and body["content_type"] == "application/pdf" and body["size"] == len(PDF)
    assert body["original_name"] == "scan-2026-03.pdf" and body["title"] == "March vulnerability scan"
    assert body["period_end"] == "2026-03-31" and body["control"] == control.pk
    assert body["download_url"].endswith(f"/evidence/{item.pk}/download/")
    assert item.source == "api" and item.control == control
    assert stored_files() == [item.file.name]
    with item.file.open("rb") as handle:
        assert handle.read() == PDF


def test_push_a_link_and_a_note_as_json(api, owner, control):
    client = api(owner)
    link = client.post(URL, {"type": "link", "url": "https://scanner.example/reports/42", "control": control.pk})
    assert link.status_code == 201, link.json()
    assert link.json()["url"] == "https://scanner.example/reports/42"
    assert link.json()["title"] == "https://scanner.example/reports/42"
    note = client.post(
        URL, {"type": "note", "note": "No critical findings.\nDetails in the ticket.", "control": control.pk}
    )
    assert note.status_code == 201
    assert note.json()["title"] == "No critical findings."
    assert list(EvidenceItem.objects.values_list("type", "source").order_by("pk")) == [("link", "api"), ("note", "api")]


def test_push_for_my_task(api, owner):
    occurrence = make_schedule(owner).occurrences.first()
    response = api(owner).post(URL, {"type": "note", "note": "Scan ran.", "occurrence": occurrence.pk})
    assert response.status_code == 201
    assert EvidenceItem.objects.get().occurrence == occurrence


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({"type": "note", "note": "x", "control": 999999}, "control", "No control with id 999999."),
        (
            {"type": "note", "note": "x", "control": "AC-01"},
            "control",
            "Give the control's id as a whole number, not “AC-01”.",
        ),
        ({"type": "note", "note": "x", "occurrence": 999999}, "occurrence", "No task with id 999999."),
        ({"type": "note", "note": "x", "requirement": 999999}, "requirement", "No requirement with id 999999."),
        ({"type": "note", "note": "x"}, "control", "Say what this is evidence for"),
        ({"type": "link", "control": "{control}"}, "url", "A link needs its url."),
        ({"type": "link", "url": "ftp://x.example/a", "control": "{control}"}, "url", "http:// or https://"),
        ({"type": "link", "url": "javascript:alert(1)", "control": "{control}"}, "url", "http:// or https://"),
        ({"type": "note", "note": "  ", "control": "{control}"}, "note", "A note needs its text."),
        ({"type": "file", "control": "{control}"}, "type", "Files are sent as multipart/form-data"),
        ({"note": "x", "control": "{control}"}, "type", "This field is required."),
        (
            {
                "type": "note",
                "note": "x",
                "control": "{control}",
                "period_start": "2026-03-31",
                "period_end": "2026-03-01",
            },
            "period_end",
            "The period ends before it starts.",
        ),
        (
            {"type": "note", "note": "x", "control": "{control}", "effective_date": "31/03/2026"},
            "effective_date",
            "Date",
        ),
    ],
)
def test_bad_json_is_a_400_naming_the_field(api, owner, control, body, field, message):
    body = {k: control.pk if v == "{control}" else v for k, v in body.items()}
    response = api(owner).post(URL, body)
    assert response.status_code == 400, response.json()
    assert any(message in m for m in response.json()[field]), response.json()
    assert not EvidenceItem.objects.exists()


def test_a_missing_control_in_a_multipart_upload_is_a_400_and_stores_nothing(api, owner, stored_files):
    response = api(owner).post(URL, {"file": upload(), "control": 424242}, format="multipart")
    assert response.status_code == 400
    assert response.json() == {"control": ["No control with id 424242."]}
    assert stored_files() == [] and not EvidenceItem.objects.exists()


def test_multipart_without_a_file_is_a_400(api, owner, control):
    response = api(owner).post(URL, {"control": control.pk, "title": "x"}, format="multipart")
    assert response.status_code == 400 and response.json()["file"] == ["No file was submitted."]


def test_an_unknown_body_type_is_a_415(api, owner):
    response = api(owner).generic("POST", URL, b"hello", content_type="text/plain")
    assert response.status_code == 415


def test_malformed_json_is_a_400(api, owner):
    response = api(owner).generic("POST", URL, b"{not json", content_type="application/json")
    assert response.status_code == 400 and "JSON parse error" in response.json()["detail"]


def test_an_owner_may_not_push_for_another_owners_control(api, owner, other_owner, stored_files):
    theirs = make_control(other_owner, reference="HR-01")
    response = api(owner).post(URL, {"file": upload(), "control": theirs.pk}, format="multipart")
    assert response.status_code == 403
    assert response.json()["detail"].startswith("You do not own control HR-01")
    assert stored_files() == [] and not EvidenceItem.objects.exists()


def test_an_owner_cannot_even_name_another_owners_task(api, owner, other_owner):
    theirs = make_schedule(other_owner).occurrences.first()
    response = api(owner).post(URL, {"type": "note", "note": "x", "occurrence": theirs.pk})
    # Out of reach looks exactly like missing: ids cannot be probed.
    assert response.status_code == 400
    assert response.json() == {"occurrence": [f"No task with id {theirs.pk}."]}


def test_an_owner_may_attach_to_a_requirement_only_through_their_own_control(api, owner, compliance):
    mapped = make_requirement(identifier="8.8", title="Management of technical vulnerabilities")
    make_control(owner, requirements=[mapped])
    unmapped = make_requirement(identifier="5.1", title="Policies for information security")
    client = api(owner)
    assert client.post(URL, {"type": "note", "note": "Scan policy.", "requirement": mapped.pk}).status_code == 201
    refused = client.post(URL, {"type": "note", "note": "x", "requirement": unmapped.pk})
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("None of your controls satisfies requirement 5.1")
    assert api(compliance).post(URL, {"type": "note", "note": "x", "requirement": unmapped.pk}).status_code == 201


def test_a_viewer_may_not_push_evidence_for_a_control_they_do_not_own(api, viewer, control):
    response = api(viewer).post(URL, {"type": "note", "note": "x", "control": control.pk})
    assert response.status_code == 403
    assert response.json()["detail"].startswith(f"You do not own control {control.reference}")


def test_a_manager_may_push_for_any_control(api, compliance, control):
    response = api(compliance).post(URL, {"type": "link", "url": "https://x.example/", "control": control.pk})
    assert response.status_code == 201


def test_evidence_with_an_expiry_puts_a_renewal_task_on_the_owners_calendar(api, owner, control):
    from isms.maintenance.models import Occurrence

    response = api(owner).post(
        URL, {"type": "link", "url": "https://x.example/cert", "control": control.pk, "expires_on": "2027-06-30"}
    )
    assert response.status_code == 201
    # Due 14 days before the expiry (evidence/services.py RENEWAL_LEAD_DAYS).
    assert Occurrence.objects.filter(owner=owner, due_date="2027-06-16", title__startswith="Renew evidence").exists()
