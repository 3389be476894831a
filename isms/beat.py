"""Every periodic job Celery beat runs, declared in one place with a comment each.

Each entry names a thin task; the task calls a domain function that works without Celery."""

BEAT_SCHEDULE: dict = {}
