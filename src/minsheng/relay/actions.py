"""Every change of a proxy case (代办件) goes through here, atomic and audited.

A case moves only through ``_advance``: the relay's transition table says whether the step
is allowed from the state the page showed, and a conditional UPDATE on (state, version)
makes it, so two windows signing the same hand-over at once give one winner and one
"请刷新" refusal. A refusal (bad input, missing materials, wrong state, another level's
turn) raises ``RelayError`` with a Chinese message and changes nothing.

Deadlines come from ``core.calendar`` only: each stage starts with its own number of working
days (``RelaySettings``), stored as ``due_at`` for the overdue sweep. On completion the case
becomes a 好差评 service event of the county department (``evaluation.actions``), and the
citizen gets the rating link by SMS.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.appeals.numbers import format_number
from minsheng.catalog.models import ServiceMatter
from minsheng.core import audit, calendar, idnumber, outbox, policy
from minsheng.core.errors import ActionRefused
from minsheng.core.models import Department, Division, User
from minsheng.core.models.org import DEPARTMENT_ROLES, Role
from minsheng.evaluation import actions as evaluation
from minsheng.evaluation.errors import EvaluationError
from minsheng.evaluation.models import ServiceChannel
from minsheng.relay.models import (
    LEVEL_OF_STATE,
    DailyCounter,
    Handover,
    InvalidTransition,
    Level,
    Material,
    RelayCase,
    RelaySettings,
    State,
)

R = Role
OPERATE = {R.WINDOW_STAFF, R.HANDLER, R.DEPT_HEAD, R.ADMIN}
policy.register(
    {
        "relay.operate": OPERATE,
        # 12345 dispatchers answer citizens who call about a case; supervisors and leaders
        # follow the deadlines. None of them acts on a case.
        "relay.view": OPERATE | {R.SUPERVISOR, R.LEADER, R.DISPATCHER},
        "relay.view_personal": OPERATE,
    }
)

NUMBER_PREFIX = "DB"
MOBILE = re.compile(r"^1[3-9]\d{9}$")
TEXT_MAX = 200
# The steps a person may take on a case page (``allowed_steps``), each an action below.
STEPS = ("materials", "hand_over", "sign", "send_back", "complete", "deliver", "cancel")
CANCELLABLE = frozenset({State.COLLECTING, State.RETURNED, State.AT_TOWN, State.AT_COUNTY})


class RelayError(ActionRefused):
    """A refusal of this app's actions (see core.errors)."""


# ---------------------------------------------------------------- helpers


def county_days(matter: ServiceMatter, settings: RelaySettings) -> int:
    """The county stage: the matter's promised time limit, else the county's default."""
    return (
        matter.promised_days if matter.promised_days is not None else settings.county_default_days
    )


def _stage(start: dt.datetime, days: int) -> dict[str, Any]:
    """The fields of a new stage: its start, length and deadline, and no overdue notice yet."""
    due = calendar.add_working_days(start, days)
    return {
        "stage_started_at": start,
        "stage_days": days,
        "due_at": due.due_at,
        "due_provisional": due.provisional,
        "overdue_notified_at": None,
    }


def _no_stage() -> dict[str, Any]:
    return {"due_at": None, "due_provisional": False, "overdue_notified_at": None}


def _text(value: str, field: str, message: str) -> str:
    text = value.strip()
    if not text:
        raise RelayError(message, field=field)
    if len(text) > TEXT_MAX:
        raise RelayError(_("不能超过%(n)s字") % {"n": TEXT_MAX}, field=field)
    return text


def _next_number(day: dt.date) -> str:
    """The day's next number. The counter row stays locked until the transaction ends, so
    numbers are unique and an opening that is rolled back leaves no gap."""
    DailyCounter.objects.get_or_create(day=day)
    counter = DailyCounter.objects.select_for_update().get(day=day)
    counter.value += 1
    counter.save(update_fields=["value"])
    return format_number(NUMBER_PREFIX, day, counter.value)


def _case(case_id: int) -> RelayCase:
    case = (
        RelayCase.objects.select_related(
            "matter__department", "origin_department", "holder_department"
        )
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise RelayError(_("代办件不存在"), "not_found")
    return case


def _is_member(user: User, department_id: int) -> bool:
    """Department roles act for their own department; admins for any."""
    return user.role not in DEPARTMENT_ROLES or user.department_id == department_id


def _require_holder(case: RelayCase, by: User) -> None:
    policy.require(by, "relay.operate", case)
    if not _is_member(by, case.holder_department_id):
        raise RelayError(
            _("此件当前在%(dept)s（%(level)s），只能由其办理")
            % {"dept": case.holder_department.label, "level": case.get_holder_level_display()},
            "not_holder",
        )


def _state_refused(case: RelayCase) -> RelayError:
    return RelayError(
        _("代办件当前状态为“%(state)s”，不能执行此操作，请刷新页面")
        % {"state": case.get_state_display()},
        "conflict",
    )


def _advance(
    case: RelayCase,
    target: str,
    *,
    holder: Department,
    expected_version: int | None,
    **changes: Any,
) -> RelayCase:
    """Move ``case`` to ``target`` if it is still in the state and version it was read in
    (one winner when two people act at once), with ``holder`` holding it now."""
    try:
        case.check_transition(target)
    except InvalidTransition:
        raise _state_refused(case) from None
    version = case.version if expected_version is None else expected_version
    moved = RelayCase.objects.filter(pk=case.pk, state=case.state, version=version).update(
        state=target,
        version=F("version") + 1,
        holder_level=LEVEL_OF_STATE[target],
        holder_department=holder,
        **changes,
    )
    if not moved:
        raise RelayError(_("此件已被他人处理或页面已过期，请刷新页面后重试"), "conflict")
    case.refresh_from_db()
    case.departments.add(holder)
    return case


def _receive_handover(case: RelayCase, kind: str, by: User, when: dt.datetime) -> None:
    """The open hand-over of ``kind`` was received (signed for, or the result delivered)."""
    Handover.objects.filter(case=case, kind=kind, received_at__isnull=True).update(
        received_at=when, received_by=by
    )


def staff_url(case: RelayCase) -> str:
    return reverse("relay:detail", args=[case.number])


def _notify(department_id: int, text: str, case: RelayCase, kind: str) -> None:
    """An in-app message to everyone of the department who works on cases."""
    members = User.objects.filter(
        department_id=department_id, role__in=sorted(DEPARTMENT_ROLES), is_active=True
    ).only("pk")
    for member in members:
        outbox.enqueue(
            "inapp",
            str(member.pk),
            text,
            subject=text,
            user=member,
            url=staff_url(case),
            kind=kind,
        )


def _sms(case: RelayCase, text: str, kind: str) -> None:
    outbox.enqueue("sms", case.mobile, text, kind=kind)


def _record(by: User, action: str, case: RelayCase, before: str, **after: Any) -> None:
    audit.record(
        by,
        action,
        case,
        before={"state": before},
        after={"state": case.state, "holder": case.holder_department_id, **after},
    )


# ---------------------------------------------------------------- opening


def town_department(village: Division) -> Department | None:
    """The town government (street office) of a village or community: the proxy service's
    own department, and the level the case goes to first."""
    if village.parent_id is None:
        return None
    return (
        Department.objects.filter(
            kind=Department.Kind.TOWN, division_id=village.parent_id, active=True
        )
        .order_by("pk")
        .first()
    )


@transaction.atomic
def open_case(
    *,
    matter_id: int | None,
    citizen_name: str,
    mobile: str,
    village_id: int | None,
    by: User,
    id_number: str = "",
    received: Collection[int] = (),
    extra_materials: Sequence[str] = (),
) -> RelayCase:
    """A proxy worker takes a citizen's matter: the checklist is the matter's materials list
    (those in ``received`` ticked) plus any ``extra_materials`` the citizen brought."""
    policy.require(by, "relay.operate")
    matter = (
        ServiceMatter.objects.select_related("department")
        .filter(pk=matter_id or 0, active=True)
        .first()
    )
    if matter is None:
        raise RelayError(_("请从办事指南中选择办理事项"), "not_found", "matter")
    name = citizen_name.strip()
    if not name:
        raise RelayError(_("请填写群众姓名"), field="citizen_name")
    if len(name) > 32:
        raise RelayError(_("姓名不能超过32个字"), field="citizen_name")
    mobile = mobile.strip()
    if not MOBILE.match(mobile):
        raise RelayError(_("请输入11位手机号码"), field="mobile")
    id_key = id_masked = ""
    if id_number.strip():
        try:
            number = idnumber.validate(id_number)
        except ValidationError as exc:
            raise RelayError(exc.messages[0], field="id_number") from None
        id_key, id_masked = idnumber.key(number), idnumber.masked(number)
    village = (
        Division.objects.filter(pk=village_id or 0, level=Division.Level.VILLAGE)
        .select_related("parent")
        .first()
    )
    if village is None:
        raise RelayError(_("请选择群众所在的村（社区）"), field="village")
    origin = town_department(village)
    if origin is None:
        raise RelayError(
            _("%(town)s还没有乡镇政府（街道办事处）账号，不能代办")
            % {"town": village.parent.name if village.parent else village.name},
            field="village",
        )
    if not _is_member(by, origin.pk):
        raise RelayError(_("只能为本乡镇（街道）所辖村（社区）的群众代办"), "forbidden", "village")
    catalog = list(matter.materials.all())
    unknown = set(received) - {m.pk for m in catalog}
    if unknown:
        raise RelayError(_("材料清单与所选事项不符，请重新选择事项"), field="materials")
    extras = [line.strip() for line in extra_materials if line.strip()]
    if any(len(line) > 255 for line in extras):
        raise RelayError(_("每项材料名称不能超过255个字"), field="extra_materials")

    now = timezone.now()
    settings = RelaySettings.current()
    case = RelayCase.objects.create(
        number=_next_number(timezone.localdate(now)),
        matter=matter,
        citizen_name=name,
        mobile=mobile,
        id_key=id_key,
        id_masked=id_masked,
        village=village,
        origin_department=origin,
        holder_level=Level.COMMUNITY,
        holder_department=origin,
        opened_at=now,
        opened_by=by,
        **_stage(now, settings.community_days),
    )
    case.departments.add(origin)
    Material.objects.bulk_create(
        [
            Material(
                case=case,
                name=m.name,
                required=m.required,
                copies=m.copies,
                received=m.pk in received,
                note=m.notes,
                order=n,
            )
            for n, m in enumerate(catalog)
        ]
        + [
            Material(case=case, name=line, required=False, received=True, order=len(catalog) + n)
            for n, line in enumerate(extras)
        ]
    )
    audit.record(
        by,
        "relay.opened",
        case,
        after={
            "matter": matter.code,
            "village": village.code,
            "materials": len(catalog) + len(extras),
            "received": len(received) + len(extras),
            "due_at": case.due_at.isoformat() if case.due_at else None,
        },
    )
    _sms(
        case,
        _(
            "您委托代办的“%(matter)s”已受理，代办编号%(number)s。"
            "可凭编号和手机号后四位查询办理进度。"
        )
        % {"matter": matter.name, "number": case.number},
        "relay.opened",
    )
    return case


# ---------------------------------------------------------------- the community's checklist


@transaction.atomic
def record_materials(case_id: int, *, received: Collection[int], by: User) -> RelayCase:
    """Tick the materials collected (the others unticked), while the case is at the
    community. The case row is locked, so a hand-over waits for it and sees the result."""
    case = _case(case_id)
    _require_holder(case, by)
    case = RelayCase.objects.select_for_update().get(pk=case.pk)
    if case.state not in (State.COLLECTING, State.RETURNED):
        raise RelayError(_("材料只能在村（社区）收件阶段登记"), "conflict")
    materials = list(case.materials.all())
    if set(received) - {m.pk for m in materials}:
        raise RelayError(_("材料清单已变化，请刷新页面"), "conflict", "materials")
    changed = [m for m in materials if m.received != (m.pk in received)]
    if not changed:
        return case
    for material in changed:
        material.received = material.pk in received
    Material.objects.bulk_update(changed, ["received"])
    audit.record(
        by,
        "relay.materials_recorded",
        case,
        before={"received": sorted(m.name for m in changed if not m.received)},
        after={"received": sorted(m.name for m in changed if m.received)},
    )
    return case


def missing_materials(case: RelayCase) -> list[str]:
    return list(
        case.materials.filter(required=True, received=False)
        .order_by("order", "pk")
        .values_list("name", flat=True)
    )


# ---------------------------------------------------------------- the relay


@transaction.atomic
def hand_over(
    case_id: int,
    *,
    by: User,
    note: str = "",
    expected_version: int | None = None,
) -> RelayCase:
    """Send the case to the next level: from the community to its town government, from
    the town to the matter's county department. Only with every required material."""
    case = _case(case_id)
    _require_holder(case, by)
    settings = RelaySettings.current()
    if case.state in (State.COLLECTING, State.RETURNED):
        target, to_department = State.TO_TOWN, case.origin_department
        days = settings.town_days
    elif case.state == State.AT_TOWN:
        target, to_department = State.TO_COUNTY, case.matter.department
        days = county_days(case.matter, settings)
    else:
        raise _state_refused(case)
    if len(note.strip()) > TEXT_MAX:
        raise RelayError(_("不能超过%(n)s字") % {"n": TEXT_MAX}, field="note")
    now = timezone.now()
    before = case.state
    from_level, from_department = case.holder_level, case.holder_department
    case = _advance(
        case,
        target,
        holder=to_department,
        expected_version=expected_version,
        return_reason="",
        **_stage(now, days),
    )
    # Read under the row lock the update took: a tick being saved now is either seen or
    # waited for, never lost between the check and the hand-over.
    missing = missing_materials(case)
    if missing:
        raise RelayError(
            _("以下必需材料尚未收取，不能移交：%(names)s") % {"names": "、".join(missing)},
            "missing_materials",
            "materials",
        )
    Handover.objects.create(
        case=case,
        kind=Handover.Kind.FORWARD,
        from_level=from_level,
        from_department=from_department,
        from_user=by,
        to_level=case.holder_level,
        to_department=to_department,
        sent_at=now,
        due_at=case.due_at,
        note=note.strip(),
    )
    _record(by, "relay.handed_over", case, before, to=to_department.pk, due_at=case.due_at)
    _notify(
        to_department.pk,
        _("代办件待签收：%(matter)s（%(number)s）")
        % {"matter": case.matter.name, "number": case.number},
        case,
        "relay.handed_over",
    )
    return case


@transaction.atomic
def sign(
    case_id: int,
    *,
    by: User,
    expected_version: int | None = None,
) -> RelayCase:
    """签收: the receiving level takes the case. The stage's deadline runs from the
    hand-over, so signing late eats into the handling time."""
    case = _case(case_id)
    _require_holder(case, by)
    targets: dict[str, str] = {State.TO_TOWN: State.AT_TOWN, State.TO_COUNTY: State.AT_COUNTY}
    if case.state not in targets:
        raise RelayError(
            _("此件不在待签收状态（当前：%(state)s）") % {"state": case.get_state_display()},
            "conflict",
        )
    before = case.state
    case = _advance(
        case, targets[case.state], holder=case.holder_department, expected_version=expected_version
    )
    _receive_handover(case, Handover.Kind.FORWARD, by, timezone.now())
    _record(by, "relay.signed", case, before)
    return case


@transaction.atomic
def send_back(
    case_id: int,
    *,
    by: User,
    reason: str,
    missing: Collection[int] = (),
    expected_version: int | None = None,
) -> RelayCase:
    """退回补正: back to the community for missing or wrong materials; those in ``missing``
    are unticked so that the case cannot go on before they are collected again."""
    case = _case(case_id)
    _require_holder(case, by)
    if case.state not in (State.AT_TOWN, State.AT_COUNTY):
        raise _state_refused(case)
    text = _text(reason, "reason", _("请写明需要补正的材料或原因"))
    materials = {m.pk: m for m in case.materials.all()}
    if set(missing) - set(materials):
        raise RelayError(_("材料清单已变化，请刷新页面"), "conflict", "missing")
    now = timezone.now()
    before = case.state
    from_level, from_department = case.holder_level, case.holder_department
    case = _advance(
        case,
        State.RETURNED,
        holder=case.origin_department,
        expected_version=expected_version,
        return_reason=text,
        **_stage(now, RelaySettings.current().community_days),
    )
    Material.objects.filter(pk__in=list(missing)).update(received=False)
    Handover.objects.create(
        case=case,
        kind=Handover.Kind.RETURN,
        from_level=from_level,
        from_department=from_department,
        from_user=by,
        to_level=Level.COMMUNITY,
        to_department=case.origin_department,
        sent_at=now,
        due_at=case.due_at,
        note=text,
    )
    _record(
        by,
        "relay.returned",
        case,
        before,
        reason=text,
        missing=sorted(materials[pk].name for pk in missing),
    )
    _notify(
        case.origin_department_id,
        _("代办件退回补正：%(number)s，%(reason)s") % {"number": case.number, "reason": text},
        case,
        "relay.returned",
    )
    _sms(
        case,
        _("您委托代办的“%(matter)s”（%(number)s）需要补正：%(reason)s。代办员会与您联系。")
        % {"matter": case.matter.name, "number": case.number, "reason": text},
        "relay.returned",
    )
    return case


@transaction.atomic
def complete(
    case_id: int,
    *,
    by: User,
    result: str,
    expected_version: int | None = None,
) -> RelayCase:
    """办结 by the county department: the result goes back to the community to hand over,
    the case becomes the department's 好差评 service event and the citizen gets the link."""
    case = _case(case_id)
    _require_holder(case, by)
    if case.state != State.AT_COUNTY:
        raise _state_refused(case)
    text = _text(result, "result", _("请填写办理结果"))
    now = timezone.now()
    before = case.state
    county = case.holder_department
    case = _advance(
        case,
        State.DONE,
        holder=case.origin_department,
        expected_version=expected_version,
        result=text,
        completed_at=now,
        **_stage(now, RelaySettings.current().handback_days),
    )
    Handover.objects.create(
        case=case,
        kind=Handover.Kind.RESULT,
        from_level=Level.COUNTY,
        from_department=county,
        from_user=by,
        to_level=Level.COMMUNITY,
        to_department=case.origin_department,
        sent_at=now,
        due_at=case.due_at,
        note=text,
    )
    window = by.window if by.window is not None and by.window.department_id == county.pk else None
    try:
        event, _created = evaluation.record_event(
            evaluation.EventInput(
                department=county,
                window=window,
                staff=by,
                matter_id=case.matter_id,
                channel=ServiceChannel.PROXY,
                started_at=case.opened_at,
                finished_at=now,
                mobile=case.mobile,
                external_id=case.number,
            ),
            by=by,
        )
    except EvaluationError as exc:
        raise RelayError(exc.message, exc.code) from None
    RelayCase.objects.filter(pk=case.pk).update(event=event)
    case.event = event
    _record(by, "relay.completed", case, before, result=text, event=event.pk)
    _notify(
        case.origin_department_id,
        _("代办件已办结，请交付群众：%(number)s") % {"number": case.number},
        case,
        "relay.completed",
    )
    _sms(
        case,
        _("您委托代办的“%(matter)s”（%(number)s）已办结，代办员将尽快把结果交给您。")
        % {"matter": case.matter.name, "number": case.number},
        "relay.completed",
    )
    return case


@transaction.atomic
def deliver(
    case_id: int,
    *,
    by: User,
    expected_version: int | None = None,
) -> RelayCase:
    """办结交付: the proxy worker hands the result to the citizen."""
    case = _case(case_id)
    _require_holder(case, by)
    if case.state != State.DONE:
        raise _state_refused(case)
    now = timezone.now()
    before = case.state
    case = _advance(
        case,
        State.DELIVERED,
        holder=case.origin_department,
        expected_version=expected_version,
        delivered_at=now,
        **_no_stage(),
    )
    _receive_handover(case, Handover.Kind.RESULT, by, now)
    _record(by, "relay.delivered", case, before)
    return case


@transaction.atomic
def cancel(
    case_id: int,
    *,
    by: User,
    reason: str,
    expected_version: int | None = None,
) -> RelayCase:
    """撤销 (the citizen withdrew, or the matter cannot be done): by the level holding the
    case or by the proxy service that took it."""
    case = _case(case_id)
    policy.require(by, "relay.operate", case)
    if not (_is_member(by, case.holder_department_id) or _is_member(by, case.origin_department_id)):
        raise RelayError(_("只有当前经办单位或代办乡镇可以撤销"), "not_holder")
    if case.state not in CANCELLABLE:
        raise _state_refused(case)
    text = _text(reason, "reason", _("请写明撤销原因"))
    now = timezone.now()
    before, holder = case.state, case.holder_department_id
    case = _advance(
        case,
        State.CANCELLED,
        holder=case.origin_department,
        expected_version=expected_version,
        cancel_reason=text,
        cancelled_at=now,
        **_no_stage(),
    )
    _record(by, "relay.cancelled", case, before, reason=text)
    if holder != by.department_id:
        _notify(
            holder, _("代办件已撤销：%(number)s") % {"number": case.number}, case, "relay.cancelled"
        )
    _sms(
        case,
        _("您委托代办的“%(matter)s”（%(number)s）已撤销：%(reason)s")
        % {"matter": case.matter.name, "number": case.number, "reason": text},
        "relay.cancelled",
    )
    return case


def allowed_steps(case: RelayCase, user: User) -> set[str]:
    """The steps the case page offers ``user`` now; each action checks the same again."""
    if not policy.can(user, "relay.operate", case):
        return set()
    steps: set[str] = set()
    state = case.state
    if _is_member(user, case.holder_department_id):
        if state in (State.COLLECTING, State.RETURNED):
            steps |= {"materials", "hand_over"}
        elif state in (State.TO_TOWN, State.TO_COUNTY):
            steps.add("sign")
        elif state == State.AT_TOWN:
            steps |= {"hand_over", "send_back"}
        elif state == State.AT_COUNTY:
            steps |= {"complete", "send_back"}
        elif state == State.DONE:
            steps.add("deliver")
    if state in CANCELLABLE and (
        _is_member(user, case.holder_department_id) or _is_member(user, case.origin_department_id)
    ):
        steps.add("cancel")
    return steps
