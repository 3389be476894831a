"""Forms for the evidence pages: adding evidence (or a corrected version), deleting it, filtering the library
and choosing a coverage period."""

from django import forms
from django.conf import settings
from django.core.validators import URLValidator
from django.db.models import Q
from django.db.models import Value as V
from django.db.models.functions import Concat

from controls.models import Control, Requirement
from isms.accounts.models import Department, User
from isms.foundation import reach
from isms.foundation.forms import BoundedDateField, DateInput, MultipleFileField
from isms.foundation.search import Lookup, LookupField
from isms.maintenance.forms import CompleteForm

from .coverage import MAX_PERIOD_DAYS
from .models import EvidenceItem
from .selectors import LibraryFilters
from .services import correction_reason_missing, safe_name, uploads_rejected
from .validation import UploadRejected, allowed_summary, check_upload


class TaskCompleteForm(CompleteForm):
    """Marking a task done with its evidence: files and links recorded on the task (and its control)."""

    # Empty files reach clean_files, which reports every bad file at once (not only the first).
    files = MultipleFileField(required=False, label="Evidence files", allow_empty_file=True)
    links = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Evidence links",
        help_text="One address per line (a ticket, a report, a dashboard).",
    )
    without_evidence = forms.BooleanField(
        label="Mark done without evidence",
        required=False,
        help_text="When there is nothing to attach. The task then shows as done without evidence.",
    )
    without_evidence_reason = forms.CharField(
        label="Why is there no evidence?",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="Kept in the task's history, for the auditor.",
    )

    def clean_files(self):
        """Every file checked on its content; every bad one reported with its reason, and the good ones named
        (a browser cannot keep chosen files after the page is sent, so they must be chosen again)."""
        files = self.cleaned_data["files"]
        problems = uploads_rejected(files)
        if problems:
            raise forms.ValidationError(problems)
        return files

    def clean_links(self):
        validate = URLValidator(schemes=["http", "https"])
        links = [line.strip() for line in self.cleaned_data["links"].splitlines() if line.strip()]
        for link in links:
            try:
                validate(link)
            except forms.ValidationError:
                raise forms.ValidationError(f"{link} is not a web address (http:// or https://).") from None
        return links

    def clean(self):
        data = super().clean()
        reason = (data.get("without_evidence_reason") or "").strip()
        if data.get("without_evidence") and not reason:
            self.add_error(
                "without_evidence_reason", "Say why there is no evidence: the reason is kept for the auditor."
            )
        # What the calendar passes to the evidence service (purposes.complete_task): a reason only when asked.
        data["without_attachments_reason"] = reason if data.get("without_evidence") else ""
        return data


class EvidenceForm(forms.Form):
    """A file, a link or a note, with the dates it applies to. What it is evidence for comes from the URL."""

    type = forms.ChoiceField(
        label="Kind of evidence", choices=EvidenceItem.Type.choices, initial="file", widget=forms.RadioSelect
    )
    title = forms.CharField(max_length=255, required=False, help_text="Defaults to the file name, address or note.")
    file = forms.FileField(required=False)
    url = forms.CharField(label="Address", max_length=1000, required=False, help_text="A ticket, report or dashboard.")
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    effective_date = BoundedDateField(
        required=False, help_text="The date it takes effect (e.g. the scan's date); today if empty."
    )
    period_start = BoundedDateField(required=False, help_text="Start of the period it covers.")
    period_end = BoundedDateField(required=False, help_text="End of the period it covers.")
    expires_on = BoundedDateField(required=False, help_text="A renewal task is put on the calendar for this date.")
    correction_reason = forms.CharField(
        label="Why is it corrected?",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="Kept on record with both versions, for the auditor.",
    )

    def __init__(self, *args, supersedes: EvidenceItem | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # The limit is read when the form is made, so a changed setting shows in the help text.
        self.fields["file"].help_text = f"Accepted: {allowed_summary()}. At most {settings.EVIDENCE_MAX_UPLOAD_MB} MB."
        self.supersedes = supersedes
        if supersedes is None:
            del self.fields["correction_reason"]
        else:
            self.order_fields(["correction_reason"])  # the first thing asked of a correction

    def clean_correction_reason(self):
        reason = self.cleaned_data["correction_reason"].strip()
        if not reason:
            raise forms.ValidationError(correction_reason_missing(self.supersedes))
        return reason

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload:
            try:
                check_upload(upload, safe_name(upload.name))
            except UploadRejected as exc:
                raise forms.ValidationError(f"{exc} Choose the file again, or another one.") from None
        return upload

    def clean_url(self):
        url = self.cleaned_data["url"].strip()
        if url:
            try:
                URLValidator(schemes=["http", "https"])(url)
            except forms.ValidationError:
                raise forms.ValidationError(f"{url} is not a web address (http:// or https://).") from None
        return url

    def clean(self):
        data = super().clean()
        kind = data.get("type")
        needed = {
            "file": ("file", "Choose a file."),
            "link": ("url", "Give the address."),
            "note": ("note", "Write the note."),
        }
        if kind in needed:
            name, message = needed[kind]
            value = data.get(name)
            if isinstance(value, str):
                value = value.strip()
            if not value and name not in self.errors:
                self.add_error(name, message)
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", "The period ends before it starts.")
        upload = data.get("file")
        if upload and kind == "file" and self.errors and "file" not in self.errors:
            # The file was fine, but the page comes back without it: a browser never keeps a chosen file.
            self.add_error("file", f"Choose {safe_name(upload.name)} again: it was fine, but a file cannot be kept.")
        return data

    def service_kwargs(self) -> dict:
        """What the evidence services take from this form (the kind picks the service)."""
        d = self.cleaned_data
        dates = {k: d.get(k) for k in ("effective_date", "period_start", "period_end", "expires_on")}
        if self.supersedes is not None:
            dates["correction_reason"] = d.get("correction_reason", "")
        return {"title": d.get("title", ""), **dates}


class DeleteForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept on record with the hash of the deleted file, for the auditor.",
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Give the reason for deleting this evidence.")
        return reason


def _submitters():
    return User.objects.filter(is_active=True).exclude(role="auditor").order_by("first_name", "last_name", "username")


def _person_label(user: User) -> str:
    full = user.get_full_name()
    return f"{full} ({user.username})" if full else user.username


def _person_exact(qs, text: str):
    """A person's label ends with their username in brackets: that names them even when two share a name."""
    username = text[text.rfind("(") + 1 : -1] if text.endswith(")") and "(" in text else text
    return qs.filter(username__iexact=username.strip())


CONTROL = Lookup(
    noun="control",
    plural="controls",
    label=lambda c: f"{c.reference} {c.name}",
    exact=lambda qs, text: qs.annotate(_label=Concat("reference", V(" "), "name")).filter(
        Q(reference__iexact=text) | Q(_label__iexact=text)
    ),
    fields=("reference", "name"),
    order=("reference",),
)
REQUIREMENT = Lookup(
    noun="requirement",
    plural="requirements",
    label=lambda r: f"{r.framework.name} · {r.identifier} {r.title}",
    exact=lambda qs, text: qs.annotate(
        _label=Concat("framework__name", V(" · "), "identifier", V(" "), "title")
    ).filter(_label__iexact=text),
    fields=("identifier", "title", "framework__name"),
    order=("framework__name", "position"),
)
PERSON = Lookup(
    noun="person",
    plural="people",
    label=_person_label,
    exact=_person_exact,
    fields=("first_name", "last_name", "username"),
    order=("first_name", "last_name", "username"),
)

# The boxes of the library's filter bar that offer suggestions as a person types (evidence:suggest).
LOOKUPS = ("control", "requirement", "submitted_by")


class LibraryFilterForm(forms.Form):
    """The library's filter bar. Control, requirement and person are typed, with suggestions (isms.foundation.
    search.LookupField): a drop-down of every one of them was ~1,000 options drawn on every page."""

    q = forms.CharField(label="Search", required=False, help_text="Title or file name")
    control = LookupField(lookup=CONTROL, queryset=Control.objects.none(), help_text="Reference or name")
    requirement = LookupField(
        label="Framework requirement",
        lookup=REQUIREMENT,
        queryset=Requirement.objects.none(),
        help_text="Number or title",
    )
    submitted_by = LookupField(label="Submitted by", lookup=PERSON, queryset=User.objects.none(), help_text="Name")
    department = forms.ModelChoiceField(queryset=Department.objects.all(), required=False, empty_label="Any department")
    date_from = BoundedDateField(label="Effective from", required=False)
    date_to = BoundedDateField(label="Effective to", required=False)
    source = forms.ChoiceField(choices=[("", "Any source"), *EvidenceItem.Source.choices], required=False)
    type = forms.ChoiceField(label="Kind", choices=[("", "Any kind"), *EvidenceItem.Type.choices], required=False)
    all_versions = forms.BooleanField(label="Include superseded and deleted", required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Only what the person may see can be named or suggested (the reach rule; people: who may submit).
        self.fields["control"].queryset = reach.visible(user, Control)
        self.fields["requirement"].queryset = (
            reach.visible(user, Requirement).filter(retired=False).select_related("framework")
        )
        self.fields["submitted_by"].queryset = _submitters()
        for name, f in self.fields.items():
            if name == "all_versions":
                f.widget.attrs["class"] = "form-check-input"
            elif isinstance(f.widget, forms.Select):
                f.widget.attrs["class"] = "form-select form-select-sm"
            else:
                f.widget.attrs["class"] = "form-control form-control-sm"

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", "The end is before the start.")
        return data

    def filters(self) -> LibraryFilters:
        """The valid filters; an invalid one is left out (its error shows next to it)."""
        self.is_valid()
        data = {k: v for k, v in getattr(self, "cleaned_data", {}).items() if k not in self.errors}
        data["q"] = (data.get("q") or "").strip()
        return LibraryFilters(**{k: v for k, v in data.items() if v not in (None, "")})


class PeriodForm(forms.Form):
    start = BoundedDateField(widget=DateInput(attrs={"class": "form-control form-control-sm"}))
    end = BoundedDateField(widget=DateInput(attrs={"class": "form-control form-control-sm"}))

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError("The period ends before it starts.")
            if (end - start).days >= MAX_PERIOD_DAYS:
                raise forms.ValidationError("Choose a period of five years or less.")
        return data
