from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    """Evidence items, control coverage and the evidence API."""

    name = "evidence"

    def ready(self) -> None:
        from . import calendar, notices, reach  # noqa: F401 - registers the calendar hooks, notice kind, reach rules
