"""Forms for the calendar: filters, schedules, and what people do to an occurrence."""

from django import forms
from django.core.exceptions import ValidationError

from isms.accounts.models import Department, User
from isms.foundation import reach
from isms.foundation.forms import DateInput
from isms.foundation.roles import STAFF

from . import recurrence
from .models import FIRST_YEAR, LAST_YEAR, MAX_GRACE_DAYS, Kind, Occurrence, Schedule


def staff_users():
    return User.objects.filter(is_active=True, role__in=STAFF).order_by("first_name", "last_name", "username")


class PeopleChoices(forms.models.ModelChoiceIterator):
    """A people field's options, (id, name) as the user's str() names them, read as values: no User is made per
    option (a busy calendar filters by ~200 owners, on every month and agenda page)."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for pk, first, last, username in self.queryset.values_list("pk", "first_name", "last_name", "username"):
            yield (pk, f"{first} {last}".strip() or username)


class CalendarFilterForm(forms.Form):
    owner = forms.ModelChoiceField(queryset=staff_users(), required=False, empty_label="Any owner")
    department = forms.ModelChoiceField(queryset=Department.objects.all(), required=False, empty_label="Any department")
    kind = forms.ChoiceField(choices=[("", "Any kind"), *Kind.choices], required=False)
    status = forms.ChoiceField(choices=[("", "Any status"), *Occurrence.Status.choices], required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None:
            # The owners offered are those of the tasks the reach rule lets `user` see. Someone who does not see
            # everyone's tasks (a control owner sees only their own) has nobody else to pick: no owner filter.
            owners = User.objects.filter(pk__in=reach.visible(user, Occurrence).values("owner_id")).order_by(
                "first_name", "last_name", "username"
            )
            self.fields["owner"].queryset = owners
            self.fields["owner"].iterator = PeopleChoices
            if not reach.sees_everything(user):
                del self.fields["owner"]
        else:
            self.fields["owner"].queryset = staff_users()
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select form-select-sm"

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v}


def _parse_reminder_days(text: str) -> list[int]:
    try:
        days = sorted({int(part) for part in text.replace(";", ",").split(",") if part.strip()}, reverse=True)
    except ValueError:
        raise forms.ValidationError("Write whole numbers of days separated by commas, for example 14, 3, 1.") from None
    if any(d < 0 or d > 365 for d in days):
        raise forms.ValidationError("Each reminder must be between 0 (on the due date) and 365 days before.")
    return days


class ScheduleForm(forms.ModelForm):
    recurrence = forms.ChoiceField(choices=[(k, v[0]) for k, v in recurrence.PRESETS.items()], initial="monthly")
    custom_rrule = forms.CharField(
        label="Custom rule",
        required=False,
        help_text="For a pattern the presets lack, in the notation calendar programs use, e.g. FREQ=MONTHLY;BYDAY=1MO "
        "(the first Monday of every month).",
    )
    reminder_days_text = forms.CharField(
        label="Reminders (days before the due date)",
        initial="14, 3, 1",
        help_text="One reminder email on each of these days before the due date; the largest is the lead time.",
    )

    class Meta:
        model = Schedule
        fields = [
            "title",
            "description",
            "kind",
            "owner",
            "department",
            "recurrence",
            "custom_rrule",
            "start_date",
            "end_date",
            "reminder_days_text",
            "grace_days",
            "escalate_to",
            "evidence_required",
        ]
        help_texts = {"end_date": "No tasks after this date; leave empty to keep going."}
        widgets = {
            "start_date": DateInput(),
            "end_date": DateInput(),
            "description": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = staff_users()
        self.fields["escalate_to"].queryset = staff_users()
        self.fields["owner"].empty_label = "Choose who does it"
        self.fields["department"].empty_label = "The owner's department"
        self.fields["escalate_to"].empty_label = "The compliance team"
        # Hints for the browser; Schedule.clean holds the bounds and says them in its own words.
        self.fields["grace_days"].widget.attrs.update(min=0, max=MAX_GRACE_DAYS)
        for name in ("start_date", "end_date"):
            self.fields[name].widget.attrs.update(min=f"{FIRST_YEAR}-01-01", max=f"{LAST_YEAR}-12-31")
        if self.instance.pk:
            preset = recurrence.preset_of(self.instance.rrule)
            self.initial["recurrence"] = preset
            self.initial["custom_rrule"] = self.instance.rrule if preset == "custom" else ""
            self.initial["reminder_days_text"] = ", ".join(str(d) for d in self.instance.reminder_days)
        else:
            self.initial.setdefault("evidence_required", True)  # new activities ask for evidence unless told not to

    def clean_reminder_days_text(self):
        return _parse_reminder_days(self.cleaned_data["reminder_days_text"])

    def clean(self):
        data = super().clean()
        preset = data.get("recurrence")
        rule = (
            (data.get("custom_rrule") or "").strip()
            if preset == "custom"
            else (
                recurrence.preset_rule(preset, data["start_date"])
                if data.get("start_date") and preset in recurrence.PRESETS
                else ""
            )
        )
        if preset == "custom" and not rule:
            self.add_error("custom_rrule", "Write the rule, or pick one of the presets.")
            return data
        # The schedule's own rules (Schedule.clean) judge the rule and the reminders when the form validates
        # the instance, so the page, the API, the admin and every service give the same answer.
        self.instance.rrule = rule
        if data.get("reminder_days_text") is not None:
            self.instance.reminder_days = data["reminder_days_text"]
        data["rrule"] = rule
        return data

    def _update_errors(self, errors):
        # The model names its stored fields; this form shows them as the recurrence choice and the reminder text.
        if hasattr(errors, "error_dict"):
            rule_field = "custom_rrule" if self.cleaned_data.get("recurrence") == "custom" else "recurrence"
            names = {"rrule": rule_field, "reminder_days": "reminder_days_text"}
            errors = ValidationError({names.get(k, k): v for k, v in errors.error_dict.items()})
        super()._update_errors(errors)

    def schedule_fields(self) -> dict:
        d = self.cleaned_data
        fields = {f: d[f] for f in ("title", "description", "kind", "owner", "department", "start_date", "end_date")}
        fields.update(
            rrule=d["rrule"],
            reminder_days=d["reminder_days_text"],
            grace_days=d["grace_days"],
            escalate_to=d["escalate_to"],
            evidence_required=d["evidence_required"],
        )
        return fields


class CompleteForm(forms.Form):
    """Marking a task done: a note. The evidence app adds its attachment fields (purposes.Attachments.form)."""

    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, help_text="What was done, what was found."
    )


class ReassignForm(forms.Form):
    to = forms.ModelChoiceField(queryset=staff_users(), label="New owner")
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        # Ids of its own: the task page also holds the completion form, whose note field is "id_note".
        kwargs.setdefault("auto_id", "id_reassign_%s")
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = staff_users()
        self.fields["to"].empty_label = "Choose the new owner"


class SkipForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in the history, e.g. the system was decommissioned.",
        # Shown as a message on the task page, away from the field: say what is missing.
        error_messages={"required": "Say why the task is skipped: the reason is kept for the auditor."},
    )


class ReopenForm(forms.Form):
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_reopen_%s")  # unique on the task page (see ReassignForm)
        super().__init__(*args, **kwargs)
