"""The audit trail in the admin: read-only for everyone, superusers included.

Nothing here may add, change or delete an event (the model refuses too); opening an
event is itself recorded, because its before/after may hold personal data.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from minsheng.core import audit, policy
from minsheng.core.models.audit import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    list_display = (
        "seq",
        "created_at",
        "actor_label",
        "role",
        "action",
        "object_type",
        "object_id",
        "object_repr",
    )
    list_filter = ("action", "role", ("created_at", admin.DateFieldListFilter))
    # Exact matches: ids are looked up, not browsed, and "=" keeps the query on the index.
    search_fields = ("=object_id", "=request_id")
    search_help_text = _("按对象编号或请求编号精确查找")
    # Events still being sealed on top (expressions work here; the stubs only know strings).
    ordering = (F("seq").desc(nulls_first=True), "-id")  # type: ignore[assignment]
    list_per_page = 50
    # COUNT(*) over millions of events on every page is slow and tells the reader nothing.
    show_full_result_count = False
    actions = None
    fields = (
        "seq",
        "created_at",
        "actor",
        "actor_label",
        "role",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "before_json",
        "after_json",
        "request_id",
        "ip",
        "prev_hash",
        "hash",
    )
    readonly_fields = fields

    def has_view_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return request.user.is_superuser or policy.can(request.user, "audit.view")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    @admin.display(description=_("变更前"))
    def before_json(self, obj: AuditEvent) -> SafeString:
        return self._json(obj.before)

    @admin.display(description=_("变更后"))
    def after_json(self, obj: AuditEvent) -> SafeString:
        return self._json(obj.after)

    @staticmethod
    def _json(data: Any) -> SafeString:
        if data is None:
            return format_html("{}", "-")
        return format_html(
            "<pre>{}</pre>", json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)
        )

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        if response.status_code == 200:
            event = self.get_object(request, object_id)
            if event is not None:
                audit.record(request.user, "audit.view", event)
        return response
