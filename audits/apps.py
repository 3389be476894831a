from django.apps import AppConfig


class AuditsConfig(AppConfig):
    """Internal audit programme, audits, findings, nonconformities and management reviews."""

    name = "audits"
