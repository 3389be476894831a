"""Evidence pages: the library, one item's facts and versions, adding and correcting evidence, deletion by an
administrator, the permission-checked download, and the coverage of a control or requirement over a period.

Every item is looked up through `evidence_visible_to()` (selectors.py): an id outside the user's reach is a
404, never a 403, so ids cannot be probed."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from controls.models import Control, Requirement
from isms.accounts.roles import MANAGERS, STAFF, Role
from isms.foundation.permissions import role_required
from isms.maintenance.models import Occurrence

from . import coverage, selectors
from .forms import DeleteForm, EvidenceForm, LibraryFilterForm, PeriodForm
from .models import EvidenceItem
from .selectors import evidence_visible_to
from .services import evidence_add_file, evidence_add_link, evidence_add_note, evidence_delete

ADDERS = MANAGERS | {Role.OWNER}


@role_required(STAFF)
def index(request):
    """The evidence library: everything within the user's reach, searched and filtered, 50 to a page."""
    form = LibraryFilterForm(request.GET or None)
    items = selectors.library_queryset(request.user, form.filters())
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "evidence/index.html", {"form": form, "page": page, "filter_query": params.urlencode()})


@role_required(MANAGERS | {Role.AUDITOR})
def portal(request):
    """The auditor's landing page: the engagements they were granted (none until engagements exist)."""
    return render(request, "evidence/portal.html")


def _item_for(request, pk: int) -> EvidenceItem:
    try:
        return selectors.evidence_detail(request.user, pk)
    except EvidenceItem.DoesNotExist:
        raise Http404("No such evidence.") from None


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
            "can_correct": selectors.is_correctable(item) and selectors.may_correct(request.user, item),
            "can_delete": request.user.is_admin and not item.is_deleted,
        },
    )


@role_required(STAFF)
def download(request, pk: int):
    """Stream an evidence file as an attachment, never inline: uploaded HTML must not run in our origin."""
    item = get_object_or_404(evidence_visible_to(request.user), pk=pk, type=EvidenceItem.Type.FILE, deleted_at=None)
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
    """What new evidence is for, from the URL; a task the user may not see is a 404."""
    if target == "occurrence":
        occurrence = get_object_or_404(
            Occurrence.objects.visible_to(request.user).select_related("schedule", "owner"), pk=pk
        )
        return {"occurrence": occurrence, "control": selectors.control_of(occurrence)}
    if target == "control":
        return {"control": get_object_or_404(Control, pk=pk)}
    if target == "requirement":
        return {"requirement": get_object_or_404(Requirement.objects.select_related("framework"), pk=pk)}
    raise Http404("Evidence is added to a task, a control or a requirement.")


def _target_url(targets: dict) -> str | None:
    if targets.get("occurrence"):
        return reverse("maintenance:occurrence", args=[targets["occurrence"].pk])
    if targets.get("control"):
        return reverse("evidence:control_coverage", args=[targets["control"].pk])
    if targets.get("requirement"):
        return reverse("evidence:requirement_coverage", args=[targets["requirement"].pk])
    return None


@role_required(ADDERS)
def create(request, target: str, pk: int):
    targets = _target(request, target, pk)
    subject = targets.get("occurrence") or targets.get("control") or targets.get("requirement")
    if not selectors.may_add_evidence(request.user, **targets):
        raise PermissionDenied("Only the compliance team and the owner may add evidence here.")
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


@role_required(ADDERS)
def correct(request, pk: int):
    """A correction is a new version linked to the old one; the old one stays readable but no longer counts."""
    item = _item_for(request, pk)
    if not selectors.may_correct(request.user, item):
        raise PermissionDenied("Only the compliance team, the submitter or the owner may correct this evidence.")
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


@role_required(STAFF)
def control_coverage(request, pk: int):
    control = get_object_or_404(Control.objects.select_related("owner", "department"), pk=pk)
    if not coverage.may_see_control(request.user, control):
        raise PermissionDenied("A control's coverage is shown to its owner, the compliance team and leadership.")
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
            "can_add": selectors.may_add_evidence(request.user, control=control),
            "add_url_args": ("control", control.pk),
        },
    )


@role_required(STAFF)
def requirement_coverage(request, pk: int):
    requirement = get_object_or_404(Requirement.objects.select_related("framework"), pk=pk)
    controls = coverage.controls_for_requirement(request.user, requirement)
    mapped = len(controls)
    if not (request.user.is_manager or request.user.role == Role.VIEWER):
        if not controls:
            raise PermissionDenied("A requirement's coverage is shown to the owners of its controls.")
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
            "can_add": selectors.may_add_evidence(request.user, requirement=requirement),
            "add_url_args": ("requirement", requirement.pk),
        },
    )
