"""Thin Celery tasks for evidence."""

from celery import shared_task

from . import services


@shared_task(name="evidence.prune_idempotency_records")
def prune_idempotency_records() -> int:
    return services.idempotency_records_prune()
