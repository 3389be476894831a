"""Thin Celery tasks for the risk register."""

from celery import shared_task

from . import services


@shared_task(name="risks.check_decisions")
def check_decisions() -> int:
    """Lapse expired acceptances and exceptions, and acceptances whose risk changed materially."""
    return len(services.decisions_check())
