"""Forms of the sampling pages: draw a sample; add a record by hand."""

from __future__ import annotations

from django import forms

from controls.models import Control, Requirement
from isms.foundation import reach

from ..models import SamplePopulation
from ..sampling import AREA_OF
from ..scope import Scope


class ScopedChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        if isinstance(obj, Control):
            return f"{obj.reference} {obj.name}"
        return f"{obj.identifier} {obj.title}"


class DrawForm(forms.Form):
    """What to draw from: the population, and the control or requirement where it needs one (in scope only)."""

    population = forms.ChoiceField(
        label="Population",
        choices=SamplePopulation.choices,
        error_messages={
            "required": "Choose what to sample.",
            "invalid_choice": "Choose what to sample from the list.",
        },
    )
    control = ScopedChoice(
        label="Control",
        queryset=Control.objects.none(),
        required=False,
        help_text="For a control's activities or its evidence.",
        error_messages={"invalid_choice": "Choose a control of this audit's scope from the list."},
    )
    requirement = ScopedChoice(
        label="Requirement",
        queryset=Requirement.objects.none(),
        required=False,
        help_text="For the activities of a requirement's controls.",
        error_messages={"invalid_choice": "Choose a requirement of this audit's scope from the list."},
    )
    note = forms.CharField(
        label="Note (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why this sample, or what you will test on it.",
    )

    def __init__(self, *args, viewer, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["population"].choices = [
            (value, label)
            for value, label in SamplePopulation.choices
            if value not in AREA_OF or AREA_OF[value] in scope.areas
        ]
        self.fields["control"].queryset = (
            reach.visible(viewer, Control).filter(pk__in=scope.control_ids).order_by("reference")
        )
        self.fields["requirement"].queryset = (
            reach.visible(viewer, Requirement)
            .filter(pk__in=scope.requirement_ids)
            .select_related("framework")
            .order_by("framework__name", "position", "identifier")
        )


class AddItemForm(forms.Form):
    """A record of the population not in the sample yet, and why it is added."""

    item = forms.TypedChoiceField(
        label="Record",
        coerce=int,
        choices=(),
        error_messages={
            "required": "Choose the record to add.",
            "invalid_choice": "Choose a record of the population that is not in the sample yet.",
        },
    )
    reason = forms.CharField(
        label="Why add it",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say why you add this record: the reason is kept with the sample."},
    )

    def __init__(self, *args, choices: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].choices = [("", "Choose a record…"), *choices]
