from django.apps import AppConfig


class WebConfig(AppConfig):
    """The top layer: navigation, dashboard, error pages, the demo organisation and `make run`. It may import
    every domain; nothing imports it."""

    default = True
    name = "isms.web"
    label = "web"

    def ready(self) -> None:
        from . import invitations  # noqa: F401 - the invitation email's notice kind and its sender
