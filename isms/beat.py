"""Every periodic job Celery beat runs, declared in one place with a comment each.

Each entry names a thin task; the task calls a domain function that works without Celery. Jobs are safe
to run twice and catch up by themselves after beat was down, so missing a run loses nothing."""

from celery.schedules import crontab

from isms.env import env_int

BEAT_SCHEDULE: dict = {
    # Mark missed tasks; write and queue every reminder, overdue notice and escalation due now. Frequent, so
    # a fresh `make run` sends its first reminders within two minutes; each notice is written once, whatever
    # the frequency.
    "scan-notices": {
        "task": "maintenance.scan_notices",
        "schedule": env_int("NOTICE_SCAN_SECONDS", 60),
    },
    # Queue again every unsent notice (of any app) whose delivery was lost or whose retry pause is over.
    "requeue-notices": {
        "task": "notices.requeue_stale",
        "schedule": env_int("NOTICE_SCAN_SECONDS", 60),
    },
    # Extend every schedule's occurrences to the rolling horizon (MAINTENANCE_HORIZON_MONTHS ahead).
    "materialise-occurrences": {
        "task": "maintenance.materialise",
        "schedule": crontab(hour=2, minute=15),
    },
    # API answers kept for Idempotency-Key retries are forgotten after 30 days.
    "prune-idempotency-records": {
        "task": "evidence.prune_idempotency_records",
        "schedule": crontab(hour=3, minute=30),
    },
    # Stored evidence: remove files an interrupted upload left with no record (older than a day), and re-hash a
    # share of the files against their recorded SHA-256 (EVIDENCE_VERIFY_MAX_FILES a night, every file in turn);
    # the compliance team is told once of each file that changed or went missing.
    "verify-evidence-storage": {
        "task": "evidence.verify_storage",
        "schedule": crontab(hour=3, minute=45),
    },
    # Risk acceptances and control exceptions lapse by themselves: expired ones, and acceptances whose risk changed
    # materially (a linked control no longer implemented is changed on the control's page); owner and approver told.
    "check-risk-decisions": {
        "task": "risks.check_decisions",
        "schedule": crontab(hour=1, minute=30),
    },
    # Monday morning: each owner's open and upcoming work; the compliance team's overdue list.
    "weekly-digests": {
        "task": "maintenance.weekly_digests",
        "schedule": crontab(day_of_week="mon", hour=7, minute=0),
    },
    # Just after midnight: the coverage each open engagement's overview and requirement pages show, summarised for
    # the new day before its auditors look (each activity's summary is kept per day).
    "prepare-audit-coverage": {
        "task": "portal.prepare_coverage",
        "schedule": crontab(hour=0, minute=5),
    },
    # Evidence packs whose worker died mid-build (building longer than the build task's time limit) or whose
    # message was lost (queued for 10 minutes) are queued again; a build claims its pack, so one runs.
    "requeue-evidence-packs": {
        "task": "portal.requeue_evidence_packs",
        "schedule": crontab(minute="*/10"),
    },
}
