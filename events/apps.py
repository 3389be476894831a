from django.apps import AppConfig


class EventsConfig(AppConfig):
    """Incidents, change records, suppliers and ISMS objectives: the events that keep the ISMS in step."""

    name = "events"
    verbose_name = "Incidents, changes, suppliers and objectives"

    def ready(self) -> None:
        from . import calendar, reach  # noqa: F401 - registers calendar purposes and reach rules
