from django.apps import AppConfig


class NoticesConfig(AppConfig):
    """The notice engine: every email the application sends, recorded before it is sent and sent once."""

    name = "isms.notices"
    label = "notices"
