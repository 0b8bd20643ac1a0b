"""Appeals for tests, brought to each state through the actions (never by writing state),
and the people who act on them."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import factory
from factory.django import DjangoModelFactory

from minsheng.appeals import actions
from minsheng.appeals.models import Appeal, AppealType, Category, Rating, RoutingRule
from minsheng.appeals.states import State
from minsheng.core.models import Department, Role, User
from tests.factories import DepartmentFactory, UserFactory

REPLY = "已安排人员现场处理，问题已经解决，感谢您的反映。"
_mobiles = itertools.count(1)


class CategoryFactory(DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"cat{n}")
    name = factory.Sequence(lambda n: f"分类{n}")


class RoutingRuleFactory(DjangoModelFactory):
    class Meta:
        model = RoutingRule

    category = factory.SubFactory(CategoryFactory)
    department = factory.SubFactory(DepartmentFactory)


def mobile() -> str:
    """A distinct, valid citizen mobile number for each call."""
    return f"139{next(_mobiles):08d}"


@dataclass
class Cast:
    """Everyone who acts on an appeal: the lead department (a handler and its head), a
    second handler of the same department, another department, dispatch and supervision."""

    department: Department
    other_department: Department
    handler: User
    second_handler: User
    head: User
    other_handler: User
    dispatcher: User
    supervisor: User
    citizen: User


def make_cast() -> Cast:
    department = DepartmentFactory()
    other = DepartmentFactory()
    return Cast(
        department=department,
        other_department=other,
        handler=UserFactory(role=Role.HANDLER, department=department),
        second_handler=UserFactory(role=Role.HANDLER, department=department),
        head=UserFactory(role=Role.DEPT_HEAD, department=department),
        other_handler=UserFactory(role=Role.HANDLER, department=other),
        dispatcher=UserFactory(role=Role.DISPATCHER),
        supervisor=UserFactory(role=Role.SUPERVISOR),
        citizen=UserFactory(role=Role.CITIZEN),
    )


def submit(
    title: str = "小区路灯不亮", appeal_type: str = AppealType.HELP, **fields: object
) -> Appeal:
    fields.setdefault("citizen_mobile", mobile())
    fields.setdefault("citizen_name", "王建国")
    data = actions.AppealInput(
        title=title,
        body=f"{title}已经一个多月了，晚上出行很不方便，希望尽快处理。",
        appeal_type=appeal_type,
        **fields,  # type: ignore[arg-type]
    )
    return actions.submit(data).appeal


def appeal_in(state: str, cast: Cast, **fields: object) -> Appeal:
    """A fresh appeal brought to ``state`` the way it happens in real life."""
    appeal = submit(**fields)
    if state == State.RECEIVED:
        return appeal
    if state == State.REFUSED:
        return actions.refuse(appeal.pk, rule_code="emergency-110", by=cast.dispatcher)
    if state == State.MERGED:
        master = submit(title="同一路段路灯不亮")
        actions.merge(master.pk, [appeal.pk], by=cast.dispatcher)
        return Appeal.objects.get(pk=appeal.pk)
    if state == State.PROMOTED:
        return actions.promote(appeal.pk, reason="需要整体改造，纳入年度计划", by=cast.dispatcher)
    actions.dispatch(appeal.pk, department_id=cast.department.pk, by=cast.dispatcher)
    if state == State.DISPATCHED:
        return Appeal.objects.get(pk=appeal.pk)
    if state == State.RETURNED:
        return actions.return_appeal(appeal.pk, reason="不属于本部门职责", by=cast.handler)
    actions.sign(appeal.pk, by=cast.handler)
    if state == State.HANDLING:
        return Appeal.objects.get(pk=appeal.pk)
    actions.reply(appeal.pk, text=REPLY, by=cast.handler)
    if state == State.REPLIED:
        return Appeal.objects.get(pk=appeal.pk)
    assert state == State.CLOSED, state
    return actions.record_callback(
        appeal.pk, resolved=True, level=Rating.Level.SATISFIED, by=cast.dispatcher
    )
