"""Admin: the county's categories, rules and escalation ladder; batches; read-only records.

Projects, reports, escalations and 销号 change through the actions (audit trail, locks,
notifications), so the admin shows them but does not edit them.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from minsheng.projects.models import (
    Batch,
    CloseOut,
    Escalation,
    EscalationRule,
    ProgressReport,
    Project,
    ProjectCategory,
    ProjectRating,
    ProjectSettings,
)


@admin.register(ProjectSettings)
class ProjectSettingsAdmin(admin.ModelAdmin[ProjectSettings]):
    list_display = (
        "__str__",
        "report_frequency",
        "report_due_working_days",
        "issuer_name",
        "ask_citizens",
    )

    def has_add_permission(self, request: Any) -> bool:
        return not ProjectSettings.objects.exists()

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(ProjectCategory)
class ProjectCategoryAdmin(admin.ModelAdmin[ProjectCategory]):
    list_display = ("name", "order", "active")
    list_editable = ("order", "active")


@admin.register(EscalationRule)
class EscalationRuleAdmin(admin.ModelAdmin[EscalationRule]):
    list_display = ("__str__", "trigger", "threshold", "after_step", "step", "active", "order")
    list_filter = ("active", "step", "trigger")
    list_editable = ("active", "order")


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin[Batch]):
    list_display = ("title", "year", "number", "published", "published_at")
    list_filter = ("year", "published")
    # Publishing goes through the action (audit, feed): not a checkbox here.
    readonly_fields = ("published", "published_at", "created_at")


class ReadOnly(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Project)
class ProjectAdmin(ReadOnly):
    list_display = ("code", "title", "lead_unit", "deadline", "state", "status")
    list_filter = ("state", "status", "batch", "category")
    search_fields = ("code", "title")


@admin.register(ProgressReport)
class ProgressReportAdmin(ReadOnly):
    list_display = ("project", "period", "percent_complete", "state", "submitted_at")
    list_filter = ("state",)


@admin.register(Escalation)
class EscalationAdmin(ReadOnly):
    list_display = ("project", "step", "doc_number", "issued_at", "resolved_at")
    list_filter = ("step",)


@admin.register(CloseOut)
class CloseOutAdmin(ReadOnly):
    list_display = ("project", "state", "applied_at", "decided_at")
    list_filter = ("state",)


@admin.register(ProjectRating)
class ProjectRatingAdmin(ReadOnly):
    list_display = ("project", "level", "created_at")
    list_filter = ("level",)
