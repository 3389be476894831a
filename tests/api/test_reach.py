"""GET /api/v1/evidence/{id}/: only evidence within the role's reach, as on the web; every other id is a
404 that looks exactly like a missing one, so ids cannot be probed."""

import pytest

from evidence.services import evidence_add_note
from tests.factories import make_control, make_schedule


@pytest.fixture
def theirs(other_owner):
    occurrence = make_schedule(other_owner).occurrences.first()
    return evidence_add_note(note="Their secret finding", by=other_owner, source="web", occurrence=occurrence)


@pytest.fixture
def mine(owner):
    return evidence_add_note(note="My finding", by=owner, source="api", control=make_control(owner))


def test_an_owner_reads_their_own_evidence(api, owner, mine):
    response = api(owner, scopes=["evidence:write"]).get(f"/api/v1/evidence/{mine.pk}/")
    assert response.status_code == 200 and response.json()["note"] == "My finding"


def test_evidence_on_my_task_submitted_by_someone_else_is_in_reach(api, owner, compliance):
    occurrence = make_schedule(owner).occurrences.first()
    item = evidence_add_note(note="From compliance", by=compliance, source="web", occurrence=occurrence)
    assert api(owner).get(f"/api/v1/evidence/{item.pk}/").status_code == 200


def test_out_of_reach_evidence_is_a_404_like_a_missing_id(api, owner, theirs):
    client = api(owner)
    out_of_reach = client.get(f"/api/v1/evidence/{theirs.pk}/")
    missing = client.get("/api/v1/evidence/987654/")
    assert out_of_reach.status_code == missing.status_code == 404
    assert out_of_reach.json() == missing.json() == {"detail": "No evidence with this id that you may read."}
    assert b"secret" not in out_of_reach.content


@pytest.mark.parametrize("pk", [0, 2**63, 10**30])
def test_absurd_ids_are_404s(api, owner, pk):
    assert api(owner).get(f"/api/v1/evidence/{pk}/").status_code == 404


@pytest.mark.parametrize("role", ["viewer", "compliance", "admin"])
def test_viewers_and_managers_read_everything(api, users, theirs, role):
    assert api(users[role], scopes=["tasks:read"]).get(f"/api/v1/evidence/{theirs.pk}/").status_code == 200


def test_an_auditor_cannot_hold_a_working_token(api, owner, auditor, theirs):
    from evidence.models import ApiToken

    # Made while staff, the account later became an auditor's: the token stops working.
    client = api(owner)
    ApiToken.objects.filter(pk=client.token.pk).update(user=auditor)
    assert client.get(f"/api/v1/evidence/{theirs.pk}/").status_code == 401


def test_evidence_on_my_control_submitted_by_someone_else_is_in_reach(api, owner, compliance):
    item = evidence_add_note(note="Pen test summary", by=compliance, source="web", control=make_control(owner))
    assert api(owner).get(f"/api/v1/evidence/{item.pk}/").json()["web_url"].endswith(f"/evidence/{item.pk}/")
