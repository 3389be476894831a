"""Sampling pages: the engagement's samples and a form to draw one; a sample's items, with a form to add a record
by hand; its CSV export. The auditor and the compliance team (as a preview) see the same pages; both may draw."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from audits.models import CorrectiveAction
from isms.foundation import reach
from isms.foundation.exports import csv_response
from isms.foundation.forms import service_errors
from isms.maintenance.models import Occurrence

from .. import sampling
from ..forms.samples import AddItemForm, DrawForm
from ..middleware import auditor_post
from ..models import AuditorAction, Sample, SampleItem, SamplePopulation
from .common import PortalView, portal_page


def _samples(pv: PortalView):
    return reach.visible(pv.viewer, Sample).filter(engagement=pv.engagement)


def _acting(request) -> None:
    request.auditor_action_kind = AuditorAction.Kind.SAMPLE


@never_cache  # what the auditors sampled: no copy in a browser's or proxy's cache
@auditor_post
@portal_page
def sample_list(request, pv: PortalView):
    """The engagement's samples; POST draws a new one."""
    form = DrawForm(request.POST or None, viewer=pv.viewer, scope=pv.scope)
    if request.method == "POST":
        _acting(request)
        request.auditor_log = "Tried to draw a sample (refused: the form had errors)"
        if form.is_valid():
            data = form.cleaned_data
            try:
                sample = sampling.sample_draw(
                    by=request.user,
                    viewer=pv.viewer,
                    engagement=pv.engagement,
                    population=data["population"],
                    control=data["control"],
                    requirement=data["requirement"],
                    note=data["note"],
                )
            except ValidationError as exc:
                service_errors(form, exc)
            else:
                request.auditor_log = (
                    f"Drew a sample: {sample.title}, {sample.sample_size} of {sample.population_size} records"
                )
                messages.success(request, f"Sample drawn: {sample.sample_size} of {sample.population_size} records.")
                return redirect("portal:sample", engagement=pv.engagement.pk, pk=sample.pk)
    else:
        request.auditor_log = "Opened the list of samples"
    samples = _samples(pv).select_related("drawn_by", "control", "requirement").order_by("-drawn_at", "-pk")
    return render(
        request,
        "portal/samples.html",
        pv.context(
            samples=samples,
            form=form,
            size_table=sampling.SIZE_TABLE,
            may_sample=sampling.may_change(request.user, pv.engagement),
        ),
    )


def _link(name: str, anchor: str = "", **kwargs) -> str:
    """The portal page of a record, where one exists (reversed with care: a page may not be served)."""
    try:
        return reverse(name, kwargs=kwargs) + anchor
    except NoReverseMatch:
        return ""


def _record_links(sample: Sample, items: list[SampleItem]) -> dict[int, str]:
    """{sample item id: link to its record's place in the portal}, a query at most whatever the number of items.
    Activities open on their control's page at the task; registers without a page of their own open on their
    list."""
    e = sample.engagement_id
    ids = [i.item_id for i in items]
    pop = sample.population
    if pop in (SamplePopulation.CONTROL_ACTIVITIES, SamplePopulation.REQUIREMENT_ACTIVITIES):
        control_of = dict(Occurrence.objects.filter(pk__in=ids).values_list("pk", "schedule__subject_id"))
        return {
            i.pk: _link("portal:control", f"#occurrence-{i.item_id}", engagement=e, pk=control_of[i.item_id])
            for i in items
            if control_of.get(i.item_id)
        }
    if pop == SamplePopulation.EVIDENCE:
        url = _link("portal:control", engagement=e, pk=sample.control_id)
        return {i.pk: f"{url}#evidence-{i.item_id}" if url else "" for i in items}
    if pop == SamplePopulation.NONCONFORMITIES:
        return {i.pk: _link("portal:nonconformity", engagement=e, pk=i.item_id) for i in items}
    if pop == SamplePopulation.CORRECTIVE_ACTIONS:
        nc_of = dict(CorrectiveAction.objects.filter(pk__in=ids).values_list("pk", "nonconformity_id"))
        return {
            i.pk: _link("portal:nonconformity", f"#action-{i.item_id}", engagement=e, pk=nc_of[i.item_id])
            for i in items
            if i.item_id in nc_of
        }
    url = {
        SamplePopulation.INCIDENTS: _link("portal:registers", "#incidents", engagement=e),
        SamplePopulation.CHANGES: _link("portal:registers", "#changes", engagement=e),
        SamplePopulation.RISK_ASSESSMENTS: _link("portal:risks", engagement=e),
    }.get(pop, "")
    return {i.pk: url for i in items}


SEARCH_FROM = 25  # from this many records not in the sample, a search box narrows the list to pick from


def _add_choices(sample: Sample, viewer) -> list[tuple[int, str]]:
    try:
        ids = list(sampling.addable(sample, viewer).values_list("pk", flat=True))
    except ValidationError:
        return []  # the population is no longer in the engagement's scope
    words = sampling.labels(sample.population, ids)
    return [(pk, words.get(pk, f"Record {pk}")) for pk in ids]


@never_cache
@auditor_post
@portal_page
def sample_detail(request, pv: PortalView, pk: int):
    """A sample's items; POST adds a record by hand."""
    sample = reach.get_or_404(
        pv.viewer, _samples(pv).select_related("drawn_by", "control", "requirement", "engagement"), pk=pk
    )
    choices = _add_choices(sample, pv.viewer)
    find = request.GET.get("q", "").strip()[:100] if request.method == "GET" else ""
    shown = [c for c in choices if find.casefold() in c[1].casefold()] if find else choices
    form = AddItemForm(request.POST or None, choices=shown)
    if request.method == "POST":
        _acting(request)
        request.auditor_log = f"Tried to add a record by hand to the sample “{sample.title}” (refused)"
        if form.is_valid():
            model = sampling.MODEL_OF[sample.population]
            item = model._default_manager.filter(pk=form.cleaned_data["item"]).first()
            try:
                added = sampling.sample_item_add(
                    by=request.user, sample=sample, item=item, reason=form.cleaned_data["reason"], viewer=pv.viewer
                )
            except ValidationError as exc:
                service_errors(form, exc)
            else:
                request.auditor_log = f"Added “{added.label}” by hand to the sample “{sample.title}”"
                messages.success(request, f"“{added.label}” added to the sample.")
                return redirect("portal:sample", engagement=pv.engagement.pk, pk=sample.pk)
    else:
        request.auditor_log = f"Opened the sample “{sample.title}”"
    items = list(sample.items.select_related("added_by").order_by("position"))
    links = _record_links(sample, items)
    for item in items:
        item.link = links.get(item.pk, "")
    return render(
        request,
        "portal/sample.html",
        pv.context(
            sample=sample,
            addable_count=len(choices),
            find=find,
            found_count=len(shown),
            SEARCH_FROM=SEARCH_FROM,
            items=items,
            form=form,
            matches=sampling.still_matches(sample),
            size_table=sampling.SIZE_TABLE,
            period_words=sampling.PERIOD_WORDS.get(sample.population, ""),
            may_sample=sampling.may_change(request.user, pv.engagement),
        ),
    )


@require_POST
@auditor_post
@portal_page
def sample_item_remove(request, pv: PortalView, pk: int):
    """Take a record added by hand out of its sample again."""
    item = reach.get_or_404(
        pv.viewer, SampleItem.objects.filter(sample__engagement=pv.engagement).select_related("sample"), pk=pk
    )
    _acting(request)
    try:
        sampling.sample_item_remove(by=request.user, item=item)
    except ValidationError as exc:
        request.auditor_log = f"Tried to remove “{item.label}” from the sample “{item.sample.title}” (refused)"
        messages.error(request, " ".join(exc.messages))
    else:
        request.auditor_log = f"Removed “{item.label}” (added by hand) from the sample “{item.sample.title}”"
        messages.success(request, f"“{item.label}” removed from the sample.")
    return redirect("portal:sample", engagement=pv.engagement.pk, pk=item.sample_id)


@never_cache
@portal_page
def sample_csv(request, pv: PortalView, pk: int):
    """The sample as a spreadsheet: what it is of, the seed and rule, then its items."""
    sample = reach.get_or_404(pv.viewer, _samples(pv).select_related("drawn_by"), pk=pk)
    request.auditor_log = f"Exported the sample “{sample.title}”"
    drawn_at = timezone.localtime(sample.drawn_at)
    rows = [
        ["Sample", sample.title],
        ["Engagement", pv.engagement.title],
        ["Period", f"{sample.period_start:%Y-%m-%d} to {sample.period_end:%Y-%m-%d}"],
        ["Records in the population", sample.population_size],
        ["Records drawn", sample.sample_size],
        ["Size rule", sample.size_rule],
        ["Seed", str(sample.seed)],
        ["Drawn by", str(sample.drawn_by or "")],
        ["Drawn at", f"{drawn_at:%Y-%m-%d %H:%M}"],
        [],
        ["Position", "Record", "How it came into the sample", "Reason", "Added by", "Added at"],
    ]
    for item in sample.items.select_related("added_by").order_by("position"):
        rows.append(
            [
                item.position,
                item.label,
                "Added by hand" if item.added_by_hand else "Drawn",
                item.reason,
                str(item.added_by or "") if item.added_by_hand else "",
                f"{timezone.localtime(item.added_at):%Y-%m-%d %H:%M}",
            ]
        )
    return csv_response(rows, f"sample-{sample.pk}.csv")


urlpatterns = [
    path("<int:engagement>/samples/", sample_list, name="samples"),
    path("<int:engagement>/samples/<int:pk>/", sample_detail, name="sample"),
    path("<int:engagement>/samples/<int:pk>/sample.csv", sample_csv, name="sample_csv"),
    path("<int:engagement>/samples/items/<int:pk>/remove/", sample_item_remove, name="sample_item_remove"),
]
