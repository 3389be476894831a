"""The audit programme's pages. Thin: the reach rule, a form, one service call, then a redirect or a page."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from isms.foundation import reach
from isms.foundation.forms import service_errors
from isms.foundation.lists import ListPage
from isms.foundation.pagecache import cached_page
from isms.foundation.pdf import render_pdf
from isms.foundation.permissions import role_required
from isms.foundation.roles import MANAGERS, STAFF
from isms.organisation.models import Certificate, Organisation

from . import selectors, services
from .filtersets import NCFilterSet
from .forms import (
    ActionForm,
    AnalysisForm,
    AuditForm,
    CheckForm,
    DecideForm,
    DecisionForm,
    FeedbackForm,
    FindingForm,
    MinutesForm,
    NCForm,
    PartyForm,
    PlanForm,
    ReviewPlanForm,
    RowForm,
    SignOffForm,
)
from .models import (
    Audit,
    ChecklistRow,
    EffectivenessCheck,
    InterestedParty,
    ManagementReview,
    Nonconformity,
    Programme,
    ReviewStatus,
)
from .tables import NCTable

REGISTER = ListPage(
    title="Nonconformity log",
    filterset=NCFilterSet,
    table=NCTable,
    empty_text="No nonconformities yet. They come from signed-off audits, the certification body's findings, missed "
    "control activities and incidents; the compliance team also raises them with “New nonconformity”.",
    template_name="audits/ncs.html",
)


def _form_page(request, form, *, title: str, intro: str = "", back=None, submit: str = "Save", obj=None):
    back = (back,) if isinstance(back, str) else back  # ("name",) or ("name", pk)
    return render(
        request,
        "audits/form.html",
        {"form": form, "title": title, "intro": intro, "back": back, "submit": submit, "obj": obj},
    )


def _programme() -> Programme | None:
    certificate = Certificate.objects.current()
    if certificate is None:
        return None
    return services.programme_ensure(certificate=certificate)


# --------------------------------------------------------------------------------------------------- programme


@role_required(STAFF)
@cached_page
def programme(request):
    """The coverage matrix of the cycle: what was audited when, what is still uncovered, and the planner's
    proposal for the coming slots."""
    prog = _programme()
    today = timezone.localdate()
    cov = selectors.coverage(prog, today)
    proposal = selectors.plan_proposal(cov, today)
    for row in cov.rows:
        # The cells written in one pass (a few thousand of them): the letters are fixed, nothing to escape.
        row.cells_html = mark_safe("".join(f'<td class="text-center">{v}</td>' for v in row.letters))  # noqa: S308
    audits = {a.pk: a for a in cov.audits}
    return render(
        request,
        "audits/programme.html",
        {
            "cov": cov,
            "proposal": [(audits[pk], areas) for pk, areas in proposal.items()],
            "today": today,
            "can_plan": reach.may(request.user, "plan", Programme),
            "intervals": selectors.INTERVALS,
        },
    )


@role_required(MANAGERS)
def programme_plan(request):
    prog = _programme()
    if prog is None:
        messages.error(
            request, "Record the certificate on the organisation page first: the programme follows its cycle."
        )
        return redirect("audits:programme")
    reach.check(request.user, "plan", prog)
    form = PlanForm(
        request.POST or None,
        initial={
            "audits_per_year": prog.audits_per_year,
            "items_per_audit": prog.items_per_audit,
            "lead_auditor": prog.lead_auditor,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            made = services.programme_plan(programme=prog, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, f"{len(made)} audit slots put on the calendar.")
            return redirect("audits:programme")
    return _form_page(
        request,
        form,
        title="Plan the audit slots",
        intro="One internal audit a month for eleven months a year leaves the month of the external audit free. "
        "Slots already planned stay as they are.",
        back="audits:programme",
    )


@role_required(MANAGERS)
@require_POST
def programme_fill(request):
    """Put the planner's proposal into the coming slots' scopes."""
    prog = _programme()
    if prog is None:
        return redirect("audits:programme")
    reach.check(request.user, "plan", prog)
    added, skipped = services.programme_fill(programme=prog, by=request.user)
    msg = f"{added} areas added to the coming audits' scopes."
    if skipped:
        msg += f" {skipped} were left out where the lead auditor would have audited their own area."
    messages.success(request, msg)
    return redirect("audits:programme")


# --------------------------------------------------------------------------------------------------- audits


@role_required(STAFF)
@cached_page
def audits(request):
    rows = (
        Audit.objects.select_related("lead_auditor")
        .annotate(
            findings_count=Count(
                "rows", filter=Q(rows__result__in=["minor", "major", "observation", "ofi"]), distinct=True
            )
            + Count("findings", distinct=True)
        )
        .order_by("planned_on", "number")
    )
    return render(
        request,
        "audits/audits.html",
        {"audits": rows, "can_create": reach.may(request.user, "create", Audit), "today": timezone.localdate()},
    )


@role_required(MANAGERS)
def audit_create(request):
    reach.check(request.user, "create", Audit)
    form = AuditForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            audit = services.audit_create(by=request.user, programme=_programme(), **data)
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, f"{audit.reference} planned and put on the calendar.")
            return redirect("audits:audit", audit.pk)
    return _form_page(request, form, title="New audit", back="audits:audits")


def _audit(request, pk: int, action: str = "view") -> Audit:
    return reach.get_or_404(
        request, Audit.objects.select_related("lead_auditor", "signed_off_by", "cycle_audit"), action, pk=pk
    )


@role_required(STAFF)
@cached_page
def audit(request, pk: int):
    a = _audit(request, pk)
    rows = list(a.rows.select_related("requirement__framework").prefetch_related("evidence"))
    return render(
        request,
        "audits/audit.html",
        {
            "audit": a,
            "rows": rows,
            "departments": list(a.departments.all()),
            "findings": list(a.findings.select_related("requirement", "nonconformity")),
            "ncs": list(a.nonconformities.all()),
            "can": reach.may_all(request.user, ("edit", "record", "sign_off", "add_finding"), a),
            "sampled": sum(r.result != "not_sampled" for r in rows),
        },
    )


@role_required(STAFF)
def audit_edit(request, pk: int):
    a = _audit(request, pk, "edit")
    form = AuditForm(
        request.POST or None,
        editing=True,
        initial={
            "title": a.title,
            "planned_on": a.planned_on,
            "lead_auditor": a.lead_auditor,
            "auditor_name": a.auditor_name,
            "criteria": a.criteria,
            "processes": a.processes,
            "departments": list(a.departments.all()),
            "scope": list(a.scope.all()),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.audit_update(audit=a, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, f"{a.reference} saved.")
            return redirect("audits:audit", a.pk)
    return _form_page(request, form, title=f"Change {a.reference}", back=("audits:audit", a.pk))


@role_required(STAFF)
def audit_row(request, pk: int, row: int):
    a = _audit(request, pk, "record")
    r = reach.get_or_404(request, ChecklistRow.objects.select_related("requirement").filter(audit=a), pk=row)
    evidence_qs = selectors.evidence_choices(r.requirement, request.user)
    ids = list(evidence_qs.values_list("pk", flat=True))
    from evidence.models import EvidenceItem

    qs = EvidenceItem.objects.filter(Q(pk__in=ids) | Q(pk__in=r.evidence.values("pk"))).order_by("-submitted_at")
    form = RowForm(
        request.POST or None,
        evidence_qs=qs,
        initial={"result": r.result, "notes": r.notes, "evidence": list(r.evidence.all())},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.row_record(row=r, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            return redirect(f"{_audit_url(a)}#row-{r.pk}")
    return _form_page(
        request,
        form,
        title=f"{a.reference}: {r.requirement.identifier} {r.requirement.title}",
        intro="Record what was found and the evidence sampled. A finding needs a note the report can quote.",
        back=("audits:audit", a.pk),
    )


def _audit_url(a: Audit) -> str:
    from django.urls import reverse

    return reverse("audits:audit", args=[a.pk])


@role_required(STAFF)
def audit_signoff(request, pk: int):
    a = _audit(request, pk, "sign_off")
    form = SignOffForm(request.POST or None, initial={"summary": a.summary, "conclusion": a.conclusion})
    if request.method == "POST" and form.is_valid():
        try:
            services.audit_sign_off(audit=a, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(
                request, f"{a.reference}'s report is signed off and frozen; its nonconformities are in the register."
            )
            return redirect("audits:audit", a.pk)
    return _form_page(
        request,
        form,
        title=f"Sign off {a.reference}'s report",
        intro="After sign-off the report and checklist are frozen, and each minor or major nonconformity joins the "
        "register.",
        back=("audits:audit", a.pk),
        submit="Sign off",
    )


@role_required(STAFF)
def audit_pdf(request, pk: int):
    a = _audit(request, pk)
    return render_pdf(
        "audits/audit_pdf.html",
        {
            "audit": a,
            "rows": list(a.rows.select_related("requirement").prefetch_related("evidence")),
            "departments": list(a.departments.all()),
            "findings": list(a.findings.select_related("requirement")),
            "ncs": list(a.nonconformities.all()),
            "organisation_name": Organisation.current().name,
        },
        title=f"Audit report {a.reference}",
        filename=f"audit-report-{a.reference}.pdf",
    )


@role_required(STAFF)
def finding_create(request, pk: int):
    a = _audit(request, pk, "add_finding")
    form = FindingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.finding_add(audit=a, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, "Finding recorded.")
            return redirect("audits:audit", a.pk)
    return _form_page(request, form, title=f"Finding of {a.reference}", back=("audits:audit", a.pk))


# --------------------------------------------------------------------------------------------------- nonconformities


@role_required(STAFF)
@cached_page
def ncs(request):
    return REGISTER.render(
        request,
        selectors.register(request.user),
        context={"can_create": reach.may(request.user, "create", Nonconformity)},
    )


@role_required(MANAGERS)
def nc_create(request):
    reach.check(request.user, "create", Nonconformity)
    form = NCForm(request.POST or None, initial={"owner": request.user})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            nc = services.nc_raise(by=request.user, **data)
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, f"{nc.reference} raised.")
            return redirect("audits:nc", nc.pk)
    return _form_page(request, form, title="New nonconformity", back="audits:ncs")


def _nc(request, pk: int, action: str = "view") -> Nonconformity:
    qs = Nonconformity.objects.select_related(
        "owner", "department", "checker", "audit", "control", "incident", "change", "occurrence", "decided_by"
    )
    return reach.get_or_404(request, qs, action, pk=pk)


@role_required(STAFF)
@cached_page
def nc(request, pk: int):
    n = _nc(request, pk)
    actions = list(n.actions.select_related("owner", "done_by"))
    _with_evidence(request.user, actions)
    return render(
        request,
        "audits/nc.html",
        {
            "nc": n,
            "requirements": list(n.requirements.select_related("framework")),
            "actions": actions,
            "checks": list(n.checks.select_related("checker", "checked_by")),
            "can": reach.may_all(request.user, ("edit", "add_action", "decide", "close"), n),
            "today": timezone.localdate(),
            "whys": [w for w in n.whys if w],
        },
    )


def _with_evidence(user, actions) -> None:
    """Each action's `evidence_items`: what its owner attached when marking its task done (one query)."""
    from django.contrib.contenttypes.models import ContentType

    from evidence.models import EvidenceItem

    from .models import CorrectiveAction

    found: dict[int, list] = {a.pk: [] for a in actions}
    if actions:
        items = reach.visible(user, EvidenceItem).filter(
            deleted_at__isnull=True,
            occurrence__schedule__subject_type=ContentType.objects.get_for_model(CorrectiveAction),
            occurrence__schedule__subject_id__in=list(found),
        )
        for subject_id, pk, title in items.values_list("occurrence__schedule__subject_id", "pk", "title"):
            found[subject_id].append((pk, title))
    for a in actions:
        a.evidence_items = found[a.pk]


@role_required(STAFF)
def nc_edit(request, pk: int):
    n = _nc(request, pk, "edit")
    initial = {f: getattr(n, f) for f in services.ANALYSIS_FIELDS if f != "whys"}
    initial["elsewhere"] = {True: "yes", False: "no"}.get(n.elsewhere, "")
    for i, w in enumerate(n.whys[:5], 1):
        initial[f"why{i}"] = w
    form = AnalysisForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.nc_update(nc=n, by=request.user, **form.service_fields())
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, f"{n.reference} saved.")
            return redirect("audits:nc", n.pk)
    return _form_page(
        request,
        form,
        title=f"{n.reference}: reaction and cause",
        intro="Correct it at once, find the root cause (five whys, or in your own words) and check whether it could "
        "happen elsewhere. The effectiveness check comes the set number of days after the last corrective action.",
        back=("audits:nc", n.pk),
    )


@role_required(STAFF)
def nc_decide(request, pk: int):
    n = _nc(request, pk, "decide")
    form = DecideForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.nc_decide(
                nc=n,
                by=request.user,
                accept=form.cleaned_data["decision"] == "accept",
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            return redirect("audits:nc", n.pk)
    return _form_page(
        request,
        form,
        title=f"Accept or dismiss {n.reference}",
        intro="It was raised automatically. Accept it into the register, or dismiss it with the reason (kept for the "
        "auditor).",
        back=("audits:nc", n.pk),
    )


@role_required(STAFF)
@require_POST
def nc_close(request, pk: int):
    n = _nc(request, pk, "close")
    try:
        services.nc_close(nc=n, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("audits:nc", n.pk)


@role_required(STAFF)
def action_create(request, pk: int):
    n = _nc(request, pk, "add_action")
    form = ActionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.action_add(nc=n, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, "Corrective action added and put on its owner's calendar.")
            return redirect("audits:nc", n.pk)
    return _form_page(request, form, title=f"Corrective action for {n.reference}", back=("audits:nc", n.pk))


@role_required(STAFF)
def check(request, pk: int):
    c = reach.get_or_404(request, EffectivenessCheck.objects.select_related("nonconformity", "checker"), pk=pk)
    if request.method == "POST":
        reach.check(request.user, "record", c)
    form = CheckForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.check_record(check=c, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, "Effectiveness check recorded.")
            return redirect("audits:nc", c.nonconformity_id)
    n = c.nonconformity
    if c.outcome:
        intro = f"Recorded on {c.checked_on:%d %b %Y} by {c.checked_by}: {c.get_outcome_display().lower()}. {c.note}"
        form = None
    else:
        intro = (
            f"Did the corrective actions of {n.reference} ({n.title}) work? Due {c.due_on:%d %b %Y}, checked by "
            f"{c.checker}. Effective closes it; not effective reopens it for new actions."
        )
    return _form_page(
        request, form, title=f"Effectiveness check of {n.reference}", intro=intro, back=("audits:nc", n.pk)
    )


# --------------------------------------------------------------------------------------------------- reviews


@role_required(STAFF)
@cached_page
def reviews(request):
    return render(
        request,
        "audits/reviews.html",
        {
            "reviews": list(ManagementReview.objects.select_related("chair").annotate(n_actions=Count("actions"))),
            "can_create": reach.may(request.user, "create", ManagementReview),
        },
    )


@role_required(MANAGERS)
def review_create(request):
    reach.check(request.user, "create", ManagementReview)
    from dateutil.relativedelta import relativedelta

    last = services.last_review_date()
    suggested = (last + relativedelta(months=services.REVIEW_EVERY_MONTHS)) if last else timezone.localdate()
    form = ReviewPlanForm(request.POST or None, initial={"planned_on": suggested, "chair": request.user})
    if request.method == "POST" and form.is_valid():
        try:
            r = services.review_plan(by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, f"{r.reference} planned and put on the chair's calendar.")
            return redirect("audits:review", r.pk)
    return _form_page(
        request, form, title="Plan a management review", intro="At least every six months.", back="audits:reviews"
    )


def _review(request, pk: int, action: str = "view") -> ManagementReview:
    return reach.get_or_404(request, ManagementReview.objects.select_related("chair", "approved_by"), action, pk=pk)


def _review_context(request, r: ManagementReview) -> dict:
    pack = selectors.review_pack(r) if r.status != ReviewStatus.PLANNED else None
    notes = r.input_notes or {}
    if pack:
        for h in pack["headings"]:
            h["note"] = notes.get(h["key"], "")
    return {
        "review": r,
        "pack": pack,
        "attendees": list(r.attendees.all()),
        "decisions": list(r.decisions.select_related("recorded_by")),
        "actions": list(r.actions.select_related("owner")),
        "today": timezone.localdate(),
        "organisation_name": Organisation.current().name,
    }


@role_required(STAFF)
@cached_page
def review(request, pk: int):
    r = _review(request, pk)
    return render(
        request,
        "audits/review.html",
        {
            **_review_context(request, r),
            "can": reach.may_all(request.user, ("edit", "decide", "approve", "add_action"), r),
            "decision_form": DecisionForm(),
        },
    )


@role_required(STAFF)
@require_POST
def review_open(request, pk: int):
    r = _review(request, pk, "edit")
    try:
        services.review_open(review=r, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("audits:review", r.pk)


@role_required(STAFF)
def review_minutes(request, pk: int):
    r = _review(request, pk, "edit")
    initial = {
        "meeting_on": r.meeting_on,
        "attendees": list(r.attendees.all()),
        "other_attendees": r.other_attendees,
        "suitability": r.suitability,
        "adequacy": r.adequacy,
        "effectiveness": r.effectiveness,
        **{f"note_{k}": v for k, v in (r.input_notes or {}).items()},
    }
    form = MinutesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.review_record(
                review=r,
                by=request.user,
                meeting_on=data["meeting_on"],
                attendees=data["attendees"],
                other_attendees=data["other_attendees"],
                input_notes=form.notes(),
                suitability=data["suitability"],
                adequacy=data["adequacy"],
                effectiveness=data["effectiveness"],
            )
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, "Minutes saved.")
            return redirect("audits:review", r.pk)
    return _form_page(request, form, title=f"Minutes of {r.reference}", back=("audits:review", r.pk))


@role_required(STAFF)
@require_POST
def decision_create(request, pk: int):
    r = _review(request, pk, "decide")
    form = DecisionForm(request.POST)
    form.is_valid()
    try:
        services.decision_add(review=r, by=request.user, text=form.cleaned_data.get("text", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Decision recorded.")
    return redirect("audits:review", r.pk)


@role_required(STAFF)
def review_action_create(request, pk: int):
    r = _review(request, pk, "add_action")
    form = ActionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.review_action_add(review=r, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, "Action added and put on its owner's calendar.")
            return redirect("audits:review", r.pk)
    return _form_page(request, form, title=f"Action from {r.reference}", back=("audits:review", r.pk))


@role_required(STAFF)
@require_POST
def review_approve(request, pk: int):
    r = _review(request, pk, "approve")
    try:
        services.review_approve(review=r, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, f"{r.reference}'s minutes are approved and frozen; the next review is on the calendar."
        )
    return redirect("audits:review", r.pk)


@role_required(STAFF)
def review_pack_pdf(request, pk: int):
    r = _review(request, pk)
    return render_pdf(
        "audits/review_pdf.html",
        {**_review_context(request, r), "minutes": False},
        title=f"Management review {r.reference}: input pack",
        filename=f"management-review-{r.reference}-pack.pdf",
    )


@role_required(STAFF)
def review_minutes_pdf(request, pk: int):
    r = _review(request, pk)
    return render_pdf(
        "audits/review_pdf.html",
        {**_review_context(request, r), "minutes": True},
        title=f"Management review {r.reference}: minutes",
        filename=f"management-review-{r.reference}-minutes.pdf",
    )


# --------------------------------------------------------------------------------------------------- parties


@role_required(STAFF)
@cached_page
def parties(request):
    from .models import Feedback

    return render(
        request,
        "audits/parties.html",
        {
            "parties": list(InterestedParty.objects.all()),
            "feedback": list(Feedback.objects.select_related("party")[:50]),
            "can_edit": reach.may(request.user, "edit", InterestedParty),
        },
    )


@role_required(MANAGERS)
def party_create(request):
    reach.check(request.user, "edit", InterestedParty)
    form = PartyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("change_note")
        try:
            services.party_save(by=request.user, **data)
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            return redirect("audits:parties")
    return _form_page(request, form, title="New interested party", back="audits:parties")


@role_required(MANAGERS)
def party_edit(request, pk: int):
    party = reach.get_or_404(request, InterestedParty, "edit", pk=pk)
    form = PartyForm(
        request.POST or None, initial={"name": party.name, "requirements": party.requirements, "active": party.active}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.party_save(party=party, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            return redirect("audits:parties")
    return _form_page(request, form, title=f"Change {party.name}", back="audits:parties")


@role_required(MANAGERS)
def feedback_create(request):
    from .models import Feedback

    reach.check(request.user, "create", Feedback)
    form = FeedbackForm(request.POST or None, initial={"received_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.feedback_add(by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            return redirect("audits:parties")
    return _form_page(request, form, title="Feedback from an interested party", back="audits:parties")
