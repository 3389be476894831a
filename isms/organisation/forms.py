from django import forms

from isms.foundation.forms import LATEST_DATE, BoundedDateField, DateInput

from .models import Certificate, CycleAudit, Organisation


class OrganisationForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields = ["name", "scope"]
        widgets = {"scope": forms.Textarea(attrs={"rows": 6})}


class CertificateForm(forms.ModelForm):
    issue_date = BoundedDateField()
    expiry_date = BoundedDateField(
        required=False,
        help_text="Leave empty for three years from the issue date, less a day.",
    )

    class Meta:
        model = Certificate
        fields = ["standard", "certification_body", "certificate_number", "issue_date", "expiry_date"]

    def clean(self):
        data = super().clean()
        issue, expiry = data.get("issue_date"), data.get("expiry_date")
        if issue and expiry and expiry <= issue:
            self.add_error("expiry_date", "The expiry date must be after the issue date.")
        elif issue and not expiry and Certificate.default_expiry(issue) > LATEST_DATE:
            self.add_error(
                "issue_date",
                f"Three years from this date is after {LATEST_DATE:%-d %B %Y}, the latest date accepted: enter the "
                "expiry date from the certificate.",
            )
        return data

    def _post_clean(self):
        # The expiry may be left empty here; the service fills the default before validating.
        if not self.cleaned_data.get("expiry_date") and self.cleaned_data.get("issue_date"):
            self.cleaned_data["expiry_date"] = Certificate.default_expiry(self.cleaned_data["issue_date"])
        super()._post_clean()


class CycleAuditForm(forms.ModelForm):
    class Meta:
        model = CycleAudit
        fields = ["planned_date", "notes"]
        field_classes = {"planned_date": BoundedDateField}
        widgets = {"planned_date": DateInput(), "notes": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"notes": "Why the date moved, or what the certification body agreed."}
