"""What the controls app's tasks mean on the calendar: a control's periodic activities."""

from django.urls import reverse

from isms.maintenance.purposes import Purpose, register

register(
    Purpose(
        model="controls.Control",
        label=lambda control: f"Control {control.reference}: {control.name}",
        url=lambda control: reverse("controls:detail", args=[control.pk]),
    )
)
