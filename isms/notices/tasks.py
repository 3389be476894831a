"""Thin Celery tasks: each calls a function that works without Celery and is safe to run twice."""

from celery import shared_task

from . import engine


@shared_task(name="notices.deliver")
def deliver_notice(notice_id: int) -> str:
    """Send one notice. A failure is recorded on the notice and retried after a pause."""
    return engine.deliver(notice_id)


@shared_task(name="notices.requeue_stale")
def requeue_stale() -> int:
    """Queue again every unsent notice whose delivery was lost (broker down, worker killed)."""
    return len(engine.requeue_stale())
