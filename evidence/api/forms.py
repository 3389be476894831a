"""The form for making an API token."""

import datetime

from django import forms
from django.utils import timezone

from evidence.models import ApiToken
from isms.foundation.forms import DateInput

from .services import MAX_EXPIRY_WORDS, service_accounts, token_latest_expiry_day


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="What will use it, e.g. “Monthly scan upload on scanner-01”, so you can tell it later.",
    )
    scopes = forms.MultipleChoiceField(
        choices=ApiToken.Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Give a script only what it needs.",
    )
    expires_on = forms.DateField(
        required=False,
        widget=DateInput(),
        label="Expires after",
        help_text=f"The token works until the end of this day, at most {MAX_EXPIRY_WORDS} ahead. Leave empty for no "
        "expiry (not recommended).",
    )
    acts_as = forms.ModelChoiceField(
        queryset=service_accounts(),
        required=False,
        empty_label="Me",
        label="Acts as",
        help_text="A service account (an account that cannot sign in with a password) for a machine's token. "
        "Evidence it pushes is recorded under that account.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["expires_on"].initial = today + datetime.timedelta(days=365)
        self.fields["expires_on"].widget.attrs.update(min=today.isoformat(), max=token_latest_expiry_day().isoformat())
        if user.is_manager:
            self.fields["acts_as"].queryset = service_accounts().exclude(pk=user.pk)
            self.fields["acts_as"].label_from_instance = lambda u: f"{u} ({u.username})"
        else:
            del self.fields["acts_as"]

    def clean_expires_on(self):
        day = self.cleaned_data["expires_on"]
        if day is not None and day < timezone.localdate():
            raise forms.ValidationError("That day is in the past.")
        latest = token_latest_expiry_day()
        if day is not None and day > latest:
            raise forms.ValidationError(
                f"Choose a day no more than {MAX_EXPIRY_WORDS} ahead ({latest:%-d %B %Y} at the latest); make a new "
                "token when it ends."
            )
        return day

    def expires_at(self) -> datetime.datetime | None:
        """The end of the chosen day, in the organisation's time zone."""
        day = self.cleaned_data["expires_on"]
        if day is None:
            return None
        return timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min))
