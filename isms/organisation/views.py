"""Organisation, certificate and certification-cycle pages."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from isms.foundation.permissions import role_required
from isms.foundation.roles import MANAGERS, STAFF

from . import services
from .forms import CertificateForm, CycleAuditForm, OrganisationForm
from .models import Certificate, CycleAudit, Organisation
from .selectors import cycle_timeline


@role_required(STAFF)
def organisation_detail(request):
    org = Organisation.current()
    certificate = Certificate.objects.current()
    return render(request, "organisation/detail.html", {"organisation": org, "certificate": certificate})


@role_required(MANAGERS)
def organisation_edit(request):
    org = Organisation.current()
    form = OrganisationForm(request.POST or None, instance=org)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Organisation and scope saved.")
        return redirect("organisation:detail")
    return render(request, "organisation/form.html", {"form": form, "title": "Edit organisation and scope"})


@role_required(MANAGERS)
def certificate_edit(request):
    certificate = Certificate.objects.current()
    form = CertificateForm(request.POST or None, instance=certificate)
    if request.method == "POST" and form.is_valid():
        services.certificate_save(
            certificate=certificate,
            organisation=Organisation.current(),
            **{f: form.cleaned_data[f] for f in CertificateForm.Meta.fields},
        )
        messages.success(request, "Certificate saved; the certification cycle was planned from its issue date.")
        return redirect("organisation:cycle")
    title = "Edit certificate" if certificate else "Record the certificate"
    return render(request, "organisation/form.html", {"form": form, "title": title})


@role_required(STAFF)
def cycle(request):
    certificate = Certificate.objects.current()
    timeline = cycle_timeline(certificate, timezone.localdate()) if certificate else None
    return render(request, "organisation/cycle.html", {"timeline": timeline})


@role_required(MANAGERS)
def cycle_audit_edit(request, pk: int):
    audit = get_object_or_404(CycleAudit.objects.select_related("certificate"), pk=pk)
    form = CycleAuditForm(request.POST or None, instance=audit)
    if request.method == "POST" and form.is_valid():
        services.cycle_audit_adjust(
            audit=audit,
            planned_date=form.cleaned_data["planned_date"],
            notes=form.cleaned_data["notes"],
            by=request.user,
        )
        messages.success(request, f"{audit.get_kind_display()} moved to {audit.planned_date:%d %b %Y}.")
        return redirect("organisation:cycle")
    return render(request, "organisation/form.html", {"form": form, "title": f"Adjust: {audit.get_kind_display()}"})


@require_POST
@role_required(MANAGERS)
def cycle_audit_reset(request, pk: int):
    audit = get_object_or_404(CycleAudit.objects.select_related("certificate"), pk=pk)
    services.cycle_audit_reset(audit=audit)
    messages.success(request, f"{audit.get_kind_display()} is back on its planned date, {audit.planned_date:%d %b %Y}.")
    return redirect("organisation:cycle")
