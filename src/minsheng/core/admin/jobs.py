"""Periodic-job locks and long jobs in the admin: read-only lists for system administrators."""

from __future__ import annotations

from typing import TypeVar

from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from minsheng.core import periodic, policy
from minsheng.core.models import JobLock, LongJob, Role

M = TypeVar("M", bound=models.Model)


def is_system_admin(request: HttpRequest, action: str) -> bool:
    user = request.user
    return user.is_superuser or (
        policy.can(user, action) and getattr(user, "role", "") == Role.ADMIN
    )


class ReadOnlyAdmin(admin.ModelAdmin[M]):
    """Rows the worker writes: people look, nobody edits (the admin action aside)."""

    view_action = ""

    def has_view_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return is_system_admin(request, self.view_action)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return False


@admin.register(JobLock)
class JobLockAdmin(ReadOnlyAdmin[JobLock]):
    view_action = "job.view"
    list_display = (
        "name",
        "every",
        "owner",
        "locked_until",
        "last_started_at",
        "last_finished_at",
        "ok",
    )
    fields = ("name", "owner", "locked_until", "last_started_at", "last_finished_at", "last_error")
    readonly_fields = fields
    actions = None

    @admin.display(description=_("间隔"))
    def every(self, obj: JobLock) -> str:
        job = periodic.get(obj.name)
        return str(job.every) if job is not None else str(_("（已不再注册）"))

    @admin.display(description=_("上次成功"), boolean=True)
    def ok(self, obj: JobLock) -> bool | None:
        return None if obj.last_finished_at is None else not obj.last_error


@admin.register(LongJob)
class LongJobAdmin(ReadOnlyAdmin[LongJob]):
    view_action = "job.view"
    list_display = (
        "title",
        "kind",
        "status",
        "progress",
        "started_by",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "kind")
    search_fields = ("title", "kind")
    list_select_related = ("started_by",)
    date_hierarchy = "created_at"
    fields = (
        "kind",
        "title",
        "status",
        "total",
        "done",
        "message",
        "result",
        "started_by",
        "created_at",
        "updated_at",
        "finished_at",
    )
    readonly_fields = fields
    actions = None

    @admin.display(description=_("进度"))
    def progress(self, obj: LongJob) -> str:
        return f"{obj.percent}% ({obj.done}/{obj.total})" if obj.total else str(obj.done)
