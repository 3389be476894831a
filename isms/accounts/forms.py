"""Forms of the sign-in steps and of the people and departments pages. Rules live in services.py; these only read
what was typed."""

from django import forms
from django.contrib.auth.password_validation import password_validators_help_text_html

from isms.foundation.roles import Role

from .models import Department, User


class CodeForm(forms.Form):
    """The second step of sign-in: a code from the authenticator app, or a recovery code."""

    code = forms.CharField(
        label="Code",
        max_length=32,
        help_text="The six-digit code your authenticator app shows now, or one of your recovery codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}),
    )


class EnrolForm(forms.Form):
    code = forms.CharField(
        label="Code from the app",
        max_length=12,
        help_text="After adding the account, type the six-digit code the app shows for it.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}),
    )


class _Person(forms.Form):
    first_name = forms.CharField(label="First name", max_length=150)
    last_name = forms.CharField(label="Last name", max_length=150, required=False)
    email = forms.EmailField(label="Email address", max_length=254)
    role = forms.ChoiceField(label="Role", choices=Role.choices)
    department = forms.ModelChoiceField(
        label="Department", queryset=Department.objects.order_by("name"), required=False, empty_label="No department"
    )


class InviteForm(_Person):
    """A new person: the invitation goes to their email address."""


class PersonForm(_Person):
    email = forms.EmailField(label="Email address", max_length=254, required=False)

    @classmethod
    def for_user(cls, user: User, data=None):
        initial = {
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "role": user.role,
            "department": user.department_id,
        }
        return cls(data, initial=initial)


class DepartmentForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100)


class SetPasswordForm(forms.Form):
    """The invited person's password, typed twice."""

    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password2") and data["password1"] != data["password2"]:
            self.add_error("password2", "The two passwords differ. Type the same password twice.")
        return data
