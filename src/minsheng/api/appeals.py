"""Appeal endpoints: intake for other systems, lists and details for staff, the workflow
actions, and the KPIs.

Every endpoint is a thin call to ``appeals.actions`` (which locks, checks the policy, moves
the state and records the audit event); this module only reads input, scopes objects and
translates the actions' errors into the API's one error shape:

- ``AppealError`` → 422 with its code and field messages (``not_found`` → 404);
- ``Conflict`` (stale ``expected_version``, or the appeal is no longer in a state that
  allows the action) → 409 ``conflict``;
- ``PermissionDenied`` → 403, and another department's appeal → 404, as if it did not exist.

Personal data (name, mobile, free address) is masked in every answer; the one way to see it
in full is ``POST /appeals/{id}/personal``, which is recorded in the audit trail.
"""

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Header, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict, field_validator

from minsheng.api.errors import CONFLICT, INVALID, NON_FIELD, NOT_FOUND, REPLY_CHECK, ApiError
from minsheng.api.pagination import PageNumberPagination
from minsheng.api.schemas import DepartmentRef
from minsheng.appeals import actions, kpis
from minsheng.appeals.errors import AppealError, Conflict
from minsheng.appeals.models import (
    Appeal,
    AppealEvent,
    AppealType,
    Channel,
    ExtensionRequest,
    Rating,
    Urgency,
)
from minsheng.appeals.states import RUNNING_STATES, State
from minsheng.core import access, calendar, policy
from minsheng.core.masking import mask_address, mask_mobile, mask_name
from minsheng.core.models import User
from minsheng.intelligence.replycheck import check_reply

router = Router(tags=["appeals"])

# The codes an appeal action may answer with, besides the API's general ones.
VALIDATION_ERROR = "validation_error"
IDEMPOTENCY_MISMATCH = "idempotency_mismatch"


def _user(request: HttpRequest) -> User:
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user


@contextmanager
def _appeal_errors() -> Iterator[None]:
    """Say an action's refusal in the API's error shape."""
    try:
        yield
    except Conflict as exc:
        raise ApiError(CONFLICT, exc.message, 409, exc.fields) from exc
    except AppealError as exc:
        if exc.code == NOT_FOUND:
            raise ApiError(NOT_FOUND, exc.message, 404) from exc
        # The actions' "validation_error" is what the rest of the API calls "invalid".
        code = INVALID if exc.code == VALIDATION_ERROR else exc.code
        fields = exc.fields or {NON_FIELD: [exc.message]}
        raise ApiError(code, exc.message, 422, fields) from exc


def _appeals() -> QuerySet[Appeal]:
    return Appeal.objects.select_related(
        "category", "town__parent", "lead_department", "merged_into"
    )


def _visible(user: User, appeal_id: int) -> Appeal:
    """The appeal if the user may see it; another department's is a 404 like a missing one."""
    return policy.get_object(user, _appeals(), "appeal.view", pk=appeal_id)


@contextmanager
def _at_version(appeal_id: int, expected_version: int | None) -> Iterator[None]:
    """For actions that take no ``expected_version`` themselves: compare it under the row
    lock, in the transaction the action then joins, so nobody can slip in between."""
    with transaction.atomic():
        if expected_version is not None:
            current = (
                Appeal.objects.select_for_update()
                .filter(pk=appeal_id)
                .values_list("version", flat=True)
                .first()
            )
            if current != expected_version:
                raise ApiError(
                    CONFLICT, _("该诉求刚刚已被他人处理，请刷新页面查看最新状态后再操作"), 409
                )
        yield


# ---------------------------------------------------------------- schemas


class Ref(Schema):
    id: int
    name: str


class AppealOut(Schema):
    """An appeal in a list. Personal data is masked; the address stops at the town."""

    id: int
    number: str = Field(description="编号，如 YT-20261122-000123")
    title: str
    appeal_type: str
    appeal_type_display: str
    urgency: str
    state: str
    state_display: str
    channel: str
    category: Ref | None
    town: Ref | None
    location: str = Field(description="所在县、乡镇（不含村和详细地址）")
    lead_department: DepartmentRef | None
    anonymous: bool
    citizen_name: str = Field(description="已脱敏，如 张**")
    citizen_mobile: str = Field(description="已脱敏，如 138****1234")
    received_at: dt.datetime
    due_at: dt.datetime | None
    deadline: Literal["red", "amber", "green"] | None = Field(
        description="办理期限：red 已超期，amber 一个工作日内到期，green 正常；不在办理中为 null"
    )
    version: int = Field(description="乐观锁版本号，操作时作为 expected_version 传回")

    # The enums' labels: get_FOO_display() builds a dict of every choice on each call,
    # which shows when a page lists a hundred appeals.
    @staticmethod
    def resolve_appeal_type_display(obj: Appeal) -> str:
        return str(AppealType(obj.appeal_type).label)

    @staticmethod
    def resolve_state_display(obj: Appeal) -> str:
        return str(State(obj.state).label)

    @staticmethod
    def resolve_location(obj: Appeal) -> str:
        return mask_address(obj.town)

    @staticmethod
    def resolve_citizen_name(obj: Appeal) -> str:
        return mask_name(obj.citizen_name)

    @staticmethod
    def resolve_citizen_mobile(obj: Appeal) -> str:
        return mask_mobile(obj.citizen_mobile)

    @staticmethod
    def resolve_deadline(obj: Appeal) -> str | None:
        if obj.state not in RUNNING_STATES or obj.due_at is None:
            return None
        if calendar.is_overdue(obj.due_at):
            return "red"
        return "amber" if calendar.due_soon(obj.due_at) else "green"


class EventOut(Schema):
    id: int
    kind: str
    text: str
    public: bool = Field(description="是否向群众公开")
    actor: str = Field(description="操作人姓名；群众或系统操作为空")
    department: str
    created_at: dt.datetime

    @staticmethod
    def resolve_actor(obj: AppealEvent) -> str:
        # Staff names are shown (as in the staff list); a citizen's never is.
        actor = obj.actor
        return actor.name if actor is not None and actor.is_staff_member else ""

    @staticmethod
    def resolve_department(obj: AppealEvent) -> str:
        return obj.department.name if obj.department is not None else ""


class ExtensionOut(Schema):
    id: int
    department: DepartmentRef
    days: int
    reason: str
    status: str
    requested_at: dt.datetime
    decided_at: dt.datetime | None
    decision_note: str


class AppealDetailOut(AppealOut):
    body: str
    co_departments: list[DepartmentRef]
    consent_publish: bool
    dispatched_at: dt.datetime | None
    sign_due_at: dt.datetime | None
    signed_at: dt.datetime | None
    replied_at: dt.datetime | None
    closed_at: dt.datetime | None
    reply: str
    outcome_message: str = Field(description="不予受理/转办时告知群众的内容")
    promote_reason: str
    merged_into: Ref | None = Field(description="并入的主诉求（name 为其编号）")
    rehandle_count: int
    extension_count: int
    return_count: int
    resolved: bool | None
    satisfaction: str
    timeline: list[EventOut] = Field(description="全部办理过程（public 标出向群众公开的环节）")
    extensions: list[ExtensionOut]

    @staticmethod
    def resolve_co_departments(obj: Appeal) -> list[Any]:
        return list(obj.co_departments.all())

    @staticmethod
    def resolve_merged_into(obj: Appeal) -> dict[str, Any] | None:
        master = obj.merged_into
        return {"id": master.pk, "name": master.number} if master is not None else None

    @staticmethod
    def resolve_timeline(obj: Appeal) -> list[Any]:
        return list(obj.events.select_related("actor", "department"))

    @staticmethod
    def resolve_extensions(obj: Appeal) -> list[Any]:
        return list(obj.extensions.select_related("department"))


class SubmittedOut(Schema):
    # The list form: the timeline of a new appeal holds one step; GET the appeal for it.
    appeal: AppealOut
    query_code: str | None = Field(
        description="群众查询码，只在首次创建时返回一次（须转告群众）；重放时为 null"
    )
    replayed: bool = Field(description="true 表示这是同一幂等键的重放，未新建诉求")


class PersonalOut(Schema):
    id: int
    citizen_name: str
    citizen_mobile: str
    address: str


class _Input(Schema):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL cannot store a NUL character; Django's form fields refuse it too.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError(_("不能包含空字符"))
        return value


class AppealIn(_Input):
    title: str = Field(min_length=1, max_length=100, description="标题")
    body: str = Field(min_length=1, max_length=5000, description="诉求内容")
    appeal_type: AppealType = AppealType.HELP
    urgency: Urgency = Urgency.NORMAL
    category: int | None = Field(None, description="诉求分类 id")
    division: int | None = Field(None, description="所在乡镇或村/社区的行政区划 id")
    address: str = Field("", max_length=200, description="详细地址（个人信息）")
    anonymous: bool = Field(False, description="匿名反映（可不填手机号）")
    citizen_name: str = Field("", max_length=32)
    citizen_mobile: str = Field("", max_length=11, description="11位手机号码")
    consent_publish: bool = Field(False, description="同意公开答复")
    channel: Channel = Field(Channel.API, description="来源渠道，默认 api（系统对接）")


class VersionIn(_Input):
    expected_version: int | None = Field(
        None, ge=0, description="客户端看到的版本号；诉求已被他人改动时返回 409"
    )


class DispatchIn(VersionIn):
    department: int = Field(description="主办部门 id")
    co_departments: list[int] = Field([], max_length=20, description="协办部门 id")
    note: str = Field("", max_length=500)


class ReasonIn(VersionIn):
    reason: str = Field(min_length=1, max_length=2000)


class TextIn(VersionIn):
    text: str = Field(min_length=1, max_length=5000)


class ReplyIn(TextIn):
    override: bool = Field(
        default=False,
        description="答复检查有提示时仍然发送（先看过 reply_check 错误中的提示）",
    )


class ExtensionIn(VersionIn):
    days: int = Field(ge=1, le=60, description="延期工作日数")
    reason: str = Field(min_length=1, max_length=2000)


class DecisionIn(VersionIn):
    approve: bool
    note: str = Field("", max_length=2000)


class CallbackIn(VersionIn):
    resolved: bool = Field(description="群众是否认为问题已解决")
    level: Rating.Level = Field(description="满意度")
    comment: str = Field("", max_length=1000)
    handler_at_fault: bool = Field(False, description="不满意是否因承办单位原因（是则重办）")


class MergeIn(VersionIn):
    duplicates: list[int] = Field(min_length=1, max_length=100, description="并入本诉求的诉求 id")


class NoteIn(VersionIn):
    note: str = Field("", max_length=2000)


class RefuseIn(NoteIn):
    rule: str = Field(min_length=1, max_length=32, description="不予受理/转办情形的编码")


class KpiRowOut(Schema):
    key: int | str | None = Field(description="分组的 id（渠道为代码）；合计行为 null")
    name: str
    received: int
    dispatched: int
    signed_on_time: int
    replied: int
    due: int = Field(description="应办结件数：已答复的 + 已超期仍未答复的")
    replied_on_time: int
    rated: int
    resolved: int
    satisfied: int
    returned: int
    returned_away: int = Field(description="本部门退单后已改派他处的件数（仅按部门统计）")
    rehandled: int
    extended: int
    overdue_open: int
    avg_days: float | None
    p90_days: float | None
    rates: dict[str, float | None] = Field(description="百分比，分母为 0 时为 null")


class KpiOut(Schema):
    start: dt.date
    end: dt.date = Field(description="含当天")
    group: str
    rows: list[KpiRowOut]
    labels: dict[str, str] = Field(description="各指标的名称")
    definitions: dict[str, str] = Field(description="各指标的口径，与数字一并展示")


# ---------------------------------------------------------------- intake


@router.post(
    "/appeals",
    response={200: SubmittedOut, 201: SubmittedOut},
    summary="受理诉求（系统对接）",
    description=(
        "带 `Idempotency-Key` 头时，同一调用方用同一个键重试只会得到同一件诉求："
        "首次返回 201，重放返回 200 并带 `Idempotent-Replayed: true` 头；"
        "同一个键配不同的内容返回 422 idempotency_mismatch。"
        "诉求在返回时已受理、可查询；受理记录、群众短信（编号和查询码）和全文检索"
        "在提交后数秒内批量登记。"
    ),
)
def submit(
    request: HttpRequest,
    response: HttpResponse,
    payload: AppealIn,
    idempotency_key: str | None = Header(
        None,
        alias="Idempotency-Key",
        min_length=1,
        max_length=128,
        pattern=r"^[\x21-\x7e]+$",
        description="调用方生成的唯一键（如 UUID），1–128 个可见 ASCII 字符",
    ),
) -> Status[dict[str, Any]]:
    user = _user(request)
    idempotency = None
    if idempotency_key is not None:
        api_token = getattr(request, "api_token", None)
        # Keys are per caller: one system's key never collides with another's.
        client = f"token:{api_token.pk}" if api_token is not None else f"user:{user.pk}"
        idempotency = (client, idempotency_key)
    data = actions.AppealInput(
        title=payload.title,
        body=payload.body,
        appeal_type=payload.appeal_type,
        urgency=payload.urgency,
        category_id=payload.category,
        division_id=payload.division,
        address=payload.address,
        anonymous=payload.anonymous,
        citizen_name=payload.citizen_name,
        citizen_mobile=payload.citizen_mobile,
        consent_publish=payload.consent_publish,
        channel=payload.channel,
    )
    with _appeal_errors():
        # Other systems push appeals in bulk: the receipt (timeline, audit event, SMS) is
        # written in batches right after the commit (docs/decisions/0007).
        submitted = actions.submit(data, by=user, idempotency=idempotency, receipt_later=True)
    # A new appeal carries what the answer shows (its category and town came from the
    # checks); a replayed one is read again with its relations.
    appeal = _appeals().get(pk=submitted.appeal.pk) if submitted.replayed else submitted.appeal
    body = {"appeal": appeal, "query_code": submitted.query_code, "replayed": submitted.replayed}
    if submitted.replayed:
        response["Idempotent-Replayed"] = "true"
        return Status(200, body)
    return Status(201, body)


# ---------------------------------------------------------------- reading


class AppealFilters(Schema):
    state: State | None = None
    type: AppealType | None = Field(None, description="诉求类型")
    urgency: Urgency | None = None
    channel: Channel | None = None
    category: int | None = Field(None, description="分类 id（含其下级分类）")
    town: int | None = Field(None, description="乡镇的行政区划 id")
    department: int | None = Field(None, description="主办部门 id")
    overdue: bool | None = Field(None, description="true 只列超期未办结的，false 排除它们")
    date_from: dt.date | None = Field(None, description="受理日期起（含）")
    date_to: dt.date | None = Field(None, description="受理日期止（含）")


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


@router.get("/appeals", response=list[AppealOut], summary="诉求列表")
@paginate(PageNumberPagination)
def appeal_list(request: HttpRequest, filters: Query[AppealFilters]) -> QuerySet[Appeal]:
    user = _user(request)
    policy.require(user, "appeal.view")
    queryset = policy.visible(user, _appeals(), "appeal.view")
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise ApiError(
            INVALID,
            _("提交的数据有误，请按提示修改"),
            422,
            {"date_to": [_("结束日期不能早于开始日期")]},
        )
    exact = {
        "state": filters.state,
        "appeal_type": filters.type,
        "urgency": filters.urgency,
        "channel": filters.channel,
        "town_id": filters.town,
        "lead_department_id": filters.department,
    }
    queryset = queryset.filter(**{k: v for k, v in exact.items() if v is not None})
    if filters.category is not None:
        queryset = queryset.filter(
            Q(category_id=filters.category) | Q(category__parent_id=filters.category)
        )
    if filters.overdue is not None:
        overdue = Appeal.objects.overdue().values("pk")
        queryset = (
            queryset.filter(pk__in=overdue) if filters.overdue else queryset.exclude(pk__in=overdue)
        )
    if filters.date_from is not None:
        queryset = queryset.filter(received_at__gte=_local_midnight(filters.date_from))
    if filters.date_to is not None:
        next_day = filters.date_to + dt.timedelta(days=1)
        queryset = queryset.filter(received_at__lt=_local_midnight(next_day))
    return queryset.order_by("-received_at", "-pk")


class KpiQuery(Schema):
    group: Literal["department", "town", "category", "channel", "total"] = Field(
        "department", description="按部门、乡镇、分类、渠道分组，total 为合计一行"
    )
    start: dt.date | None = Field(None, description="受理日期起（含），默认本年1月1日")
    end: dt.date | None = Field(None, description="受理日期止（含），默认今天")


@router.get("/appeals/kpi", response=KpiOut, summary="诉求办理指标")
def appeal_kpi(request: HttpRequest, query: Query[KpiQuery]) -> dict[str, Any]:
    user = _user(request)
    policy.require(user, "appeal.kpi")
    group = query.group
    end = query.end or timezone.localdate()
    start = query.start or end.replace(month=1, day=1)
    try:
        period = kpis.period("custom", first=start, last=end)
    except kpis.PeriodError as exc:
        raise ApiError(INVALID, str(exc), 422, {"end": [str(exc)]}) from None
    rows = kpis.compute(
        period.start,
        period.end,
        group=None if group == "total" else group,
        # A department sees the figures of the appeals it leads (and the ones it returned).
        department_id=user.department_id if user.is_department_scoped else None,
    )
    return {
        "start": start,
        "end": end,
        "group": group,
        "rows": rows,
        "labels": {key: str(text) for key, text in kpis.LABELS.items()},
        "definitions": {key: str(text) for key, text in kpis.DEFINITIONS.items()},
    }


@router.get("/appeals/{appeal_id}", response=AppealDetailOut, summary="诉求详情（含办理过程）")
def appeal_detail(request: HttpRequest, appeal_id: int) -> Appeal:
    return _visible(_user(request), appeal_id)


@router.post(
    "/appeals/{appeal_id}/personal",
    response=PersonalOut,
    summary="查看群众的完整姓名、手机号和地址（记入审计）",
)
def appeal_personal(request: HttpRequest, appeal_id: int) -> dict[str, Any]:
    """A POST, not a GET: showing personal data is an act that is recorded."""
    user = _user(request)
    appeal = _visible(user, appeal_id)
    access.view_personal(
        user, "appeal.view_personal", appeal, fields=["citizen_name", "citizen_mobile", "address"]
    )
    division = appeal.division
    place = division.full_name if division is not None else ""
    return {
        "id": appeal.pk,
        "citizen_name": appeal.citizen_name,
        "citizen_mobile": appeal.citizen_mobile,
        "address": f"{place}{appeal.address}",
    }


# ---------------------------------------------------------------- actions


@router.post("/appeals/{appeal_id}/dispatch", response=AppealDetailOut, summary="派单 / 改派")
def dispatch(request: HttpRequest, appeal_id: int, payload: DispatchIn) -> Appeal:
    user = _user(request)
    _visible(user, appeal_id)
    with _appeal_errors():
        actions.dispatch(
            appeal_id,
            department_id=payload.department,
            co_department_ids=payload.co_departments,
            note=payload.note,
            by=user,
            expected_version=payload.expected_version,
        )
    return _visible(user, appeal_id)


@router.post("/appeals/{appeal_id}/sign", response=AppealDetailOut, summary="签收")
def sign(request: HttpRequest, appeal_id: int, payload: VersionIn) -> Appeal:
    user = _user(request)
    _visible(user, appeal_id)
    with _appeal_errors():
        actions.sign(appeal_id, by=user, expected_version=payload.expected_version)
    return _visible(user, appeal_id)


@router.post("/appeals/{appeal_id}/return", response=AppealDetailOut, summary="退单")
def return_appeal(request: HttpRequest, appeal_id: int, payload: ReasonIn) -> Appeal:
    user = _user(request)
    _visible(user, appeal_id)
    with _appeal_errors():
        actions.return_appeal(
            appeal_id, reason=payload.reason, by=user, expected_version=payload.expected_version
        )
    # The appeal has left the department: a department user no longer sees it.
    return _appeals().get(pk=appeal_id)


@router.post("/appeals/{appeal_id}/notes", response=AppealDetailOut, summary="记录办理过程")
def add_note(request: HttpRequest, appeal_id: int, payload: TextIn) -> Appeal:
    user = _user(request)
    _visible(user, appeal_id)
    with _appeal_errors(), _at_version(appeal_id, payload.expected_version):
        actions.add_note(appeal_id, text=payload.text, by=user)
    return _visible(user, appeal_id)


@router.post("/appeals/{appeal_id}/extensions", response=AppealDetailOut, summary="申请延期")
def request_extension(request: HttpRequest, appeal_id: int, payload: ExtensionIn) -> Appeal:
    user = _user(request)
    _visible(user, appeal_id)
    with _appeal_errors(), _at_version(appeal_id, payload.expected_version):
        actions.request_extension(appeal_id, days=payload.days, reason=payload.reason, by=user)
    return _visible(user, appeal_id)


@router.post(
    "/appeals/{appeal_id}/extensions/{extension_id}/decision",
    response=AppealDetailOut,
    summary="审批延期申请",
)
def decide_extension(
    request: HttpRequest, appeal_id: int, extension_id: int, payload: DecisionIn
) -> Appeal:
    user = _user(request)
    _visible(user, appeal_id)
    if not ExtensionRequest.objects.filter(pk=extension_id, appeal_id=appeal_id).exists():
        raise ApiError(NOT_FOUND, _("延期申请不存在"), 404)
    with _appeal_errors(), _at_version(appeal_id, payload.expected_version):
        actions.decide_extension(extension_id, approve=payload.approve, note=payload.note, by=user)
    return _visible(user, appeal_id)


@router.post("/appeals/{appeal_id}/reply", response=AppealDetailOut, summary="答复群众")
def reply(request: HttpRequest, appeal_id: int, payload: ReplyIn) -> Appeal:
    """The reply is checked as on the appeal page (relevance, completeness, politeness,
    length); with warnings it is sent only when ``override`` is true."""
    user = _user(request)
    appeal = _visible(user, appeal_id)
    # Only a reply that may be sent now is checked: otherwise the action's own error
    # (no right, wrong state) is the useful answer.
    may_reply = (
        appeal.state == State.HANDLING
        and policy.can(user, "appeal.reply", appeal)
        and len(payload.text.strip()) >= actions.MIN_REPLY_CHARS
    )
    check = check_reply(appeal.title, appeal.body, payload.text) if may_reply else None
    if check is not None and check.warnings and not payload.override:
        raise ApiError(
            REPLY_CHECK,
            _("答复检查有提示：请修改答复，或确认无误后以 override=true 重新提交"),
            422,
            {
                "text": [warning.message for warning in check.warnings],
                "warnings": [warning.code for warning in check.warnings],
            },
        )
    with _appeal_errors():
        actions.reply(
            appeal_id,
            text=payload.text,
            by=user,
            expected_version=payload.expected_version,
            check=check.as_record(overridden=bool(check.warnings)) if check is not None else None,
        )
    return _visible(user, appeal_id)


@router.post("/appeals/{appeal_id}/callback", response=AppealDetailOut, summary="记录电话回访")
def callback(request: HttpRequest, appeal_id: int, payload: CallbackIn) -> Appeal:
    user = _user(request)
    _visible(user, appeal_id)
    with _appeal_errors():
        actions.record_callback(
            appeal_id,
            resolved=payload.resolved,
            level=payload.level,
            comment=payload.comment,
            handler_at_fault=payload.handler_at_fault,
            by=user,
            expected_version=payload.expected_version,
        )
    return _visible(user, appeal_id)


@router.post("/appeals/{appeal_id}/merge", response=AppealDetailOut, summary="合并重复诉求到本诉求")
def merge(request: HttpRequest, appeal_id: int, payload: MergeIn) -> Appeal:
    user = _user(request)
    _visible(user, appeal_id)
    for duplicate_id in payload.duplicates:
        # Each duplicate is scoped too: a missing or unseen id answers 404 before anything.
        _visible(user, duplicate_id)
    with _appeal_errors(), _at_version(appeal_id, payload.expected_version):
        actions.merge(appeal_id, payload.duplicates, by=user)
    return _visible(user, appeal_id)


@router.post("/appeals/{appeal_id}/promote", response=AppealDetailOut, summary="转为群众办实事项目")
def promote(request: HttpRequest, appeal_id: int, payload: ReasonIn) -> Appeal:
    user = _user(request)
    _visible(user, appeal_id)
    with _appeal_errors():
        actions.promote(
            appeal_id, reason=payload.reason, by=user, expected_version=payload.expected_version
        )
    return _visible(user, appeal_id)


@router.post("/appeals/{appeal_id}/supervise", response=AppealDetailOut, summary="督办")
def supervise(request: HttpRequest, appeal_id: int, payload: NoteIn) -> Appeal:
    user = _user(request)
    _visible(user, appeal_id)
    with _appeal_errors(), _at_version(appeal_id, payload.expected_version):
        actions.supervise(appeal_id, note=payload.note, by=user)
    return _visible(user, appeal_id)


@router.post("/appeals/{appeal_id}/refuse", response=AppealDetailOut, summary="不予受理 / 转办")
def refuse(request: HttpRequest, appeal_id: int, payload: RefuseIn) -> Appeal:
    user = _user(request)
    _visible(user, appeal_id)
    with _appeal_errors():
        actions.refuse(
            appeal_id,
            rule_code=payload.rule,
            note=payload.note,
            by=user,
            expected_version=payload.expected_version,
        )
    return _visible(user, appeal_id)
