from django.apps import AppConfig


class WebConfig(AppConfig):
    """The top layer: navigation, dashboard, error pages, the demo organisation and `make run`. It may import
    every domain; nothing imports it."""

    default = True
    name = "isms.web"
    label = "web"
