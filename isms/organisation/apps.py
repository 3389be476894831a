from django.apps import AppConfig


class OrganisationConfig(AppConfig):
    """The organisation, its ISMS scope, its certificate and the three-year certification cycle."""

    name = "isms.organisation"
    label = "organisation"

    def ready(self) -> None:
        from isms.foundation import identity

        from . import calendar, reach  # noqa: F401 - registers the calendar hooks and the reach rules
        from .models import Organisation

        identity.register(lambda: Organisation.current().name)
