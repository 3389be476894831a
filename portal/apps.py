from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The auditor's portal: engagements, what they put within an auditor's reach, samples, evidence requests,
    signed evidence packs, the auditor action log, and audit readiness."""

    name = "portal"

    def ready(self) -> None:
        # Registers the auditor grant, reach rules, calendar purposes, notice kinds and the sign-in log line.
        from . import calendar, middleware, notices, reach  # noqa: F401
