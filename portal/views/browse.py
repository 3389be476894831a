"""The auditor's read-only pages of an engagement: the overview (scope, period, the Statement of Applicability in
force), a requirement, a control with its tasks and evidence in the period, an evidence file's download, and the
areas the engagement includes. Every read goes through the reach rule for `pv.viewer`, so the compliance team's
preview shows exactly what the auditor sees; what an auditor saw is written to their log in words."""

from __future__ import annotations

from html import escape

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.cache import never_cache

from controls.models import Control, Requirement
from evidence.models import EvidenceItem
from isms.foundation import reach
from isms.foundation.pagecache import cached_page

from .. import selectors
from ..models import Area
from .common import PortalView, portal_page

REGISTER_AREAS = ("incidents", "changes", "suppliers", "objectives")


def _render(request: HttpRequest, pv: PortalView, template: str, **extra) -> HttpResponse:
    return render(request, template, pv.context(scope=pv.scope, **extra))


# --- long tables written in one pass ---------------------------------------------------------------------------
# A table of hundreds of rows (the risk register and its actions) is written here, every value escaped with the
# standard library's html.escape (what Django's escape does), rather than by a template loop that resolves,
# localises and escapes each cell: microseconds a row instead of tens (as isms/maintenance's task tables). The
# HTML is the one the template wrote.

_OVERDUE = ' <span class="badge text-bg-danger">overdue</span>'


def _labels(field) -> dict:
    """A choice field's labels by value, escaped: once per table rather than a get_..._display() per row."""
    return {value: escape(str(label)) for value, label in field.flatchoices}


def _person(user) -> str:
    return escape(user.get_full_name() or str(user))


def _risk_rows(risks, today) -> SafeString:
    from risks.models import Risk

    day = selectors.day_format()
    treatments = _labels(Risk._meta.get_field("treatment"))
    statuses = _labels(Risk._meta.get_field("status"))
    rows = []
    for r in risks:
        review = day(r.next_review_on) if r.next_review_on else "—"
        late = _OVERDUE if r.next_review_on and r.next_review_on < today else ""
        rows.append(
            f'<tr data-testid="risk-row">\n    <td><strong>{escape(r.reference)}</strong> {escape(r.title)}'
            f'<div class="small text-body-secondary">{escape(r.asset)}</div></td>\n'
            f"    <td>{r.inherent_score} {escape(r.inherent_level)}</td>\n"
            f"    <td>{r.residual_score} {escape(r.residual_level)}</td>\n"
            f"    <td>{treatments.get(r.treatment, '')}</td>\n"
            f"    <td>{statuses.get(r.status, '')}</td>\n"
            f"    <td>{_person(r.owner)}</td>\n"
            f"    <td>{review}{late}</td>\n  </tr>"
        )
    return mark_safe("\n".join(rows))  # noqa: S308 (every value escaped)


def _action_rows(risks, today) -> SafeString:
    day = selectors.day_format()
    rows = []
    for r in risks:
        for a in r.action_list:
            if a.done_on:
                done = day(a.done_on)
            else:
                done = '<span class="badge text-bg-danger">overdue</span>' if a.due_date < today else "Not yet"
            rows.append(
                f"<tr><td>{escape(r.reference)}</td><td>{escape(a.title)}</td><td>{_person(a.owner)}</td>"
                f"<td>{day(a.due_date)}</td>\n    <td>{done}</td></tr>"
            )
    return mark_safe("\n".join(rows))  # noqa: S308 (every value escaped)


def _nc_rows(ncs, scope) -> SafeString:
    from audits.models import Nonconformity

    day, href = selectors.day_format(), selectors.address("portal:nonconformity", scope)
    severity, source, state = (_labels(Nonconformity._meta.get_field(f)) for f in ("severity", "source", "state"))
    return mark_safe(  # noqa: S308 (every value escaped)
        "\n".join(
            f'<tr data-testid="nc-row"><td><a href="{href(n.pk)}">{escape(n.reference)}</a> {escape(n.title)}</td>'
            f"<td>{severity.get(n.severity, '')}</td><td>{source.get(n.source, '')}</td>\n"
            f"    <td>{state.get(n.state, '')}</td><td>{day(n.raised_on)}</td>"
            f"<td>{day(n.closed_on) if n.closed_on else '—'}</td><td>{_person(n.owner)}</td></tr>"
            for n in ncs
        )
    )


def _incident_rows(incidents) -> SafeString:
    day = selectors.day_format()
    return mark_safe(  # noqa: S308 (every value escaped)
        "".join(
            f'<tr data-testid="incident-row"><td>{escape(i.reference)} {escape(i.title)}</td>'
            f"<td>{escape(i.severity.label) if i.severity else ''}</td><td>{day(i.detected_on)}</td>"
            f"<td>{escape(str(i.get_status_display()))}</td><td>{_person(i.owner) if i.owner else '—'}</td></tr>\n  "
            for i in incidents
        )
    )


def _require_area(pv: PortalView, *areas: str) -> None:
    """An area the engagement does not include does not exist for its auditors."""
    if not pv.scope.areas & set(areas):
        raise Http404("This engagement does not include that part of the ISMS.")


@never_cache
@portal_page
@cached_page
def engagement(request, pv: PortalView):
    data = selectors.overview(pv.viewer, pv.scope, timezone.localdate())
    request.auditor_log = f"Overview of {pv.engagement.title}"
    return _render(request, pv, "portal/browse_engagement.html", area_links=_area_links(pv), **data)


AREA_PAGES = (
    ("portal:risks", (Area.RISKS,), "risk register and treatment plan"),
    ("portal:internal_audits", (Area.INTERNAL_AUDITS,), "internal audits"),
    ("portal:nonconformities", (Area.NONCONFORMITIES,), "nonconformities"),
    ("portal:management_reviews", (Area.MANAGEMENT_REVIEWS,), "management reviews"),
    ("portal:registers", REGISTER_AREAS, "registers"),
)


def _area_links(pv: PortalView) -> list[tuple[str, str]]:
    """(address, words) of each area page the engagement includes."""
    return [
        (reverse(name, kwargs={"engagement": pv.engagement.pk}), label)
        for name, areas, label in AREA_PAGES
        if pv.scope.areas & set(areas)
    ]


@never_cache
@portal_page
@cached_page
def requirement(request, pv: PortalView, pk: int):
    found = reach.get_or_404(pv.viewer, Requirement.objects.select_related("framework"), pk=pk)
    data = selectors.requirement_page(pv.viewer, pv.scope, found, timezone.localdate())
    request.auditor_log = f"Requirement {found.identifier} {found.title} ({found.framework.name})"
    return _render(request, pv, "portal/browse_requirement.html", **data)


@never_cache
@portal_page
@cached_page
def control(request, pv: PortalView, pk: int):
    found = reach.get_or_404(pv.viewer, Control.objects.select_related("owner", "department"), pk=pk)
    data = selectors.control_page(pv.viewer, pv.scope, found, timezone.localdate())
    request.auditor_log = f"Control {found.reference} {found.name}"
    return _render(request, pv, "portal/browse_control.html", **data)


@never_cache  # evidence: no copy in a browser's or proxy's cache
@portal_page
def evidence_download(request, pv: PortalView, pk: int):
    """The file as an attachment, never inline: uploaded HTML must not run in our origin."""
    item = reach.get_or_404(pv.viewer, EvidenceItem, pk=pk, type=EvidenceItem.Type.FILE, deleted_at=None)
    try:
        handle = item.file.open("rb")
    except (FileNotFoundError, ValueError):  # ValueError: no file recorded on the row
        raise Http404("The stored file is missing.") from None
    response = FileResponse(handle, as_attachment=True, filename=item.original_name or f"evidence-{item.pk}")
    response["Content-Type"] = "application/octet-stream"
    response["X-Content-Type-Options"] = "nosniff"
    request.auditor_log = f"Downloaded {item.title} ({item.sha256[:12]})"
    return response


# --- the areas -----------------------------------------------------------------------------------------------------


@never_cache
@portal_page
@cached_page
def risks(request, pv: PortalView):
    _require_area(pv, Area.RISKS)
    data = selectors.risks(pv.viewer)
    today = timezone.localdate()
    request.auditor_log = f"Risk register ({len(data['risks'])} risks) and treatment plan"
    return _render(
        request,
        pv,
        "portal/browse_risks.html",
        today=today,
        risk_rows=_risk_rows(data["risks"], today),
        action_rows=_action_rows(data["risks"], today),
        **data,
    )


@never_cache
@portal_page
@cached_page
def internal_audits(request, pv: PortalView):
    _require_area(pv, Area.INTERNAL_AUDITS)
    request.auditor_log = "Internal audits in the period"
    audits = selectors.internal_audits(pv.viewer)
    return _render(request, pv, "portal/browse_internal_audits.html", audits=audits)


@never_cache
@portal_page
@cached_page
def internal_audit(request, pv: PortalView, pk: int):
    _require_area(pv, Area.INTERNAL_AUDITS)
    data = selectors.internal_audit(pv.viewer, pk)
    request.auditor_log = f"Internal audit {data['audit'].reference} {data['audit'].title}"
    return _render(request, pv, "portal/browse_internal_audit.html", **data)


@never_cache
@portal_page
@cached_page
def nonconformities(request, pv: PortalView):
    _require_area(pv, Area.NONCONFORMITIES)
    request.auditor_log = "Nonconformities open in the period"
    ncs = list(selectors.nonconformities(pv.viewer))
    return _render(request, pv, "portal/browse_nonconformities.html", ncs=ncs, nc_rows=_nc_rows(ncs, pv.scope))


@never_cache
@portal_page
@cached_page
def nonconformity(request, pv: PortalView, pk: int):
    _require_area(pv, Area.NONCONFORMITIES)
    data = selectors.nonconformity(pv.viewer, pk)
    request.auditor_log = f"Nonconformity {data['nc'].reference} {data['nc'].title}"
    return _render(
        request,
        pv,
        "portal/browse_nonconformity.html",
        today=timezone.localdate(),
        **data,
    )


@never_cache
@portal_page
@cached_page
def management_reviews(request, pv: PortalView):
    _require_area(pv, Area.MANAGEMENT_REVIEWS)
    request.auditor_log = "Management reviews in the period"
    reviews = selectors.management_reviews(pv.viewer)
    return _render(request, pv, "portal/browse_management_reviews.html", reviews=reviews)


@never_cache
@portal_page
@cached_page
def management_review(request, pv: PortalView, pk: int):
    _require_area(pv, Area.MANAGEMENT_REVIEWS)
    data = selectors.management_review(pv.viewer, pk)
    request.auditor_log = f"Management review {data['review'].reference}"
    return _render(request, pv, "portal/browse_management_review.html", **data)


@never_cache
@portal_page
@cached_page
def registers(request, pv: PortalView):
    _require_area(pv, *REGISTER_AREAS)
    data = selectors.registers(pv.viewer, pv.scope.areas)
    shown = ", ".join(name for name in REGISTER_AREAS if data[name] is not None)
    request.auditor_log = f"Registers: {shown}"
    if data["incidents"] is not None:
        data["incidents"] = list(data["incidents"])
        data["incident_rows"] = _incident_rows(data["incidents"])
    return _render(request, pv, "portal/browse_registers.html", **data)


urlpatterns = [
    path("<int:engagement>/", engagement, name="engagement"),
    path("<int:engagement>/requirements/<int:pk>/", requirement, name="requirement"),
    path("<int:engagement>/controls/<int:pk>/", control, name="control"),
    path("<int:engagement>/evidence/<int:pk>/download/", evidence_download, name="evidence_download"),
    path("<int:engagement>/risks/", risks, name="risks"),
    path("<int:engagement>/internal-audits/", internal_audits, name="internal_audits"),
    path("<int:engagement>/internal-audits/<int:pk>/", internal_audit, name="internal_audit"),
    path("<int:engagement>/nonconformities/", nonconformities, name="nonconformities"),
    path("<int:engagement>/nonconformities/<int:pk>/", nonconformity, name="nonconformity"),
    path("<int:engagement>/management-reviews/", management_reviews, name="management_reviews"),
    path("<int:engagement>/management-reviews/<int:pk>/", management_review, name="management_review"),
    path("<int:engagement>/registers/", registers, name="registers"),
]
