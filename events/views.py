"""Incident, change, supplier and objective pages: thin views (reach check → form → one service call →
redirect or render)."""

from __future__ import annotations

import base64

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from isms.foundation import reach
from isms.foundation.colours import readable_ink
from isms.foundation.forms import service_errors
from isms.foundation.lists import ListPage
from isms.foundation.pagecache import cached_page
from isms.foundation.permissions import role_required
from isms.foundation.roles import MANAGERS, STAFF

from . import charts, selectors, services, transfer
from .filtersets import ChangeFilterSet, IncidentFilterSet, ObjectiveFilterSet, SupplierFilterSet
from .forms import (
    CertificateForm,
    ChangeForm,
    ImportForm,
    IncidentCloseForm,
    IncidentForm,
    NoteForm,
    ObjectiveForm,
    ProgressForm,
    SeverityFormSet,
    SupplierForm,
    SupplierReviewForm,
)
from .models import (
    Certificate,
    Change,
    ChangeReview,
    Incident,
    Objective,
    ObjectiveStatus,
    Severity,
    Supplier,
)
from .tables import STATUS_CLASS, ChangeTable, IncidentTable, ObjectiveTable, SupplierTable

INCIDENTS = ListPage(
    title="Incidents",
    filterset=IncidentFilterSet,
    table=IncidentTable,
    empty_text="No incidents recorded. Anyone on staff reports one with “Report an incident”; the compliance team "
    "can also import an existing incident log.",
    template_name="events/list.html",
)
CHANGES = ListPage(
    title="Change log",
    filterset=ChangeFilterSet,
    table=ChangeTable,
    empty_text="No changes recorded. Before a change to systems, suppliers, locations, people or obligations, record "
    "it with “Record a change”: its answers open the reviews it needs.",
    template_name="events/list.html",
)
SUPPLIERS = ListPage(
    title="Suppliers",
    filterset=SupplierFilterSet,
    table=SupplierTable,
    empty_text="No suppliers in the register. The compliance team adds them with “New supplier”, or imports a "
    "spreadsheet; each is then reviewed on a cadence set by its criticality.",
    template_name="events/list.html",
)
OBJECTIVES = ListPage(
    title="ISMS objectives",
    filterset=ObjectiveFilterSet,
    table=ObjectiveTable,
    empty_text="No ISMS objectives set. The compliance team sets them with “New objective” (what, how it is "
    "measured, the target, an owner and a date); owners then record progress.",
    template_name="events/list.html",
)


@role_required(STAFF)
def home(request):
    """The registers' entry in the navigation: the change log first, with the incidents, suppliers and objectives a
    tab away."""
    return redirect("events:changes")


def _list_context(kind: str, user) -> dict:
    model = {"incidents": Incident, "changes": Change, "suppliers": Supplier, "objectives": Objective}[kind]
    new = {
        "incidents": ("events:incident_create", "Report an incident"),
        "changes": ("events:change_create", "Record a change"),
        "suppliers": ("events:supplier_create", "New supplier"),
        "objectives": ("events:objective_create", "New objective"),
    }[kind]
    intro = {
        "incidents": "Information security incidents, from report to lessons learned. Recording one against a risk "
        "asks its owner to review the risk.",
        "changes": "“Does this change affect our ISMS?” Each change, the reviews its answers opened and whether each "
        "is done. A change closes only when its reviews are done.",
        "suppliers": "Who handles our information, how critical they are, when each is next reviewed, and when "
        "certificates and contracts run out.",
        "objectives": "The ISMS objectives (clause 6.2) and how each is going, worked out from its progress entries.",
    }[kind]
    return {
        "kind": kind,
        "intro": intro,
        "new_url": reverse(new[0]) if reach.may(user, "create", model) else None,
        "new_label": new[1],
        "import_url": reverse("events:import", args=[kind]) if reach.may(user, "import", model) else None,
    }


def _seen_risks(user, risks) -> set[int]:
    """The ids of `risks` the person may open in the risk register (the others are shown by reference only)."""
    return set(reach.visible(user, risks).values_list("pk", flat=True))


def _form_page(request, form, *, title: str, cancel_url: str, intro: str = "", template="events/form.html", **extra):
    return render(request, template, {"form": form, "title": title, "cancel_url": cancel_url, "intro": intro, **extra})


# --------------------------------------------------------------------------------------------------- incidents


@role_required(STAFF)
@cached_page
def incidents(request):
    """The incident register: filtered, sorted, paged; CSV or Excel."""
    return INCIDENTS.render(
        request, selectors.incident_list(request.user), context=_list_context("incidents", request.user)
    )


@role_required(STAFF)
def incident_create(request):
    reach.check(request.user, "create", Incident)
    services.severity_scale_ensure()
    form = IncidentForm(
        request.POST or None, user=request.user, creating=True, initial={"detected_on": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        try:
            incident = services.incident_create(by=request.user, **form.service_fields())
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, f"Incident {incident.reference} reported. {incident.owner} handles it.")
            return redirect("events:incident", incident.pk)
    return _form_page(
        request,
        form,
        title="Report an incident",
        cancel_url=reverse("events:incidents"),
        intro="Say what happened and when; what you do not know yet can be added later. Linking a risk asks its owner "
        "to review it.",
    )


@role_required(STAFF)
@cached_page
def incident_detail(request, pk: int):
    incident = reach.get_or_404(
        request, Incident.objects.select_related("severity", "owner", "reported_by", "closed_by"), pk=pk
    )
    reviews = incident.risk_reviews.select_related("risk", "risk__owner", "request").order_by("risk__number")
    return render(
        request,
        "events/incident.html",
        {
            "incident": incident,
            "controls": incident.controls.order_by("reference"),
            "reviews": reviews,
            "risks": incident.risks.order_by("number"),
            "seen": _seen_risks(request.user, incident.risks.all()),
            "can": reach.may_all(request.user, ["edit", "close"], incident),
        },
    )


@role_required(STAFF)
def incident_edit(request, pk: int):
    incident = reach.get_or_404(request, Incident, "edit", pk=pk)
    form = IncidentForm(request.POST or None, user=request.user, instance=incident)
    if request.method == "POST" and form.is_valid():
        try:
            services.incident_update(incident=incident, by=request.user, **form.service_fields())
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, f"Incident {incident.reference} saved.")
            return redirect("events:incident", incident.pk)
    return _form_page(
        request, form, title=f"Edit incident {incident.reference}", cancel_url=reverse("events:incident", args=[pk])
    )


@role_required(MANAGERS)
def incident_close(request, pk: int):
    incident = reach.get_or_404(request, Incident, "close", pk=pk)
    form = IncidentCloseForm(request.POST or None, initial={"lessons_learned": incident.lessons_learned})
    if request.method == "POST" and form.is_valid():
        try:
            services.incident_close(incident=incident, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, f"Incident {incident.reference} closed.")
            return redirect("events:incident", incident.pk)
    return _form_page(
        request,
        form,
        title=f"Close incident {incident.reference}",
        cancel_url=reverse("events:incident", args=[pk]),
        intro="Closing records whether the incident reveals a nonconformity: a requirement of the standard or of our "
        "own policies that was not met.",
        submit_label="Close the incident",
    )


@role_required(MANAGERS)
def severity_scale(request):
    """The severity scale incidents are recorded on."""
    reach.check(request.user, "configure", Incident)
    services.severity_scale_ensure()
    formset = SeverityFormSet(request.POST or None, queryset=Severity.objects.order_by("level"))
    if request.method == "POST" and formset.is_valid():
        levels = [f.cleaned_data for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        try:
            services.severity_scale_save(by=request.user, levels=levels)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Severity scale saved.")
            return redirect("events:severity")
    return render(request, "events/severity.html", {"formset": formset})


@role_required(STAFF)
def severity_css(request):
    """The severity scale's colours as a stylesheet (the pages' policy allows no inline style)."""
    rules = []
    for severity in Severity.objects.all():
        ink = readable_ink(severity.colour)
        rules.append(f".severity-{severity.level}{{background-color:{severity.colour};color:{ink}}}")
    response = HttpResponse("\n".join(rules), content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "private, max-age=60"
    return response


# --------------------------------------------------------------------------------------------------- changes


@role_required(STAFF)
@cached_page
def changes(request):
    """The change log: each change, what it triggered and whether each review is done."""
    return CHANGES.render(request, selectors.change_list(request.user), context=_list_context("changes", request.user))


def _change_form_page(request, form, *, title, cancel_url, change=None):
    return render(
        request,
        "events/change_form.html",
        {"form": form, "title": title, "cancel_url": cancel_url, "change": change},
    )


@role_required(STAFF)
def change_create(request):
    reach.check(request.user, "create", Change)
    form = ChangeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            change = services.change_create(by=request.user, **form.service_fields())
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            opened = change.reviews.count()
            messages.success(
                request,
                f"Change {change.reference} recorded. "
                + (
                    f"It opened {opened} review{'s' if opened != 1 else ''} and awaits the compliance team's approval."
                    if opened
                    else "Every answer is no: it opened no review."
                ),
            )
            return redirect("events:change", change.pk)
    return _change_form_page(request, form, title="Record a change", cancel_url=reverse("events:changes"))


@role_required(STAFF)
@cached_page
def change_detail(request, pk: int):
    change = reach.get_or_404(
        request, Change.objects.select_related("owner", "requested_by", "supplier", "approved_by", "closed_by"), pk=pk
    )
    reviews = list(change.reviews.select_related("owner", "done_by"))
    can = reach.may_all(request.user, ["edit", "approve", "close"], change)
    suggested = []
    if can["edit"] and any(r.kind == "risks" for r in reviews):
        linked = set(change.risks.values_list("pk", flat=True))
        suggested = list(reach.visible(request.user, services.suggested_risks(change).exclude(pk__in=linked))[:10])
    return render(
        request,
        "events/change.html",
        {
            "change": change,
            "reviews": reviews,
            "risks": change.risks.select_related("owner").order_by("number"),
            "seen": _seen_risks(request.user, change.risks.all()),
            "suggested": suggested,
            "can": can,
            "close_refusal": services.close_refusal(change),
            "today": timezone.localdate(),
        },
    )


@role_required(STAFF)
def change_edit(request, pk: int):
    change = reach.get_or_404(request, Change, "edit", pk=pk)
    form = ChangeForm(request.POST or None, user=request.user, instance=change)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_update(change=change, by=request.user, **form.service_fields())
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, f"Change {change.reference} saved.")
            return redirect("events:change", change.pk)
    return _change_form_page(
        request, form, title=f"Edit change {change.reference}", cancel_url=reverse("events:change", args=[pk]),
        change=change,
    )  # fmt: skip


@require_POST
@role_required(MANAGERS)
def change_approve(request, pk: int):
    change = reach.get_or_404(request, Change, "approve", pk=pk)
    form = NoteForm(request.POST)
    form.is_valid()
    try:
        services.change_approve(change=change, by=request.user, note=form.cleaned_data.get("note", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Change {change.reference} approved.")
    return redirect("events:change", change.pk)


@require_POST
@role_required(MANAGERS)
def change_close(request, pk: int):
    change = reach.get_or_404(request, Change, "close", pk=pk)
    try:
        services.change_close(
            change=change,
            by=request.user,
            reveals_nonconformity=request.POST.get("reveals_nonconformity") == "yes",
            nonconformity_note=request.POST.get("nonconformity_note", "")[:2000],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Change {change.reference} closed.")
    return redirect("events:change", change.pk)


@require_POST
@role_required(STAFF)
def change_review_done(request, pk: int):
    """Mark one of a change's reviews done from the change's page (the same as completing its task)."""
    review = ChangeReview.objects.select_related("change").filter(pk=pk).first()
    change = reach.get_or_404(request, Change, pk=review.change_id if review else 0)
    task = services.open_task(review, services.REVIEW)
    if task is None or not reach.may(request.user, "complete", task):
        raise PermissionDenied("Only the review's owner or the compliance team can mark it done.")
    form = NoteForm(request.POST)
    form.is_valid()
    try:
        services.change_review_complete(review=review, by=request.user, note=form.cleaned_data.get("note", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{review.get_kind_display()} done.")
    return redirect("events:change", change.pk)


# --------------------------------------------------------------------------------------------------- suppliers


@role_required(STAFF)
@cached_page
def suppliers(request):
    """The supplier register."""
    return SUPPLIERS.render(
        request, selectors.supplier_list(request.user), context=_list_context("suppliers", request.user)
    )


@role_required(MANAGERS)
def supplier_create(request):
    reach.check(request.user, "create", Supplier)
    form = SupplierForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            supplier = services.supplier_save(by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(
                request, f"{supplier.name} added. Its first review is due on {supplier.next_review_on:%d %B %Y}."
            )
            return redirect("events:supplier", supplier.pk)
    return _form_page(request, form, title="New supplier", cancel_url=reverse("events:suppliers"))


@role_required(STAFF)
@cached_page
def supplier_detail(request, pk: int):
    supplier = reach.get_or_404(request, Supplier.objects.select_related("owner"), pk=pk)
    can = reach.may_all(request.user, ["edit", "review"], supplier)
    return render(
        request,
        "events/supplier.html",
        {
            "supplier": supplier,
            "certificates": supplier.certificates.all(),
            "reviews": supplier.reviews.select_related("by"),
            "controls": supplier.controls.order_by("reference"),
            "risks": supplier.risks.select_related("owner").order_by("number"),
            "seen": _seen_risks(request.user, supplier.risks.all()),
            "changes": reach.visible(request.user, supplier.changes.all()).order_by("-number")[:10],
            "can": can,
            "today": timezone.localdate(),
            "soon": timezone.localdate() + services.CERTIFICATE_LEAD,
        },
    )


@role_required(STAFF)
def supplier_edit(request, pk: int):
    supplier = reach.get_or_404(request, Supplier, "edit", pk=pk)
    form = SupplierForm(request.POST or None, user=request.user, instance=supplier)
    if not reach.may(request.user, "create", Supplier):
        form.fields["owner"].disabled = True  # an owner cannot hand the supplier to someone else
    if request.method == "POST" and form.is_valid():
        try:
            services.supplier_save(by=request.user, supplier=supplier, **form.cleaned_data)
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, f"{supplier.name} saved.")
            return redirect("events:supplier", supplier.pk)
    return _form_page(request, form, title=f"Edit {supplier.name}", cancel_url=reverse("events:supplier", args=[pk]))


@role_required(STAFF)
def supplier_review(request, pk: int):
    supplier = reach.get_or_404(request, Supplier, "review", pk=pk)
    form = SupplierReviewForm(
        request.POST or None, request.FILES or None, initial={"reviewed_on": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        try:
            review = services.supplier_review_record(supplier=supplier, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            supplier.refresh_from_db()
            text = f"Review of {supplier.name} recorded: {review.get_outcome_display().lower()}."
            if review.downgraded:
                text += " It is a downgrade: the owners of its risks are asked to review them."
            messages.success(request, f"{text} Next review by {supplier.next_review_on:%d %B %Y}.")
            return redirect("events:supplier", supplier.pk)
    return _form_page(
        request,
        form,
        title=f"Review {supplier.name}",
        cancel_url=reverse("events:supplier", args=[pk]),
        intro=f"Criticality {supplier.get_criticality_display().lower()}; last outcome: "
        f"{supplier.get_rating_display().lower() if supplier.rating else 'not reviewed yet'}.",
        submit_label="Record the review",
        multipart=True,
    )


@role_required(STAFF)
def certificate_add(request, pk: int):
    supplier = reach.get_or_404(request, Supplier, "edit", pk=pk)
    form = CertificateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.certificate_save(by=request.user, supplier=supplier, **form.cleaned_data)
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(
                request, "Certificate added; a task to ask for its renewal comes 30 days before it expires."
            )
            return redirect("events:supplier", supplier.pk)
    return _form_page(
        request, form, title=f"Add a certificate of {supplier.name}", cancel_url=reverse("events:supplier", args=[pk])
    )


@role_required(STAFF)
def certificate_edit(request, pk: int):
    certificate = Certificate.objects.select_related("supplier").filter(pk=pk).first()
    supplier = reach.get_or_404(request, Supplier, "edit", pk=certificate.supplier_id if certificate else 0)
    form = CertificateForm(request.POST or None, instance=certificate)
    if request.method == "POST":
        if "delete" in request.POST:
            services.certificate_delete(by=request.user, certificate=certificate)
            messages.success(request, f"Certificate {certificate.name} removed.")
            return redirect("events:supplier", supplier.pk)
        if form.is_valid():
            try:
                services.certificate_save(
                    by=request.user, supplier=supplier, certificate=certificate, **form.cleaned_data
                )
            except ValidationError as exc:
                service_errors(form, exc)
            else:
                messages.success(request, "Certificate saved; its renewal task moved with its expiry.")
                return redirect("events:supplier", supplier.pk)
    return _form_page(
        request,
        form,
        title=f"Certificate of {supplier.name}",
        cancel_url=reverse("events:supplier", args=[supplier.pk]),
        delete_label="Remove this certificate",
    )


# --------------------------------------------------------------------------------------------------- objectives


@role_required(STAFF)
@cached_page
def objectives(request):
    """The ISMS objectives and how each is going."""
    return OBJECTIVES.render(
        request, selectors.objective_list(request.user), context=_list_context("objectives", request.user)
    )


@role_required(MANAGERS)
def objective_create(request):
    reach.check(request.user, "create", Objective)
    form = ObjectiveForm(request.POST or None, initial={"start_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            objective = services.objective_save(by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, f"Objective “{objective.title}” set.")
            return redirect("events:objective", objective.pk)
    return _form_page(request, form, title="New ISMS objective", cancel_url=reverse("events:objectives"))


@role_required(STAFF)
@cached_page
def objective_detail(request, pk: int):
    objective = reach.get_or_404(request, Objective.objects.select_related("owner"), pk=pk)
    entries = list(objective.entries.select_related("by").order_by("recorded_on", "at"))
    status = ObjectiveStatus(objective.status(entries))
    return render(
        request,
        "events/objective.html",
        {
            "objective": objective,
            "entries": list(reversed(entries)),
            "status": status,
            "status_class": STATUS_CLASS[status],
            "chart": charts.progress_chart(objective, entries),
            "can": reach.may_all(request.user, ["edit", "progress"], objective),
            "progress_form": ProgressForm(initial={"recorded_on": timezone.localdate()}),
        },
    )


@role_required(STAFF)
def objective_edit(request, pk: int):
    objective = reach.get_or_404(request, Objective, "edit", pk=pk)
    form = ObjectiveForm(request.POST or None, instance=objective)
    if not reach.may(request.user, "create", Objective):
        form.fields["owner"].disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            services.objective_save(by=request.user, objective=objective, **form.cleaned_data)
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, "Objective saved.")
            return redirect("events:objective", objective.pk)
    return _form_page(request, form, title="Edit objective", cancel_url=reverse("events:objective", args=[pk]))


@role_required(STAFF)
def objective_progress(request, pk: int):
    objective = reach.get_or_404(request, Objective, "progress", pk=pk)
    form = ProgressForm(request.POST or None, initial={"recorded_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            entry = services.progress_record(objective=objective, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(
                request, f"Progress recorded: {entry.value.normalize():f} on {entry.recorded_on:%d %B %Y}."
            )
            return redirect("events:objective", objective.pk)
    return _form_page(
        request,
        form,
        title=f"Record progress: {objective.title}",
        cancel_url=reverse("events:objective", args=[pk]),
        intro=f"Measured as {objective.measure}; target {objective.target.normalize():f} {objective.unit} by "
        f"{objective.due_on:%d %B %Y}.",
    )


# --------------------------------------------------------------------------------------------------- import

SESSION_KEY = "events_import"


@role_required(MANAGERS)
def import_page(request, register: str):
    """Upload → preview with each row's errors → import the whole file, or nothing."""
    spec = transfer.REGISTERS.get(register)
    if spec is None:
        from django.http import Http404

        raise Http404("No such register.")
    reach.check(request.user, "import", spec.model)
    list_url = reverse(f"events:{register}")
    form = ImportForm(request.POST or None, request.FILES or None)
    rows = None
    if request.method == "POST" and request.POST.get("confirm"):
        stored = request.session.get(SESSION_KEY) or {}
        if stored.get("register") != register:
            messages.error(request, "Upload the file again: the preview has expired.")
            return redirect("events:import", register)
        try:
            with transaction.atomic():
                counts = transfer.apply(spec, stored["name"], base64.b64decode(stored["content"]), by=request.user)
        except (ValidationError, transfer.FileRefused) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
            return redirect("events:import", register)
        request.session.pop(SESSION_KEY, None)
        messages.success(
            request, f"Imported: {counts['add']} added, {counts['update']} updated, {counts['unchanged']} unchanged."
        )
        return redirect(list_url)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        content = upload.read()
        try:
            rows = transfer.preview(spec, upload.name, content)
        except transfer.FileRefused as exc:
            form.add_error("file", str(exc))
        else:
            request.session[SESSION_KEY] = {
                "register": register,
                "name": upload.name,
                "content": base64.b64encode(content).decode(),
            }
    return render(
        request,
        "events/import.html",
        {
            "form": form,
            "rows": rows,
            "errors": sum(1 for r in rows if r.errors) if rows else 0,
            "spec": spec,
            "list_url": list_url,
            "kind": register,
        },
    )
