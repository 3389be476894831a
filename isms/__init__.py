"""The ISMS maintenance tracker's project package: settings, URLs, the Celery app and the apps
that tie the domain together (accounts and roles, organisation and certification cycle, core)."""

from .celery import app as celery_app

__all__ = ("celery_app",)
