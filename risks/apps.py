from django.apps import AppConfig


class RisksConfig(AppConfig):
    """Risk register, reviews, acceptance, exceptions, incidents and change records."""

    name = "risks"

    def ready(self) -> None:
        from . import calendar, hooks, notices, reach  # noqa: F401 - registers calendar purposes, hooks, notices, rules
