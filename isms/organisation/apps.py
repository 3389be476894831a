from django.apps import AppConfig


class OrganisationConfig(AppConfig):
    """The organisation, its ISMS scope, its certificate and the three-year certification cycle."""

    name = "isms.organisation"
    label = "organisation"
