"""The register: references from a locked sequence, scores within the matrix, the list with coloured badges,
filters and downloads, the detail page, and the SoA's column of the risks behind each Annex A control."""

import csv
import io

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from controls.services import soa_entries_ensure
from risks import services
from risks.models import Assessment, Risk


def test_references_come_from_a_sequence_never_reused(db, owner, make_risk):
    first, second = make_risk(owner), make_risk(owner, title="Second")
    assert (first.reference, second.reference) == ("R-01", "R-02")
    second.delete()  # max()+1 would hand out R-02 again
    assert make_risk(owner, title="Third").reference == "R-03"


@pytest.mark.parametrize("field", ["inherent_likelihood", "residual_impact", "target_likelihood"])
def test_a_score_outside_the_matrix_is_refused_and_nothing_saved(db, owner, make_risk, field):
    extra = {"target_impact": 2} if field == "target_likelihood" else {}
    with pytest.raises(ValidationError) as refused:
        make_risk(owner, **{field: 6}, **extra)
    assert "from 1 to 5" in refused.value.message_dict[field][0]
    assert not Risk.objects.exists() and not Assessment.objects.exists()


def test_the_form_says_which_score_is_outside_the_matrix(client_as, compliance, owner):
    data = {
        "title": "T", "asset": "A", "threat": "T", "vulnerability": "V", "owner": owner.pk,
        "inherent_likelihood": 9, "inherent_impact": 3, "residual_likelihood": 2, "residual_impact": 2,
        "treatment": "mitigate",
    }  # fmt: skip
    response = client_as(compliance).post(reverse("risks:create"), data)
    assert response.status_code == 200
    assert "Choose a level from 1 to 5" in response.content.decode()
    assert not Risk.objects.exists()


def test_the_register_lists_scores_as_coloured_badges_and_filters(client_as, viewer, owner, other_owner, make_risk):
    make_risk(
        owner, title="Phishing", inherent_likelihood=5, inherent_impact=5, residual_likelihood=1, residual_impact=2
    )
    make_risk(
        other_owner, title="Flood", inherent_likelihood=2, inherent_impact=2, residual_likelihood=2, residual_impact=2
    )
    page = client_as(viewer).get(reverse("risks:index")).content.decode()
    assert "Phishing" in page and "Flood" in page
    assert 'risk-band-1-critical">25 Critical' in page and 'risk-band-1-low">2 Low' in page
    assert reverse("risks:criteria_css") in page  # the colours' stylesheet (no inline style under the CSP)
    css = client_as(viewer).get(reverse("risks:criteria_css")).content.decode()
    assert ".risk-band-1-critical{background-color:#c62828;color:#fff}" in css
    cell = client_as(viewer).get(reverse("risks:index"), {"il": 5, "ii": 5}).content.decode()
    assert "Phishing" in cell and "Flood" not in cell
    low = client_as(viewer).get(reverse("risks:index"), {"level": "low"}).content.decode()
    assert "Phishing" in low and "Flood" in low


def test_a_control_owner_sees_their_own_and_their_departments_risks_only(client_as, owner, other_owner, make_risk):
    make_risk(owner, title="Mine")
    make_risk(other_owner, title="Theirs in HR")
    page = client_as(owner).get(reverse("risks:index")).content.decode()
    assert "Mine" in page and "Theirs in HR" not in page


def test_the_download_has_every_column_the_import_reads(client_as, compliance, owner, make_risk, control):
    make_risk(owner, controls=[control], target_likelihood=2, target_impact=2)
    response = client_as(compliance).get(reverse("risks:index"), {"export": "csv"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0]["Reference"] == "R-01" and rows[0]["Owner"] == owner.email and rows[0]["Controls"] == "BC-01"
    assert rows[0]["Inherent likelihood"] == "4" and rows[0]["Residual"] == "9" and rows[0]["Target"] == "4"
    assert rows[0]["Treatment"] == "Mitigate"


def test_the_detail_page_has_everything_on_one_screen(client_as, owner, make_risk, control):
    risk = make_risk(owner, controls=[control], treatment_plan="Immutable backups")
    page = client_as(owner).get(reverse("risks:detail", args=[risk.pk])).content.decode()
    for text in ["R-01", "File servers", "Unpatched servers", "16 Critical", "9 Medium", "Immutable backups", "BC-01",
                 "Next review", "Record a review", "Identified", "Ask for acceptance"]:  # fmt: skip
        assert text in page, text


def test_the_soa_shows_the_risks_behind_each_annex_a_control(client_as, viewer, owner, make_risk, control):
    requirement = control.requirements.get()
    risk = make_risk(owner, requirements=[requirement])
    soa_entries_ensure(requirement.framework)
    page = client_as(viewer).get(reverse("controls:soa")).content.decode()
    assert "Risks behind it" in page
    assert f'href="{reverse("risks:detail", args=[risk.pk])}"' in page and ">R-01</a>" in page


def test_the_control_page_lists_its_risks(client_as, viewer, owner, make_risk, control):
    make_risk(owner, controls=[control])
    page = client_as(viewer).get(reverse("controls:detail", args=[control.pk])).content.decode()
    assert "Risks it treats" in page and "R-01 Ransomware on file servers" in page


def test_viewers_read_but_cannot_change(client_as, viewer, owner, make_risk):
    risk = make_risk(owner)
    page = client_as(viewer).get(reverse("risks:detail", args=[risk.pk])).content.decode()
    assert "Record a review" not in page and "Change</a>" not in page
    assert client_as(viewer).post(reverse("risks:edit", args=[risk.pk]), {}).status_code == 403


def test_a_closed_risk_leaves_the_calendar(db, compliance, owner, make_risk):
    risk = make_risk(owner)
    services.risk_update(risk=risk, by=compliance, status="closed")
    risk.refresh_from_db()
    assert risk.next_review_on is None
    assert services.open_review_task(risk) is None
