"""Form widgets and fields every app uses."""

from django import forms


class DateInput(forms.DateInput):
    """The browser's date picker, in ISO format so it round-trips."""

    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; cleans to a list."""

    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        # Explicit super(): a comprehension is its own scope, where the zero-argument form fails.
        return [super(MultipleFileField, self).clean(f, initial) for f in files]
