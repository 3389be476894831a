"""The risk register's pages. Thin: the reach rule, a form, one service call, then a redirect or a page."""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from controls.models import Control, Requirement
from isms.foundation import reach
from isms.foundation.colours import readable_ink
from isms.foundation.forms import service_errors
from isms.foundation.lists import ForgivingPaginator, ListPage
from isms.foundation.pdf import render_pdf
from isms.foundation.permissions import role_required
from isms.foundation.roles import MANAGERS, STAFF
from isms.organisation.models import Organisation

from . import selectors, services, transfer
from .filtersets import RiskFilterSet
from .forms import (
    AcceptanceForm,
    ActionForm,
    CriteriaForm,
    DecideForm,
    ExceptionForm,
    ImportForm,
    NoteForm,
    ReasonForm,
    ReassessForm,
    ReviewForm,
    RiskForm,
)
from .models import Acceptance, ControlException, Matrix, PlanVersion, Risk
from .tables import RiskTable

REGISTER = ListPage(
    title="Risk register",
    filterset=RiskFilterSet,
    table=RiskTable,
    empty_text="No risks yet. The compliance team adds them with “New risk”, or imports a spreadsheet.",
    template_name="risks/index.html",
)


HISTORY_PAGE = 50  # assessments a page of a risk's history


def _matrix(request) -> Matrix:
    return services.matrix_ensure(by=request.user if reach.is_manager(request.user) else None)


@role_required(STAFF)
def index(request):
    """The register: every risk the user may see, filtered, sorted, paged; downloadable as CSV or Excel."""
    _matrix(request)
    qs = selectors.register(request.user)
    if request.GET.get("export"):
        # Only the downloads carry the controls and Annex A columns (the page hides them).
        qs = qs.prefetch_related(
            Prefetch("controls", queryset=Control.objects.only("pk", "reference")),
            Prefetch("requirements", queryset=Requirement.objects.only("pk", "identifier")),
        )
    return REGISTER.render(request, qs)


@role_required(STAFF)
def criteria_css(request):
    """The colours of the criteria's bands and levels as a stylesheet (the page's policy allows no inline style)."""
    rules = []
    for matrix in Matrix.objects.all():
        for band in matrix.bands:
            text = readable_ink(band["colour"])
            rules.append(f".risk-band-{matrix.number}-{band['key']}{{background-color:{band['colour']};color:{text}}}")
            rules.append(f".risk-cell-{matrix.number}-{band['key']}{{background-color:{band['colour']}26}}")
    response = HttpResponse("\n".join(rules), content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "private, max-age=60"
    return response


@role_required(STAFF)
def detail(request, pk: int):
    """Everything about one risk on one screen."""
    risk = selectors.risk_page(request.user, pk)
    assessments = list(selectors.history_queryset(risk)[:5])
    actions = list(risk.actions.select_related("owner"))
    acceptances = list(risk.acceptances.select_related("approver", "requested_by"))
    return render(
        request,
        "risks/detail.html",
        {
            "risk": risk,
            "matrix": risk.matrix,
            "assessments": assessments,
            "assessment_total": risk.assessment_count,
            "actions": actions,
            "actions_done": sum(a.is_done for a in actions),
            "acceptances": acceptances,
            "in_force": next((a for a in acceptances if a.in_force()), None),
            "requests": list(risk.review_requests.filter(answered_by__isnull=True)),
            "review_task": services.open_review_task(risk),
            "needs_approval": risk.matrix.needs_approval(risk.residual_score),
            "can": reach.may_all(request.user, services_actions(), risk),
            "today": timezone.localdate(),
        },
    )


def services_actions() -> tuple[str, ...]:
    return ("edit", "review", "request_review", "request_acceptance", "add_action")


@role_required(MANAGERS)
def create(request):
    matrix = _matrix(request)
    form = RiskForm(request.POST or None, matrix=matrix)
    if request.method == "POST" and form.is_valid():
        try:
            risk = services.risk_create(
                by=request.user,
                reason=form.cleaned_data["reason"] or "Risk identified.",
                **form.descriptive(),
                **form.assessed(),
            )
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, f"Risk {risk.reference} added; its first review is on the calendar.")
            return redirect("risks:detail", risk.pk)
    return render(request, "risks/form.html", {"form": form, "title": "New risk", "matrix": matrix})


@role_required(STAFF)
def edit(request, pk: int):
    risk = reach.get_or_404(request, Risk.objects.select_related("matrix"), "edit", pk=pk)
    matrix = Matrix.current()
    form = RiskForm(
        request.POST or None,
        matrix=matrix,
        initial=RiskForm.initial_from(risk),
        can_assign=reach.is_manager(request.user),
    )
    if request.method == "POST" and form.is_valid():
        try:
            _, assessment = services.risk_update(
                risk=risk, by=request.user, reason=form.cleaned_data["reason"], **form.descriptive(), **form.assessed()
            )
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            said = f" Assessment {assessment.number} recorded." if assessment else ""
            messages.success(request, f"Risk {risk.reference} saved.{said}")
            return redirect("risks:detail", risk.pk)
    return render(
        request, "risks/form.html", {"form": form, "title": f"Change {risk.reference}", "risk": risk, "matrix": matrix}
    )


@role_required(STAFF)
def review(request, pk: int):
    """Record a review: the assessment as it stands, changed where it changed, and what was checked."""
    risk = reach.get_or_404(request, Risk.objects.select_related("matrix"), "review", pk=pk)
    matrix = Matrix.current()
    form = ReviewForm(request.POST or None, matrix=matrix, initial=ReviewForm.initial_from(risk))
    if request.method == "POST" and form.is_valid():
        try:
            assessment = services.risk_review(
                risk=risk,
                by=request.user,
                note=form.cleaned_data["note"],
                reviewed_on=form.cleaned_data["reviewed_on"],
                **form.assessed(),
            )
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            risk.refresh_from_db()
            changed = "no change" if not assessment.changed else f"{len(assessment.changed)} change(s)"
            messages.success(
                request, f"Review of {risk.reference} recorded ({changed}); next review {risk.next_review_on:%d %B %Y}."
            )
            return redirect("risks:detail", risk.pk)
    return render(
        request, "risks/form.html", {"form": form, "title": f"Review {risk.reference}", "risk": risk, "matrix": matrix}
    )


@role_required(STAFF)
def reassess(request, pk: int):
    """Reassess for this year: the last assessment carried over whole (inherent included), changed where needed."""
    risk = reach.get_or_404(request, Risk.objects.select_related("matrix"), "edit", pk=pk)
    matrix = Matrix.current()
    form = ReassessForm(request.POST or None, matrix=matrix, initial=ReassessForm.initial_from(risk))
    if request.method == "POST" and form.is_valid():
        try:
            assessment = services.risk_reassess(
                risk=risk, by=request.user, reason=form.cleaned_data["reason"], **form.assessed()
            )
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, f"{risk.reference} reassessed for the year (assessment {assessment.number}).")
            return redirect("risks:detail", risk.pk)
    return render(
        request,
        "risks/form.html",
        {"form": form, "title": f"Reassess {risk.reference} for this year", "risk": risk, "matrix": matrix},
    )


@role_required(STAFF)
def request_review(request, pk: int):
    """Ask for a review out of cycle: the review task comes forward to today."""
    risk = reach.get_or_404(request, Risk, "request_review", pk=pk)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.risk_review_request(risk=risk, reason=form.cleaned_data["reason"], source="manual", by=request.user)
        messages.success(request, f"A review of {risk.reference} is due today, in the queue and on the calendar.")
        return redirect("risks:detail", risk.pk)
    return render(
        request, "risks/form.html", {"form": form, "title": f"Ask for a review of {risk.reference}", "risk": risk}
    )


@role_required(STAFF)
def history(request, pk: int):
    """Every assessment of the risk as a timeline; pick two to compare."""
    risk = reach.get_or_404(request, Risk.objects.select_related("matrix"), pk=pk)
    page = ForgivingPaginator(selectors.history_queryset(risk), HISTORY_PAGE).get_page(request.GET.get("page"))
    return render(request, "risks/history.html", {"risk": risk, "assessments": page.object_list, "page": page})


@role_required(STAFF)
def compare(request, pk: int):
    """Two assessments side by side (`a` and `b`, by number; default the last two)."""
    risk = reach.get_or_404(request, Risk, pk=pk)
    numbers = []
    for value in [*request.GET.getlist("n"), request.GET.get("a", ""), request.GET.get("b", "")]:
        if value.strip().isdigit():
            numbers.append(int(value))
    assessments = {a.number: a for a in risk.assessments.select_related("matrix").filter(number__in=numbers)}
    if len(numbers) != 2 or len(assessments) != len(set(numbers)):
        latest = list(risk.assessments.select_related("matrix").order_by("-number")[:2])
        if len(latest) < 2:
            messages.info(request, "There is only one assessment so far: nothing to compare it with yet.")
            return redirect("risks:history", risk.pk)
        left, right = latest[1], latest[0]
    else:
        left, right = sorted((assessments[n] for n in numbers), key=lambda a: a.number)
        if left.pk == right.pk:
            messages.info(request, "Choose two different assessments to compare.")
            return redirect("risks:history", risk.pk)
    return render(
        request,
        "risks/compare.html",
        {"risk": risk, "left": left, "right": right, "rows": selectors.compare(left, right)},
    )


@role_required(STAFF)
def heatmap(request):
    """Inherent and residual heatmaps on the current criteria, and the move from one to the other."""
    matrix = _matrix(request)
    risks = reach.visible(request.user, Risk)
    older = risks.exclude(matrix=matrix).exclude(status="closed").count()
    moves = selectors.movement(risks, matrix)
    return render(
        request,
        "risks/heatmap.html",
        {
            "matrix": matrix,
            "maps": [selectors.heatmap(risks, matrix, "inherent"), selectors.heatmap(risks, matrix, "residual")],
            "svg": selectors.movement_svg(moves, matrix),
            "moves": sorted(moves, key=lambda m: -m["n"])[: selectors.MOVES_SHOWN],
            "moves_more": max(len(moves) - selectors.MOVES_SHOWN, 0),
            "older": older,
        },
    )


@role_required(STAFF)
def queue(request):
    """Due for review: overdue, due within 30 days, asked for out of cycle, reviewed recently."""
    return render(request, "risks/queue.html", selectors.queue(request.user))


@role_required(STAFF)
def criteria(request):
    """The risk criteria in force and their earlier versions."""
    current = _matrix(request)
    return render(
        request,
        "risks/criteria.html",
        {
            "matrix": current,
            "versions": Matrix.objects.all(),
            "can_configure": reach.may(request.user, "configure", Matrix),
        },
    )


@role_required(MANAGERS)
def criteria_edit(request):
    current = _matrix(request)
    form = CriteriaForm(request.POST or None, initial=CriteriaForm.initial_from(current))
    if request.method == "POST" and form.is_valid():
        try:
            matrix = services.matrix_save(by=request.user, **form.criteria())
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(
                request, f"Risk criteria version {matrix.number} is in force; earlier assessments keep theirs."
            )
            return redirect("risks:criteria")
    return render(request, "risks/form.html", {"form": form, "title": "Change the risk criteria"})


# --------------------------------------------------------------------------------------------------- acceptance


@role_required(STAFF)
def accept_request(request, pk: int):
    risk = reach.get_or_404(request, Risk.objects.select_related("owner", "matrix"), "request_acceptance", pk=pk)
    approvers = services.approver_choices(department_id=risk.owner.department_id, exclude=request.user)
    form = AcceptanceForm(request.POST or None, approvers=approvers)
    if request.method == "POST" and form.is_valid():
        try:
            acceptance = services.acceptance_request(risk=risk, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, f"Acceptance of {risk.reference} asked of {acceptance.approver}.")
            return redirect("risks:acceptance", acceptance.pk)
    return render(
        request,
        "risks/form.html",
        {
            "form": form,
            "title": f"Ask for acceptance of {risk.reference}",
            "risk": risk,
            "intro": f"Residual score {risk.residual_score}; the criteria accept up to "
            f"{risk.matrix.acceptance_threshold} without an approver. The acceptance freezes the risk as it "
            "stands and lapses by itself on expiry or when the risk changes materially.",
        },
    )


@role_required(STAFF)
def acceptance(request, pk: int):
    item = reach.get_or_404(
        request, Acceptance.objects.select_related("risk", "risk__matrix", "approver", "requested_by", "matrix"), pk=pk
    )
    can_decide = reach.may(request.user, "decide", item)
    return render(
        request,
        "risks/acceptance.html",
        {"item": item, "can_decide": can_decide, "form": DecideForm() if can_decide else None},
    )


@require_POST
@role_required(STAFF)
def acceptance_decide(request, pk: int):
    item = reach.get_or_404(request, Acceptance.objects.select_related("risk__owner"), "decide", pk=pk)
    form = DecideForm(request.POST)
    if form.is_valid():
        try:
            services.acceptance_decide(
                acceptance=item,
                by=request.user,
                approve=form.cleaned_data["decision"] == "approve",
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Decision recorded.")
    return redirect("risks:acceptance", item.pk)


# --------------------------------------------------------------------------------------------------- exceptions


@role_required(STAFF)
def exceptions(request):
    items = ControlException.objects.select_related("control", "owner", "approver").order_by("-requested_at")
    return render(request, "risks/exceptions.html", {"items": reach.visible(request.user, items)})


@role_required(STAFF)
def exception_create(request, pk: int):
    """Ask for an exception to a control (its owner or the compliance team)."""
    control = reach.get_or_404(request, Control.objects.select_related("owner"), "edit", pk=pk)
    approvers = services.approver_choices(department_id=control.owner.department_id, exclude=request.user)
    form = ExceptionForm(request.POST or None, approvers=approvers, initial={"owner": control.owner_id})
    if request.method == "POST" and form.is_valid():
        try:
            item = services.exception_request(control=control, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, f"Exception to {control.reference} asked of {item.approver}.")
            return redirect("risks:exception", item.pk)
    return render(request, "risks/form.html", {"form": form, "title": f"Ask for an exception to {control.reference}"})


@role_required(STAFF)
def exception(request, pk: int):
    item = reach.get_or_404(
        request, ControlException.objects.select_related("control", "owner", "approver", "requested_by"), pk=pk
    )
    can_decide = reach.may(request.user, "decide", item)
    return render(request, "risks/exception.html", {"item": item, "can_decide": can_decide})


@require_POST
@role_required(STAFF)
def exception_decide(request, pk: int):
    item = reach.get_or_404(request, ControlException.objects.select_related("control__owner"), "decide", pk=pk)
    try:
        services.exception_decide(exception=item, by=request.user, approve=request.POST.get("decision") == "approve")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Decision recorded.")
    return redirect("risks:exception", item.pk)


# --------------------------------------------------------------------------------------------------- treatment


@role_required(STAFF)
def action_create(request, pk: int):
    risk = reach.get_or_404(request, Risk, "add_action", pk=pk)
    form = ActionForm(request.POST or None, initial={"owner": risk.owner_id})
    if request.method == "POST" and form.is_valid():
        try:
            action = services.action_save(risk=risk, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(
                request, f"“{action.title}” is on the calendar for {action.owner}, due {action.due_date:%d %B %Y}."
            )
            return redirect("risks:detail", risk.pk)
    return render(
        request, "risks/form.html", {"form": form, "title": f"Add a treatment action to {risk.reference}", "risk": risk}
    )


@role_required(STAFF)
def plan(request):
    """The treatment plan as it stands, and its frozen versions."""
    return render(
        request,
        "risks/plan.html",
        {
            "risks": selectors.plan_risks(request.user),
            "versions": PlanVersion.objects.prefetch_related("signoffs"),
            "can_freeze": reach.may(request.user, "freeze", PlanVersion),
            "form": NoteForm(),
        },
    )


@require_POST
@role_required(MANAGERS)
def plan_freeze(request):
    form = NoteForm(request.POST)
    form.is_valid()
    try:
        version = services.plan_freeze(by=request.user, note=form.cleaned_data.get("note", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("risks:plan")
    messages.success(
        request, f"Treatment plan version {version.number} is frozen and waits for the risk owners' approval."
    )
    return redirect("risks:plan_version", version.pk)


def _plan_version(request, pk: int) -> PlanVersion:
    return reach.get_or_404(request, PlanVersion.objects.select_related("created_by"), pk=pk)


@role_required(STAFF)
def plan_version(request, pk: int):
    version = _plan_version(request, pk)
    signoffs = list(version.signoffs.all())
    return render(
        request,
        "risks/plan_version.html",
        {
            "version": version,
            "signoffs": signoffs,
            "can_sign": reach.may(request.user, "sign", version),
            "entries": version.entries,
        },
    )


@require_POST
@role_required(STAFF)
def plan_signoff(request, pk: int):
    version = _plan_version(request, pk)
    try:
        services.plan_signoff(version=version, by=request.user)
    except PermissionDenied:
        raise
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"You approved your part of treatment plan version {version.number}.")
    return redirect("risks:plan_version", version.pk)


@role_required(STAFF)
def plan_version_pdf(request, pk: int):
    version = _plan_version(request, pk)
    return render_pdf(
        "risks/plan_pdf.html",
        {
            "version": version,
            "entries": version.entries,
            "signoffs": list(version.signoffs.all()),
            "organisation_name": Organisation.current().name,
        },
        title=f"Risk treatment plan, version {version.number}",
        filename=f"risk-treatment-plan-v{version.number}.pdf",
        landscape=True,
    )


# --------------------------------------------------------------------------------------------------- import

SESSION_KEY = "risks_import"
MAX_BYTES = 2 * 1024 * 1024


@role_required(MANAGERS)
def import_page(request):
    """Upload → preview with each row's errors → import the whole file, or nothing."""
    if not reach.may(request.user, "import", Risk):
        raise PermissionDenied("Only the compliance team imports risks.")
    if request.method == "POST" and request.POST.get("confirm"):
        token = request.session.get(SESSION_KEY)
        stored = cache.get(f"{SESSION_KEY}:{request.user.pk}:{token}") if token else None
        if not stored:
            messages.error(request, "The file is no longer held: upload it again.")
            return redirect("risks:import")
        try:
            counts = transfer.import_apply(stored["name"], stored["content"], by=request.user)
        except (ValidationError, transfer.ImportError_) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
            return redirect("risks:import")
        cache.delete(f"{SESSION_KEY}:{request.user.pk}:{token}")
        del request.session[SESSION_KEY]
        messages.success(
            request,
            f"Imported: {counts['add']} added, {counts['update']} updated, {counts['unchanged']} unchanged.",
        )
        return redirect("risks:index")
    form = ImportForm(request.POST or None, request.FILES or None)
    rows = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            form.add_error("file", "At most 2 MB: split the file.")
        else:
            content = upload.read()
            try:
                rows = transfer.import_preview(upload.name, content)
            except transfer.ImportError_ as exc:
                form.add_error("file", str(exc))
            else:
                # The checked file waits in the cache (not the session, which every request reads) until confirmed.
                token = secrets.token_urlsafe(16)
                cache.set(f"{SESSION_KEY}:{request.user.pk}:{token}", {"name": upload.name, "content": content}, 1800)
                request.session[SESSION_KEY] = token
    return render(
        request,
        "risks/import.html",
        {
            "form": form,
            "rows": rows,
            "errors": sum(1 for r in rows if r.errors) if rows else 0,
            "columns": ["Reference", *transfer.COLUMNS],
        },
    )
