"""Admin: the county's 好差评 rules, pads, and read-only views of events and ratings."""

from __future__ import annotations

from django.contrib import admin

from minsheng.evaluation.models import Case, EvaluationSettings, PadDevice, Rating, ServiceEvent


@admin.register(EvaluationSettings)
class EvaluationSettingsAdmin(admin.ModelAdmin[EvaluationSettings]):
    list_display = (
        "__str__",
        "default_mode",
        "default_after_days",
        "link_valid_days",
        "verify_days",
        "rectify_days",
    )

    def has_add_permission(self, request: object) -> bool:
        return not EvaluationSettings.objects.exists()


@admin.register(PadDevice)
class PadDeviceAdmin(admin.ModelAdmin[PadDevice]):
    list_display = ("window", "name", "active", "created_at", "last_seen_at")
    list_filter = ("active",)
    readonly_fields = ("token_hash", "created_by", "created_at", "last_seen_at")
    fields = ("window", "name", "active", "token_hash", "created_by", "created_at", "last_seen_at")

    def has_add_permission(self, request: object) -> bool:
        return False  # bound from the window page, which shows the token once


class ReadOnly(admin.ModelAdmin):
    # Ratings and events change only through the actions (audit trail, rollup).
    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(ServiceEvent)
class ServiceEventAdmin(ReadOnly):
    list_display = ("number", "department", "window", "staff", "channel", "started_at", "rated_at")
    list_filter = ("channel", "department")
    date_hierarchy = "started_at"


@admin.register(Rating)
class RatingAdmin(ReadOnly):
    list_display = ("event", "level", "channel", "department", "excluded", "created_at")
    list_filter = ("level", "channel", "excluded")


@admin.register(Case)
class CaseAdmin(ReadOnly):
    list_display = ("rating", "department", "state", "verify_due_at", "rectify_due_at")
    list_filter = ("state",)
