"""Risk criteria: a versioned matrix. Changing it makes a new version; each assessment keeps the version it was
made under, so an old assessment is still read on its own scale."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from risks import services
from risks.models import Matrix


def test_the_default_criteria_are_a_5x5_matrix_with_four_levels(db):
    matrix = services.matrix_ensure()
    assert matrix.number == 1 and matrix.size == 5 and matrix.max_score == 25
    assert [b["label"] for b in matrix.bands] == ["Low", "Medium", "High", "Critical"]
    assert (
        matrix.band(4)["label"] == "Low" and matrix.band(12)["label"] == "High" and matrix.band(25)["key"] == "critical"
    )
    assert matrix.needs_approval(10) and not matrix.needs_approval(9)


def test_changing_the_criteria_makes_a_new_version_and_keeps_old_assessments_readable(
    client_as, compliance, owner, make_risk
):
    risk = make_risk(owner)
    old = risk.assessments.get()
    response = client_as(compliance).post(
        reverse("risks:criteria_edit"),
        {
            "size": 3,
            "likelihood_levels": "Low | rare | #e8f5e9\nMedium | | #fff8e1\nHigh | often | #ffebee",
            "impact_levels": "Low | | #e8f5e9\nMedium | | #fff8e1\nHigh | | #ffebee",
            "bands": "Low | 2 | #2e7d32 | 12\nMedium | 4 | #f9a825 | 6\nHigh | 9 | #c62828 | 1",
            "acceptance_threshold": 4,
            "approvers": "compliance",
            "note": "Simpler scale for a small company.",
        },
    )
    assert response.status_code == 302
    assert list(Matrix.objects.values_list("number", "size")) == [(2, 3), (1, 5)]
    old.refresh_from_db()
    assert old.matrix.number == 1  # read on the scale it was made on
    page = client_as(compliance).get(reverse("risks:history", args=[risk.pk])).content.decode()
    assert "criteria v1" in page and "16 Critical" in page
    # The risk's next change is assessed on the new criteria, whose scale its levels must fit.
    with pytest.raises(ValidationError) as refused:
        services.risk_update(risk=risk, by=compliance, reason="Rescored", residual_likelihood=2)
    assert "from 1 to 3" in str(refused.value)
    _, assessment = services.risk_update(
        risk=risk, by=compliance, reason="Rescored on the 3×3 criteria", inherent_likelihood=3, inherent_impact=3,
        residual_likelihood=2, residual_impact=2,
    )  # fmt: skip
    assert assessment.matrix.number == 2 and assessment.residual_score == 4


@pytest.mark.parametrize(
    ("field", "change", "words"),
    [
        ("size", {"size": 6}, "3 to 5 levels"),
        ("bands", {"bands": [{"key": "low", "label": "Low", "upto": 10, "colour": "#2e7d32", "review_months": 12}]},
         "highest score, 25"),
        ("acceptance_threshold", {"acceptance_threshold": 30}, "from 1 to 25"),
        ("likelihood_levels", {"likelihood_levels": [{"label": "Only one", "colour": "#ffffff"}]}, "exactly 5 levels"),
        ("bands", {"bands": [{"key": "x", "label": "All", "upto": 25, "colour": "red", "review_months": 12}]},
         "#rrggbb"),
    ],
)  # fmt: skip
def test_bad_criteria_are_refused_with_a_reason_and_nothing_saved(db, field, change, words):
    values = {**services._copy(services.DEFAULT_5X5), **change}
    with pytest.raises(ValidationError) as refused:
        services.matrix_save(by=None, **values)
    assert words in " ".join(refused.value.message_dict[field])
    assert not Matrix.objects.exists()


def test_the_criteria_page_reads_for_everyone_and_only_managers_change_it(client_as, viewer, compliance):
    page = client_as(viewer).get(reverse("risks:criteria")).content.decode()
    assert "Almost certain" in page and "Critical" in page and "Change (makes a new version)" not in page
    assert "Change (makes a new version)" in client_as(compliance).get(reverse("risks:criteria")).content.decode()


def test_saving_a_risk_unchanged_keeps_it_on_its_criteria(db, compliance, owner, make_risk):
    risk = make_risk(owner)
    services.matrix_save(by=compliance, **{**services._copy(services.DEFAULT_5X5), "acceptance_threshold": 6})
    same = {f: getattr(risk, f) for f in ("inherent_likelihood", "inherent_impact", "residual_likelihood", "treatment")}
    risk, assessment = services.risk_update(risk=risk, by=owner, title="Renamed", controls=[], **same)
    assert assessment is None and risk.matrix.number == 1
