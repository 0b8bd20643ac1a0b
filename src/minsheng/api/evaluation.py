"""好差评 endpoints: business systems report service events (办件) and ratings they
collected; staff read events and the statistics.

Thin calls to ``evaluation.actions``; refusals in the API's one error shape
(``EvaluationError`` → 422 with its code, ``already_rated``/``conflict`` → 409, another
department's event → 404). The citizen's mobile number is never returned.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from minsheng.api.errors import CONFLICT, INVALID, NON_FIELD, NOT_FOUND, ApiError
from minsheng.core import policy
from minsheng.core.models import Department, Role, User, Window
from minsheng.evaluation import actions, stats
from minsheng.evaluation.errors import Conflict, EvaluationError
from minsheng.evaluation.models import Level, Reason, ServiceChannel, ServiceEvent

router = Router(tags=["evaluation"])


def _user(request: HttpRequest) -> User:
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except Conflict as exc:
        raise ApiError(exc.code if exc.code != "conflict" else CONFLICT, exc.message, 409) from exc
    except EvaluationError as exc:
        if exc.code == NOT_FOUND:
            raise ApiError(NOT_FOUND, exc.message, 404) from exc
        code = INVALID if exc.code == "invalid" else exc.code
        raise ApiError(code, exc.message, 422, exc.fields or {NON_FIELD: [exc.message]}) from exc


class EventIn(Schema):
    department: str = Field(description="部门编码")
    window: int | None = Field(None, description="窗口 id（网上办件不填）")
    staff_no: str = Field("", description="经办人工号")
    matter: str = Field("", description="事项编码（办事指南）")
    channel: ServiceChannel = ServiceChannel.WINDOW
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = Field(
        None, description="已办结时填写：有手机号即发送评价短信"
    )
    mobile: str = Field("", description="办事人手机号（仅用于发送评价短信，不会返回）")
    external_id: str = Field(
        "", max_length=64, description="业务系统办件号：同一部门内重复提交返回同一办件"
    )


class EventOut(Schema):
    id: int
    number: str
    department: str
    window: str | None
    matter: str | None
    channel: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    rated: bool
    level: int | None
    rating_url: str | None = Field(None, description="离场评价链接（签名，有效期见好差评规则）")


def _out(event: ServiceEvent, *, with_link: bool) -> dict[str, Any]:
    rating = getattr(event, "rating", None) if event.rated_at else None
    return {
        "id": event.pk,
        "number": event.number,
        "department": event.department.label,
        "window": str(event.window) if event.window_id else None,
        "matter": event.matter.name if event.matter_id and event.matter else None,
        "channel": event.channel,
        "started_at": event.started_at,
        "finished_at": event.finished_at,
        "rated": event.rated_at is not None,
        "level": rating.level if rating is not None and not rating.excluded else None,
        "rating_url": settings.SITE_URL + actions.link_url(event) if with_link else None,
    }


@router.post(
    "/evaluation/events",
    response={200: EventOut, 201: EventOut},
    summary="登记办件（系统对接）",
    description="同一部门同一 external_id 重复提交返回同一办件（200）。",
)
def create_event(request: HttpRequest, payload: EventIn) -> Status[dict[str, Any]]:
    user = _user(request)
    policy.require(user, "evaluation.event.create")
    department = Department.objects.filter(code=payload.department).first()
    if department is None:
        raise ApiError(INVALID, _("部门编码无效"), 422, {"department": [_("部门编码无效")]})
    window = None
    if payload.window is not None:
        window = Window.objects.filter(pk=payload.window).first()
        if window is None:
            raise ApiError(INVALID, _("窗口无效"), 422, {"window": [_("窗口无效")]})
    staff = None
    if payload.staff_no:
        staff = User.objects.filter(staff_no=payload.staff_no, department=department).first()
        if staff is None:
            raise ApiError(INVALID, _("工号无效"), 422, {"staff_no": [_("该部门没有此工号")]})
    matter_id = None
    if payload.matter:
        from minsheng.catalog.models import ServiceMatter

        matter_id = (
            ServiceMatter.objects.filter(code=payload.matter).values_list("pk", flat=True).first()
        )
        if matter_id is None:
            raise ApiError(INVALID, _("事项编码无效"), 422, {"matter": [_("事项编码无效")]})
    data = actions.EventInput(
        department=department,
        window=window,
        staff=staff,
        matter_id=matter_id,
        channel=payload.channel,
        started_at=payload.started_at,
        finished_at=payload.finished_at,
        mobile=payload.mobile,
        external_id=payload.external_id,
    )
    with _errors():
        event, created = actions.record_event(data, by=user)
    return Status(201 if created else 200, _out(event, with_link=True))


def _event(user: User, event_id: int) -> ServiceEvent:
    policy.require(user, "evaluation.event.view")
    event = (
        policy.visible(user, ServiceEvent.objects.all(), "evaluation.event.view")
        .select_related("department", "window__hall", "matter", "rating")
        .filter(pk=event_id)
        .first()
    )
    if event is None:
        raise ApiError(NOT_FOUND, _("办件不存在"), 404)
    return event


@router.get("/evaluation/events/{event_id}", response=EventOut, summary="办件详情")
def get_event(request: HttpRequest, event_id: int) -> dict[str, Any]:
    user = _user(request)
    event = _event(user, event_id)
    # The staff member rated sees the level, never who rated.
    return _out(event, with_link=user.role != Role.WINDOW_STAFF)


class RatingIn(Schema):
    level: Level = Field(description="5 非常满意 … 1 非常不满意")
    reasons: list[Reason] = Field(default_factory=list, description="不满意/非常不满意时必填")
    comment: str = Field("", max_length=500)
    indicators: dict[str, int] = Field(default_factory=dict, description="分项评价 1–5")


@router.post(
    "/evaluation/events/{event_id}/rating", response={201: EventOut}, summary="提交评价（系统对接）"
)
def rate_event(request: HttpRequest, event_id: int, payload: RatingIn) -> Status[dict[str, Any]]:
    user = _user(request)
    event = _event(user, event_id)
    data = actions.RatingInput(
        payload.level, [r.value for r in payload.reasons], payload.comment, payload.indicators
    )
    with _errors():
        actions.rate_from_api(event.pk, data, by=user)
    return Status(201, _out(_event(user, event_id), with_link=False))


class StatsQuery(Schema):
    group: str = Field("department", description="department/window/staff/matter/channel/month")
    month_from: str | None = Field(None, alias="from", description="起始月份 YYYY-MM")
    month_to: str | None = Field(None, alias="to", description="截止月份 YYYY-MM")


class FiguresOut(Schema):
    key: Any
    name: str
    events: int
    rated: int
    defaulted: int
    excluded: int
    good: int
    bad: int
    bad_verified: int
    bad_rectified: int
    overdue_cases: int
    rated_rate: float | None
    good_rate: float | None
    bad_rate: float | None
    verify_rate: float | None
    rectify_rate: float | None
    average: float | None


class StatsOut(Schema):
    group: str
    first_month: dt.date
    last_month: dt.date
    rows: list[FiguresOut]
    total: FiguresOut


@router.get("/evaluation/stats", response=StatsOut, summary="好差评统计")
def get_stats(request: HttpRequest, filters: Query[StatsQuery]) -> dict[str, Any]:
    user = _user(request)
    policy.require(user, "evaluation.stats")
    if filters.group not in stats.GROUPS:
        raise ApiError(INVALID, _("统计维度无效"), 422, {"group": [_("统计维度无效")]})
    default = stats.default_query()
    first = stats.parse_month(filters.month_from, default.first.replace(month=1))
    last = stats.parse_month(filters.month_to, default.last)
    query = stats.Query(filters.group, first, last, stats.scoped_department(user))
    rows, total = stats.compute(query)
    as_dict = [row.as_dict() | {"key": _key(row.key)} for row in rows]
    return {
        "group": query.group,
        "first_month": first,
        "last_month": last,
        "rows": as_dict,
        "total": total.as_dict(),
    }


def _key(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value
