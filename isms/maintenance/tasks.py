"""Thin Celery tasks: each calls a domain function that works without Celery and is safe to run twice."""

from celery import shared_task

from . import notices, services


@shared_task(name="maintenance.materialise")
def materialise() -> int:
    return services.materialise_all()


@shared_task(name="maintenance.scan_notices")
def scan_notices() -> dict:
    return notices.scan()


@shared_task(name="maintenance.weekly_digests")
def weekly_digests() -> int:
    return len(notices.plan_digests())
