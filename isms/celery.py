"""The Celery application. Configuration comes from Django settings under the CELERY_ namespace;
the beat schedule lives in settings (CELERY_BEAT_SCHEDULE), one commented entry per job."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "isms.settings")

app = Celery("isms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
