"""Idempotency-Key: a retried write answers as the first one did and writes nothing; the same key with a
different request is refused with 422; refusals are not remembered."""

import pytest

from evidence.models import EvidenceItem, IdempotencyRecord
from tests.api.conftest import PDF, upload
from tests.factories import make_control, make_schedule

URL = "/api/v1/evidence/"


@pytest.fixture
def control(owner):
    return make_control(owner)


def _push(client, control, key, content=PDF, **fields):
    data = {"file": upload("scan.pdf", content), "control": control.pk, **fields}
    return client.post(URL, data, format="multipart", HTTP_IDEMPOTENCY_KEY=key)


def test_a_retried_upload_returns_the_same_evidence_and_stores_one_file(api, owner, control, stored_files):
    client = api(owner)
    first = _push(client, control, "scan-2026-03")
    second = _push(client, control, "scan-2026-03")
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert EvidenceItem.objects.count() == 1 and len(stored_files()) == 1
    record = IdempotencyRecord.objects.get()
    assert record.user == owner and record.key == "scan-2026-03" and record.response_body["id"] == first.json()["id"]


def test_the_same_key_with_another_file_is_a_422(api, owner, control, stored_files):
    client = api(owner)
    assert _push(client, control, "scan-2026-03").status_code == 201
    response = _push(client, control, "scan-2026-03", content=PDF + b"% changed\n")
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "“scan-2026-03” was already used on" in detail and "for a different request" in detail
    assert EvidenceItem.objects.count() == 1 and len(stored_files()) == 1


def test_the_same_key_with_other_fields_or_on_another_endpoint_is_a_422(api, owner, control):
    client = api(owner)
    body = {"type": "note", "note": "Scan clean.", "control": control.pk}
    assert client.post(URL, body, HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    assert client.post(URL, {**body, "title": "other"}, HTTP_IDEMPOTENCY_KEY="k").status_code == 422
    occurrence = make_schedule(owner).occurrences.first()
    response = client.post(f"/api/v1/tasks/{occurrence.pk}/complete/", {"note": "x"}, HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 422
    occurrence.refresh_from_db()
    assert occurrence.state == "open"


def test_a_refused_request_does_not_use_up_its_key(api, owner, control, stored_files):
    client = api(owner)
    refused = client.post(URL, {"type": "note", "note": "x", "control": 999999}, HTTP_IDEMPOTENCY_KEY="k")
    assert refused.status_code == 400 and not IdempotencyRecord.objects.exists()
    fixed = client.post(URL, {"type": "note", "note": "x", "control": control.pk}, HTTP_IDEMPOTENCY_KEY="k")
    assert fixed.status_code == 201


def test_keys_belong_to_their_user(api, owner, compliance, control):
    body = {"type": "note", "note": "x", "control": control.pk}
    assert api(owner).post(URL, body, HTTP_IDEMPOTENCY_KEY="same").status_code == 201
    other = api(compliance).post(URL, body, HTTP_IDEMPOTENCY_KEY="same")
    assert other.status_code == 201 and "Idempotent-Replayed" not in other
    assert EvidenceItem.objects.count() == 2


def test_two_tokens_of_one_user_share_the_key_space(api, owner, control):
    body = {"type": "note", "note": "x", "control": control.pk}
    first = api(owner).post(URL, body, HTTP_IDEMPOTENCY_KEY="k")
    second = api(owner).post(URL, body, HTTP_IDEMPOTENCY_KEY="k")
    assert second.json()["id"] == first.json()["id"]


@pytest.mark.parametrize("key", ["", "   ", "x" * 256, "clé", "two words"])
def test_an_unusable_key_is_a_400(api, owner, control, key):
    response = api(owner).post(
        URL, {"type": "note", "note": "x", "control": control.pk}, HTTP_IDEMPOTENCY_KEY=key.encode().decode("latin-1")
    )
    assert response.status_code == 400
    assert "Idempotency-Key header must be 1 to 255 visible ASCII characters" in response.json()["detail"]
    assert not EvidenceItem.objects.exists()


def test_without_a_key_each_request_writes(api, owner, control):
    client = api(owner)
    body = {"type": "note", "note": "x", "control": control.pk}
    client.post(URL, body)
    client.post(URL, body)
    assert EvidenceItem.objects.count() == 2


def test_a_retried_completion_replays_instead_of_saying_already_done(api, owner):
    occurrence = make_schedule(owner).occurrences.first()
    client = api(owner)
    url = f"/api/v1/tasks/{occurrence.pk}/complete/"
    body = {"note": "Scan done", "links": ["https://scanner.example/r/1"]}
    first = client.post(url, body, HTTP_IDEMPOTENCY_KEY="done-1")
    again = client.post(url, body, HTTP_IDEMPOTENCY_KEY="done-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert occurrence.evidence.count() == 1 and occurrence.events.count() == 1
    # Without the key the retry is told the truth.
    late = client.post(url, body)
    assert late.status_code == 409 and late.json()["detail"] == "This task is already done."


def test_another_user_cannot_replay_my_answer(api, owner, other_owner, control):
    body = {"type": "note", "note": "secret", "control": control.pk}
    mine = api(owner).post(URL, body, HTTP_IDEMPOTENCY_KEY="k")
    theirs = api(other_owner).post(URL, body, HTTP_IDEMPOTENCY_KEY="k")
    assert mine.status_code == 201 and theirs.status_code == 403


def test_a_concurrent_twin_that_loses_the_race_replays_the_winners_answer(api, owner, control, stored_files):
    """The twin did not see the winner's record when it looked, so it hits the unique key when claiming."""
    from unittest import mock

    client = api(owner)
    first = _push(client, control, "race")
    unseen = mock.Mock(return_value=IdempotencyRecord.objects.none())
    with mock.patch.object(IdempotencyRecord.objects, "select_for_update", unseen):
        twin = _push(client, control, "race")
    assert unseen.called
    assert twin.status_code == 201 and twin.json() == first.json() and twin["Idempotent-Replayed"] == "true"
    assert EvidenceItem.objects.count() == 1 and len(stored_files()) == 1
