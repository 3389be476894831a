"""Each periodic activity's coverage token (evidence.models.ActivityCoverageToken), kept by the database.

A token changes (a new number from a sequence on PostgreSQL, a random one on SQLite) when one of the activity's
tasks is added, removed, moved to another activity, or its due date, state or completion date changes (triggers on
the task table), and when the live evidence count of one of its tasks is recounted (the recount of migration 0010,
which now ends by changing the token)."""

import django.db.models.deletion
from django.db import migrations, models

TASK_CHANGED = (
    "OLD.due_date IS DISTINCT FROM NEW.due_date OR OLD.state IS DISTINCT FROM NEW.state "
    "OR OLD.completed_on IS DISTINCT FROM NEW.completed_on OR OLD.schedule_id IS DISTINCT FROM NEW.schedule_id"
)
LIVE_ON = """
    FROM evidence_evidenceitem e
    WHERE e.occurrence_id {tasks} AND e.deleted_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM evidence_evidenceitem n WHERE n.supersedes_id = e.id)
"""

POSTGRESQL = [
    "CREATE SEQUENCE evidence_activity_token",
    """
    CREATE FUNCTION evidence_activity_changed(activity bigint) RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
      IF activity IS NULL THEN RETURN; END IF;
      INSERT INTO evidence_activitycoveragetoken (schedule_id, token)
        VALUES (activity, nextval('evidence_activity_token'))
        ON CONFLICT (schedule_id) DO UPDATE SET token = EXCLUDED.token;
    END $$;
    """,
    # The recount of migration 0010, which now also changes the task's activity's token.
    f"""
    CREATE OR REPLACE FUNCTION evidence_task_recount(task bigint) RETURNS void LANGUAGE plpgsql AS $$
    DECLARE
      activity bigint;
    BEGIN
      IF task IS NULL THEN RETURN; END IF;
      -- One recount of a task at a time: a second waits here for the first's transaction to end, then counts
      -- with what it committed (each statement below reads the data as committed when it starts). The lock is the
      -- task's row lock, kept in the row itself: an advisory lock per task ran out of shared memory when one
      -- transaction loaded evidence for 16,000 tasks.
      SELECT schedule_id INTO activity FROM maintenance_occurrence WHERE id = task FOR NO KEY UPDATE;
      DELETE FROM evidence_taskevidencecount WHERE occurrence_id = task;
      INSERT INTO evidence_taskevidencecount (occurrence_id, live)
        SELECT task, count(*) {LIVE_ON.format(tasks="= task")} HAVING count(*) > 0;
      PERFORM evidence_activity_changed(activity);
    END $$;
    """,
    """
    CREATE FUNCTION evidence_task_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM evidence_activity_changed(OLD.schedule_id);
      END IF;
      IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.schedule_id IS DISTINCT FROM OLD.schedule_id) THEN
        PERFORM evidence_activity_changed(NEW.schedule_id);
      END IF;
      RETURN NULL;
    END $$;
    """,
    """
    CREATE TRIGGER evidence_task_added_or_removed AFTER INSERT OR DELETE ON maintenance_occurrence
    FOR EACH ROW EXECUTE FUNCTION evidence_task_changed();
    """,
    f"""
    CREATE TRIGGER evidence_task_changed AFTER UPDATE ON maintenance_occurrence FOR EACH ROW
    WHEN ({TASK_CHANGED}) EXECUTE FUNCTION evidence_task_changed();
    """,
    """
    INSERT INTO evidence_activitycoveragetoken (schedule_id, token)
    SELECT schedule_id, nextval('evidence_activity_token') FROM (SELECT DISTINCT schedule_id FROM maintenance_occurrence) t
    """,
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS evidence_task_changed ON maintenance_occurrence",
    "DROP TRIGGER IF EXISTS evidence_task_added_or_removed ON maintenance_occurrence",
    "DROP FUNCTION IF EXISTS evidence_task_changed()",
    f"""
    CREATE OR REPLACE FUNCTION evidence_task_recount(task bigint) RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
      IF task IS NULL THEN RETURN; END IF;
      PERFORM 1 FROM maintenance_occurrence WHERE id = task FOR NO KEY UPDATE;
      DELETE FROM evidence_taskevidencecount WHERE occurrence_id = task;
      INSERT INTO evidence_taskevidencecount (occurrence_id, live)
        SELECT task, count(*) {LIVE_ON.format(tasks="= task")} HAVING count(*) > 0;
    END $$;
    """,
    "DROP FUNCTION IF EXISTS evidence_activity_changed(bigint)",
    "DROP SEQUENCE IF EXISTS evidence_activity_token",
]


def _new_token(activities: str) -> str:
    """SQLite: a new random token for the activities `activities` (a SELECT of schedule ids)."""
    return f"""
      INSERT INTO evidence_activitycoveragetoken (schedule_id, token)
        SELECT s, abs(random()) FROM ({activities}) WHERE s IS NOT NULL
        ON CONFLICT (schedule_id) DO UPDATE SET token = excluded.token;"""


def _sqlite_count_trigger(name: str, event: str, tasks: list[str], when: str = "", tokens: bool = True) -> str:
    """Migration 0010's SQLite recount, which now also changes the tasks' activities' tokens (`tokens`)."""
    listed = ", ".join(tasks)
    token = _new_token(f"SELECT DISTINCT schedule_id AS s FROM maintenance_occurrence WHERE id IN ({listed})")
    return f"""
    CREATE TRIGGER {name} AFTER {event} ON evidence_evidenceitem {when}
    BEGIN
      DELETE FROM evidence_taskevidencecount WHERE occurrence_id IN ({listed});
      INSERT INTO evidence_taskevidencecount (occurrence_id, live)
        SELECT e.occurrence_id, count(*) {LIVE_ON.format(tasks=f"IN ({listed})")} GROUP BY e.occurrence_id;
      {token if tokens else ""}
    END
    """


def _corrected(row: str) -> str:
    return f"(SELECT occurrence_id FROM evidence_evidenceitem WHERE id = {row}.supersedes_id)"  # noqa: S608


def _sqlite_task_trigger(name: str, event: str, activities: list[str], when: str = "") -> str:
    selects = " UNION ".join(f"SELECT {a} AS s" for a in activities)
    return f"""
    CREATE TRIGGER {name} AFTER {event} ON maintenance_occurrence {when}
    BEGIN
      {_new_token(selects)}
    END
    """


def _sqlite_count_triggers(tokens: bool) -> list[str]:
    return [
        "DROP TRIGGER IF EXISTS evidence_task_count_added",
        "DROP TRIGGER IF EXISTS evidence_task_count_removed",
        "DROP TRIGGER IF EXISTS evidence_task_count_changed",
        _sqlite_count_trigger(
            "evidence_task_count_added", "INSERT", ["NEW.occurrence_id", _corrected("NEW")], tokens=tokens
        ),
        _sqlite_count_trigger(
            "evidence_task_count_removed", "DELETE", ["OLD.occurrence_id", _corrected("OLD")], tokens=tokens
        ),
        _sqlite_count_trigger(
            "evidence_task_count_changed",
            "UPDATE",
            ["OLD.occurrence_id", "NEW.occurrence_id", _corrected("OLD"), _corrected("NEW")],
            when=(
                "WHEN OLD.occurrence_id IS NOT NEW.occurrence_id OR OLD.deleted_at IS NOT NEW.deleted_at "
                "OR OLD.supersedes_id IS NOT NEW.supersedes_id"
            ),
            tokens=tokens,
        ),
    ]


SQLITE = [
    *_sqlite_count_triggers(tokens=True),
    _sqlite_task_trigger("evidence_task_added", "INSERT", ["NEW.schedule_id"]),
    _sqlite_task_trigger("evidence_task_removed", "DELETE", ["OLD.schedule_id"]),
    _sqlite_task_trigger(
        "evidence_task_changed",
        "UPDATE",
        ["OLD.schedule_id", "NEW.schedule_id"],
        when=f"WHEN {TASK_CHANGED.replace('IS DISTINCT FROM', 'IS NOT')}",
    ),
    """
    INSERT INTO evidence_activitycoveragetoken (schedule_id, token)
    SELECT schedule_id, abs(random()) FROM (SELECT DISTINCT schedule_id FROM maintenance_occurrence) WHERE true
    """,
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS evidence_task_added",
    "DROP TRIGGER IF EXISTS evidence_task_removed",
    "DROP TRIGGER IF EXISTS evidence_task_changed",
    *_sqlite_count_triggers(tokens=False),  # as migration 0010 made them
]


def _run(statements: dict[str, list[str]]):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor not in statements:
            raise RuntimeError(f"Coverage tokens are kept on PostgreSQL and SQLite only, not on {vendor}.")
        for sql in statements[vendor]:
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("evidence", "0010_task_evidence_count"),
        ("maintenance", "0004_scan_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="ActivityCoverageToken",
            fields=[
                (
                    "schedule",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="coverage_token",
                        serialize=False,
                        to="maintenance.schedule",
                    ),
                ),
                ("token", models.BigIntegerField()),
            ],
            options={"default_permissions": ()},
        ),
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE}),
        ),
    ]
