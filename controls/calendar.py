"""What the controls app's tasks mean on the calendar: a control's periodic activities; a missed one is told to
the listeners registered in hooks.py."""

from django.urls import reverse

from isms.maintenance.purposes import Purpose, register

from .hooks import activity_missed

register(
    Purpose(
        model="controls.Control",
        label=lambda control: f"Control {control.reference}: {control.name}",
        url=lambda control: reverse("controls:detail", args=[control.pk]),
        on_missed=activity_missed,  # apps above listen through hooks.register_missed_listener
    )
)
