"""Tracking numbers from a PostgreSQL sequence (see ``appeals.numbers``).

The counter row of a day was locked from the first statement of every intake until its
commit, which put all intake in a queue. A sequence hands out values without locks; each
day's row keeps the value its numbers count from. Days counted the old way continue where
they were: their base is minus their last number, and the sequence starts at 1.
"""

from django.db import migrations, models

SEQUENCE = "appeals_number_seq"


def create_sequence(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite serialises writers anyway and keeps counting in `value`
    schema_editor.execute(f"CREATE SEQUENCE IF NOT EXISTS {SEQUENCE} START 1")
    schema_editor.execute(
        "UPDATE appeals_dailycounter SET sequence_base = -value WHERE sequence_base IS NULL"
    )


def drop_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP SEQUENCE IF EXISTS {SEQUENCE}")


class Migration(migrations.Migration):
    dependencies = [("appeals", "0004_kpi_rollup")]

    operations = [
        migrations.AddField(
            model_name="dailycounter",
            name="sequence_base",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.RunPython(create_sequence, drop_sequence),
    ]
