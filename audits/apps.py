from django.apps import AppConfig


class AuditsConfig(AppConfig):
    """Internal audit programme, audits, findings, nonconformities and management reviews."""

    name = "audits"

    def ready(self) -> None:
        from . import calendar, reach  # noqa: F401 - registers calendar purposes, hook listeners and reach rules
