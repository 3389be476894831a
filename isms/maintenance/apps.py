from django.apps import AppConfig


class MaintenanceConfig(AppConfig):
    """The maintenance calendar: schedules, occurrences, notices, task links, feeds."""

    name = "isms.maintenance"
    label = "maintenance"
