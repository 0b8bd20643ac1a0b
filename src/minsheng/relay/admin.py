"""The proxy service's time limits, edited by the county's system admins (one row, each
change audited like the appeal rules). The cases themselves change only through the
actions, so they are not in the admin."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from minsheng.appeals.admin import ConfigAdmin
from minsheng.relay.models import RelaySettings


@admin.register(RelaySettings)
class RelaySettingsAdmin(ConfigAdmin[RelaySettings]):
    """One row: it can be edited, never added twice or deleted."""

    list_display = [
        "__str__",
        "community_days",
        "town_days",
        "county_default_days",
        "handback_days",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request) and not RelaySettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
