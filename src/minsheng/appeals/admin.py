"""The appeal rules a system administrator edits: categories, the routing catalogue (派单目录),
time limits, refusal cases and the county's settings. Appeals themselves are read-only here:
every change of an appeal goes through the staff pages and ``appeals.actions``.

Only system administrators (``appeal.configure``) see these pages; every saved or deleted
rule is written to the audit trail.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib import admin
from django.db import models, transaction
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from minsheng.appeals.models import (
    Appeal,
    AppealSettings,
    Category,
    RefusalRule,
    RoutingRule,
    TimeLimit,
)
from minsheng.core import audit, masking
from minsheng.core.admin.jobs import is_system_admin

M = TypeVar("M", bound=models.Model)


def _snapshot(obj: models.Model) -> dict[str, Any]:
    fields = [f.name for f in obj._meta.concrete_fields if f.name != "id"]
    return audit.snapshot(obj, fields)


class ConfigAdmin(admin.ModelAdmin[M]):
    """Rules that are data: only system admins edit them, and each change is audited."""

    def _allowed(self, request: HttpRequest) -> bool:
        return is_system_admin(request, "appeal.configure")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return self._allowed(request)

    def has_delete_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return self._allowed(request)

    @transaction.atomic
    def save_model(self, request: HttpRequest, obj: M, form: ModelForm[M], change: bool) -> None:
        model = type(obj)
        old = model._default_manager.filter(pk=obj.pk).first() if change else None
        super().save_model(request, obj, form, change)
        audit.record(
            request.user,
            "appeal.config_changed" if change else "appeal.config_added",
            obj,
            before=_snapshot(old) if old is not None else None,
            after=_snapshot(obj),
        )

    @transaction.atomic
    def delete_model(self, request: HttpRequest, obj: M) -> None:
        audit.record(request.user, "appeal.config_deleted", obj, before=_snapshot(obj))
        super().delete_model(request, obj)

    @transaction.atomic
    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[M]) -> None:
        for obj in queryset:
            audit.record(request.user, "appeal.config_deleted", obj, before=_snapshot(obj))
        super().delete_queryset(request, queryset)


class RoutingInline(admin.StackedInline[RoutingRule, Category]):
    model = RoutingRule
    extra = 0
    autocomplete_fields = ["department"]
    filter_horizontal = ["co_departments"]


@admin.register(Category)
class CategoryAdmin(ConfigAdmin[Category]):
    list_display = ["code", "name", "parent", "active", "sort_order"]
    list_filter = ["active", "parent"]
    list_editable = ["sort_order"]
    search_fields = ["code", "name", "keywords"]
    autocomplete_fields = ["parent"]
    fields = ["code", "name", "parent", "keywords", "active", "sort_order"]
    inlines = [RoutingInline]


@admin.register(RoutingRule)
class RoutingRuleAdmin(ConfigAdmin[RoutingRule]):
    list_display = ["category", "department", "note"]
    list_select_related = ["category", "department"]
    search_fields = ["category__name", "category__code", "department__name"]
    autocomplete_fields = ["category", "department"]
    filter_horizontal = ["co_departments"]


@admin.register(TimeLimit)
class TimeLimitAdmin(ConfigAdmin[TimeLimit]):
    list_display = ["appeal_type", "urgency", "working_days"]
    list_editable = ["working_days"]
    list_filter = ["urgency"]
    ordering = ["urgency", "appeal_type"]


@admin.register(RefusalRule)
class RefusalRuleAdmin(ConfigAdmin[RefusalRule]):
    list_display = ["code", "title", "outcome", "active"]
    list_filter = ["outcome", "active"]
    search_fields = ["code", "title", "message"]


@admin.register(AppealSettings)
class AppealSettingsAdmin(ConfigAdmin[AppealSettings]):
    """One row: it can be edited, never added twice or deleted."""

    list_display = [
        "__str__",
        "number_prefix",
        "sign_within_days",
        "rating_window_days",
        "rehandle_escalate_after",
        "supervise_after_overdue_days",
        "max_extension_days",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request) and not AppealSettings.objects.exists()

    def has_delete_permission(
        self, request: HttpRequest, obj: AppealSettings | None = None
    ) -> bool:
        return False


APPEAL_FIELDS: tuple[str, ...] = (
    "number",
    "title",
    "body",
    "appeal_type",
    "urgency",
    "category",
    "channel",
    "state",
    "town",
    "masked_name",
    "masked_mobile",
    "lead_department",
    "received_at",
    "dispatched_at",
    "signed_at",
    "due_at",
    "due_provisional",
    "replied_at",
    "closed_at",
    "reply",
    "rehandle_count",
    "extension_count",
    "return_count",
    "version",
)


@admin.register(Appeal)
class AppealAdmin(admin.ModelAdmin[Appeal]):
    """A read-only look for the administrator; personal data stays masked here."""

    list_display = ["number", "title", "state", "appeal_type", "channel", "lead_department"]
    list_filter = ["state", "appeal_type", "urgency", "channel"]
    list_select_related = ["lead_department"]
    search_fields = ["number"]
    date_hierarchy = "received_at"
    fields = APPEAL_FIELDS
    readonly_fields = APPEAL_FIELDS

    @admin.display(description=_("姓名"))
    def masked_name(self, obj: Appeal) -> str:
        return str(_("匿名")) if obj.anonymous else masking.mask_name(obj.citizen_name)

    @admin.display(description=_("手机号"))
    def masked_mobile(self, obj: Appeal) -> str:
        return masking.mask_mobile(obj.citizen_mobile)

    def has_view_permission(self, request: HttpRequest, obj: Appeal | None = None) -> bool:
        return is_system_admin(request, "appeal.view")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Appeal | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Appeal | None = None) -> bool:
        return False
