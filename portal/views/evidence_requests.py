"""Evidence requests in the portal: the list (every request and its state, for the auditors and the compliance
team's preview alike), a new request (on a control, a sampled record, or in free text), and one request with its
rounds, the answers' evidence and what each side may do next: the auditor accepts, asks again or withdraws; the
compliance team gives it to someone else or withdraws it. Reads go through the reach rule for `pv.viewer`; writes
are the services' (portal/evidence_requests.py), made by the person signed in, never by a preview."""

from __future__ import annotations

from collections import defaultdict

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from controls.models import Control
from evidence.models import EvidenceItem
from isms.foundation import reach
from isms.foundation.forms import service_errors
from isms.maintenance.models import Occurrence

from .. import evidence_requests as services
from ..forms.evidence_requests import AskAgainForm, ReassignForm, RequestForm, StateFilter, WithdrawForm
from ..middleware import auditor_post
from ..models import AuditorAction, EvidenceRequest, RequestRound, RequestState, SampleItem
from .common import PortalView, portal_page

TEAM_ACTIONS = ("reassign", "withdraw")
AUDITOR_ACTIONS = ("accept", "ask_again", "withdraw")


def _requests(pv: PortalView):
    return reach.visible(pv.viewer, EvidenceRequest).filter(engagement=pv.engagement)


def _get(pv: PortalView, pk: int) -> EvidenceRequest:
    return reach.get_or_404(
        pv.viewer,
        _requests(pv).select_related("owner", "control", "sample_item", "requested_by", "accepted_by", "withdrawn_by"),
        pk=pk,
    )


@never_cache
@portal_page
def request_list(request: HttpRequest, pv: PortalView) -> HttpResponse:
    rows = _requests(pv)
    counts = dict(rows.order_by().values_list("state").annotate(n=Count("pk")))
    choice = StateFilter(request.GET or None)
    state = choice.cleaned_data["state"] if choice.is_valid() else ""
    if state:
        rows = rows.filter(state=state)
    rows = (
        rows.select_related("owner", "control", "sample_item").annotate(round_count=Count("rounds")).order_by("-number")
    )
    today = timezone.localdate()
    states = [(value, label, counts.get(value, 0)) for value, label in RequestState.choices]
    label = dict(RequestState.choices).get(state, "every state")
    request.auditor_log = f"Evidence requests of {pv.engagement.title} ({label.lower()})"
    return render(
        request,
        "portal/requests.html",
        pv.context(
            rows=rows,
            state=state,
            state_label=label,
            states=states,
            total=sum(counts.values()),
            today=today,
            may_request=reach.may(pv.viewer, "request", pv.engagement)
            or reach.may(request.user, "request", pv.engagement),
        ),
    )


def _new_form(request: HttpRequest, pv: PortalView, data=None) -> RequestForm:
    controls = reach.visible(pv.viewer, Control).order_by("reference")
    items = reach.visible(pv.viewer, SampleItem).filter(sample__engagement=pv.engagement).select_related("sample")
    initial = {}
    for name, queryset in (("control", controls), ("sample_item", items)):
        pk = request.GET.get(name, "")
        if pk.isdigit():
            found = queryset.filter(pk=int(pk)).first()
            if found is not None:
                initial[name] = found
    if "sample_item" in initial and "control" not in initial:
        control = services.item_control(initial["sample_item"])
        if control is not None and controls.filter(pk=control.pk).exists():
            initial["control"] = control
    return RequestForm(
        data,
        initial=initial,
        controls=controls,
        sample_items=items,
        team=not reach.is_auditor(request.user) and reach.may(request.user, "reassign", EvidenceRequest),
    )


@never_cache
@auditor_post
@portal_page
def request_new(request: HttpRequest, pv: PortalView) -> HttpResponse:
    if request.method == "POST":
        request.auditor_action_kind = AuditorAction.Kind.REQUEST
        form = _new_form(request, pv, request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                created = services.request_create(
                    by=request.user,  # the auditor, or the manager previewing as themselves
                    engagement=pv.engagement,
                    text=data["text"],
                    control=data["control"],
                    sample_item=data["sample_item"],
                    owner=data.get("owner"),
                    due_on=data["due_on"],
                )
            except ValidationError as exc:
                service_errors(form, exc)
            else:
                request.auditor_log = (
                    f"Asked for evidence: request {created.number}, “{services.short(created.text, 200)}”"
                )
                messages.success(
                    request,
                    f"Request {created.number} was sent to {created.owner}, due {created.due_on:%d %b %Y}. "
                    "It is on their calendar with reminders.",
                )
                return redirect("portal:request", engagement=pv.engagement.pk, pk=created.pk)
        request.auditor_log = "Asked for evidence: not sent, the form had something to correct"
    else:
        form = _new_form(request, pv)
        request.auditor_log = "Opened the form to ask for evidence"
    item = form.initial.get("sample_item") or (getattr(form, "cleaned_data", {}) or {}).get("sample_item")
    return render(
        request,
        "portal/request_new.html",
        pv.context(form=form, sample_item=item, may_request=reach.may(request.user, "request", pv.engagement)),
    )


def _rounds(pv: PortalView, req: EvidenceRequest) -> list[dict]:
    """Each round with its task and the evidence that answered it (as far as the viewer sees)."""
    rounds = list(req.rounds.select_related("asked_by"))
    tasks = (
        reach.visible(pv.viewer, Occurrence)
        .filter(
            schedule__subject_type=ContentType.objects.get_for_model(RequestRound),
            schedule__subject_id__in=[r.pk for r in rounds],
            schedule__purpose=services.PURPOSE,
        )
        .select_related("schedule", "owner", "completed_by")
        .order_by("due_date")
    )
    by_round = defaultdict(list)
    for task in tasks:
        by_round[task.schedule.subject_id].append(task)
    evidence = defaultdict(list)
    for item in (
        reach.visible(pv.viewer, EvidenceItem)
        .filter(occurrence__in=[t.pk for t in tasks], deleted_at__isnull=True)
        .select_related("submitted_by")
        .order_by("submitted_at", "pk")
    ):
        evidence[item.occurrence_id].append(item)
    return [
        {
            "round": r,
            "tasks": [{"task": t, "evidence": evidence.get(t.pk, [])} for t in by_round.get(r.pk, [])],
        }
        for r in rounds
    ]


def _page(request: HttpRequest, pv: PortalView, req: EvidenceRequest, **forms) -> HttpResponse:
    user = request.user
    auditor = reach.is_auditor(user)
    # The auditor's own buttons show to the auditor; the team's to the team (the preview shows the team what
    # they may do as themselves, beside exactly what the auditor sees).
    can = {a: auditor and reach.may(user, a, req) for a in AUDITOR_ACTIONS}
    if not auditor:
        can.update({a: reach.may(user, a, req) for a in TEAM_ACTIONS})
    live = req.state in (RequestState.OPEN, RequestState.ANSWERED)
    context = pv.context(
        req=req,
        rounds=_rounds(pv, req),
        can=can,
        live=live,
        today=timezone.localdate(),
        ask_form=forms.get("ask_form") or AskAgainForm(initial={"due_on": None}),
        withdraw_form=forms.get("withdraw_form") or WithdrawForm(),
        reassign_form=forms.get("reassign_form") or ReassignForm(initial={"owner": req.owner_id}),
    )
    return render(request, "portal/request.html", context, status=400 if forms else 200)


@never_cache
@portal_page
def request_detail(request: HttpRequest, pv: PortalView, pk: int) -> HttpResponse:
    req = _get(pv, pk)
    request.auditor_log = f"Evidence request {req.number} ({req.get_state_display().lower()})"
    return _page(request, pv, req)


def _act(request: HttpRequest, pv: PortalView, pk: int, form_class, form_name: str, do, done: str, log: str):
    """One action on a request from its page: the form, the service as the person signed in, then back to the
    page with what happened, or the page again with the refusal beside the field."""
    req = _get(pv, pk)
    form = form_class(request.POST)
    request.auditor_log = f"{log} request {req.number}"
    if form.is_valid():
        try:
            do(req, form.cleaned_data)
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, done.format(number=req.number))
            return redirect("portal:request", engagement=pv.engagement.pk, pk=req.pk)
    request.auditor_log += " (refused: " + " ".join(e for errs in form.errors.values() for e in errs)[:300] + ")"
    return _page(request, pv, req, **{form_name: form})


@require_POST
@auditor_post
@portal_page
def request_accept(request: HttpRequest, pv: PortalView, pk: int) -> HttpResponse:
    request.auditor_action_kind = AuditorAction.Kind.ACCEPT
    req = _get(pv, pk)
    reach.check(request.user, "accept", req)
    try:
        services.request_accept(by=request.user, request=req)
    except ValidationError as exc:
        request.auditor_log = f"Accepted the answer to request {req.number} (refused: {' '.join(exc.messages)})"
        messages.error(request, " ".join(exc.messages))
    else:
        request.auditor_log = f"Accepted the answer to request {req.number}"
        messages.success(request, f"You accepted the answer to request {req.number}.")
    return redirect("portal:request", engagement=pv.engagement.pk, pk=req.pk)


@require_POST
@auditor_post
@portal_page
def request_ask_again(request: HttpRequest, pv: PortalView, pk: int) -> HttpResponse:
    request.auditor_action_kind = AuditorAction.Kind.REQUEST
    reach.check(request.user, "ask_again", _get(pv, pk))
    return _act(
        request,
        pv,
        pk,
        AskAgainForm,
        "ask_form",
        lambda req, data: services.request_ask_again(
            by=request.user, request=req, text=data["text"], due_on=data["due_on"]
        ),
        "You asked again: request {number} is back on its owner's calendar.",
        "Asked again for",
    )


@require_POST
@auditor_post
@portal_page
def request_withdraw(request: HttpRequest, pv: PortalView, pk: int) -> HttpResponse:
    request.auditor_action_kind = AuditorAction.Kind.REQUEST
    reach.check(request.user, "withdraw", _get(pv, pk))
    return _act(
        request,
        pv,
        pk,
        WithdrawForm,
        "withdraw_form",
        lambda req, data: services.request_withdraw(by=request.user, request=req, reason=data["reason"]),
        "Request {number} was withdrawn and taken off its owner's calendar.",
        "Withdrew",
    )


@require_POST
@portal_page
def request_reassign(request: HttpRequest, pv: PortalView, pk: int) -> HttpResponse:
    reach.check(request.user, "reassign", _get(pv, pk))
    return _act(
        request,
        pv,
        pk,
        ReassignForm,
        "reassign_form",
        lambda req, data: services.request_reassign(by=request.user, request=req, owner=data["owner"]),
        "Request {number} was given to its new owner; the task moved to their calendar.",
        "Reassigned",
    )


urlpatterns = [
    path("<int:engagement>/requests/", request_list, name="requests"),
    path("<int:engagement>/requests/new/", request_new, name="request_new"),
    path("<int:engagement>/requests/<int:pk>/", request_detail, name="request"),
    path("<int:engagement>/requests/<int:pk>/accept/", request_accept, name="request_accept"),
    path("<int:engagement>/requests/<int:pk>/ask-again/", request_ask_again, name="request_ask_again"),
    path("<int:engagement>/requests/<int:pk>/withdraw/", request_withdraw, name="request_withdraw"),
    path("<int:engagement>/requests/<int:pk>/reassign/", request_reassign, name="request_reassign"),
]
