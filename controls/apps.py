from django.apps import AppConfig


class ControlsConfig(AppConfig):
    """Framework catalogues, the organisation's controls, the Statement of Applicability."""

    name = "controls"

    def ready(self) -> None:
        from . import calendar, reach  # noqa: F401 - registers the calendar hooks and the reach rules
