"""Statement of Applicability pages: the working SoA (staff read, managers edit a line, inline with htmx or
on a page of its own), approval as a frozen version, the versions, what changed, and the exports."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse

from isms.foundation import reach
from isms.foundation.permissions import role_required
from isms.foundation.roles import MANAGERS, STAFF
from isms.organisation.models import Organisation

from . import hooks, selectors, services, soa_exports
from .models import ImplementationStatus, SoAEntry, SoAVersion
from .soa_diff import soa_diff as compare_snapshots

# What a person types to load the SoA framework when none is loaded (shown on the SoA page).

# The SoA's two small forms live with its views (controls/forms.py holds the controls' own forms).


class SoAEntryForm(forms.ModelForm):
    """One SoA line. An exclusion must say why; an excluded line's status is recorded as "not applicable"."""

    applicable = forms.TypedChoiceField(
        label="Applicable",
        choices=[(True, "Yes: included"), (False, "No: excluded")],
        coerce=lambda value: value in (True, "True"),
        widget=forms.RadioSelect,  # the form renderer adds Bootstrap's class (twice, with attrs: invalid HTML)
    )
    status = forms.ChoiceField(
        label="Implementation status",
        choices=[(v, label) for v, label in ImplementationStatus.choices if v != ImplementationStatus.NOT_APPLICABLE],
        help_text="For an included control. An excluded one is recorded as “Not applicable”.",
    )

    class Meta:
        model = SoAEntry
        fields = ["applicable", "justification", "status"]
        widgets = {"justification": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "justification": "Why it is included (a risk, a law, a contract) or why it is excluded. "
            "Required for an exclusion."
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.status == ImplementationStatus.NOT_APPLICABLE:
            self.initial["status"] = selectors.suggested_status(
                c.status for c in self.instance.requirement.controls.all()
            )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("applicable") is False and not cleaned.get("justification", "").strip():
            self.add_error(
                "justification",
                "An excluded control needs a justification: say why it does not apply to your organisation.",
            )
        return cleaned


def _overview(framework, entries: list[SoAEntry]) -> dict:
    """The counts, the approval state, the changes since the last approval and the exclusions that block the
    next one: the top of the working SoA and of the approval page (and swapped in by htmx after an edit)."""
    current = selectors.snapshot_lines(entries)
    latest = selectors.latest_version(framework)
    return {
        "framework": framework,
        "summary": selectors.summary(current),
        "latest": latest,
        "pending": compare_snapshots(latest.entries, current) if latest else None,
        "unjustified": selectors.unjustified_exclusions(entries),
    }


@role_required(STAFF)
def soa_page(request):
    """The working SoA: every Annex A control grouped by theme; managers edit a line in place."""
    framework = selectors.soa_framework()
    if framework is None:
        return render(request, "controls/soa.html", {"framework": None})
    services.soa_entries_ensure(framework)
    entries = selectors.soa_lines(framework)
    groups: dict[str, list[SoAEntry]] = {}
    for entry in entries:
        groups.setdefault(entry.requirement.group or "Requirements", []).append(entry)
    context = _overview(framework, entries)
    context["groups"] = list(groups.items())
    context["soa_columns"] = hooks.soa_columns()
    return render(request, "controls/soa.html", context)


@role_required(STAFF)
def soa_entry(request, pk: int):
    """One working line as a table row (htmx: the "cancel" of an inline edit); a browser goes to the SoA."""
    entry = reach.get_or_404(request, SoAEntry, pk=pk)
    if not request.htmx:
        return redirect(f"{reverse('controls:soa')}#entry-{entry.pk}")
    return render(request, "controls/soa_row.html", {"entry": selectors.soa_line(entry.pk)})


@role_required(MANAGERS)
def soa_entry_edit(request, pk: int):
    """Edit one line: with htmx the row turns into a form and back; without it, a page of its own."""
    entry = reach.get_or_404(request, SoAEntry.objects.select_related("requirement__framework"), "change", pk=pk)
    form = SoAEntryForm(request.POST or None, instance=entry)
    if request.method == "POST" and form.is_valid():
        services.soa_entry_update(entry=entry, by=request.user, **form.cleaned_data)
        if request.htmx:
            context = {
                "entry": selectors.soa_line(entry.pk),
                "oob_summary": True,
                **_overview(entry.requirement.framework, selectors.soa_lines(entry.requirement.framework)),
            }
            return render(request, "controls/soa_row.html", context)
        messages.success(request, f"SoA line {entry.requirement.identifier} saved.")
        return redirect(f"{reverse('controls:soa')}#entry-{entry.pk}")
    context = {"entry": selectors.soa_line(entry.pk), "form": form}
    template = "controls/soa_row_form.html" if request.htmx else "controls/soa_entry_form.html"
    return render(request, template, context)


class ApproveForm(forms.Form):
    note = forms.CharField(
        label="Note",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional: what changed and why, e.g. “annual review after the risk assessment”.",
    )


@role_required(MANAGERS)
def soa_approve(request):
    """Approve the working SoA as the next version, after seeing what changed since the last one."""
    framework = selectors.soa_framework()
    if framework is None:
        messages.info(request, "Load the Annex A catalogue first: the Statement of Applicability is kept against it.")
        return redirect("controls:soa")
    form = ApproveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            version = services.soa_approve(framework=framework, by=request.user, note=form.cleaned_data["note"])
        except services.SoAApprovalRefused as refused:
            messages.error(request, str(refused))
        else:
            messages.success(request, f"Version {version.number} of the Statement of Applicability is approved.")
            return redirect("controls:soa_version", version.pk)
    services.soa_entries_ensure(framework)
    context = _overview(framework, selectors.soa_lines(framework))
    context["form"] = form
    return render(request, "controls/soa_approve.html", context)


@role_required(STAFF)
def soa_versions(request):
    framework = selectors.soa_framework()
    versions = (
        SoAVersion.objects.filter(framework=framework).select_related("approved_by").defer("entries")
        if framework
        else SoAVersion.objects.none()
    )
    return render(request, "controls/soa_versions.html", {"framework": framework, "versions": versions})


def _version(request, pk: int) -> SoAVersion:
    return reach.get_or_404(request, SoAVersion.objects.select_related("framework", "approved_by"), pk=pk)


@role_required(STAFF)
def soa_version(request, pk: int):
    """An approved version exactly as approved: every line comes from its frozen snapshot."""
    version = _version(request, pk)
    return render(
        request,
        "controls/soa_version.html",
        {
            "version": version,
            "previous": version.previous(),
            "groups": selectors.group_lines(version.entries),
            "summary": selectors.summary(version.entries),
            "approver": version.approver,
        },
    )


@role_required(STAFF)
def soa_diff(request, pk: int):
    """What changed in this version since the one before it."""
    version = _version(request, pk)
    previous = version.previous()
    diff = compare_snapshots(previous.entries, version.entries) if previous else None
    return render(request, "controls/soa_diff.html", {"version": version, "previous": previous, "diff": diff})


@role_required(STAFF)
def soa_version_pdf(request, pk: int):
    return soa_exports.soa_pdf_response(_version(request, pk), organisation_name=Organisation.current().name)


@role_required(STAFF)
def soa_version_csv(request, pk: int):
    return soa_exports.soa_csv_response(_version(request, pk))


@role_required(STAFF)
def soa_version_xlsx(request, pk: int):
    return soa_exports.soa_xlsx_response(_version(request, pk))
