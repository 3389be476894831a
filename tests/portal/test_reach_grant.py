"""The auditor grant (portal/reach.py): what an auditor's open engagement puts within their reach, through the one
reach rule, and nothing outside its window, its scope or its period; the compliance team's preview sees exactly
the same rows."""

from __future__ import annotations

import datetime

import pytest

from audits.models import Nonconformity
from audits.services import nc_raise
from controls.models import Control, Requirement
from evidence.models import EvidenceItem
from evidence.services import evidence_add_note
from isms.accounts.models import User
from isms.foundation import reach
from isms.foundation.roles import Role
from isms.maintenance.models import Occurrence
from portal.models import Engagement
from portal.scope import AuditorPreview
from portal.services import engagement_end, engagement_save
from risks import services as risk_services
from risks.models import Risk
from tests.factories import UserFactory, make_control, make_requirement, make_schedule

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 3, 10)  # the clock fixture's day
PERIOD = (datetime.date(2025, 3, 1), datetime.date(2026, 2, 28))


def fresh(user):
    """The user as a new request sees them (the grant's scopes are cached per request on the user object)."""
    return User.objects.get(pk=user.pk)


def _risk(compliance, owner) -> Risk:
    return risk_services.risk_create(
        by=compliance,
        title="Ransomware on file servers",
        asset="File servers",
        threat="Ransomware",
        vulnerability="Unpatched servers",
        owner=owner,
        inherent_likelihood=4,
        inherent_impact=4,
        residual_likelihood=3,
        residual_impact=3,
        treatment="mitigate",
    )


@pytest.fixture
def isms(clock, compliance, owner):
    """Two requirements (one in the audited framework, one not), a control on each, a year of monthly activities
    of the one in scope, evidence, a risk and two nonconformities (one raised in the period, one after it)."""
    inside = make_requirement()
    outside = make_requirement("nist-csf", "PR.AA-01", "Identities and credentials")
    in_scope = make_control(owner, "AC-01", requirements=[inside])
    out_of_scope = make_control(owner, "ID-01", "Identity management", requirements=[outside])
    make_schedule(owner, subject=in_scope, start_date=datetime.date(2025, 6, 1), backfill=True)
    make_schedule(owner, subject=out_of_scope, title="Other scan", start_date=datetime.date(2025, 6, 1), backfill=True)
    evidence_now = evidence_add_note(note="Reviewed in March", by=compliance, source="web", control=in_scope)
    evidence_other = evidence_add_note(note="Other control", by=compliance, source="web", control=out_of_scope)
    in_period_nc = nc_raise(
        by=compliance,
        source="self",
        title="Access reviews late",
        description="Two reviews late",
        owner=compliance,
        raised_on=datetime.date(2025, 10, 1),
    )
    later_nc = nc_raise(
        by=compliance, source="self", title="Raised after", description="After the period", owner=compliance
    )
    return {
        "inside": inside,
        "outside": outside,
        "in_scope": in_scope,
        "out_of_scope": out_of_scope,
        "evidence_now": evidence_now,
        "evidence_other": evidence_other,
        "risk": _risk(compliance, owner),
        "in_period_nc": in_period_nc,
        "later_nc": later_nc,
    }


def engage(compliance, auditor, *, areas=("risks", "nonconformities"), **fields) -> Engagement:
    values = {
        "title": "Surveillance audit",
        "certification_body": "Example Certification Ltd",
        "audit": None,
        "period_start": PERIOD[0],
        "period_end": PERIOD[1],
        "access_starts_on": TODAY - datetime.timedelta(days=1),
        "access_ends_on": TODAY + datetime.timedelta(days=14),
        "areas": list(areas),
        "frameworks": [make_requirement().framework],
        "auditors": [auditor],
        **fields,
    }
    return engagement_save(by=compliance, **values)


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", first_name="Alice", role=Role.AUDITOR, department=None)


def seen(user, model) -> set[int]:
    return set(reach.visible(user, model).values_list("pk", flat=True))


def test_an_engaged_auditor_reaches_the_scope_and_the_period(isms, compliance, alice):
    engage(compliance, alice)
    a = fresh(alice)
    assert seen(a, Requirement) == {isms["inside"].pk}
    assert seen(a, Control) == {isms["in_scope"].pk}
    due = set(Occurrence.objects.filter(schedule__subject_id=isms["in_scope"].pk).values_list("due_date", flat=True))
    assert datetime.date(2026, 3, 1) in due  # an activity after the period exists…
    visible_due = set(reach.visible(a, Occurrence).values_list("due_date", flat=True))
    assert visible_due and all(PERIOD[0] <= d <= PERIOD[1] for d in visible_due)  # …and is not shown
    assert visible_due == {d for d in due if PERIOD[0] <= d <= PERIOD[1]}
    # Evidence of a control in scope dated after the period is still visible (marked, not hidden).
    assert isms["evidence_now"].pk in seen(a, EvidenceItem)
    assert isms["evidence_other"].pk not in seen(a, EvidenceItem)
    assert seen(a, Risk) == {isms["risk"].pk}
    assert seen(a, Nonconformity) == {isms["in_period_nc"].pk}
    assert not reach.may(a, "view", isms["out_of_scope"])
    assert reach.may(a, "view", isms["in_scope"])


def test_areas_not_chosen_show_nothing(isms, compliance, alice):
    engage(compliance, alice, areas=())
    a = fresh(alice)
    assert seen(a, Risk) == set() and seen(a, Nonconformity) == set()
    assert seen(a, Control) == {isms["in_scope"].pk}


def test_narrowing_to_chosen_controls(isms, compliance, alice, owner):
    second = make_control(owner, "AC-02", "Privileged access", requirements=[isms["inside"]])
    engage(compliance, alice, controls=[second])
    assert seen(fresh(alice), Control) == {second.pk}


def test_an_auditor_may_read_but_not_change(isms, compliance, alice):
    engage(compliance, alice)
    a = fresh(alice)
    control = isms["in_scope"]
    assert reach.may(a, "view", control)
    assert not reach.may(a, "edit", control)
    assert reach.refusal(a, "edit", control) == reach.AUDITOR_READS
    assert not reach.may(a, "create", Control)


def test_nothing_once_the_engagement_ends(isms, compliance, alice):
    engagement = engage(compliance, alice)
    assert seen(fresh(alice), Control)
    engagement_end(engagement=engagement, by=compliance, reason="Audit finished")
    a = fresh(alice)
    for model in (Control, Requirement, Occurrence, EvidenceItem, Risk, Nonconformity, Engagement):
        assert seen(a, model) == set(), model
    assert not reach.may(a, "view", isms["in_scope"])


def test_nothing_after_the_last_day_of_access_nor_before_the_first(isms, compliance, alice, clock):
    engage(compliance, alice)
    clock.move_to(TODAY + datetime.timedelta(days=14))
    assert seen(fresh(alice), Control) == {isms["in_scope"].pk}  # the last day still counts
    clock.move_to(TODAY + datetime.timedelta(days=15))
    a = fresh(alice)
    for model in (Control, Requirement, Occurrence, EvidenceItem, Risk, Nonconformity, Engagement):
        assert seen(a, model) == set(), model
    clock.move_to(TODAY - datetime.timedelta(days=2))
    assert seen(fresh(alice), Control) == set()


def test_another_auditor_or_an_auditor_without_engagement_sees_nothing(isms, compliance, alice, auditor):
    engage(compliance, alice)
    for model in (Control, Requirement, Occurrence, EvidenceItem, Risk, Nonconformity, Engagement):
        assert seen(fresh(auditor), model) == set(), model


def test_the_preview_sees_the_same_rows_as_the_auditor(isms, compliance, alice):
    engagement = engage(compliance, alice)
    preview = AuditorPreview(engagement, by=compliance)
    a = fresh(alice)
    for model in (Control, Requirement, Occurrence, EvidenceItem, Risk, Nonconformity, Engagement):
        assert seen(preview, model) == seen(a, model), model
    assert not reach.may(preview, "edit", isms["in_scope"])


def test_the_preview_of_an_engagement_not_open_yet_shows_what_it_will_show(isms, compliance, alice, clock):
    later = engage(
        compliance,
        alice,
        access_starts_on=TODAY + datetime.timedelta(days=5),
        access_ends_on=TODAY + datetime.timedelta(days=9),
    )
    assert seen(fresh(alice), Control) == set()
    assert seen(AuditorPreview(later, by=compliance), Control) == {isms["in_scope"].pk}


def test_the_scope_is_what_was_chosen_else_what_the_frameworks_and_their_mapping_give(isms, compliance, alice, owner):
    """scope_of: the requirements chosen, else every requirement of the frameworks not retired; the controls
    chosen, else every control mapped to a requirement in scope."""
    from portal.scope import scope_of

    retired = make_requirement(identifier="5.99", title="Withdrawn control")
    Requirement.objects.filter(pk=retired.pk).update(retired=True)
    framework = isms["inside"].framework
    of_framework = set(Requirement.objects.filter(framework=framework, retired=False).values_list("pk", flat=True))
    mapped = set(Control.objects.filter(requirements__in=of_framework).values_list("pk", flat=True))

    whole = scope_of(engage(compliance, alice))
    assert whole.framework_ids == {framework.pk}
    assert whole.requirement_ids == of_framework and retired.pk not in whole.requirement_ids
    assert whole.control_ids == mapped == {isms["in_scope"].pk}  # the other control is mapped to another framework

    also = make_control(owner, "AC-02", "Privileged access", requirements=[make_requirement(identifier="8.2")])
    assert scope_of(engage(compliance, alice)).control_ids == {isms["in_scope"].pk, also.pk}
    chosen = scope_of(engage(compliance, alice, requirements=[isms["inside"]]))
    assert chosen.requirement_ids == {isms["inside"].pk}
    assert chosen.control_ids == {isms["in_scope"].pk}  # mapped to the chosen requirement only

    named = scope_of(engage(compliance, alice, requirements=[isms["inside"]], controls=[isms["in_scope"]]))
    assert named.control_ids == {isms["in_scope"].pk}
