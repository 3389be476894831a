"""The compliance team's engagement pages: the list, opening and changing one, its page (scope, auditors, what
happened in it, ending it now) and its auditor log. Leadership (viewer) reads the list and the pages; only the
compliance team opens, changes and ends engagements and reads the log.

Thin: the reach rule, a form, one service call (portal/services.py), then a redirect or a page."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Q
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from controls.models import Control, Requirement
from isms.foundation import reach
from isms.foundation.forms import service_errors
from isms.foundation.lists import ListPage
from isms.foundation.permissions import role_required
from isms.foundation.roles import MANAGERS, Role
from isms.notices.models import Notice

from .. import services
from ..filtersets import AuditorActionFilterSet, EngagementFilterSet
from ..forms.engagements import EndForm, EngagementForm
from ..models import AuditorAction, Engagement, RequestState
from ..scope import scope_of
from ..tables import AuditorActionTable, EngagementTable

READERS = MANAGERS | {Role.VIEWER}
INVITATION = "accounts.invitation"  # the invitation email's notice kind (isms/web/invitations.py, a layer above)

ENGAGEMENTS = ListPage(
    title="Engagements",
    filterset=EngagementFilterSet,
    table=EngagementTable,
    empty_text="No engagements yet. Open one with “Open an engagement” to give a certification body's auditors "
    "read-only access to the period and scope of their audit.",
    template_name="portal/engagement_list.html",
)

LOG = ListPage(
    title="Auditors' log",
    filterset=AuditorActionFilterSet,
    table=AuditorActionTable,
    empty_text="Nothing yet: every page an auditor of this engagement opens, every download and every refused "
    "attempt is written here as it happens.",
    template_name="portal/engagement_log.html",
    per_page=100,
)


@role_required(READERS)
def engagement_list(request):
    engagements = (
        reach.visible(request.user, Engagement)
        .select_related("audit")
        .prefetch_related("auditors")
        .order_by("-access_starts_on", "-pk")
    )
    return ENGAGEMENTS.render(
        request, engagements, context={"can_create": reach.may(request.user, "create", Engagement)}
    )


def _form_page(request, form: EngagementForm, engagement: Engagement | None, status: int = 200):
    return render(
        request,
        "portal/engagement_form.html",
        {
            "form": form,
            "engagement": engagement,
            "title": f"Change {engagement}" if engagement else "Open an engagement",
        },
        status=status,
    )


def _save(request, form: EngagementForm, engagement: Engagement | None):
    data = dict(form.cleaned_data)
    try:
        saved = services.engagement_save(
            by=request.user,
            engagement=engagement,
            frameworks=data.pop("frameworks"),
            requirements=data.pop("requirements"),
            controls=data.pop("controls"),
            auditors=data.pop("auditors"),
            invite=data.pop("invite"),
            **data,
        )
    except ValidationError as exc:
        service_errors(form, exc)
        return None
    return saved


@role_required(MANAGERS)
def engagement_new(request):
    reach.check(request.user, "create", Engagement)
    form = EngagementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        invited = len(form.cleaned_data["invite"])
        engagement = _save(request, form, None)
        if engagement is not None:
            messages.success(request, _saved_message(engagement, invited, opened=True))
            return redirect("portal:engagement_detail", pk=engagement.pk)
    return _form_page(request, form, None)


@role_required(MANAGERS)
def engagement_edit(request, pk: int):
    engagement = reach.get_or_404(request, Engagement, "edit", pk=pk)
    if engagement.ended_at:
        messages.error(request, "This engagement was ended: open a new one instead of changing it.")
        return redirect("portal:engagement_detail", pk=engagement.pk)
    form = EngagementForm(request.POST or None, engagement=engagement)
    if request.method == "POST" and form.is_valid():
        invited = len(form.cleaned_data["invite"])
        saved = _save(request, form, engagement)
        if saved is not None:
            messages.success(request, _saved_message(saved, invited, opened=False))
            return redirect("portal:engagement_detail", pk=saved.pk)
    return _form_page(request, form, engagement)


def _saved_message(engagement: Engagement, invited: int, *, opened: bool) -> str:
    text = f"{engagement} {'opened' if opened else 'saved'}."
    if invited:
        text += f" {invited} invitation{'s' if invited != 1 else ''} sent by email."
    return text


def _auditors(engagement: Engagement):
    """The engagement's auditors, each with whether their invitation was accepted and two-step sign-in set up."""
    auditors = engagement.auditors.annotate(
        two_step=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True))
    ).order_by("first_name", "last_name", "username")
    auditors = list(auditors)
    for person in auditors:
        person.accepted = person.has_usable_password() or person.last_login is not None
    # An invitation not taken up yet: the last one sent says until when its link works.
    pending = [p.pk for p in auditors if not p.accepted]
    expires = {}
    if pending:
        for recipient, data in (
            Notice.objects.filter(kind=INVITATION, recipient__in=pending)
            .order_by("pk")
            .values_list("recipient", "data")
        ):
            expires[recipient] = data.get("expires")
    now = timezone.now().timestamp()
    for person in auditors:
        stamp = expires.get(person.pk)
        person.invitation_expires = datetime.datetime.fromtimestamp(stamp, tz=datetime.UTC) if stamp else None
        person.invitation_expired = bool(stamp) and stamp < now
    return auditors


def _detail_context(request, engagement: Engagement, end_form: EndForm | None = None) -> dict:
    scope = scope_of(engagement)
    requirements = (
        Requirement.objects.filter(pk__in=scope.requirement_ids)
        .select_related("framework")
        .order_by("framework__name", "position", "pk")
    )
    controls = Control.objects.filter(pk__in=scope.control_ids).only("pk", "reference", "name").order_by("reference")
    by_state = dict(
        engagement.requests.order_by().values_list("state").annotate(n=Count("pk")).values_list("state", "n")
    )
    actions = AuditorAction.objects.filter(engagement=engagement).aggregate(
        total=Count("pk"), refused=Count("pk", filter=Q(kind=AuditorAction.Kind.REFUSED))
    )
    counts = {
        "samples": engagement.samples.count(),
        "packs": engagement.packs.count(),
        "actions": actions["total"],
        "refused": actions["refused"],
    }
    return {
        "engagement": engagement,
        "status": engagement.status,
        "frameworks": engagement.frameworks.order_by("name"),
        "narrowed_requirements": engagement.requirements.exists(),
        "narrowed_controls": engagement.controls.exists(),
        "requirements": requirements,
        "controls": controls,
        "auditors": _auditors(engagement),
        "requests_by_state": [(value, label, by_state.get(value, 0)) for value, label in RequestState.choices],
        "requests_total": sum(by_state.values()),
        "counts": counts,
        "end_form": end_form or EndForm(),
        "today": timezone.localdate(),
    }


@role_required(READERS)
def engagement_detail(request, pk: int):
    engagement = reach.get_or_404(request, Engagement.objects.select_related("audit", "created_by", "ended_by"), pk=pk)
    return render(request, "portal/engagement_detail.html", _detail_context(request, engagement))


@role_required(MANAGERS)
@require_POST
def engagement_end(request, pk: int):
    engagement = reach.get_or_404(
        request, Engagement.objects.select_related("audit", "created_by", "ended_by"), "end", pk=pk
    )
    form = EndForm(request.POST)
    if form.is_valid():
        try:
            services.engagement_end(engagement=engagement, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(
                request, f"{engagement} ended. Its auditors are signed out at their next request and see nothing of it."
            )
            return redirect("portal:engagement_detail", pk=engagement.pk)
    return render(request, "portal/engagement_detail.html", _detail_context(request, engagement, form))


def log_lines(engagement: Engagement):
    """The engagement's lines, and the lines of its auditors naming no engagement (an auditor's requests outside
    any open engagement: refused attempts, their landing page) since its access opened."""
    auditors = engagement.auditors.order_by().values("pk")
    return AuditorAction.objects.filter(
        Q(engagement=engagement)
        | Q(engagement__isnull=True, user__in=auditors, at__date__gte=engagement.access_starts_on)
    )


@role_required(MANAGERS)
def engagement_log(request, pk: int):
    engagement = reach.get_or_404(request, Engagement, "log", pk=pk)
    lines = reach.visible(request.user, log_lines(engagement)).select_related("user").order_by("-at", "-pk")
    return LOG.render(request, lines, context={"engagement": engagement})


urlpatterns = [
    path("engagements/", engagement_list, name="engagements"),
    path("engagements/new/", engagement_new, name="engagement_new"),
    path("engagements/<int:pk>/", engagement_detail, name="engagement_detail"),
    path("engagements/<int:pk>/edit/", engagement_edit, name="engagement_edit"),
    path("engagements/<int:pk>/end/", engagement_end, name="engagement_end"),
    path("engagements/<int:pk>/log/", engagement_log, name="engagement_log"),
]
