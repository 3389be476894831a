from django.apps import AppConfig


class ControlsConfig(AppConfig):
    """Framework catalogues, the organisation's controls, the Statement of Applicability, policies."""

    name = "controls"
