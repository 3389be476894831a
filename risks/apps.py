from django.apps import AppConfig


class RisksConfig(AppConfig):
    """Risk register, reviews, acceptance, exceptions, incidents and change records."""

    name = "risks"
