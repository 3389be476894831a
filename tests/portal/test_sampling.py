"""Sampling: the size table, reproducible draws from a population limited to the period and the scope, items
added and removed by hand, and the pages the auditor and the compliance team share."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from isms.maintenance.models import Occurrence
from portal import sampling
from portal.models import Area, AuditorAction, Engagement, Sample, SampleItem, SamplePopulation
from portal.scope import AuditorPreview
from tests.factories import make_control, make_requirement, make_schedule

pytestmark = pytest.mark.django_db

CONTROL_ACTIVITIES = SamplePopulation.CONTROL_ACTIVITIES


@pytest.fixture
def world(clock, compliance, owner, engaged_auditor):
    """A control in scope with weekly activities from 400 days ago (the period is the last 365 days and the next
    30), and a control outside the scope (mapped to no requirement)."""
    today = clock.today
    control = make_control(owner, reference="AC-01", name="Access review", requirements=[make_requirement()])
    make_schedule(
        owner, subject=control, title="Access review", rrule="FREQ=WEEKLY", reminder_days=[1],
        start_date=today - datetime.timedelta(days=400), backfill=True,
    )  # fmt: skip
    outside = make_control(owner, reference="OUT-1", name="Not in scope")
    engagement = Engagement.objects.get(auditors=engaged_auditor)
    return {"today": today, "control": control, "outside": outside, "engagement": engagement}


def _preview(world, compliance):
    return AuditorPreview(world["engagement"], by=compliance)


def _draw(world, compliance, seed=None, **kw):
    values = {"population": CONTROL_ACTIVITIES, "control": world["control"]} | kw
    return sampling.sample_draw(
        by=compliance, viewer=_preview(world, compliance), engagement=world["engagement"], seed=seed, **values
    )


def _in_period(world):
    e = world["engagement"]
    return Occurrence.objects.filter(
        schedule__subject_id=world["control"].pk, due_date__gte=e.period_start, due_date__lte=e.period_end
    )


def _sample_url(world, sample, name="portal:sample"):
    return reverse(name, kwargs={"engagement": world["engagement"].pk, "pk": sample.pk})


def _samples_url(world):
    return reverse("portal:samples", kwargs={"engagement": world["engagement"].pk})


# -- the size table ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "size"), [(0, 0), (1, 1), (5, 5), (6, 5), (50, 5), (51, 6), (250, 25), (251, 25), (1000, 25)]
)
def test_the_size_table_at_its_boundaries(n, size):
    got, words = sampling.sample_size(n)
    assert got == size
    assert str(n) in words


def test_the_size_table_is_documented_where_it_is_used():
    assert "5 or fewer" in sampling.__doc__ and "more than 250" in sampling.__doc__
    assert [row[1] for row in sampling.SIZE_TABLE] == ["5 or fewer", "6 to 50", "51 to 250", "more than 250"]


# -- drawing ----------------------------------------------------------------------------------------------------


def test_the_same_seed_draws_the_same_items_and_the_redraw_matches(world, compliance):
    first = _draw(world, compliance, seed=42)
    second = _draw(world, compliance, seed=42)
    ids = sampling.drawn_ids(first)
    assert ids == sampling.drawn_ids(second)
    n = _in_period(world).count()
    assert first.population_size == n and first.sample_size == sampling.sample_size(n)[0] == len(ids)
    assert sampling.sample_redraw(first) == ids
    assert sampling.still_matches(first)
    labels = list(first.items.values_list("label", flat=True))
    assert all(label.startswith("AC-01 Access review, due ") for label in labels)
    other = _draw(world, compliance, seed=43)
    assert sampling.drawn_ids(other) != ids  # 6 of 56: another seed is all but certain to differ


def test_a_new_seed_is_chosen_and_kept_unless_one_is_given(world, compliance):
    a, b = _draw(world, compliance), _draw(world, compliance)
    assert a.seed != b.seed and a.seed >= 0


def test_the_sample_page_says_when_the_population_changed_since(world, client_as, compliance, owner):
    sample = _draw(world, compliance, seed=7)
    client = client_as(compliance)
    assert b'data-testid="redraw-matches"' in client.get(_sample_url(world, sample)).content
    # A second weekly activity of the control doubles the population: the seed now draws other records.
    make_schedule(
        owner, subject=world["control"], title="Second review", rrule="FREQ=WEEKLY;BYDAY=FR", reminder_days=[1],
        start_date=world["today"] - datetime.timedelta(days=300), backfill=True,
    )  # fmt: skip
    assert not sampling.still_matches(sample)
    assert b'data-testid="redraw-differs"' in client.get(_sample_url(world, sample)).content


def test_an_occurrence_outside_the_period_is_never_drawn(world, compliance, owner):
    control = make_control(owner, reference="AC-02", name="Key rotation", requirements=[make_requirement()])
    make_schedule(
        owner, subject=control, title="Rotate keys", rrule="FREQ=MONTHLY;INTERVAL=4",
        start_date=world["today"] - datetime.timedelta(days=420), backfill=True,
    )  # fmt: skip
    e = world["engagement"]
    every = Occurrence.objects.filter(schedule__subject_id=control.pk)
    inside = set(every.filter(due_date__gte=e.period_start, due_date__lte=e.period_end).values_list("pk", flat=True))
    outside = set(every.values_list("pk", flat=True)) - inside
    assert outside and 0 < len(inside) <= 5
    sample = _draw(world, compliance, control=control)
    assert set(sampling.drawn_ids(sample)) == inside  # 5 or fewer: all of them, and only them
    assert sample.size_rule.startswith("A population of 5 or fewer")


def test_a_requirement_draws_from_the_activities_of_its_controls_in_scope(world, compliance):
    sample = _draw(
        world, compliance, population=SamplePopulation.REQUIREMENT_ACTIVITIES, requirement=make_requirement()
    )
    assert sample.population_size == _in_period(world).count()
    assert sample.control is None and sample.requirement == make_requirement()


def test_registers_draw_what_the_engagement_covers_in_the_period(world, client_as, compliance, owner):
    from events import services

    severity = services.severity_scale_ensure()[1]
    today = world["today"]
    for days, title in ((10, "Phishing mail"), (500, "Old laptop theft")):
        services.incident_create(
            by=owner, title=title, description="x", severity=severity,
            occurred_on=today - datetime.timedelta(days=days), detected_on=today - datetime.timedelta(days=days),
        )  # fmt: skip
    sample = _draw(world, compliance, population=SamplePopulation.INCIDENTS, control=None)
    assert sample.population_size == 1
    assert [i.label for i in sample.items.all()] == ["INC-001 Phishing mail"]
    page = client_as(compliance).get(_sample_url(world, sample)).content.decode()
    registers = reverse("portal:registers", kwargs={"engagement": world["engagement"].pk})
    assert f'<a href="{registers}#incidents">INC-001 Phishing mail</a>' in page
    # Without the area the population is refused, with words saying why.
    world["engagement"].areas = [a for a in Area.values if a != Area.INCIDENTS]
    world["engagement"].save()
    with pytest.raises(ValidationError) as refused:
        _draw(world, compliance, population=SamplePopulation.INCIDENTS)
    assert "does not cover incidents" in str(refused.value)


def test_a_control_out_of_scope_or_missing_is_refused_and_nothing_is_written(world, compliance):
    with pytest.raises(ValidationError) as refused:
        _draw(world, compliance, control=world["outside"])
    assert "OUT-1 is not in this audit's scope" in str(refused.value)
    with pytest.raises(ValidationError):
        _draw(world, compliance, control=None)
    with pytest.raises(ValidationError):
        _draw(world, compliance, population="everything")
    assert not Sample.objects.exists()


def test_an_empty_population_says_there_is_nothing_to_sample(world, compliance):
    with pytest.raises(ValidationError) as refused:
        _draw(world, compliance, population=SamplePopulation.CHANGES)
    assert "nothing in the period under audit to sample" in str(refused.value)
    assert not Sample.objects.exists()


def test_a_preview_cannot_draw_or_change_a_sample(world, compliance):
    preview = _preview(world, compliance)
    with pytest.raises(PermissionDenied):
        sampling.sample_draw(
            by=preview, viewer=preview, engagement=world["engagement"], population=CONTROL_ACTIVITIES,
            control=world["control"],
        )  # fmt: skip
    sample = _draw(world, compliance, seed=1)
    extra = _in_period(world).exclude(pk__in=sampling.drawn_ids(sample)).first()
    with pytest.raises(PermissionDenied):
        sampling.sample_item_add(by=preview, sample=sample, item=extra, reason="Looks odd")
    assert Sample.objects.count() == 1 and sample.items.count() == sample.sample_size


# -- by hand ----------------------------------------------------------------------------------------------------


def test_adding_by_hand_takes_records_of_the_population_only_and_a_reason(world, compliance, engaged_auditor):
    sample = _draw(world, compliance, seed=3)
    e = world["engagement"]
    outside = Occurrence.objects.filter(schedule__subject_id=world["control"].pk, due_date__lt=e.period_start).first()
    with pytest.raises(ValidationError) as refused:
        sampling.sample_item_add(by=engaged_auditor, sample=sample, item=outside, reason="Before the period")
    assert "not in this sample's population" in str(refused.value)
    drawn = Occurrence.objects.get(pk=sampling.drawn_ids(sample)[0])
    with pytest.raises(ValidationError, match="in the sample already"):
        sampling.sample_item_add(by=engaged_auditor, sample=sample, item=drawn, reason="Again")
    extra = _in_period(world).exclude(pk__in=sampling.drawn_ids(sample)).first()
    with pytest.raises(ValidationError, match="Say why"):
        sampling.sample_item_add(by=engaged_auditor, sample=sample, item=extra, reason="  ")
    added = sampling.sample_item_add(by=engaged_auditor, sample=sample, item=extra, reason="Done by a new starter")
    assert added.added_by_hand and added.added_by == engaged_auditor
    assert added.position == sample.sample_size + 1
    assert sampling.still_matches(sample)  # hand-added records do not change what the seed draws


def test_only_records_added_by_hand_can_be_removed(world, compliance):
    sample = _draw(world, compliance, seed=3)
    drawn = sample.items.first()
    with pytest.raises(ValidationError, match="Only records added by hand"):
        sampling.sample_item_remove(by=compliance, item=drawn)
    extra = _in_period(world).exclude(pk__in=sampling.drawn_ids(sample)).first()
    added = sampling.sample_item_add(by=compliance, sample=sample, item=extra, reason="Quarter end")
    sampling.sample_item_remove(by=compliance, item=added)
    assert not SampleItem.objects.filter(pk=added.pk).exists()
    assert SampleItem.objects.filter(pk=drawn.pk).exists()


# -- the pages --------------------------------------------------------------------------------------------------


def test_the_auditor_draws_a_sample_and_it_is_logged(world, client_as, engaged_auditor):
    client = client_as(engaged_auditor)
    assert client.get(_samples_url(world)).status_code == 200
    response = client.post(
        _samples_url(world), {"population": CONTROL_ACTIVITIES, "control": world["control"].pk, "note": "Q3 check"}
    )
    sample = Sample.objects.get()
    assert response.status_code == 302 and response["Location"] == _sample_url(world, sample)
    assert sample.drawn_by == engaged_auditor and sample.note == "Q3 check"
    action = AuditorAction.objects.filter(user=engaged_auditor, method="POST").get()
    assert action.kind == AuditorAction.Kind.SAMPLE and action.engagement == world["engagement"]
    assert action.what.startswith("Drew a sample: Activities of AC-01")


def test_the_team_and_the_auditor_see_the_same_sample(world, client, compliance, engaged_auditor):
    client.force_login(compliance)
    response = client.post(_samples_url(world), {"population": CONTROL_ACTIVITIES, "control": world["control"].pk})
    sample = Sample.objects.get()
    assert response.status_code == 302 and sample.drawn_by == compliance

    def rows(user):
        client.force_login(user)
        html = client.get(_sample_url(world, sample)).content.decode()
        return re.findall(r'<tr data-testid="sample-item">.*?</tr>', html, re.S)

    seen = rows(engaged_auditor)
    assert len(seen) == sample.sample_size and seen == rows(compliance)
    assert f"#occurrence-{sampling.drawn_ids(sample)[0]}" in "".join(seen)
    first = sample.items.order_by("position").first()
    ask = reverse("portal:request_new", kwargs={"engagement": world["engagement"].pk})
    assert f'<a href="{ask}?sample_item={first.pk}">Request evidence for this item</a>' in seen[0]


def test_adding_and_removing_by_hand_through_the_page(world, client_as, compliance, engaged_auditor):
    sample = _draw(world, compliance, seed=5)
    client = client_as(engaged_auditor)
    extra = _in_period(world).exclude(pk__in=sampling.drawn_ids(sample)).first()
    page = client.get(_sample_url(world, sample)).content.decode()
    assert f'value="{extra.pk}"' in page
    response = client.post(_sample_url(world, sample), {"item": extra.pk, "reason": "Holiday week"})
    assert response.status_code == 302
    added = sample.items.get(added_by_hand=True)
    assert AuditorAction.objects.filter(user=engaged_auditor, kind=AuditorAction.Kind.SAMPLE).exists()
    page = client.get(_sample_url(world, sample)).content.decode()
    assert "Added by hand" in page and "Holiday week" in page
    remove = reverse("portal:sample_item_remove", kwargs={"engagement": world["engagement"].pk, "pk": added.pk})
    assert client.post(remove).status_code == 302
    assert not sample.items.filter(added_by_hand=True).exists()
    # A drawn item stays: the page says why, nothing is removed.
    drawn = sample.items.first()
    remove = reverse("portal:sample_item_remove", kwargs={"engagement": world["engagement"].pk, "pk": drawn.pk})
    response = client.post(remove, follow=True)
    assert "Only records added by hand" in response.content.decode()
    assert sample.items.count() == sample.sample_size


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"population": "everything"}, "Choose what to sample from the list."),
        ({"population": CONTROL_ACTIVITIES}, "Choose the control to sample."),
        ({"population": CONTROL_ACTIVITIES, "control": "outside"}, "Choose a control of this audit"),
        ({"population": SamplePopulation.CHANGES}, "nothing in the period under audit to sample"),
    ],
)
def test_bad_input_to_the_draw_form_is_a_form_error(world, client_as, engaged_auditor, data, error):
    if data.get("control") == "outside":
        data = data | {"control": world["outside"].pk}
    response = client_as(engaged_auditor).post(_samples_url(world), data)
    assert response.status_code == 200
    assert error in response.content.decode().replace("&#x27;", "'")
    assert not Sample.objects.exists()


def test_bad_input_to_the_add_form_is_a_form_error(world, client_as, compliance, engaged_auditor):
    sample = _draw(world, compliance, seed=5)
    client = client_as(engaged_auditor)
    extra = _in_period(world).exclude(pk__in=sampling.drawn_ids(sample)).first()
    outside = Occurrence.objects.filter(due_date__gt=world["engagement"].period_end).first()
    for data, error in (
        ({"item": extra.pk, "reason": ""}, "Say why you add this record"),
        ({"item": outside.pk, "reason": "Later"}, "Choose a record of the population"),
        ({"item": "x", "reason": "Why"}, "Choose a record of the population"),
    ):
        response = client.post(_sample_url(world, sample), data)
        assert response.status_code == 200 and error in response.content.decode()
    assert sample.items.count() == sample.sample_size


def test_who_reaches_the_pages(world, client_as, compliance, auditor, viewer, owner):
    sample = _draw(world, compliance, seed=5)
    for url in (_samples_url(world), _sample_url(world, sample), _sample_url(world, sample, "portal:sample_csv")):
        assert client_as(auditor).get(url).status_code == 404  # an auditor without this engagement
        assert client_as(viewer).get(url).status_code == 403
        assert client_as(owner).get(url).status_code == 403
    assert client_as(auditor).post(_samples_url(world), {"population": CONTROL_ACTIVITIES}).status_code in (403, 404)
    assert Sample.objects.count() == 1


def test_the_csv_export_has_the_seed_the_rule_and_the_items(world, client_as, compliance, engaged_auditor):
    sample = _draw(world, compliance, seed=123456789)
    response = client_as(engaged_auditor).get(_sample_url(world, sample, "portal:sample_csv"))
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    text = response.content.decode("utf-8-sig")
    assert "123456789" in text and sample.size_rule in text
    for item in sample.items.all():
        assert item.label in text
    action = AuditorAction.objects.filter(user=engaged_auditor).latest("pk")
    assert action.kind == AuditorAction.Kind.EXPORT


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("who", ["engaged_auditor", "compliance"])
def test_the_pages_ask_a_constant_number_of_queries(world, client, request, compliance, who):
    client.force_login(request.getfixturevalue(who))
    sample = _draw(world, compliance, seed=11)
    url, list_url = _sample_url(world, sample), _samples_url(world)
    client.get(url), client.get(list_url)  # the first view of the session reads what later ones have in hand
    few = (_queries(client, url), _queries(client, list_url))
    extras = _in_period(world).exclude(pk__in=sampling.drawn_ids(sample))[:6]
    for occurrence in extras:
        sampling.sample_item_add(by=compliance, sample=sample, item=occurrence, reason="More")
    for seed in range(4):
        _draw(world, compliance, seed=seed)
    many = (_queries(client, url), _queries(client, list_url))
    assert few == many


def test_a_controls_evidence_dated_in_the_period(world, compliance):
    from evidence.services import evidence_add_note

    today = world["today"]
    for days, note in ((10, "Reviewed in March"), (400, "Reviewed long ago")):
        evidence_add_note(
            note=note, by=compliance, source="web", control=world["control"],
            effective_date=today - datetime.timedelta(days=days),
        )  # fmt: skip
    evidence_add_note(note="Other control", by=compliance, source="web", control=world["outside"])
    sample = _draw(world, compliance, population=SamplePopulation.EVIDENCE)
    assert sample.population_size == 1 and sample.title == "Evidence of AC-01 Access review"
    assert [i.label for i in sample.items.all()] == ["AC-01 Reviewed in March, dated 28 Feb 2026"]


def test_nonconformities_raised_and_corrective_actions_due_in_the_period(world, compliance, owner):
    from audits import services
    from audits.models import Source

    today = world["today"]
    made = [
        services.nc_raise(
            by=compliance,
            source=Source.SELF,
            title=title,
            description="x",
            owner=owner,
            raised_on=today - datetime.timedelta(days=days),
        )  # fmt: skip
        for days, title in ((20, "Leaver kept access"), (500, "Old finding"))
    ]
    for days, title in ((10, "Remove the account"), (90, "Automate leavers")):
        services.action_add(
            nc=made[0], by=compliance, title=title, owner=owner, due_on=today + datetime.timedelta(days=days)
        )
    ncs = _draw(world, compliance, population=SamplePopulation.NONCONFORMITIES)
    assert [i.label for i in ncs.items.all()] == [f"{made[0].reference} Leaver kept access"]
    actions = _draw(world, compliance, population=SamplePopulation.CORRECTIVE_ACTIONS)
    assert [i.label for i in actions.items.all()] == [f"{made[0].reference} Remove the account, due 20 Mar 2026"]


def test_nothing_is_drawn_or_changed_once_the_engagement_has_ended(world, compliance):
    from portal.services import engagement_end

    sample = _draw(world, compliance, seed=2)
    extra = _in_period(world).exclude(pk__in=sampling.drawn_ids(sample)).first()
    added = sampling.sample_item_add(by=compliance, sample=sample, item=extra, reason="Odd")
    engagement_end(engagement=world["engagement"], by=compliance, reason="Audit finished")
    sample.engagement.refresh_from_db()
    for attempt in (
        lambda: _draw(world, compliance),
        lambda: sampling.sample_item_remove(by=compliance, item=SampleItem.objects.get(pk=added.pk)),
    ):
        with pytest.raises(ValidationError, match="access to this engagement has ended"):
            attempt()
    assert Sample.objects.count() == 1 and sample.items.count() == sample.sample_size + 1


def test_a_search_box_narrows_the_records_to_add_by_hand(world, client_as, compliance, engaged_auditor):
    sample = _draw(world, compliance, seed=5)
    addable = list(_in_period(world).exclude(pk__in=sampling.drawn_ids(sample)).order_by("pk"))
    assert len(addable) >= 25  # the search box is offered from 25 records on
    label = sampling.labels(CONTROL_ACTIVITIES, [addable[0].pk])[addable[0].pk]
    client = client_as(engaged_auditor)
    page = client.get(_sample_url(world, sample), {"q": label.upper()}).content.decode()
    assert 'data-testid="find-form"' in page and f'value="{addable[0].pk}"' in page
    assert f'value="{addable[1].pk}"' not in page and f"1 of {len(addable)} records match" in page
    # The search narrows what is shown, not what may be added.
    response = client.post(_sample_url(world, sample) + "?q=nothing", {"item": addable[1].pk, "reason": "Spot check"})
    assert response.status_code == 302 and sample.items.filter(item_id=addable[1].pk, added_by_hand=True).exists()


def test_risk_assessments_made_in_the_period(world, compliance, owner):
    from risks import services

    risk = services.risk_create(
        by=compliance, title="Ransomware on file servers", asset="File servers", threat="Ransomware",
        vulnerability="Unpatched servers", owner=owner, inherent_likelihood=4, inherent_impact=4,
        residual_likelihood=3, residual_impact=3, treatment="mitigate",
    )  # fmt: skip
    sample = _draw(world, compliance, population=SamplePopulation.RISK_ASSESSMENTS)
    first = risk.assessments.order_by("number").first()
    assert sample.population_size == risk.assessments.count() >= 1
    assert sampling.drawn_ids(sample)[0] == first.pk
    assert sample.items.first().label == f"{risk.reference} {risk.title}: assessment {first.number} of 10 Mar 2026"
