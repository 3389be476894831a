"""Evidence pages: the library, one item's facts and versions, adding and correcting evidence, deletion by an
administrator, the permission-checked download, and the coverage of a control or requirement over a period.

Every object is looked up through the reach rule (evidence/reach.py and the rules of the apps it shows): an id
outside the user's reach is a 404, never a 403, so ids cannot be probed."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache

from controls import hooks as control_hooks
from controls.models import Control, Requirement
from isms.foundation import reach
from isms.foundation.lists import CappedPaginator
from isms.foundation.pagecache import cached_page
from isms.foundation.permissions import role_required
from isms.foundation.roles import STAFF, Role
from isms.foundation.search import suggestions
from isms.maintenance.models import Occurrence

from . import coverage, selectors
from .forms import LOOKUPS, DeleteForm, EvidenceForm, LibraryFilterForm, PeriodForm
from .models import EvidenceItem
from .services import control_of, evidence_add_file, evidence_add_link, evidence_add_note, evidence_delete

LIBRARY_COUNT_CAP = 10_000  # the library counts this many matches at most, and past it says "more than"


@never_cache  # evidence: no copy in a browser's or proxy's cache (Cache-Control: no-store)
@role_required(STAFF)
@cached_page
def index(request):
    """The evidence library: everything within the user's reach, searched and filtered, 50 to a page; the
    count is exact up to LIBRARY_COUNT_CAP and "more than" that past it."""
    form = LibraryFilterForm(request.GET or None, user=request.user)
    items = selectors.library_queryset(request.user, form.filters())
    page = CappedPaginator(items, 50, cap=LIBRARY_COUNT_CAP).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "evidence/index.html", {"form": form, "page": page, "filter_query": params.urlencode()})


@never_cache
@role_required(STAFF)
def suggest(request, field: str):
    """What the library's control, requirement or person box suggests for the text typed so far: the
    `<option>`s of its `<datalist>`, at most 20, only among what the person may see."""
    if field not in LOOKUPS:
        raise Http404("No such filter.")
    if not request.htmx:  # opened as a page (not by the box's script): the library filtered by the words instead
        return redirect(f"{reverse('evidence:index')}?{urlencode({field: request.GET.get(field, '')})}")
    form = LibraryFilterForm(user=request.user)
    return suggestions(request, form.fields[field], field)


def _item_for(request, pk: int) -> EvidenceItem:
    try:
        return selectors.evidence_detail(request.user, pk)
    except EvidenceItem.DoesNotExist:
        raise Http404("No such evidence.") from None


@never_cache  # evidence: no copy in a browser's or proxy's cache (Cache-Control: no-store)
@role_required(STAFF)
def detail(request, pk: int):
    item = _item_for(request, pk)
    previous, following = selectors.versions_around(request.user, item)
    return render(
        request,
        "evidence/detail.html",
        {
            "item": item,
            "previous": previous,
            "following": following,
            "is_superseded": following is not None or EvidenceItem.objects.filter(supersedes=item).exists(),
            "can_correct": selectors.is_correctable(item) and reach.may(request.user, "correct", item),
            "can_delete": reach.may(request.user, "delete", item) and not item.is_deleted,
            "can_open_task": reach.may(request.user, "view", item.occurrence),
        },
    )


@never_cache  # evidence: no copy in a browser's or proxy's cache (Cache-Control: no-store)
@role_required(STAFF)
def download(request, pk: int):
    """Stream an evidence file as an attachment, never inline: uploaded HTML must not run in our origin."""
    item = reach.get_or_404(request, EvidenceItem, "download", pk=pk, type=EvidenceItem.Type.FILE, deleted_at=None)
    try:
        handle = item.file.open("rb")
    except (FileNotFoundError, ValueError):  # ValueError: no file recorded on the row
        raise Http404("The stored file is missing.") from None
    response = FileResponse(handle, as_attachment=True, filename=item.original_name or f"evidence-{item.pk}")
    response["Content-Type"] = "application/octet-stream"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _record(form: EvidenceForm, *, by, **targets) -> EvidenceItem:
    """Store what the form describes through the evidence services (which check it again)."""
    kind = form.cleaned_data["type"]
    common = {"by": by, "source": EvidenceItem.Source.WEB, **targets, **form.service_kwargs()}
    if kind == EvidenceItem.Type.FILE:
        return evidence_add_file(upload=form.cleaned_data["file"], **common)
    if kind == EvidenceItem.Type.LINK:
        return evidence_add_link(url=form.cleaned_data["url"], **common)
    return evidence_add_note(note=form.cleaned_data["note"], **common)


def _target(request, target: str, pk: int) -> dict:
    """What new evidence is for, from the URL: within the user's reach (else 404) and theirs to add evidence
    to (else 403)."""
    if target == "occurrence":
        qs = Occurrence.objects.select_related("schedule", "owner")
        occurrence = reach.get_or_404(request, qs, "add_evidence", pk=pk)
        return {"occurrence": occurrence, "control": control_of(occurrence)}
    if target == "control":
        return {"control": reach.get_or_404(request, Control, "add_evidence", pk=pk)}
    if target == "requirement":
        qs = Requirement.objects.select_related("framework")
        return {"requirement": reach.get_or_404(request, qs, "add_evidence", pk=pk)}
    raise Http404("Evidence is added to a task, a control or a requirement.")


def _target_url(targets: dict) -> str | None:
    if targets.get("occurrence"):
        return reverse("maintenance:occurrence", args=[targets["occurrence"].pk])
    if targets.get("control"):
        return reverse("evidence:control_coverage", args=[targets["control"].pk])
    if targets.get("requirement"):
        return reverse("evidence:requirement_coverage", args=[targets["requirement"].pk])
    return None


@role_required(STAFF)  # who may add to what is the reach rule's answer (a viewer may own a task)
def create(request, target: str, pk: int):
    targets = _target(request, target, pk)
    subject = targets.get("occurrence") or targets.get("control") or targets.get("requirement")
    form = EvidenceForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            item = _record(form, by=request.user, **targets)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Evidence “{item.title}” recorded.")
            return redirect("evidence:detail", item.pk)
    return render(
        request,
        "evidence/form.html",
        {"form": form, "title": "Add evidence", "subject": subject, "cancel_url": _target_url(targets)},
    )


@role_required(STAFF)  # the reach rule decides who may correct this item
def correct(request, pk: int):
    """A correction is a new version linked to the old one; the old one stays readable but no longer counts."""
    item = _item_for(request, pk)
    reach.check(request.user, "correct", item)
    if not selectors.is_correctable(item):
        messages.error(request, "Only the newest version of live evidence can be corrected.")
        return redirect("evidence:detail", item.pk)
    form = EvidenceForm(
        request.POST or None,
        request.FILES or None,
        initial={
            "type": item.type,
            "title": item.title,
            "url": item.url,
            "note": item.note,
            "effective_date": item.effective_date,
            "period_start": item.period_start,
            "period_end": item.period_end,
            "expires_on": item.expires_on,
        },
        supersedes=item,
    )
    if request.method == "POST" and form.is_valid():
        try:
            new = _record(form, by=request.user, supersedes=item)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Version {new.version} recorded; version {item.version} is kept as history.")
            return redirect("evidence:detail", new.pk)
    return render(
        request,
        "evidence/form.html",
        {
            "form": form,
            "title": f"Correct “{item.title}”",
            "item": item,
            "cancel_url": reverse("evidence:detail", args=[item.pk]),
        },
    )


@role_required({Role.ADMIN})
def delete(request, pk: int):
    """Only an administrator deletes, with a reason; the row stays as a tombstone and the file goes."""
    item = _item_for(request, pk)
    if item.is_deleted:
        messages.info(request, "This evidence is already deleted.")
        return redirect("evidence:detail", item.pk)
    form = DeleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            evidence_delete(item=item, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Evidence deleted; its record, hash and your reason are kept.")
            return redirect("evidence:detail", item.pk)
    return render(request, "evidence/delete.html", {"form": form, "item": item})


# --- coverage ---------------------------------------------------------------------------------------------------


def _period(request, today) -> tuple[PeriodForm, coverage.Period]:
    """The period from ?start=&end=, or the default one (the 12 months before the next external audit)."""
    default = coverage.default_period(today)
    if "start" in request.GET or "end" in request.GET:
        form = PeriodForm(request.GET)
        if form.is_valid():
            return form, coverage.Period(form.cleaned_data["start"], form.cleaned_data["end"], "the period you chose")
        return form, default
    return PeriodForm(initial={"start": default.start, "end": default.end}), default


@never_cache  # evidence: no copy in a browser's or proxy's cache (Cache-Control: no-store)
@role_required(STAFF)
@cached_page
def control_coverage(request, pk: int):
    control = reach.get_or_404(request, Control.objects.select_related("owner", "department"), "view_coverage", pk=pk)
    today = timezone.localdate()
    form, period = _period(request, today)
    result = coverage.control_coverage(control=control, period=period, user=request.user, today=today)
    return render(
        request,
        "evidence/coverage.html",
        {
            "coverage": result,
            "form": form,
            "control": control,
            "can_add": reach.may(request.user, "add_evidence", control),
            "add_url_args": ("control", control.pk),
            "panels": control_hooks.control_panels(request.user, control, coverage=True),
        },
    )


@never_cache  # evidence: no copy in a browser's or proxy's cache (Cache-Control: no-store)
@role_required(STAFF)
@cached_page
def requirement_coverage(request, pk: int):
    qs = Requirement.objects.select_related("framework")
    requirement = reach.get_or_404(request, qs, "view_coverage", pk=pk)
    controls = coverage.controls_for_requirement(request.user, requirement)
    mapped = requirement.controls.count()
    today = timezone.localdate()
    form, period = _period(request, today)
    result = coverage.requirement_coverage(
        requirement=requirement, controls=controls, period=period, user=request.user, today=today
    )
    return render(
        request,
        "evidence/coverage.html",
        {
            "coverage": result,
            "form": form,
            "requirement": requirement,
            "mapped_count": mapped,
            "can_add": reach.may(request.user, "add_evidence", requirement),
            "add_url_args": ("requirement", requirement.pk),
        },
    )
