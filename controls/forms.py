from django import forms

from isms.foundation.forms import DateInput
from isms.maintenance import recurrence
from isms.maintenance.forms import staff_users
from isms.maintenance.recurrence import PRESETS, month_end_safe

from .activities import TEMPLATES
from .models import Control, Requirement


class ControlForm(forms.ModelForm):
    requirements = forms.ModelMultipleChoiceField(
        queryset=Requirement.objects.filter(retired=False).select_related("framework"),
        required=False,
        # controls/static/controls/picker.js adds a search box over the list (catalogues have 100+ requirements).
        widget=forms.SelectMultiple(attrs={"size": 12, "data-picker": "Search requirements by number or words"}),
        help_text="Every requirement this control satisfies, in any framework; its evidence counts for each.",
    )

    class Meta:
        model = Control
        fields = ["reference", "name", "description", "owner", "department", "status", "requirements"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = staff_users()
        self.fields["owner"].empty_label = "Choose the control's owner"
        self.fields["department"].empty_label = "No department"
        self.fields["requirements"].label_from_instance = lambda r: f"{r.framework.name} · {r.identifier} {r.title}"


class AdoptActivityForm(forms.Form):
    template = forms.ChoiceField(choices=[(k, t.title) for k, t in TEMPLATES.items()], label="Activity")
    owner = forms.ModelChoiceField(queryset=staff_users(), empty_label="Choose who does it")
    frequency = forms.ChoiceField(
        choices=[("", "The activity's usual frequency")]
        + [(k, v[0]) for k, v in PRESETS.items() if k not in ("custom", "once")],
        required=False,
        help_text="Most activities have a usual frequency (quarterly access reviews, monthly scans…).",
    )
    start_date = forms.DateField(widget=DateInput(), help_text="The first due date.")
    evidence_required = forms.BooleanField(
        label="Evidence required",
        required=False,
        initial=True,
        help_text="The owner attaches a record when marking a task done, or says why there is none.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = staff_users()

    def clean_owner(self):
        owner = self.cleaned_data["owner"]
        if not owner.email:
            raise forms.ValidationError(f"{owner} has no email address, so could not be reminded. Add one first.")
        return owner

    def clean(self):
        data = super().clean()
        spec = TEMPLATES.get(data.get("template"))
        if spec and data.get("start_date"):
            rrule = month_end_safe(
                PRESETS[data["frequency"]][1] if data.get("frequency") else spec.rrule, data["start_date"]
            )
            gap = recurrence.shortest_gap_days(recurrence.validate(rrule, data["start_date"], None))
            if gap is not None and max(spec.reminder_days) >= gap:
                self.add_error(
                    "frequency",
                    f"{spec.title} reminds {max(spec.reminder_days)} days ahead, longer than the {gap} days between "
                    "tasks at this frequency. Pick a longer frequency.",
                )
        return data
