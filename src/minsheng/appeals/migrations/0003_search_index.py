"""The full-text index behind ``appeals.search`` on PostgreSQL.

Not a ``Meta.indexes`` entry: the expression (``to_tsvector``) exists only on PostgreSQL, and
the same model must migrate on SQLite. The expression is the one ``search.SEARCH_VECTOR``
compiles to, so that the planner can use the index.
"""

from django.db import migrations

INDEX = "appeal_search_idx"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON appeals_appeal USING gin "
            "(to_tsvector('simple'::regconfig, COALESCE(search_tokens, '')))"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("appeals", "0002_defaults")]

    operations = [migrations.RunPython(create, drop)]
