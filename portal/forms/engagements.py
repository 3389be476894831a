"""The compliance team's engagement forms. They check shape (dates in order, one email per line); the rules live
in portal/services.py, whose refusals are put beside the fields they name (isms.foundation.forms.service_errors)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from audits.models import Audit, AuditKind
from controls.models import Control, Framework, Requirement
from isms.accounts.models import User
from isms.foundation.forms import BoundedDateField
from isms.foundation.lists import inline_select_options
from isms.foundation.roles import Role

from ..models import Area, Engagement

PERIOD_BACKWARDS = "The period under audit ends before it starts: put its last day after its first."
ACCESS_BACKWARDS = "Access ends before it starts: put the last day of access after the first."


class AuditChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.reference} {obj.title} ({obj.planned_on:%d %b %Y})"


class AuditorChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj} · {obj.email}" if obj.email else str(obj)


def parse_invitations(text: str) -> list[dict]:
    """One auditor a line: an email address, optionally a comma and their name ("ana@cb.example, Ana Lima")."""
    people, errors, seen = [], [], set()
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        email, _, name = (part.strip() for part in line.partition(","))
        try:
            validate_email(email)
        except ValidationError:
            errors.append(
                f"Line {number}: “{email}” is not an email address. Put one auditor a line: their email, then a "
                "comma and their name if you like."
            )
            continue
        if email.lower() in seen:
            errors.append(f"Line {number}: {email} is on an earlier line already: keep one line per auditor.")
            continue
        seen.add(email.lower())
        first, _, last = name.partition(" ")
        people.append({"email": email, "first_name": first.strip(), "last_name": last.strip()})
    if errors:
        raise ValidationError(errors)
    return people


class EngagementForm(forms.Form):
    title = forms.CharField(max_length=200, help_text="E.g. “Surveillance audit 2026”.")
    certification_body = forms.CharField(max_length=200, help_text="The organisation the auditors work for.")
    audit = AuditChoice(
        queryset=Audit.objects.none(),
        required=False,
        empty_label="Not linked to an audit of the cycle",
        label="External audit",
        help_text="The cycle's external audit this engagement is for (planned on the Audits page).",
    )
    period_start = BoundedDateField(label="Period under audit from")
    period_end = BoundedDateField(
        label="Period under audit until",
        help_text="The auditors see the control activities due in this period and the records dated in it.",
    )
    access_starts_on = BoundedDateField(label="Access from")
    access_ends_on = BoundedDateField(
        label="Access until",
        help_text="Access ends at the end of this day; the auditors are signed out at their next request after it.",
    )
    frameworks = forms.ModelMultipleChoiceField(
        queryset=Framework.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text="The frameworks the audit covers.",
        error_messages={"required": "Choose at least one framework the audit covers."},
    )
    requirements = forms.ModelMultipleChoiceField(
        queryset=Requirement.objects.none(),
        required=False,
        label="Requirements in scope",
        # controls/static/controls/picker.js adds a search box over the list (catalogues have 100+ requirements).
        widget=forms.SelectMultiple(attrs={"size": 10, "data-picker": "Search requirements by number or words"}),
        help_text="Leave empty for every requirement of the frameworks chosen; choose some to narrow the audit.",
    )
    controls = forms.ModelMultipleChoiceField(
        queryset=Control.objects.none(),
        required=False,
        label="Controls in scope",
        widget=forms.SelectMultiple(attrs={"size": 10, "data-picker": "Search controls by reference or name"}),
        help_text="Leave empty for every control mapped to the requirements in scope.",
    )
    areas = forms.MultipleChoiceField(
        choices=Area.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Other areas the auditors see",
        help_text="Each limited to the period under audit where its records have dates.",
    )
    auditors = AuditorChoices(
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Auditors with an account",
        help_text="Active accounts with the auditor role.",
    )
    invite = forms.CharField(
        required=False,
        label="Invite auditors by email",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "ana.lima@cb.example, Ana Lima"}),
        help_text="One a line: their email address, then a comma and their name if you like. Each gets an account "
        "with the auditor role and an email with a link to choose a password.",
    )

    def __init__(self, *args, engagement: Engagement | None = None, **kwargs):
        if engagement is not None and "initial" not in kwargs:
            kwargs["initial"] = initial_of(engagement)
        super().__init__(*args, **kwargs)
        self.fields["audit"].queryset = Audit.objects.exclude(kind=AuditKind.INTERNAL).order_by("-planned_on")
        self.fields["frameworks"].queryset = Framework.objects.order_by("name")
        self.fields["requirements"].queryset = (
            Requirement.objects.filter(retired=False)
            .select_related("framework")
            .order_by("framework__name", "position", "pk")
        )
        self.fields["requirements"].label_from_instance = lambda r: f"{r.framework.name} · {r.identifier} {r.title}"
        self.fields["controls"].queryset = Control.objects.only("pk", "reference", "name").order_by("reference")
        self.fields["controls"].label_from_instance = lambda c: f"{c.reference} {c.name}"
        auditors = User.objects.filter(role=Role.AUDITOR, is_active=True)
        self.fields["auditors"].queryset = auditors.order_by("first_name", "last_name", "username")
        inline_select_options(self)  # hundreds of requirements: options written in, not one template each

    def clean_invite(self) -> list[dict]:
        return parse_invitations(self.cleaned_data.get("invite", ""))

    def clean(self):
        data = super().clean()
        if data.get("period_start") and data.get("period_end") and data["period_end"] < data["period_start"]:
            self.add_error("period_end", PERIOD_BACKWARDS)
        starts, ends = data.get("access_starts_on"), data.get("access_ends_on")
        if starts and ends and ends < starts:
            self.add_error("access_ends_on", ACCESS_BACKWARDS)
        return data


def initial_of(engagement: Engagement) -> dict:
    return {
        "title": engagement.title,
        "certification_body": engagement.certification_body,
        "audit": engagement.audit_id,
        "period_start": engagement.period_start,
        "period_end": engagement.period_end,
        "access_starts_on": engagement.access_starts_on,
        "access_ends_on": engagement.access_ends_on,
        "frameworks": list(engagement.frameworks.values_list("pk", flat=True)),
        "requirements": list(engagement.requirements.values_list("pk", flat=True)),
        "controls": list(engagement.controls.values_list("pk", flat=True)),
        "areas": list(engagement.areas or []),
        "auditors": list(engagement.auditors.values_list("pk", flat=True)),
    }


class EndForm(forms.Form):
    reason = forms.CharField(
        label="Why it ends now",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say why the engagement ends: the reason is kept with it."},
        help_text="Kept with the engagement, e.g. “Audit finished early” or “Wrong auditor invited”.",
    )
