"""Admin for the organisation: divisions, departments, halls, windows and accounts.

Day-to-day staff management goes through the staff pages (and so through the actions,
the policy and the audit trail); the admin is for the system administrator's setup work.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from minsheng.core.models import Department, Division, Hall, User, Window


@admin.register(Division)
class DivisionAdmin(admin.ModelAdmin[Division]):
    list_display = ["code", "name", "level", "parent", "active"]
    list_filter = ["level", "active"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin[Department]):
    list_display = ["code", "name", "short_name", "kind", "division", "active", "sort_order"]
    list_filter = ["kind", "active"]
    list_editable = ["sort_order"]
    search_fields = ["code", "name", "short_name"]
    autocomplete_fields = ["division", "parent"]


class WindowInline(admin.TabularInline[Window, Hall]):
    model = Window
    extra = 0
    autocomplete_fields = ["department"]


@admin.register(Hall)
class HallAdmin(admin.ModelAdmin[Hall]):
    list_display = ["code", "name", "building", "floor", "phone"]
    search_fields = ["code", "name"]
    inlines = [WindowInline]


@admin.register(Window)
class WindowAdmin(admin.ModelAdmin[Window]):
    list_display = ["__str__", "name", "department", "active"]
    list_filter = ["hall", "active"]
    search_fields = ["number", "name", "department__name"]
    autocomplete_fields = ["hall", "department"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "name", "role", "department", "is_active", "must_change_password"]
    list_filter = ["role", "is_active", "must_change_password", "department"]
    search_fields = ["username", "name", "staff_no"]
    autocomplete_fields = ["department", "window"]
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        (
            _("民生"),
            {
                "fields": (
                    "name",
                    "role",
                    "department",
                    "window",
                    "staff_no",
                    "mobile",
                    "photo",
                    "must_change_password",
                )
            },
        ),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (_("民生"), {"fields": ("name", "role", "department")}),
    )
