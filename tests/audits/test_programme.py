"""The programme over the cycle: the coverage matrix's rows (clauses 4–10 and the approved SoA's applicable
controls), the warning when the slots left cannot cover what is still unaudited, and the planner's weights (a
high risk or past findings bring an area up more often)."""

import datetime

import pytest

from audits import selectors, services
from audits.models import Result
from controls.models import Framework, Requirement, SoAEntry
from controls.services import soa_approve

pytestmark = pytest.mark.django_db


def test_rows_are_the_clauses_and_the_applicable_controls_of_the_approved_soa(clock, compliance, catalogues):
    annex = Framework.objects.get(code="iso27001-2022-annex-a")
    services_entry = Requirement.objects.get(framework=annex, identifier="7.4")
    rows, version = selectors.areas()
    assert version is None and all(r.kind == "clause" for r in rows)  # no approved SoA yet: the clauses only
    from controls.services import soa_entries_ensure

    soa_entries_ensure(annex)
    SoAEntry.objects.filter(requirement=services_entry).update(applicable=False, justification="No premises")
    soa_approve(framework=annex, by=compliance)
    rows, version = selectors.areas()
    identifiers = {(r.kind, r.requirement.identifier) for r in rows}
    assert ("clause", "9.2") in identifiers and ("control", "5.15") in identifiers
    assert ("control", "7.4") not in identifiers
    assert len([r for r in rows if r.kind == "control"]) == 92


def test_a_warning_when_the_slots_left_cannot_cover_the_rest(clock, compliance, other_owner, certificate, soa):
    programme = services.programme_ensure(certificate=certificate)
    services.programme_plan(programme=programme, by=compliance, audits_per_year=2, items_per_audit=3)
    cov = selectors.coverage(programme, clock.today)
    assert cov.remaining_slots == 5 and cov.free_places == 15
    assert "have room for 15 more" in cov.warning and "recertification audit" in cov.warning
    services.programme_plan(programme=programme, by=compliance, audits_per_year=11, items_per_audit=20)
    assert selectors.coverage(programme, clock.today).warning == ""


def test_high_risks_and_past_findings_weigh_an_area_up(clock, compliance, owner, other_owner, certificate, soa):
    from risks.services import risk_create

    programme = services.programme_ensure(certificate=certificate)
    req = Requirement.objects.get(framework__has_soa=True, identifier="8.8")
    risk_create(
        by=compliance, title="Unpatched servers", asset="Servers", threat="Exploit", vulnerability="No patching",
        owner=owner, inherent_likelihood=5, inherent_impact=5, residual_likelihood=5, residual_impact=5,
        treatment="mitigate", requirements=[req],
    )  # fmt: skip
    clause = Requirement.objects.get(framework__code="iso27001-2022-clauses", identifier="7.5")
    audit = services.audit_create(
        by=compliance, programme=programme, kind="internal", title="Past", lead_auditor=other_owner,
        planned_on=clock.today - datetime.timedelta(days=20), scope=[clause, req],
    )  # fmt: skip
    rows = {r.requirement_id: r for r in audit.rows.all()}
    services.row_record(row=rows[clause.pk], by=other_owner, result=Result.MINOR, notes="Documents not dated.")
    services.row_record(row=rows[req.pk], by=other_owner, result=Result.CONFORMING)
    services.audit_sign_off(audit=audit, by=other_owner, summary="x", conclusion="y")
    cov = selectors.coverage(programme, clock.today)
    by_id = {a.requirement.pk: a for a in cov.rows}
    assert by_id[req.pk].weight == 3 and by_id[req.pk].high_risks == 1 and by_id[req.pk].interval_months == 12
    assert by_id[clause.pk].weight == 3 and by_id[clause.pk].findings >= 1
    untouched = next(a for a in cov.rows if a.requirement.identifier == "5.1" and a.kind == "control")
    assert untouched.weight == 1 and untouched.interval_months == 36
    # A year on, the weighty areas are due again; an area audited a year ago with weight 1 is not.
    services.programme_plan(programme=programme, by=compliance, audits_per_year=11, items_per_audit=200)
    clock.move_to(clock.today + datetime.timedelta(days=380))
    cov = selectors.coverage(programme, clock.today)
    proposed = {a.requirement.pk for areas in selectors.plan_proposal(cov, clock.today).values() for a in areas}
    assert {req.pk, clause.pk} <= proposed
