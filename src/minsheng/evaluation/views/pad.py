"""The window's rating tablet (评价器): a kiosk page and its two JSON endpoints.

The page itself is public (it shows what the window's nameplate shows); the endpoints
need the device token the tablet got when staff bound it (``Authorization: Pad <token>``).
The page queues ratings in localStorage with a UUID made on the tablet and sends them when
the network is there; the server answers a resent UUID with the first answer.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from minsheng.core.models import User, Window
from minsheng.evaluation import actions
from minsheng.evaluation.errors import EvaluationError
from minsheng.evaluation.models import Level, PadDevice, Reason


def staff_card(user: User | None) -> dict[str, Any] | None:
    """What the window's nameplate shows: photo, name, staff number. Nothing personal."""
    if user is None:
        return None
    return {
        "name": user.display_name,
        "staff_no": user.staff_no,
        "photo": user.photo.url if user.photo else "",
        "initial": user.display_name[:1],
    }


def _pad(request: HttpRequest, window_id: int) -> PadDevice | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    if scheme != "Pad":
        return None
    return actions.pad_for_token(window_id, token.strip())


def _error(code: str, message: str, status: int, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, **extra}}, status=status)


@require_GET
def page(request: HttpRequest, window_id: int) -> HttpResponse:
    window = get_object_or_404(Window.objects.select_related("hall", "department"), pk=window_id)
    return render(
        request,
        "evaluation/pad.html",
        {
            "window": window,
            "levels": Level.choices,
            "reasons": Reason.choices,
            "staff": staff_card(actions.current_staff(window)),
        },
    )


@require_GET
def state(request: HttpRequest, window_id: int) -> JsonResponse:
    pad = _pad(request, window_id)
    if pad is None:
        return _error("unbound", _("本评价器尚未绑定或已停用"), 401)
    event = actions.current_event(pad.window)
    return JsonResponse(
        {
            "staff": staff_card(
                event.staff
                if event is not None and event.staff
                else actions.current_staff(pad.window)
            ),
            "event": None
            if event is None
            else {
                "id": event.pk,
                "number": event.number,
                "matter": event.matter.name if event.matter_id and event.matter else "",
            },
        }
    )


@csrf_exempt  # authenticated by the device token in a header, not by a cookie
@require_POST
def rate(request: HttpRequest, window_id: int) -> JsonResponse:
    pad = _pad(request, window_id)
    if pad is None:
        return _error("unbound", _("本评价器尚未绑定或已停用"), 401)
    try:
        body = json.loads(request.body or b"{}")
        client_uuid = uuid.UUID(str(body.get("uuid")))
        event_id = body.get("event_id")
        event_id = int(event_id) if event_id not in (None, "") else None
        data = actions.RatingInput(
            level=body.get("level"),
            reasons=body.get("reasons") or [],
            comment=str(body.get("comment") or ""),
        )
    except (ValueError, TypeError, AttributeError):
        return _error("invalid", _("提交的数据无效"), 422)
    try:
        result = actions.rate_from_pad(pad, client_uuid, data, event_id=event_id)
    except EvaluationError as exc:
        status = {
            "not_found": 404,
            "conflict": 409,
            "already_rated": 409,
            "no_event": 409,
            "rate_limited": 429,
        }.get(exc.code, 422)
        return _error(exc.code, exc.message, status, fields=exc.fields)
    return JsonResponse(
        {"id": result.rating.pk, "event": result.rating.event_id, "replayed": result.replayed},
        status=200 if result.replayed else 201,
    )
