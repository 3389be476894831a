"""Thin Celery tasks for the portal: building an evidence pack, and queuing again packs whose builder died."""

from celery import shared_task

from . import packs


@shared_task(
    name="portal.build_evidence_pack",
    time_limit=packs.PACK_TIME_LIMIT,
    soft_time_limit=packs.PACK_TIME_LIMIT - 300,
)
def build_evidence_pack(pack_id: int) -> str | None:
    """Build one pack (safe to run twice: see portal.packs)."""
    pack = packs.pack_build(pack_id)
    return pack.state if pack is not None else None


@shared_task(name="portal.requeue_evidence_packs")
def requeue_evidence_packs() -> int:
    return packs.packs_requeue_stale()


@shared_task(name="portal.prepare_coverage")
def prepare_coverage() -> int:
    """The day's coverage of every open engagement, summarised before its auditors look (safe to run twice)."""
    from django.utils import timezone

    from . import selectors

    return selectors.coverage_prepare(timezone.localdate())
