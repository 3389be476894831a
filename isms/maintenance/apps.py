from django.apps import AppConfig


class MaintenanceConfig(AppConfig):
    """The maintenance calendar: schedules, occurrences, their notices, task links, feeds."""

    name = "isms.maintenance"
    label = "maintenance"

    def ready(self) -> None:
        from . import notices, reach  # noqa: F401 - registers the notice kinds and the reach rules
