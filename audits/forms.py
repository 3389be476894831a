"""Forms of the audit programme's pages. They check shape; the rules live in services.py, whose refusals are put
beside the fields they name (isms.foundation.forms.service_errors)."""

from __future__ import annotations

from django import forms

from controls.models import Requirement
from isms.accounts.models import Department, User
from isms.foundation.forms import BoundedDateField
from isms.foundation.roles import Role

from .models import EXTERNAL_KINDS, AuditKind, CauseCategory, EffectivenessCheck, Result, Severity, Source
from .selectors import CLAUSES, HEADINGS, approved_annex_a


def staff():
    return (
        User.objects.filter(is_active=True, role__in=[Role.ADMIN, Role.COMPLIANCE, Role.OWNER, Role.VIEWER])
        .exclude(email="")
        .select_related("department")
        .order_by("first_name", "last_name", "username")
    )


class PersonChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj} · {obj.department}" if obj.department_id else str(obj)


class RequirementChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        prefix = "Clause" if obj.framework.code == CLAUSES else "Annex A"
        return f"{prefix} {obj.identifier} {obj.title}"


def scope_queryset():
    """Clauses 4–10 and the Annex A controls applicable in the approved SoA (all Annex A before any approval)."""
    from django.db.models import Q

    version, identifiers = approved_annex_a()
    query = Q(framework__code=CLAUSES, retired=False)
    if version is not None:
        query |= Q(framework_id=version.framework_id, identifier__in=identifiers)
    else:
        query |= Q(framework__has_soa=True, retired=False)
    return Requirement.objects.filter(query).select_related("framework").order_by("framework__code", "position")


class AuditForm(forms.Form):
    kind = forms.ChoiceField(
        label="Kind",
        choices=[
            (k, v) for k, v in AuditKind.choices if k in (AuditKind.INTERNAL, AuditKind.STAGE_1, AuditKind.STAGE_2)
        ],
    )
    title = forms.CharField(max_length=200)
    planned_on = BoundedDateField(label="Planned for")
    lead_auditor = PersonChoice(
        queryset=User.objects.none(),
        required=False,
        label="Lead auditor",
        help_text="Leads the audit and signs off its report; never someone from an audited department.",
    )
    auditor_name = forms.CharField(label="Other auditors", max_length=200, required=False)
    criteria = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    processes = forms.CharField(label="Processes audited", widget=forms.Textarea(attrs={"rows": 2}), required=False)
    departments = forms.ModelMultipleChoiceField(
        queryset=Department.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Departments audited",
    )
    scope = RequirementChoices(
        queryset=Requirement.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 12}),
        label="Scope: clauses and Annex A controls",
        help_text="The checklist has one row for each.",
    )

    themes = forms.MultipleChoiceField(
        label="Or whole Annex A themes",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Every applicable control of the theme joins the scope.",
    )

    def __init__(self, *args, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead_auditor"].queryset = staff()
        self.fields["scope"].queryset = scope_queryset()
        groups = self.fields["scope"].queryset.filter(framework__has_soa=True).values_list("group", flat=True)
        self.fields["themes"].choices = [(g, g) for g in dict.fromkeys(groups) if g]
        if editing:
            del self.fields["kind"]

    def clean(self):
        data = super().clean()
        themes = data.pop("themes", None) or []
        if themes:
            extra = self.fields["scope"].queryset.filter(framework__has_soa=True, group__in=themes)
            data["scope"] = list(dict.fromkeys([*(data.get("scope") or []), *extra]))
        return data


class PlanForm(forms.Form):
    audits_per_year = forms.IntegerField(label="Internal audits a year", min_value=1, max_value=12, initial=11)
    items_per_audit = forms.IntegerField(
        label="Requirements or controls one audit checks", min_value=1, max_value=200, initial=12
    )
    lead_auditor = PersonChoice(queryset=User.objects.none(), required=False, label="Lead auditor of the slots")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead_auditor"].queryset = staff()


class RowForm(forms.Form):
    result = forms.ChoiceField(choices=Result.choices)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    evidence = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple, label="Evidence sampled"
    )

    def __init__(self, *args, evidence_qs=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["evidence"].queryset = evidence_qs
        self.fields["evidence"].label_from_instance = lambda e: f"{e.title} ({e.submitted_at:%d %b %Y})"


class SignOffForm(forms.Form):
    summary = forms.CharField(label="Report summary", widget=forms.Textarea(attrs={"rows": 4}), required=False)
    conclusion = forms.CharField(label="Conclusion", widget=forms.Textarea(attrs={"rows": 3}), required=False)


class FindingForm(forms.Form):
    grade = forms.ChoiceField(choices=[(k, v) for k, v in Result.choices if k not in ("not_sampled", "conforming")])
    requirement = forms.ModelChoiceField(queryset=Requirement.objects.none(), required=False, label="Requirement")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    close_by = BoundedDateField(
        label="Close out by", required=False,
        help_text="The deadline the certification body set (required for a nonconformity).",
    )  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["requirement"].queryset = scope_queryset()


class NCForm(forms.Form):
    source = forms.ChoiceField(
        choices=[(k, v) for k, v in Source.choices if k not in (Source.MISSED_CONTROL, Source.INTERNAL_AUDIT)]
    )
    title = forms.CharField(max_length=200, required=False)
    requirements = RequirementChoices(
        queryset=Requirement.objects.none(), required=False, widget=forms.SelectMultiple(attrs={"size": 8}),
        label="Requirements not met",
    )  # fmt: skip
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    objective_evidence = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    severity = forms.ChoiceField(choices=Severity.choices)
    owner = PersonChoice(queryset=User.objects.none(), label="Owner")
    change = forms.ModelChoiceField(queryset=None, required=False, label="Change record it came from")

    def __init__(self, *args, **kwargs):
        from events.models import Change

        super().__init__(*args, **kwargs)
        self.fields["requirements"].queryset = (
            Requirement.objects.filter(retired=False)
            .select_related("framework")
            .order_by("framework__code", "position")
        )
        self.fields["owner"].queryset = staff()
        self.fields["change"].queryset = Change.objects.order_by("-number")


class AnalysisForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    objective_evidence = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    severity = forms.ChoiceField(choices=Severity.choices)
    owner = PersonChoice(queryset=User.objects.none())
    correction = forms.CharField(
        label="Correction (what was done at once)", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    why1 = forms.CharField(label="Why? (1)", required=False, max_length=500)
    why2 = forms.CharField(label="Why? (2)", required=False, max_length=500)
    why3 = forms.CharField(label="Why? (3)", required=False, max_length=500)
    why4 = forms.CharField(label="Why? (4)", required=False, max_length=500)
    why5 = forms.CharField(label="Why? (5)", required=False, max_length=500)
    root_cause = forms.CharField(label="Root cause", widget=forms.Textarea(attrs={"rows": 2}), required=False)
    cause_category = forms.ChoiceField(
        choices=[("", "—")] + CauseCategory.choices, required=False, label="Cause category"
    )
    elsewhere = forms.TypedChoiceField(
        label="Could this happen elsewhere?",
        choices=[("", "Not answered yet"), ("yes", "Yes"), ("no", "No")],
        coerce=lambda v: {"yes": True, "no": False}.get(v),
        empty_value=None,
        required=False,
    )
    places_checked = forms.CharField(label="Places checked", widget=forms.Textarea(attrs={"rows": 2}), required=False)
    check_after_days = forms.IntegerField(label="Effectiveness check after (days)", min_value=1, max_value=365)
    checker = PersonChoice(queryset=User.objects.none(), required=False, label="Effectiveness checked by")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = staff()
        self.fields["checker"].queryset = staff()

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data["whys"] = [data.pop(f"why{i}") for i in range(1, 6)]
        return data


class ActionForm(forms.Form):
    title = forms.CharField(max_length=200, required=False)
    owner = PersonChoice(queryset=User.objects.none(), required=False)
    due_on = BoundedDateField(label="Due", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = staff()


class DecideForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", "Accept"), ("dismiss", "Dismiss")], widget=forms.RadioSelect)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, help_text="Why it is dismissed.")


class CheckForm(forms.Form):
    outcome = forms.ChoiceField(choices=EffectivenessCheck.Outcome.choices, widget=forms.RadioSelect, required=False)
    note = forms.CharField(label="What was checked", widget=forms.Textarea(attrs={"rows": 3}), required=False)


class ReviewPlanForm(forms.Form):
    planned_on = BoundedDateField(label="Planned for")
    chair = PersonChoice(queryset=User.objects.none(), label="Chair")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["chair"].queryset = staff()


class MinutesForm(forms.Form):
    meeting_on = BoundedDateField(label="Meeting date", required=False)
    attendees = forms.ModelMultipleChoiceField(
        queryset=User.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    other_attendees = forms.CharField(label="Other attendees", max_length=300, required=False)
    suitability = forms.CharField(
        label="Is the ISMS still suitable?", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    adequacy = forms.CharField(label="Is it adequate?", widget=forms.Textarea(attrs={"rows": 2}), required=False)
    effectiveness = forms.CharField(label="Is it effective?", widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attendees"].queryset = staff()
        for key, title in HEADINGS:
            self.fields[f"note_{key}"] = forms.CharField(
                label=f"Note on {title}", widget=forms.Textarea(attrs={"rows": 2}), required=False
            )

    def notes(self) -> dict:
        return {key: self.cleaned_data.get(f"note_{key}", "") for key, _ in HEADINGS}


class DecisionForm(forms.Form):
    text = forms.CharField(label="Decision", widget=forms.Textarea(attrs={"rows": 2}), required=False)


class PartyForm(forms.Form):
    name = forms.CharField(max_length=200)
    requirements = forms.CharField(label="Their needs and expectations", widget=forms.Textarea(attrs={"rows": 3}))
    change_note = forms.CharField(label="What changed", max_length=300, required=False)
    active = forms.BooleanField(required=False, initial=True, label="Still an interested party")


class FeedbackForm(forms.Form):
    party = forms.ModelChoiceField(queryset=None, required=False, label="From")
    received_on = BoundedDateField(label="Received on")
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        from .models import InterestedParty

        super().__init__(*args, **kwargs)
        self.fields["party"].queryset = InterestedParty.objects.all()


__all__ = ["EXTERNAL_KINDS"]
