from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def shell(request: HttpRequest) -> dict[str, Any]:
    """What every page's layout needs: county name, the navigation the role may use."""
    from minsheng.core.navigation import menu_for

    user = getattr(request, "user", None)
    return {
        "county_name": settings.COUNTY_NAME,
        "large_font": request.COOKIES.get("minsheng_large") == "1",
        "nav_items": menu_for(user, request.path) if user is not None else [],
    }
