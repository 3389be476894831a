"""Form widgets and fields every app uses."""

import datetime

from django import forms
from django.core.exceptions import ValidationError

#: Every date a person types (an evidence period, a certificate, a coverage period, a filter) falls within these.
#: Far enough back for any record an organisation still keeps and far enough ahead for any expiry; and far from
#: the calendar's end (9999-12-31), so that adding a lead time, a grace period or three years never overflows.
EARLIEST_DATE = datetime.date(2000, 1, 1)
LATEST_DATE = datetime.date(2100, 12, 31)
DATE_BOUNDS = "between 1 January 2000 and 31 December 2100"
DATE_OUT_OF_BOUNDS = f"Enter a date {DATE_BOUNDS}."


def date_in_bounds(day: datetime.date) -> bool:
    """Whether `day` is within EARLIEST_DATE – LATEST_DATE, both included."""
    return EARLIEST_DATE <= day <= LATEST_DATE


def check_date_bounds(**dates: datetime.date | None) -> None:
    """Raise a ValidationError naming each of the given dates (by keyword) that falls outside the bounds; a
    missing date (None) is left to the caller. For services and model `clean()`s, before any arithmetic."""
    errors = {name: DATE_OUT_OF_BOUNDS for name, day in dates.items() if day is not None and not date_in_bounds(day)}
    if errors:
        raise ValidationError(errors)


def _validate_date_bounds(day: datetime.date | None) -> None:
    if day is not None and not date_in_bounds(day):
        raise ValidationError(DATE_OUT_OF_BOUNDS, code="date_bounds")


class DateInput(forms.DateInput):
    """The browser's date picker, in ISO format so it round-trips."""

    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class BoundedDateField(forms.DateField):
    """A date within EARLIEST_DATE – LATEST_DATE, picked with the browser's date picker limited to them. Every
    form's dates use it, so a typed year 9999 is a message next to the field, never a server error."""

    widget = DateInput
    default_validators = [_validate_date_bounds]

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.setdefault("min", EARLIEST_DATE.isoformat())
        attrs.setdefault("max", LATEST_DATE.isoformat())
        return attrs


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; cleans to a list."""

    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        # Explicit super(): a comprehension is its own scope, where the zero-argument form fails.
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


def service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's refusal beside the fields it names, and on the form as a whole for the rest: the words a
    service validates with reach the person on the page they were typing in."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
