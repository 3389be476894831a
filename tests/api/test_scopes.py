"""Each endpoint needs its scope; a token without it gets a 403 saying which scope is missing."""

import pytest

from tests.factories import make_control, make_schedule


@pytest.fixture
def targets(owner):
    control = make_control(owner)
    occurrence = make_schedule(owner).occurrences.first()
    from evidence.services import evidence_add_note

    item = evidence_add_note(note="x", by=owner, source="web", control=control)
    return {"control": control, "occurrence": occurrence, "evidence": item}


def _call(client, what, t):
    match what:
        case "push":
            return client.post("/api/v1/evidence/", {"type": "note", "note": "x", "control": t["control"].pk})
        case "read":
            return client.get(f"/api/v1/evidence/{t['evidence'].pk}/")
        case "tasks":
            return client.get("/api/v1/tasks/")
        case "complete":
            return client.post(f"/api/v1/tasks/{t['occurrence'].pk}/complete/", {"note": "x"})


ALLOWED = {
    "push": {"evidence:write"},
    "read": {"evidence:write", "tasks:read"},
    "tasks": {"tasks:read"},
    "complete": {"tasks:write"},
}


@pytest.mark.parametrize("scope", ["evidence:write", "tasks:read", "tasks:write"])
@pytest.mark.parametrize("what", list(ALLOWED))
def test_scopes_are_enforced(api, owner, targets, scope, what):
    response = _call(api(owner, scopes=[scope]), what, targets)
    if scope in ALLOWED[what]:
        assert response.status_code in (200, 201), response.json()
    else:
        assert response.status_code == 403
        detail = response.json()["detail"]
        assert detail.startswith("This token lacks the scope") and f"this one has: {scope}." in detail
