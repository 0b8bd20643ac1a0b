"""The gate API of the open school venues: "may this person go in (or out) now?"

The gate calls with an API token of a staff user of the venue's department. A deny is a
normal answer (200 with ``allow: false`` and a stable ``reason``), not an error; errors are
for bad requests (422) and unknown venues (404).
"""

# No "from __future__ import annotations": django-ninja reads the annotations at runtime.

from typing import Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema

from minsheng.api.errors import INVALID, NOT_FOUND, ApiError
from minsheng.core.models import User
from minsheng.venues import actions

router = Router(tags=["venues"])


class GateIn(Schema):
    direction: Literal["in", "out"] = Field(description="in 入场 / out 离场")
    id_number: str = Field(default="", max_length=32, description="身份证号（刷证）")
    gate_identity: str = Field(
        default="", max_length=64, description="闸机人脸识别给出的身份标识（二选一）"
    )


class GateOut(Schema):
    allow: bool
    reason: str = Field(
        description="ok / already_inside / closed（现在不开放）/ full（已满）/ "
        "not_registered（未登记）/ banned（禁止入场）"
    )
    message: str
    inside: int = Field(description="场内人数（应答时）")
    capacity: int


@router.post("/venues/{code}/gate", response=GateOut, summary="闸机通行判定")
def gate(request: HttpRequest, code: str, payload: GateIn) -> actions.GateDecision:
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)  # the API's auth ran first
    try:
        return actions.pass_gate(
            code,
            direction=payload.direction,
            id_number=payload.id_number,
            gate_identity=payload.gate_identity,
            by=user,
        )
    except actions.VenueError as exc:
        if exc.code == "unknown_venue":
            raise ApiError(NOT_FOUND, exc.message, 404) from None
        raise ApiError(INVALID, exc.message, 422, {exc.field or "__all__": [exc.message]}) from None
