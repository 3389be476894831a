"""Sampling: the auditor picks what to test from a population of records in the period under audit.

A population is the records of one kind that the engagement's auditors may see (through the one reach rule)
in the period under audit, ordered by their id. The sample is drawn from it with a seed that is kept, so the
same seed and the same population give the same items, and anyone can redraw it to check. How many records are
drawn follows the size table:

    ========================  ===================================
    Records in the population  Records in the sample
    ========================  ===================================
    5 or fewer                 all of them
    6 to 50                    5
    51 to 250                  10 % of them, rounded up (6 to 25)
    more than 250              25
    ========================  ===================================

The auditor (or the compliance team) may add records of the population by hand, with a reason, and remove those
again; the drawn items stay as the seed gave them."""

from __future__ import annotations

import datetime
import math
import random
import secrets

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone
from django.utils.dateformat import format as date_format

from audits.models import CorrectiveAction, Nonconformity
from controls.models import Control, Requirement
from events.models import Change, Incident
from evidence.models import EvidenceItem
from isms.foundation import reach
from isms.maintenance.models import Occurrence
from risks.models import Assessment

from .models import Area, Engagement, EngagementStatus, Sample, SampleItem, SamplePopulation
from .scope import AuditorPreview, Scope, scope_of, scopes

#: The size table (see the module docstring): (largest population of the line or None, words). Shown on the page.
SIZE_TABLE: tuple[tuple[int | None, str, str], ...] = (
    (5, "5 or fewer", "all of them"),
    (50, "6 to 50", "5"),
    (250, "51 to 250", "10 % of them, rounded up"),
    (None, "more than 250", "25"),
)

#: The model each population is drawn from.
MODEL_OF: dict[str, type[models.Model]] = {
    SamplePopulation.CONTROL_ACTIVITIES: Occurrence,
    SamplePopulation.REQUIREMENT_ACTIVITIES: Occurrence,
    SamplePopulation.EVIDENCE: EvidenceItem,
    SamplePopulation.INCIDENTS: Incident,
    SamplePopulation.CHANGES: Change,
    SamplePopulation.NONCONFORMITIES: Nonconformity,
    SamplePopulation.CORRECTIVE_ACTIONS: CorrectiveAction,
    SamplePopulation.RISK_ASSESSMENTS: Assessment,
}
#: The area an engagement must name for a register's population.
AREA_OF: dict[str, str] = {
    SamplePopulation.INCIDENTS: Area.INCIDENTS,
    SamplePopulation.CHANGES: Area.CHANGES,
    SamplePopulation.NONCONFORMITIES: Area.NONCONFORMITIES,
    SamplePopulation.CORRECTIVE_ACTIONS: Area.NONCONFORMITIES,
    SamplePopulation.RISK_ASSESSMENTS: Area.RISKS,
}
NEEDS_CONTROL = {SamplePopulation.CONTROL_ACTIVITIES, SamplePopulation.EVIDENCE}
NEEDS_REQUIREMENT = {SamplePopulation.REQUIREMENT_ACTIVITIES}
#: What "in the period" means for each population, in words (the page says it).
PERIOD_WORDS: dict[str, str] = {
    SamplePopulation.CONTROL_ACTIVITIES: "due in the period",
    SamplePopulation.REQUIREMENT_ACTIVITIES: "due in the period",
    SamplePopulation.EVIDENCE: "dated in the period",
    SamplePopulation.INCIDENTS: "detected in the period",
    SamplePopulation.CHANGES: "planned in the period",
    SamplePopulation.NONCONFORMITIES: "raised in the period",
    SamplePopulation.CORRECTIVE_ACTIONS: "due in the period",
    SamplePopulation.RISK_ASSESSMENTS: "made in the period",
}


def sample_size(n: int) -> tuple[int, str]:
    """How many of `n` records to draw, and the line of the size table that says so, in words."""
    if n <= 5:
        return n, f"A population of 5 or fewer records: all of them ({n})."
    if n <= 50:
        return 5, f"A population of 6 to 50 records ({n}): 5."
    if n <= 250:
        size = math.ceil(n / 10)
        return size, f"A population of 51 to 250 records ({n}): 10 %, rounded up ({size})."
    return 25, f"A population of more than 250 records ({n}): 25."


def _day(d: datetime.date | None) -> str:
    return date_format(d, "j M Y") if d else "no date"


def _scope(viewer, engagement: Engagement) -> Scope:
    """The engagement's reach as the viewer sees it (an auditor: through their open engagement)."""
    if reach.is_auditor(viewer):
        for s in scopes(viewer):
            if s.engagement_id == engagement.pk:
                return s
        raise ValidationError("This engagement is not open to you today, so there is nothing to sample.")
    return scope_of(engagement)


def _ct(model: type[models.Model]) -> ContentType:
    return ContentType.objects.get_for_model(model)


def _in_period(field: str, s: Scope) -> Q:
    return Q(**{f"{field}__gte": s.period_start, f"{field}__lte": s.period_end})


def _activities(viewer, s: Scope, control_ids) -> QuerySet:
    return reach.visible(viewer, Occurrence).filter(
        _in_period("due_date", s),
        schedule__subject_type=_ct(Control),
        schedule__subject_id__in=list(control_ids),
    )


def population(
    viewer,
    engagement: Engagement,
    population: str,
    control: Control | None = None,
    requirement: Requirement | None = None,
) -> QuerySet:
    """The records of `population` in the engagement's period that `viewer` (its auditor, or a preview of it)
    may see, ordered by id. Refuses (ValidationError) a population the engagement does not cover, and a control
    or requirement missing or outside the scope."""
    if population not in SamplePopulation.values:
        raise ValidationError({"population": "Choose what to sample from the list."})
    s = _scope(viewer, engagement)
    area = AREA_OF.get(population)
    if area is not None and area not in s.areas:
        raise ValidationError(
            {
                "population": f"This audit does not cover {Area(area).label.lower()}: choose a population in its "
                "scope, or ask the compliance team to add the area to the engagement."
            }
        )
    if population in NEEDS_CONTROL:
        if control is None:
            raise ValidationError({"control": "Choose the control to sample."})
        if control.pk not in s.control_ids:
            raise ValidationError(
                {"control": f"{control.reference} is not in this audit's scope: choose a control in scope."}
            )
    if population in NEEDS_REQUIREMENT:
        if requirement is None:
            raise ValidationError({"requirement": "Choose the requirement to sample."})
        if requirement.pk not in s.requirement_ids:
            words = f"{requirement.identifier} is not in this audit's scope: choose a requirement in scope."
            raise ValidationError({"requirement": words})

    if population == SamplePopulation.CONTROL_ACTIVITIES:
        qs = _activities(viewer, s, [control.pk])
    elif population == SamplePopulation.REQUIREMENT_ACTIVITIES:
        mapped = set(requirement.controls.values_list("pk", flat=True)) & s.control_ids
        qs = _activities(viewer, s, mapped)
    elif population == SamplePopulation.EVIDENCE:
        qs = reach.visible(viewer, EvidenceItem.objects.live()).filter(
            Q(control=control) | Q(task_control=control), _in_period("effective_date", s)
        )
    elif population == SamplePopulation.INCIDENTS:
        qs = reach.visible(viewer, Incident).filter(_in_period("detected_on", s))
    elif population == SamplePopulation.CHANGES:
        qs = reach.visible(viewer, Change).filter(_in_period("planned_on", s))
    elif population == SamplePopulation.NONCONFORMITIES:
        qs = reach.visible(viewer, Nonconformity).filter(_in_period("raised_on", s))
    elif population == SamplePopulation.CORRECTIVE_ACTIONS:
        qs = reach.visible(viewer, CorrectiveAction).filter(_in_period("due_on", s))
    else:
        qs = reach.visible(viewer, Assessment).filter(_in_period("reviewed_on", s))
    return qs.order_by("pk")


population_records = population  # the name inside functions whose `population` argument hides the function


def labels(population: str, records) -> dict[int, str]:
    """{id: the words a record is listed with}, e.g. "AC-01 Access review, due 3 Mar 2026", "INC-004 Phishing
    mail" — frozen on the sample item when drawn. A few queries whatever the number of records."""
    model = MODEL_OF[population]
    ids = [getattr(r, "pk", r) for r in records]
    if model is Occurrence:
        rows = list(Occurrence.objects.filter(pk__in=ids).select_related("schedule"))
        refs = dict(Control.objects.filter(pk__in={o.schedule.subject_id for o in rows}).values_list("pk", "reference"))
        return {o.pk: f"{refs.get(o.schedule.subject_id, '')} {o.title}, due {_day(o.due_date)}".strip() for o in rows}
    if model is EvidenceItem:
        rows = EvidenceItem.objects.filter(pk__in=ids).select_related("control")
        return {
            e.pk: f"{e.control.reference + ' ' if e.control else ''}{e.title}, dated {_day(e.effective_date)}"
            for e in rows
        }
    if model in (Incident, Change, Nonconformity):
        return {r.pk: f"{r.reference} {r.title}" for r in model.objects.filter(pk__in=ids)}
    if model is CorrectiveAction:
        rows = CorrectiveAction.objects.filter(pk__in=ids).select_related("nonconformity")
        return {a.pk: f"{a.nonconformity.reference} {a.title}, due {_day(a.due_on)}" for a in rows}
    rows = Assessment.objects.filter(pk__in=ids).select_related("risk")
    return {a.pk: f"{a.risk.reference} {a.risk.title}: assessment {a.number} of {_day(a.reviewed_on)}" for a in rows}


def title_of(population: str, control: Control | None, requirement: Requirement | None) -> str:
    """What a sample is of, in words: "Activities of AC-01 User access management", "Incidents"."""
    if population == SamplePopulation.CONTROL_ACTIVITIES:
        return f"Activities of {control.reference} {control.name}"
    if population == SamplePopulation.REQUIREMENT_ACTIVITIES:
        return f"Activities of the controls of {requirement.identifier} {requirement.title}"
    if population == SamplePopulation.EVIDENCE:
        return f"Evidence of {control.reference} {control.name}"
    return SamplePopulation(population).label


def _still_open(engagement: Engagement) -> None:
    """Samples are kept as they were once the auditors' access has ended (ended early, or the window closed)."""
    if engagement.status in (EngagementStatus.ENDED, EngagementStatus.EXPIRED):
        raise ValidationError(
            "The auditors' access to this engagement has ended: its samples are kept as they were. Open a new "
            "engagement to sample again."
        )


def may_change(user, engagement: Engagement) -> bool:
    """Whether the page offers `user` to draw, add and remove (the services decide; this only hides the forms)."""
    return engagement.status not in (EngagementStatus.ENDED, EngagementStatus.EXPIRED) and reach.may(
        user, "sample", engagement
    )


def _viewer_for(by, engagement: Engagement):
    """Whose eyes the population is seen through: the auditor themselves, or the team's preview of them."""
    return by if reach.is_auditor(by) else AuditorPreview(engagement, by=by)


@transaction.atomic
def sample_draw(
    *,
    by,
    viewer,
    engagement: Engagement,
    population: str,
    control: Control | None = None,
    requirement: Requirement | None = None,
    seed: int | None = None,
    note: str = "",
) -> Sample:
    """Draw a sample of `population` (for `control` or `requirement` where it needs one) in the engagement's
    period, as `viewer` sees it, by the size table, with a stored seed (a new random one unless given)."""
    reach.check(by, "sample", engagement)
    _still_open(engagement)
    if population not in (SamplePopulation.CONTROL_ACTIVITIES, SamplePopulation.EVIDENCE):
        control = None
    if population != SamplePopulation.REQUIREMENT_ACTIVITIES:
        requirement = None
    records = population_records(viewer, engagement, population, control=control, requirement=requirement)
    ids = list(records.values_list("pk", flat=True))
    if not ids:
        raise ValidationError(
            f"There is nothing in the period under audit to sample: no {SamplePopulation(population).label.lower()} "
            f"{PERIOD_WORDS[population]} ({_day(engagement.period_start)} – {_day(engagement.period_end)}). "
            "Choose another population, control or requirement."
        )
    seed = secrets.randbits(63) if seed is None else int(seed)
    size, rule = sample_size(len(ids))
    chosen = random.Random(seed).sample(ids, size)
    sample = Sample.objects.create(
        engagement=engagement,
        population=population,
        control=control,
        requirement=requirement,
        period_start=engagement.period_start,
        period_end=engagement.period_end,
        seed=seed,
        population_size=len(ids),
        sample_size=size,
        size_rule=rule,
        title=title_of(population, control, requirement)[:300],
        note=(note or "").strip(),
        drawn_by=by if getattr(by, "pk", None) else None,
        drawn_at=timezone.now(),
    )
    words = labels(population, chosen)
    item_type = _ct(MODEL_OF[population])
    SampleItem.objects.bulk_create(
        SampleItem(
            sample=sample,
            item_type=item_type,
            item_id=pk,
            label=words.get(pk, f"Record {pk}")[:400],
            position=position,
            added_at=sample.drawn_at,
        )
        for position, pk in enumerate(chosen, start=1)
    )
    return sample


def _sample_population(sample: Sample, viewer=None) -> QuerySet:
    viewer = viewer or AuditorPreview(sample.engagement, by=None)
    return population_records(
        viewer, sample.engagement, sample.population, control=sample.control, requirement=sample.requirement
    )


def addable(sample: Sample, viewer=None) -> QuerySet:
    """The population's records not in the sample yet: what may be added by hand."""
    taken = sample.items.values("item_id")
    return _sample_population(sample, viewer).exclude(pk__in=taken)


@transaction.atomic
def sample_item_add(*, by, sample: Sample, item: models.Model | None, reason: str, viewer=None) -> SampleItem:
    """Add a record of the sample's population by hand, saying why."""
    reach.check(by, "sample", sample.engagement)
    _still_open(sample.engagement)
    Sample.objects.select_for_update().filter(pk=sample.pk).first()  # one addition at a time: positions and "once"
    errors = {}
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = "Say why you add this record: the reason is kept with the sample."
    if item is None:
        errors["item"] = "Choose the record to add."
    if errors:
        raise ValidationError(errors)
    model = MODEL_OF[sample.population]
    viewer = viewer or _viewer_for(by, sample.engagement)
    if not isinstance(item, model) or not _sample_population(sample, viewer).filter(pk=item.pk).exists():
        words = "That record is not in this sample's population (the period under audit and the scope): choose one."
        raise ValidationError({"item": words})
    if sample.items.filter(item_type=_ct(model), item_id=item.pk).exists():
        raise ValidationError({"item": "That record is in the sample already: choose another one."})
    last = sample.items.aggregate(last=Max("position"))["last"] or 0
    return SampleItem.objects.create(
        sample=sample,
        item_type=_ct(model),
        item_id=item.pk,
        label=labels(sample.population, [item.pk]).get(item.pk, f"Record {item.pk}")[:400],
        position=last + 1,
        added_by_hand=True,
        added_by=by if getattr(by, "pk", None) else None,
        added_at=timezone.now(),
        reason=reason,
    )


@transaction.atomic
def sample_item_remove(*, by, item: SampleItem) -> None:
    """Remove an item that was added by hand (the drawn items are what the seed gives: they stay)."""
    reach.check(by, "sample", item.sample.engagement)
    _still_open(item.sample.engagement)
    if not item.added_by_hand:
        raise ValidationError(
            "Only records added by hand can be removed: the drawn ones are what the stored seed gives, so anyone "
            "can check the sample by drawing it again."
        )
    item.delete()


def sample_redraw(sample: Sample) -> list[int]:
    """The ids the stored seed draws from the population as it is now (in the order drawn). The same as the
    sample's drawn items unless records were added to or removed from the population since."""
    ids = list(_sample_population(sample).values_list("pk", flat=True))
    size, _ = sample_size(len(ids))
    return random.Random(sample.seed).sample(ids, size)


def drawn_ids(sample: Sample) -> list[int]:
    """The ids of the sample's drawn items (not those added by hand), in the order drawn."""
    return list(sample.items.filter(added_by_hand=False).order_by("position").values_list("item_id", flat=True))


def still_matches(sample: Sample) -> bool:
    """Whether drawing again with the stored seed gives the stored items."""
    try:
        return sample_redraw(sample) == drawn_ids(sample)
    except ValidationError:
        return False  # the population is no longer in the engagement's scope
