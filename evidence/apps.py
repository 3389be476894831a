from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    """Evidence items, control coverage, the evidence API and the auditor portal."""

    name = "evidence"
