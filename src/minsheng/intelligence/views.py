"""The hot-issues page (热点问题) for leaders, supervisors and dispatchers."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.core import policy
from minsheng.core.masking import mask_id_number, mask_mobile
from minsheng.core.models import User
from minsheng.intelligence import nav  # noqa: F401  (registers the page's policy action)
from minsheng.intelligence.hotissues import HotGroup, appeal_records, find_hot_issues

WINDOWS = (7, 30, 90)
DEFAULT_WINDOW = 30
TOP_GROUPS = 10
# The leaders' dashboard shows this week's first few groups and links to the whole page.
PANEL_DAYS = 7
PANEL_GROUPS = 5
CACHE_SECONDS = 600

# Citizens write their phone or ID number into a title now and then; the page masks them.
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


def mask_title(title: str) -> str:
    title = _ID_NUMBER.sub(lambda m: mask_id_number(m.group(0)), title)
    return _MOBILE.sub(lambda m: mask_mobile(m.group(0)), title)


def _viewer(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required ran first
    policy.require(user, "intelligence.hot")  # staff roles only: a citizen gets 403
    return user


def _window(request: HttpRequest) -> int:
    try:
        days = int(request.GET.get("days", DEFAULT_WINDOW))
    except ValueError:
        return DEFAULT_WINDOW
    return days if days in WINDOWS else DEFAULT_WINDOW


def _group_row(group: HotGroup) -> dict[str, Any]:
    return {
        "label": group.label,
        "place": group.place,
        "places": group.places,
        "size": group.size,
        "recent": group.recent,
        "earlier": group.earlier,
        "growth": group.growth,
        "score": group.score,
        "appeals": [
            {
                "url": reverse("appeals:detail", args=[int(r.id)]),
                "number": r.number,
                "title": mask_title(r.title),
                "received_at": r.created_at,
            }
            for r in group.representatives
        ],
    }


def hot_context(user: User, days: int) -> dict[str, Any]:
    """The page's figures for ``user``'s view of the last ``days`` days."""
    until = timezone.now()
    since = until - dt.timedelta(days=days)
    report = find_hot_issues(
        appeal_records(user, since, until), until=until, window_days=days, top=TOP_GROUPS
    )
    groups = [_group_row(g) for g in report.groups]
    chart = {
        "name": _("诉求件数"),
        "labels": [f"{i}. {g['place'] or g['label']}" for i, g in enumerate(groups, 1)],
        "values": [g["size"] for g in groups],
    }
    return {
        "since": report.since,
        "until": report.until,
        "total": report.records,
        "groups": groups,
        "chart": chart,
    }


def _cache_key(user: User, days: int) -> str:
    # What a viewer sees depends on the role and department (policy scope and whether the
    # village is shown), not on the person; the time bucket keeps the figures fresh.
    bucket = int(timezone.now().timestamp()) // CACHE_SECONDS
    return f"intelligence:hot:{user.role}:{user.department_id}:{days}:{bucket}"


def _cached_context(user: User, days: int) -> dict[str, Any]:
    # Clustering a quarter's appeals takes seconds: computed once per role and time bucket.
    return cast(
        dict[str, Any], cache.get_or_set(_cache_key(user, days), lambda: hot_context(user, days))
    )


@login_required
def hot_issues(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    days = _window(request)
    context = _cached_context(user, days)
    return render(
        request,
        "intelligence/hot_issues.html",
        {"days": days, "windows": WINDOWS, "cache_minutes": CACHE_SECONDS // 60, **context},
    )


@login_required
def hot_panel(request: HttpRequest) -> HttpResponse:
    """This week's hot issues as a fragment for the leaders' dashboard (loaded by htmx after
    the page, so the dashboard never waits for the clustering)."""
    user = _viewer(request)
    context = _cached_context(user, PANEL_DAYS)
    return render(
        request,
        "intelligence/_hot_panel.html",
        {
            "days": PANEL_DAYS,
            "groups": context["groups"][:PANEL_GROUPS],
            "total": context["total"],
            "longer": DEFAULT_WINDOW,
        },
    )
