"""The risk register's forms. The rules are the services' (scores within the matrix, a reason for every change,
no review dated in the future, an approver and an expiry for every acceptance); the forms offer the choices and
put each refusal beside its field."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from controls.models import Control
from isms.accounts.models import Department, User
from isms.foundation.reach import may_own_work

from .models import Approvers, Matrix, Risk, Treatment
from .services import LEVELS, requirement_choices

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def owners():
    return User.objects.filter(is_active=True).exclude(role="auditor").exclude(email="").order_by("first_name")


class OwnerChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj} · {obj.department}" if obj.department_id else str(obj)


# --------------------------------------------------------------------------------------------------- criteria


def _lines(text: str) -> list[list[str]]:
    return [[part.strip() for part in line.split("|")] for line in text.splitlines() if line.strip()]


class CriteriaForm(forms.Form):
    """The risk criteria, written one level or band a line. Saving makes a new version."""

    size = forms.TypedChoiceField(
        label="Matrix size", coerce=int, choices=[(3, "3 × 3"), (4, "4 × 4"), (5, "5 × 5")], initial=5
    )
    likelihood_levels = forms.CharField(
        label="Likelihood levels",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="One a line, lowest first: label | description | colour (#rrggbb).",
    )
    impact_levels = forms.CharField(
        label="Impact levels",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="One a line, lowest first: label | description | colour (#rrggbb).",
    )
    bands = forms.CharField(
        label="Score bands",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One a line, lowest first: label | highest score in the band | colour | review every N months. "
        "The last band ends on the highest score (size × size).",
    )
    acceptance_threshold = forms.IntegerField(
        label="Acceptance threshold",
        min_value=1,
        max_value=25,
        help_text="The highest residual score a risk owner may accept without an approver.",
    )
    approvers = forms.ChoiceField(label="Who approves above the threshold", choices=Approvers.choices)
    note = forms.CharField(label="What changed and why", widget=forms.Textarea(attrs={"rows": 2}))

    @staticmethod
    def initial_from(matrix: Matrix) -> dict:
        def levels(items):
            return "\n".join(f"{i['label']} | {i.get('description', '')} | {i['colour']}" for i in items)

        return {
            "size": matrix.size,
            "likelihood_levels": levels(matrix.likelihood_levels),
            "impact_levels": levels(matrix.impact_levels),
            "bands": "\n".join(
                f"{b['label']} | {b['upto']} | {b['colour']} | {b['review_months']}" for b in matrix.bands
            ),
            "acceptance_threshold": matrix.acceptance_threshold,
            "approvers": matrix.approvers,
        }

    def _levels(self, name: str) -> list[dict]:
        levels = []
        for parts in _lines(self.cleaned_data.get(name, "")):
            parts += ["", ""]
            levels.append({"label": parts[0], "description": parts[1], "colour": parts[2].lower()})
        return levels

    def criteria(self) -> dict:
        """The cleaned form as matrix_save's arguments."""
        bands = []
        for parts in _lines(self.cleaned_data.get("bands", "")):
            parts += ["", "", ""]
            try:
                upto, months = int(parts[1]), int(parts[3])
            except ValueError:
                line = " | ".join(p for p in parts if p)
                raise ValidationError(
                    {"bands": f"“{line}”: give the highest score and the months as numbers."}
                ) from None
            key = "".join(c for c in parts[0].lower() if c.isalnum()) or f"band{len(bands) + 1}"
            bands.append(
                {"key": key, "label": parts[0], "upto": upto, "colour": parts[2].lower(), "review_months": months}
            )
        return {
            "size": self.cleaned_data["size"],
            "likelihood_levels": self._levels("likelihood_levels"),
            "impact_levels": self._levels("impact_levels"),
            "bands": bands,
            "acceptance_threshold": self.cleaned_data["acceptance_threshold"],
            "approvers": self.cleaned_data["approvers"],
            "note": self.cleaned_data["note"],
        }


# --------------------------------------------------------------------------------------------------- risks


class AssessForm(forms.Form):
    """The assessed fields: levels on the current matrix, treatment, controls and Annex A entries."""

    inherent_likelihood = forms.IntegerField(label="Inherent likelihood")
    inherent_impact = forms.IntegerField(label="Inherent impact")
    residual_likelihood = forms.IntegerField(label="Residual likelihood", help_text="With the controls in place.")
    residual_impact = forms.IntegerField(label="Residual impact")
    target_likelihood = forms.IntegerField(label="Target likelihood", required=False)
    target_impact = forms.IntegerField(label="Target impact", required=False)
    treatment = forms.ChoiceField(choices=Treatment.choices)
    treatment_plan = forms.CharField(
        label="How it is treated", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    target_date = forms.DateField(label="Target date", required=False, widget=DATE)
    controls = forms.ModelMultipleChoiceField(
        queryset=Control.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text="The controls that treat it. Hold Ctrl (⌘ on a Mac) to choose several.",
    )
    requirements = forms.ModelMultipleChoiceField(
        label="Annex A controls",
        queryset=requirement_choices().none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text="The Annex A controls it calls for (the Statement of Applicability shows it beside them).",
    )

    def __init__(self, *args, matrix: Matrix, **kwargs):
        super().__init__(*args, **kwargs)
        self.matrix = matrix
        for name in LEVELS:
            axis = "likelihood" if name.endswith("likelihood") else "impact"
            levels = matrix.likelihood_levels if axis == "likelihood" else matrix.impact_levels
            choices = [(i, f"{i} {level['label']}") for i, level in enumerate(levels, start=1)]
            if not self.fields[name].required:
                choices = [("", "—")] + choices
            self.fields[name].widget = forms.Select(choices=choices)
        self.fields["controls"].queryset = Control.objects.order_by("reference")
        self.fields["requirements"].queryset = requirement_choices()

    @staticmethod
    def initial_from(risk: Risk) -> dict:
        values = {name: getattr(risk, name) for name in (*LEVELS, "treatment", "treatment_plan", "target_date")}
        values["controls"] = list(risk.controls.all())
        values["requirements"] = list(risk.requirements.all())
        return values

    def assessed(self) -> dict:
        names = (*LEVELS, "treatment", "treatment_plan", "target_date", "controls", "requirements")
        return {name: self.cleaned_data[name] for name in names if name in self.cleaned_data}


class RiskForm(AssessForm):
    """A risk as a whole: what it is, whose, and its assessment."""

    title = forms.CharField(max_length=200)
    asset = forms.CharField(label="Asset or process", max_length=200)
    threat = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    vulnerability = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    owner = OwnerChoice(queryset=User.objects.none())
    department = forms.ModelChoiceField(
        queryset=Department.objects.all(), required=False, help_text="Empty: the owner's department."
    )
    review_months = forms.IntegerField(
        label="Review every (months)",
        required=False,
        help_text="Empty: the default of the residual score's band.",
    )
    reason = forms.CharField(
        label="Reason for the change",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Needed when the scores, treatment or controls change: it is kept in the risk's history.",
    )

    field_order = ["title", "asset", "threat", "vulnerability", "owner", "department"]

    def __init__(self, *args, can_assign: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners()
        if not can_assign:
            self.fields["owner"].disabled = True  # an owner cannot hand their risk to someone else

    def clean_owner(self):
        owner = self.cleaned_data["owner"]
        if not may_own_work(owner):
            raise ValidationError(f"{owner} cannot own a risk: choose an active member of staff with an email address.")
        return owner

    @staticmethod
    def initial_from(risk: Risk) -> dict:
        values = AssessForm.initial_from(risk)
        values.update(
            {name: getattr(risk, name) for name in ("title", "asset", "threat", "vulnerability", "review_months")}
        )
        values.update({"owner": risk.owner_id, "department": risk.department_id})
        return values

    def descriptive(self) -> dict:
        names = ("title", "asset", "threat", "vulnerability", "owner", "department", "review_months")
        return {name: self.cleaned_data[name] for name in names}


class ReviewForm(AssessForm):
    """A review: the assessment as it stands (change what changed) and what was checked."""

    reviewed_on = forms.DateField(label="Reviewed on", widget=DATE)
    note = forms.CharField(
        label="What you reviewed",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Recorded even when nothing changed, e.g. “Scores still right; MFA now on every admin account.”",
    )

    field_order = ["reviewed_on", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviewed_on"].initial = timezone.localdate()


class ReassessForm(AssessForm):
    """Reassess for this year: every field carried over from the last assessment, inherent included."""

    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 2}),
        initial="Annual reassessment.",
    )
    field_order = ["reason"]


class ReasonForm(forms.Form):
    reason = forms.CharField(label="Why a review now", widget=forms.Textarea(attrs={"rows": 2}))


class AcceptanceForm(forms.Form):
    approver = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        help_text="Someone with the authority under the risk criteria; not yourself.",
    )
    justification = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    expires_on = forms.DateField(label="Expires on", required=False, widget=DATE)

    def __init__(self, *args, approvers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["approver"].queryset = approvers


class DecideForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", "Approve"), ("refuse", "Refuse")], widget=forms.RadioSelect, initial="approve"
    )
    note = forms.CharField(
        label="Note",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Needed for a refusal: what the owner should do instead.",
    )


class ExceptionForm(forms.Form):
    title = forms.CharField(label="What is exempted", max_length=200, required=False)
    reason = forms.CharField(label="Why", widget=forms.Textarea(attrs={"rows": 2}), required=False)
    compensating = forms.CharField(
        label="Compensating measures", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    owner = OwnerChoice(queryset=User.objects.none())
    approver = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    expires_on = forms.DateField(label="Expires on", required=False, widget=DATE)

    def __init__(self, *args, approvers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners()
        self.fields["approver"].queryset = approvers


class ActionForm(forms.Form):
    title = forms.CharField(label="Action", max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    owner = OwnerChoice(queryset=User.objects.none())
    due_date = forms.DateField(label="Due on", widget=DATE)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners()


class NoteForm(forms.Form):
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ImportForm(forms.Form):
    file = forms.FileField(
        label="Spreadsheet (CSV or Excel)",
        help_text="The same columns as the register's download. A row with a reference updates that risk; a row "
        "without one adds a risk.",
    )
