"""The daily KPI rollup (``appeals.rollup``, docs/decisions/0006-kpi-rollup.md), the index on
``Appeal.updated_at`` it finds changed days with, and the workbench's queue index."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("appeals", "0003_search_index"),
        ("core", "0002_cache_table"),
    ]

    operations = [
        migrations.CreateModel(
            name="KpiRollupState",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("complete_before", models.DateField(null=True)),
                ("watermark", models.DateTimeField(null=True)),
                ("refreshed_at", models.DateTimeField(null=True)),
            ],
        ),
        migrations.AlterField(
            model_name="appeal",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, db_index=True),
        ),
        migrations.AddIndex(
            model_name="appeal",
            index=models.Index(
                condition=models.Q(
                    ("state__in", ["dispatched", "handling", "received", "returned"])
                ),
                fields=["due_at", "received_at", "id"],
                include=("lead_department",),
                name="appeal_open_queue_idx",
            ),
        ),
        migrations.CreateModel(
            name="KpiDaily",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField(verbose_name="受理日期")),
                (
                    "grain",
                    models.CharField(
                        choices=[
                            ("department", "部门"),
                            ("town", "乡镇"),
                            ("category", "分类"),
                            ("channel", "渠道"),
                            ("department_town", "部门×乡镇"),
                            ("department_category", "部门×分类"),
                            ("department_channel", "部门×渠道"),
                        ],
                        max_length=20,
                        verbose_name="汇总维度",
                    ),
                ),
                ("channel", models.CharField(blank=True, max_length=12, verbose_name="渠道")),
                ("received", models.PositiveIntegerField(default=0)),
                ("dispatched", models.PositiveIntegerField(default=0)),
                ("signed_on_time", models.PositiveIntegerField(default=0)),
                ("replied", models.PositiveIntegerField(default=0)),
                ("answered", models.PositiveIntegerField(default=0)),
                ("replied_on_time", models.PositiveIntegerField(default=0)),
                ("rated", models.PositiveIntegerField(default=0)),
                ("resolved", models.PositiveIntegerField(default=0)),
                ("satisfied", models.PositiveIntegerField(default=0)),
                ("returned", models.PositiveIntegerField(default=0)),
                ("rehandled", models.PositiveIntegerField(default=0)),
                ("extended", models.PositiveIntegerField(default=0)),
                ("returns_made", models.PositiveIntegerField(default=0)),
                ("returns_made_away", models.PositiveIntegerField(default=0)),
                ("days_count", models.PositiveIntegerField(default=0)),
                ("days_sum", models.PositiveBigIntegerField(default=0)),
                ("days_histogram", models.JSONField(default=dict)),
                (
                    "category",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="appeals.category",
                        verbose_name="分类",
                    ),
                ),
                (
                    "department",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="core.department",
                        verbose_name="部门",
                    ),
                ),
                (
                    "town",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="core.division",
                        verbose_name="乡镇",
                    ),
                ),
            ],
            options={
                "verbose_name": "诉求统计日汇总",
                "verbose_name_plural": "诉求统计日汇总",
                "indexes": [
                    models.Index(fields=["grain", "day"], name="kpidaily_grain_day_idx"),
                    models.Index(
                        fields=["grain", "department", "day"], name="kpidaily_grain_dept_day_idx"
                    ),
                    models.Index(fields=["day"], name="kpidaily_day_idx"),
                ],
            },
        ),
    ]
