"""The forms of the incident, change, supplier and objective pages."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from controls.models import Control
from isms.foundation import reach
from isms.foundation.forms import BoundedDateField, MultipleFileField
from isms.maintenance.forms import staff_users

from .models import (
    QUESTIONS,
    Certificate,
    Change,
    Incident,
    IncidentStatus,
    Objective,
    Rating,
    Severity,
    Supplier,
)

YES_NO = [("yes", "Yes"), ("no", "No")]


def _people(field: forms.ModelChoiceField, empty: str) -> None:
    field.queryset = staff_users()
    field.empty_label = empty


def _risk_field(user, help_text: str) -> forms.ModelMultipleChoiceField:
    """The risks `user` may see (the risk register's reach rule), to link."""
    from risks.models import Risk

    return forms.ModelMultipleChoiceField(
        queryset=reach.visible(user, Risk.objects.exclude(status="closed")).order_by("number"),
        required=False,
        label="Linked risks",
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=help_text,
    )


def _controls_field(help_text: str) -> forms.ModelMultipleChoiceField:
    return forms.ModelMultipleChoiceField(
        queryset=Control.objects.order_by("reference"),
        required=False,
        label="Linked controls",
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=help_text,
    )


class _KeepsUnseenRisks:
    """A form that links risks: the risks already linked that the person may not see are kept (they cannot
    unlink what they were never shown)."""

    def _risks_init(self, user, help_text: str) -> None:
        self.fields["risks"] = _risk_field(user, help_text)
        self.unseen_risks = []
        if self.instance.pk:
            linked = self.instance.risks.all()
            visible = set(self.fields["risks"].queryset.values_list("pk", flat=True))
            self.fields["risks"].initial = [r.pk for r in linked if r.pk in visible]
            self.unseen_risks = [r for r in linked if r.pk not in visible]

    def clean_risks(self):
        return list(self.cleaned_data.get("risks") or []) + self.unseen_risks


# --------------------------------------------------------------------------------------------------- incidents


class IncidentForm(_KeepsUnseenRisks, forms.ModelForm):
    occurred_on = BoundedDateField(label="Occurred on", help_text="When it happened, as far as is known.")
    detected_on = BoundedDateField(label="Detected on", help_text="When it was noticed.")

    class Meta:
        model = Incident
        fields = [
            "title", "description", "occurred_on", "detected_on", "severity", "category", "affected", "owner",
            "status", "containment", "resolution", "lessons_learned",
        ]  # fmt: skip
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "affected": forms.Textarea(attrs={"rows": 2}),
            "containment": forms.Textarea(attrs={"rows": 3}),
            "resolution": forms.Textarea(attrs={"rows": 3}),
            "lessons_learned": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, user, creating: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["controls"] = _controls_field("Controls that failed, or that the incident concerns.")
        self._risks_init(
            user,
            "Each risk linked here gets a review out of cycle: its owner is asked to review it (once per incident).",
        )
        if self.instance.pk:
            self.fields["controls"].initial = list(self.instance.controls.values_list("pk", flat=True))
        _people(self.fields["owner"], "Choose who handles it")
        self.fields["owner"].required = False
        self.fields["owner"].help_text = "Who handles it until it is closed; you, if left empty."
        self.fields["severity"].queryset = Severity.objects.order_by("level")
        self.fields["severity"].empty_label = "Choose the severity"
        self.fields["severity"].label_from_instance = lambda s: (
            f"{s.level}. {s.label}" + (f" — {s.description}" if s.description else "")
        )
        self.fields["status"].choices = [c for c in IncidentStatus.choices if c[0] != IncidentStatus.CLOSED]
        if creating:
            for name in ("status", "containment", "resolution", "lessons_learned"):
                del self.fields[name]

    def clean(self):
        data = super().clean()
        occurred, detected = data.get("occurred_on"), data.get("detected_on")
        today = timezone.localdate()
        if detected and detected > today:
            self.add_error("detected_on", "It cannot have been detected after today.")
        if occurred and detected and occurred > detected:
            self.add_error(
                "occurred_on",
                f"It occurred on {occurred:%d %B %Y}, after it was detected on {detected:%d %B %Y}: an incident is "
                "detected on or after the day it occurs. Check both dates.",
            )
        return data

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        if not data.get("owner"):
            data.pop("owner", None)
        return data


class IncidentCloseForm(forms.Form):
    reveals_nonconformity = forms.ChoiceField(
        label="Does this incident reveal a nonconformity?",
        choices=YES_NO,
        widget=forms.RadioSelect,
        required=False,
        help_text="A requirement of the standard or of our own policies that was not met. A yes is taken to the "
        "audit programme as a nonconformity.",
    )
    nonconformity_note = forms.CharField(
        label="Which requirement was not met, and how",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    lessons_learned = forms.CharField(label="Lessons learned", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def clean_reveals_nonconformity(self):
        value = self.cleaned_data.get("reveals_nonconformity")
        if not value:
            raise ValidationError("Answer yes or no before closing the incident.")
        return value == "yes"


class SeverityForm(forms.ModelForm):
    class Meta:
        model = Severity
        fields = ["level", "label", "description", "colour"]
        widgets = {
            "level": forms.NumberInput(attrs={"class": "form-control form-control-sm", "min": 1, "max": 7}),
            "label": forms.TextInput(attrs={"class": "form-control form-control-sm"}),
            "description": forms.TextInput(attrs={"class": "form-control form-control-sm"}),
            "colour": forms.TextInput(
                attrs={"type": "color", "class": "form-control form-control-sm form-control-color"}
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["colour"].widget.attrs.pop("maxlength", None)  # not an attribute of a colour picker


SeverityFormSet = forms.modelformset_factory(Severity, form=SeverityForm, extra=1, can_delete=True, max_num=7)


# --------------------------------------------------------------------------------------------------- changes


class ChangeForm(_KeepsUnseenRisks, forms.ModelForm):
    planned_on = BoundedDateField(
        label="When", help_text="When the change takes effect (planned, or when it happened)."
    )

    class Meta:
        model = Change
        fields = ["title", "description", "planned_on", "owner", "assets", "supplier"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3}), "assets": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        _people(self.fields["owner"], "Choose who owns the change")
        self.fields["owner"].required = False
        self.fields["owner"].help_text = "Who owns the change; you, if left empty."
        self.fields["supplier"].queryset = Supplier.objects.filter(active=True).order_by("name")
        self.fields["supplier"].empty_label = "No supplier, or one not in the register yet"
        self.question_names = []
        for name, question, _ in QUESTIONS:
            initial = getattr(self.instance, name)
            self.fields[name] = forms.ChoiceField(
                label=question,
                choices=YES_NO,
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
                required=False,
                initial=None if initial is None else ("yes" if initial else "no"),
            )
            self.question_names.append(name)
        self._risks_init(
            user,
            "The risks this change touches. When the change calls for a risk review, each gets a review out of cycle.",
        )

    def questions(self):
        return [self[name] for name in self.question_names]

    def details(self):
        return [self[name] for name in ("title", "description", "planned_on", "owner")]

    def links(self):
        return [self[name] for name in ("assets", "supplier", "risks")]

    def clean(self):
        data = super().clean()
        unanswered = [name for name in self.question_names if data.get(name) not in ("yes", "no")]
        if len(unanswered) == len(self.question_names):
            raise ValidationError("Answer the questions: none is answered. Each needs a yes or a no.")
        for name in unanswered:
            self.add_error(name, "Answer yes or no.")
        for name in self.question_names:
            # The model's own check (every question answered) runs on the instance next: it sees the answers
            # (an unanswered one already has its message beside it).
            setattr(self.instance, name, data.get(name) == "yes")
        return data

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        for name in self.question_names:
            data[name] = data.get(name) == "yes"
        if not data.get("owner"):
            data.pop("owner", None)
        return data


class NoteForm(forms.Form):
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}))


# --------------------------------------------------------------------------------------------------- suppliers


class SupplierForm(_KeepsUnseenRisks, forms.ModelForm):
    contract_start = BoundedDateField(required=False)
    contract_end = BoundedDateField(required=False)

    class Meta:
        model = Supplier
        fields = [
            "name", "service", "criticality", "data_handled", "owner", "contact_name", "contact_email",
            "contact_phone", "contract_start", "contract_end", "notice_days", "active", "notes",
        ]  # fmt: skip
        widgets = {"data_handled": forms.Textarea(attrs={"rows": 2}), "notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        _people(self.fields["owner"], "Choose who manages the supplier")
        self.fields[
            "criticality"
        ].help_text = "Reviewed every year when critical or high, every two years when medium, every three when low."
        self.fields["controls"] = _controls_field("Controls that depend on this supplier or govern it.")
        self._risks_init(user, "Risks this supplier brings; a downgrade in a review asks for their review.")
        if self.instance.pk:
            self.fields["controls"].initial = list(self.instance.controls.values_list("pk", flat=True))


class CertificateForm(forms.ModelForm):
    expires_on = BoundedDateField(label="Expires on", help_text="A task to ask for the renewal comes 30 days before.")

    class Meta:
        model = Certificate
        fields = ["name", "issuer", "number", "expires_on"]


class SupplierReviewForm(forms.Form):
    reviewed_on = BoundedDateField(label="Reviewed on", help_text="Today, or the day the review was made.")
    outcome = forms.ChoiceField(
        label="Outcome",
        choices=[("", "Choose the outcome")] + Rating.choices,
        required=False,
        help_text="A lower outcome than the last review's asks for a review of the supplier's risks.",
    )
    assessment = forms.CharField(
        label="Assessment",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What was checked (questionnaire, certificate, audit report, incidents) and what was found.",
    )
    evidence_link = forms.URLField(
        label="Evidence (link)",
        required=False,
        assume_scheme="https",
        help_text="Where the completed questionnaire or report is kept; stored as evidence on the review task.",
    )

    files = MultipleFileField(
        required=False,
        label="Evidence files",
        allow_empty_file=True,
        help_text="The completed questionnaire, their certificate, an audit report: kept as evidence of the review.",
    )

    def clean_files(self):
        from evidence.services import uploads_rejected

        files = self.cleaned_data["files"]
        problems = uploads_rejected(files)
        if problems:
            raise ValidationError(problems)
        return files

    def clean_evidence_link(self):
        link = self.cleaned_data.get("evidence_link", "")
        if link and not link.lower().startswith(("http://", "https://")):
            raise ValidationError("Give a web address starting with https://.")
        return link


# --------------------------------------------------------------------------------------------------- objectives


class ObjectiveForm(forms.ModelForm):
    start_on = BoundedDateField(label="From")
    due_on = BoundedDateField(label="To be met by")

    class Meta:
        model = Objective
        fields = [
            "title", "description", "measure", "unit", "baseline", "target", "owner", "start_on", "due_on",
            "progress_every_months",
        ]  # fmt: skip
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _people(self.fields["owner"], "Choose who owns the objective")


class ProgressForm(forms.Form):
    recorded_on = BoundedDateField(label="Measured on")
    value = forms.DecimalField(label="Value", max_digits=12, decimal_places=2)
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_recorded_on(self):
        day = self.cleaned_data["recorded_on"]
        if day > timezone.localdate():
            raise ValidationError("Progress is recorded for today or an earlier day, not a day still to come.")
        return day


class ImportForm(forms.Form):
    file = forms.FileField(label="Spreadsheet (CSV or Excel)", help_text="The list's own download is the template.")
