"""Thin Celery tasks for evidence."""

from celery import shared_task
from django.utils import timezone

from . import services


@shared_task(name="evidence.prune_idempotency_records")
def prune_idempotency_records() -> int:
    return services.idempotency_records_prune()


@shared_task(name="evidence.verify_storage")
def verify_storage() -> dict:
    result = services.evidence_storage_verify(now=timezone.now())
    return {"orphans_removed": result.orphans_removed, "checked": result.checked, "mismatched": result.mismatched}
