"""Assessments and history: every change to scores, treatment or controls is an assessment (who, server time,
why, the snapshot); the history compares any two; "Reassess for this year" carries every field over."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from risks import services
from risks.models import Assessment


def test_a_change_is_an_assessment_with_who_when_why_and_the_snapshot(clock, compliance, owner, make_risk, control):
    risk = make_risk(owner)
    clock.advance(days=3)
    risk, assessment = services.risk_update(
        risk=risk, by=owner, reason="Immutable backups in place", residual_likelihood=2, controls=[control]
    )
    assert assessment.number == 2 and assessment.kind == "change"
    assert assessment.by == owner and assessment.by_name == str(owner)
    assert assessment.at == clock.now  # server time, not a date anyone typed
    assert assessment.reason == "Immutable backups in place"
    assert assessment.changed == ["residual_likelihood", "controls"]
    snap = assessment.snapshot
    assert snap["residual_score"] == 6 and snap["inherent_score"] == 16 and snap["matrix"] == 1
    assert [c["reference"] for c in snap["controls"]] == ["BC-01"]
    assert risk.residual_score == 6  # the register shows the latest


def test_a_change_without_a_reason_is_refused_and_nothing_saved(db, owner, make_risk):
    risk = make_risk(owner)
    with pytest.raises(ValidationError) as refused:
        services.risk_update(risk=risk, by=owner, residual_likelihood=1)
    assert "Say why" in refused.value.message_dict["reason"][0]
    risk.refresh_from_db()
    assert risk.residual_likelihood == 3 and risk.assessments.count() == 1


def test_a_new_title_alone_is_no_assessment(db, owner, make_risk):
    risk = make_risk(owner)
    _, assessment = services.risk_update(risk=risk, by=owner, title="Ransomware on the file servers")
    assert assessment is None and risk.assessments.count() == 1


def test_reassess_for_this_year_carries_every_field_over_inherent_included(client_as, clock, owner, make_risk, control):
    risk = make_risk(owner, controls=[control], target_likelihood=2, target_impact=2, treatment_plan="Backups")
    clock.advance(days=365)
    client = client_as(owner)
    form = client.get(reverse("risks:reassess", args=[risk.pk])).context["form"]
    data = {name: form[name].value() for name in form.fields}
    data = {k: v for k, v in data.items() if v is not None}
    data["controls"] = [control.pk]
    data["reason"] = "Annual reassessment 2027"
    response = client.post(reverse("risks:reassess", args=[risk.pk]), data)
    assert response.status_code == 302
    last = risk.assessments.order_by("-number").first()
    assert last.kind == "reassessment" and last.changed == []
    first = risk.assessments.get(number=1)
    for field in ("inherent_likelihood", "inherent_impact", "inherent_score", "residual_score", "target_score",
                  "treatment", "treatment_plan", "controls"):  # fmt: skip
        assert last.snapshot[field] == first.snapshot[field], field


def test_any_two_assessments_side_by_side(client_as, owner, compliance, make_risk, control):
    risk = make_risk(owner)
    services.risk_update(risk=risk, by=owner, reason="Backups added", residual_likelihood=2, controls=[control])
    services.risk_update(risk=risk, by=owner, reason="Treatment changed", treatment="transfer")
    page = client_as(owner).get(reverse("risks:compare", args=[risk.pk]), {"n": [1, 3]}).content.decode()
    assert "assessment 1 and 3" in page
    # Residual 9 Medium → 6 Medium, controls none → BC-01, treatment Mitigate → Transfer: marked as changed
    assert "9 (Medium): likelihood 3 Possible, impact 3 Moderate" in page
    assert "6 (Medium): likelihood 2 Unlikely, impact 3 Moderate" in page
    assert page.count('class="differs"') == 2 * 3
    assert "Backups added" not in page and "Treatment changed" in page  # the reasons of the two compared


def test_the_history_is_a_timeline_newest_first(client_as, viewer, owner, make_risk):
    risk = make_risk(owner)
    services.risk_update(risk=risk, by=owner, reason="Rescored", residual_impact=2)
    page = client_as(viewer).get(reverse("risks:history", args=[risk.pk])).content.decode()
    assert page.index("2. Changed") < page.index("1. Identified")
    assert Assessment.objects.filter(risk=risk).count() == 2
