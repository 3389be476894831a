"""Forms of the evidence request pages. They check shape; the rules (who may answer, due dates, scope) are the
services' (portal/evidence_requests.py), whose refusals are put beside the fields they name."""

from __future__ import annotations

from django import forms

from controls.models import Control
from isms.accounts.models import User
from isms.foundation.forms import BoundedDateField
from isms.foundation.roles import STAFF

from ..models import RequestState, SampleItem

STATE_FILTERS = [("", "Every request"), *RequestState.choices]
OWNER_CHOICE = "Choose someone from the list: only active staff with an email address can answer a request."


def answerers():
    """Who may be given a request: active staff with an email address (as the calendar's owners)."""
    return (
        User.objects.filter(is_active=True, role__in=STAFF)
        .exclude(email="")
        .select_related("department")
        .order_by("first_name", "last_name", "username")
    )


class PersonChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj} · {obj.department}" if obj.department_id else str(obj)


class ControlChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.reference} {obj.name}"


class RequestForm(forms.Form):
    """A new request: the question, optionally about a control in scope (or a sampled record, from its page),
    the due date, and — for the compliance team only — who answers."""

    text = forms.CharField(
        label="What evidence do you need?",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,  # the service says what to write when it is empty
        help_text="The person answering reads exactly this on their task.",
    )
    control = ControlChoice(
        queryset=Control.objects.none(),
        required=False,
        label="About the control",
        empty_label="No particular control",
        help_text="The request goes to the control's owner.",
    )
    sample_item = forms.ModelChoiceField(queryset=SampleItem.objects.none(), required=False, widget=forms.HiddenInput)
    due_on = BoundedDateField(label="Answer due by", required=False, help_text="Ten days from today if left empty.")
    owner = PersonChoice(
        queryset=User.objects.none(),
        required=False,
        label="Who answers",
        empty_label="The control's owner (or the compliance team)",
        error_messages={"invalid_choice": OWNER_CHOICE},
    )

    def __init__(self, *args, controls, sample_items, team: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["control"].queryset = controls
        self.fields["sample_item"].queryset = sample_items
        if team:
            self.fields["owner"].queryset = answerers()
        else:
            del self.fields["owner"]  # the auditors do not pick people: the control's owner answers


class AskAgainForm(forms.Form):
    text = forms.CharField(
        label="What is missing from the answer?",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="A new task goes to the person who answered, with these words.",
    )
    due_on = BoundedDateField(label="Answer due by", required=False, help_text="Ten days from today if left empty.")


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label="Why is it no longer needed?",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="The person asked reads it on their task.",
    )


class ReassignForm(forms.Form):
    owner = PersonChoice(
        queryset=User.objects.none(),
        label="Give it to",
        error_messages={"invalid_choice": OWNER_CHOICE, "required": "Choose who answers the request instead."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = answerers()


class StateFilter(forms.Form):
    state = forms.ChoiceField(choices=STATE_FILTERS, required=False, label="Show")
