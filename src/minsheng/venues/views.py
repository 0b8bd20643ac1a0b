"""Pages of the open school venues: the public list (hours, closures, how full it is now,
never a person), and the staff page of the venues' own departments (live occupancy, usage,
registration of residents, bans)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from minsheng.appeals import exports
from minsheng.core import audit, policy
from minsheng.core.models import User
from minsheng.venues import actions, stats
from minsheng.venues.forms import BanForm, RegisterForm
from minsheng.venues.models import GatePassage, Resident, Venue

# Closures are announced this far ahead on the public page.
CLOSURES_AHEAD = dt.timedelta(days=30)
USAGE_DAYS = 30


def _venue_rows(venues: list[Venue], now: dt.datetime) -> list[dict[str, Any]]:
    rows = []
    for venue in venues:
        closure = venue.closure_at(now)
        rows.append(
            {
                "venue": venue,
                "open_now": closure is None and venue.open_at(now),
                "closure_now": closure,
                "hours": list(venue.hours.all()),
                "closures": [
                    c
                    for c in venue.closures.all()
                    if c.ends_at > now and c.starts_at < now + CLOSURES_AHEAD
                ],
            }
        )
    return rows


def public_index(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    venues = list(
        Venue.objects.filter(active=True)
        .select_related("town")
        .prefetch_related("hours", "closures")
    )
    return render(request, "venues/public.html", {"rows": _venue_rows(venues, now), "now": now})


def _staff(request: HttpRequest, action: str) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required ran first
    if not policy.can(user, action):
        raise PermissionDenied(action)
    return user


@login_required
def staff_index(request: HttpRequest) -> HttpResponse:
    user = _staff(request, "venue.view")
    now = timezone.now()
    venues = policy.visible(user, Venue.objects.all(), "venue.view").prefetch_related(
        "hours", "closures"
    )
    since = now - dt.timedelta(days=USAGE_DAYS)
    usage = stats.usage(venues, since)
    rows = _venue_rows(list(venues), now)
    for row in rows:
        row["entries"] = usage["by_venue"].get(row["venue"].pk, 0)
    residents = Resident.objects.all()[:50] if policy.can(user, "venue.register") else []
    return render(
        request,
        "venues/staff.html",
        {
            "rows": rows,
            "usage": usage,
            "usage_days": USAGE_DAYS,
            "hours": list(enumerate(usage["by_hour"])),
            "denied": [
                (GatePassage.Reason(reason).label, n) for reason, n in usage["denied"].items()
            ],
            "form": RegisterForm(),
            "can_register": policy.can(user, "venue.register"),
            "can_ban": policy.can(user, "venue.ban"),
            "residents": residents,
            "resident_total": Resident.objects.count(),
        },
    )


@login_required
def register(request: HttpRequest) -> HttpResponse:
    user = _staff(request, "venue.register")
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            resident = actions.register_resident(**form.cleaned_data, by=user)
        except actions.VenueError as exc:
            form.add_error(exc.field or None, exc.message)
        else:
            messages.success(
                request, _("已登记：%(id)s。凭身份证或人脸即可入场。") % {"id": resident.id_masked}
            )
            return redirect("venues:staff")
    status = 400 if request.method == "POST" else 200
    return render(request, "venues/register.html", {"form": form}, status=status)


@login_required
@require_POST
def ban(request: HttpRequest, resident_id: int) -> HttpResponse:
    user = _staff(request, "venue.ban")
    resident = get_object_or_404(Resident, pk=resident_id)
    form = BanForm(request.POST)
    if form.is_valid():
        try:
            actions.set_banned(
                resident.pk,
                banned=form.cleaned_data["banned"],
                reason=form.cleaned_data["reason"],
                by=user,
            )
        except actions.VenueError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已更新 %(id)s 的入场资格") % {"id": resident.id_masked})
    return redirect("venues:staff")


@login_required
def export(request: HttpRequest) -> HttpResponse:
    """The gate's passages of the last USAGE_DAYS days at the user's venues, as Excel
    (the resident shown only by the masked ID number); the export is audited."""
    user = _staff(request, "venue.view")
    venues = policy.visible(user, Venue.objects.all(), "venue.view")
    since = timezone.now() - dt.timedelta(days=USAGE_DAYS)
    rows = (
        GatePassage.objects.filter(venue__in=venues, at__gte=since)
        .select_related("venue", "resident")
        .order_by("-at")
    )
    table = exports.Table(
        name=_("场地进出记录"),
        columns=[
            exports.Column(_("时间"), 18, lambda p: timezone.localtime(p.at).replace(tzinfo=None)),
            exports.Column(_("场地"), 24, lambda p: str(p.venue)),
            exports.Column(_("方向"), 8, lambda p: p.get_direction_display()),
            exports.Column(_("结果"), 8, lambda p: _("准许") if p.allowed else _("拒绝")),
            exports.Column(_("原因"), 14, lambda p: p.get_reason_display()),
            exports.Column(_("身份证号"), 20, lambda p: p.resident.id_masked if p.resident else ""),
        ],
        rows=rows.iterator(),
        personal=False,
    )
    content = exports.to_xlsx(table)
    audit.record(
        user,
        "venue.exported",
        object_type=GatePassage._meta.label_lower,
        object_repr=table.name,
        after={"rows": table.count, "days": USAGE_DAYS},
    )
    response = HttpResponse(content, content_type=exports.XLSX_TYPE)
    filename = f"{table.name}-{timezone.localdate():%Y%m%d}.xlsx"
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    return response
