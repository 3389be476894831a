from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The auditor's portal: engagements, what they put within an auditor's reach, samples, evidence requests,
    signed evidence packs, the auditor action log, and audit readiness."""

    name = "portal"

    def ready(self) -> None:
        from . import calendar, reach  # noqa: F401 - registers the auditor grant, reach rules and calendar purposes
