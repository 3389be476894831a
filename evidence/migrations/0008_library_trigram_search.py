"""The library's text search uses an index on PostgreSQL: pg_trgm GIN indexes on the upper-cased title and
original file name, the very expressions Django's case-insensitive `icontains` compares (UPPER(col) LIKE
UPPER('%…%')). Other databases (SQLite for `make run`) keep the plain filter and get no index."""

from django.db import migrations

INDEXES = {
    "evidence_title_trgm": "title",
    "evidence_original_name_trgm": "original_name",
}


def create_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON evidence_evidenceitem "
            f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("evidence", "0007_evidenceitem_correction_reason")]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
