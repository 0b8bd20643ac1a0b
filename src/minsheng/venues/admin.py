"""Venues, their hours and closures are data the county's admins edit (audited through
appeals' ConfigAdmin); residents are registered only through ``actions`` (the ID number is
hashed there), so the admin lists them read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from minsheng.appeals.admin import ConfigAdmin
from minsheng.venues.models import Closure, OpeningHours, Resident, Venue


class OpeningHoursInline(admin.TabularInline[OpeningHours, Venue]):
    model = OpeningHours
    extra = 0


class ClosureInline(admin.TabularInline[Closure, Venue]):
    model = Closure
    extra = 0


@admin.register(Venue)
class VenueAdmin(ConfigAdmin[Venue]):
    list_display = ["code", "school", "name", "kind", "capacity", "inside", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["code", "school", "name"]
    readonly_fields = ["inside"]
    inlines = [OpeningHoursInline, ClosureInline]


@admin.register(Resident)
class ResidentAdmin(ConfigAdmin[Resident]):
    list_display = ["id_masked", "registered_at", "banned", "ban_reason"]
    list_filter = ["banned"]
    fields = ("id_masked", "name", "mobile", "gate_identity", "banned", "ban_reason")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
