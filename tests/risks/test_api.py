"""The risk API: read risks, assessments and the queue; record a review or a change; token scopes."""

import datetime

from risks.models import Assessment


def test_read_risks_assessments_and_the_queue(clock, api, owner, make_risk):
    risk = make_risk(owner)
    client = api(owner, scopes=["risks:read"])
    listed = client.get("/api/v1/risks/").json()
    assert listed["count"] == 1 and listed["results"][0]["reference"] == "R-01"
    assert listed["results"][0]["residual_level"] == "Medium"
    assert client.get(f"/api/v1/risks/{risk.pk}/").json()["inherent_score"] == 16
    history = client.get(f"/api/v1/risks/{risk.pk}/assessments/").json()
    assert [a["kind"] for a in history] == ["identified"] and history[0]["matrix_version"] == 1
    clock.move_to(risk.next_review_on)
    assert [r["reference"] for r in client.get("/api/v1/risks/queue/").json()["due"]] == ["R-01"]


def test_record_a_review_and_a_change(clock, api, owner, make_risk):
    risk = make_risk(owner)
    client = api(owner, scopes=["risks:write"])
    review = client.post(f"/api/v1/risks/{risk.pk}/assessments/", {"note": "Checked: no change"}, format="json")
    assert review.status_code == 201 and review.json()["kind"] == "review" and review.json()["via"] == "api"
    change = client.post(
        f"/api/v1/risks/{risk.pk}/assessments/",
        {"kind": "change", "note": "Patched", "residual_likelihood": 2},
        format="json",
    )
    assert change.status_code == 201 and change.json()["residual_score"] == 6
    assert Assessment.objects.filter(risk=risk).count() == 3


def test_bad_input_is_refused_with_a_reason(clock, api, owner, make_risk):
    risk = make_risk(owner)
    client = api(owner, scopes=["risks:write"])
    future = (clock.today + datetime.timedelta(days=2)).isoformat()
    response = client.post(f"/api/v1/risks/{risk.pk}/assessments/", {"note": "x", "reviewed_on": future}, format="json")
    assert response.status_code == 400 and "future" in response.json()["detail"]
    response = client.post(f"/api/v1/risks/{risk.pk}/assessments/", {"note": "x", "residual_impact": 9}, format="json")
    assert response.status_code == 400 and "residual_impact" in response.json()
    assert Assessment.objects.filter(risk=risk).count() == 1


def test_scopes_and_reach(clock, api, owner, other_owner, make_risk):
    risk = make_risk(other_owner)
    assert api(owner, scopes=["tasks:read"]).get("/api/v1/risks/").status_code == 403
    assert (
        api(owner, scopes=["risks:read"]).post(f"/api/v1/risks/{risk.pk}/assessments/", {"note": "x"}).status_code
        == 403
    )
    assert api(owner, scopes=["risks:read"]).get(f"/api/v1/risks/{risk.pk}/").status_code == 404
