from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from minsheng.core.middleware import LARGE_FONT_COOKIE
from minsheng.core.models import Notification
from minsheng.core.navigation import menu_for

STAFF_LAYOUT = "core/layouts/staff.html"
CITIZEN_LAYOUT = "core/layouts/citizen.html"


def shell(request: HttpRequest) -> dict[str, Any]:
    """What every page's layout needs: county name, preferences, the navigation the role may use."""
    user = getattr(request, "user", None)
    staff = user is not None and user.is_authenticated and getattr(user, "is_staff_member", False)

    def unread_count() -> int:
        # Called by the template only where the badge is shown (staff layout).
        return Notification.objects.filter(user=user, read_at__isnull=True).count() if staff else 0

    return {
        "county_name": settings.COUNTY_NAME,
        "large_font": request.COOKIES.get(LARGE_FONT_COOKIE) == "1",
        "nav_items": menu_for(user, request.path) if user is not None else [],
        # Pages shared by citizens and staff (errors, password change) pick the layout by this.
        "shell_layout": STAFF_LAYOUT if staff else CITIZEN_LAYOUT,
        "unread_count": unread_count,
    }
