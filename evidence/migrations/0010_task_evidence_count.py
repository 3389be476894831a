"""Each task's live evidence count, kept by the database (evidence.models.TaskEvidenceCount).

Triggers on the evidence table recount the tasks a row change touches: the task the item is on (before and after
the change) and the task of the item it corrects (a correction makes the earlier version no longer live). "Live"
is `EvidenceQuerySet.live()`: not deleted, and no other item supersedes it."""

import django.db.models.deletion
from django.db import migrations, models

LIVE_ON = """
    FROM evidence_evidenceitem e
    WHERE e.occurrence_id {tasks} AND e.deleted_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM evidence_evidenceitem n WHERE n.supersedes_id = e.id)
"""

POSTGRESQL = [
    f"""
    CREATE FUNCTION evidence_task_recount(task bigint) RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
      IF task IS NULL THEN RETURN; END IF;
      -- One recount of a task at a time: a second waits here for the first's transaction to end, then counts
      -- with what it committed (each statement below reads the data as committed when it starts). The lock is the
      -- task's row lock, kept in the row itself: an advisory lock per task ran out of shared memory when one
      -- transaction loaded evidence for 16,000 tasks.
      PERFORM 1 FROM maintenance_occurrence WHERE id = task FOR NO KEY UPDATE;
      DELETE FROM evidence_taskevidencecount WHERE occurrence_id = task;
      INSERT INTO evidence_taskevidencecount (occurrence_id, live)
        SELECT task, count(*) {LIVE_ON.format(tasks="= task")} HAVING count(*) > 0;
    END $$;
    """,
    """
    CREATE FUNCTION evidence_task_count_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM evidence_task_recount(OLD.occurrence_id);
        IF OLD.supersedes_id IS NOT NULL THEN
          PERFORM evidence_task_recount((SELECT occurrence_id FROM evidence_evidenceitem WHERE id = OLD.supersedes_id));
        END IF;
      END IF;
      IF TG_OP IN ('UPDATE', 'INSERT') THEN
        IF TG_OP = 'INSERT' OR NEW.occurrence_id IS DISTINCT FROM OLD.occurrence_id THEN
          PERFORM evidence_task_recount(NEW.occurrence_id);
        END IF;
        IF NEW.supersedes_id IS NOT NULL AND (TG_OP = 'INSERT' OR NEW.supersedes_id IS DISTINCT FROM OLD.supersedes_id)
        THEN
          PERFORM evidence_task_recount((SELECT occurrence_id FROM evidence_evidenceitem WHERE id = NEW.supersedes_id));
        END IF;
      END IF;
      RETURN NULL;
    END $$;
    """,
    """
    CREATE TRIGGER evidence_task_count_added_or_removed AFTER INSERT OR DELETE ON evidence_evidenceitem
    FOR EACH ROW EXECUTE FUNCTION evidence_task_count_changed();
    """,
    """
    CREATE TRIGGER evidence_task_count_changed AFTER UPDATE ON evidence_evidenceitem FOR EACH ROW
    WHEN (OLD.occurrence_id IS DISTINCT FROM NEW.occurrence_id OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at
          OR OLD.supersedes_id IS DISTINCT FROM NEW.supersedes_id)
    EXECUTE FUNCTION evidence_task_count_changed();
    """,
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS evidence_task_count_changed ON evidence_evidenceitem",
    "DROP TRIGGER IF EXISTS evidence_task_count_added_or_removed ON evidence_evidenceitem",
    "DROP FUNCTION IF EXISTS evidence_task_count_changed()",
    "DROP FUNCTION IF EXISTS evidence_task_recount(bigint)",
]


def _sqlite_trigger(name: str, event: str, tasks: list[str], when: str = "") -> str:
    """SQLite has no functions: each trigger recounts its tasks itself (SQLite writes one transaction at a time)."""
    listed = ", ".join(tasks)
    return f"""
    CREATE TRIGGER {name} AFTER {event} ON evidence_evidenceitem {when}
    BEGIN
      DELETE FROM evidence_taskevidencecount WHERE occurrence_id IN ({listed});
      INSERT INTO evidence_taskevidencecount (occurrence_id, live)
        SELECT e.occurrence_id, count(*) {LIVE_ON.format(tasks=f"IN ({listed})")} GROUP BY e.occurrence_id;
    END
    """


def _corrected(row: str) -> str:
    return f"(SELECT occurrence_id FROM evidence_evidenceitem WHERE id = {row}.supersedes_id)"  # noqa: S608


SQLITE = [
    _sqlite_trigger("evidence_task_count_added", "INSERT", ["NEW.occurrence_id", _corrected("NEW")]),
    _sqlite_trigger("evidence_task_count_removed", "DELETE", ["OLD.occurrence_id", _corrected("OLD")]),
    _sqlite_trigger(
        "evidence_task_count_changed",
        "UPDATE",
        ["OLD.occurrence_id", "NEW.occurrence_id", _corrected("OLD"), _corrected("NEW")],
        when=(
            "WHEN OLD.occurrence_id IS NOT NEW.occurrence_id OR OLD.deleted_at IS NOT NEW.deleted_at "
            "OR OLD.supersedes_id IS NOT NEW.supersedes_id"
        ),
    ),
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS evidence_task_count_added",
    "DROP TRIGGER IF EXISTS evidence_task_count_removed",
    "DROP TRIGGER IF EXISTS evidence_task_count_changed",
]

BACKFILL = f"""
    INSERT INTO evidence_taskevidencecount (occurrence_id, live)
    SELECT e.occurrence_id, count(*) {LIVE_ON.format(tasks="IS NOT NULL")} GROUP BY e.occurrence_id
"""


def _run(statements: dict[str, list[str]]):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor not in statements:
            raise RuntimeError(f"Evidence counts are kept on PostgreSQL and SQLite only, not on {vendor}.")
        for sql in statements[vendor]:
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("evidence", "0009_task_control_library_index"),
        ("maintenance", "0004_scan_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="TaskEvidenceCount",
            fields=[
                (
                    "occurrence",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="evidence_tally",
                        serialize=False,
                        to="maintenance.occurrence",
                    ),
                ),
                ("live", models.PositiveIntegerField()),
            ],
            options={"default_permissions": ()},
        ),
        migrations.RunPython(
            _run({"postgresql": [*POSTGRESQL, BACKFILL], "sqlite": [*SQLITE, BACKFILL]}),
            _run({"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE}),
        ),
    ]
