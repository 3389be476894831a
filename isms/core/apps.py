from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class CoreConfig(AppConfig):
    """Cross-cutting pieces: role checks, navigation, error pages, demo data and `make run`."""

    default = True
    name = "isms.core"
    label = "core"


class ISMSAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "isms.core.admin_site.ISMSAdminSite"
