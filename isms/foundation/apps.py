from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class FoundationConfig(AppConfig):
    """The bottom layer: helpers every app uses (reach rule registry, role checks, emails, lists, exports,
    PDFs, safe links). It imports no domain app; domains register with it instead."""

    default = True
    name = "isms.foundation"
    label = "foundation"

    def ready(self) -> None:
        from . import pagecache, sessions  # noqa: F401  (sessions: connects the sign-in stamp of the session limits)

        pagecache.install()  # every write through Django changes the data version cached pages are keyed on


class ISMSAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "isms.foundation.admin_site.ISMSAdminSite"
