"""The proxy service's actions: the relay community → town → county and back, refusals that
change nothing, working-day deadlines, the overdue sweep and the signing race."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import connection, connections

from minsheng.core import calendar
from minsheng.core.models import AuditEvent, OutboxMessage, Role
from minsheng.evaluation.models import ServiceChannel, ServiceEvent
from minsheng.relay import actions, sweep
from minsheng.relay.models import (
    FINAL_STATES,
    LEVEL_OF_STATE,
    TRANSITIONS,
    DailyCounter,
    Handover,
    InvalidTransition,
    Level,
    RelayCase,
    RelaySettings,
    State,
)
from tests.factories import DepartmentFactory, UserFactory
from tests.relay.helpers import MOBILE, at_county, id_number, make_world, open_case

pytestmark = pytest.mark.django_db
SHANGHAI = calendar.CALENDAR_TZ


def test_the_transition_table_is_checked_by_the_model():
    assert set(TRANSITIONS) == set(State) == set(LEVEL_OF_STATE)
    assert all(not TRANSITIONS[s] for s in FINAL_STATES)
    case = RelayCase(state=State.COLLECTING)
    case.check_transition(State.TO_TOWN)
    with pytest.raises(InvalidTransition):
        case.check_transition(State.AT_COUNTY)  # the town first
    assert not RelayCase(state=State.DONE).can_transition(State.CANCELLED)


def test_the_whole_relay_from_village_to_county_and_back():
    world = make_world()
    case = open_case(world, id_number=id_number())
    assert case.number.startswith("DB-") and case.number.endswith("-000001")
    assert (case.state, case.holder_level, case.holder_department) == (
        State.COLLECTING,
        Level.COMMUNITY,
        world.town_gov,
    )
    assert [m.name for m in case.materials.all()] == ["居民身份证", "经营场所使用证明", "委托书"]
    assert case.materials.get(name="居民身份证").copies == 2
    assert "*" in case.id_masked and case.id_key

    case = actions.hand_over(case.pk, by=world.proxy, note="材料齐全")
    assert (case.state, case.holder_level) == (State.TO_TOWN, Level.TOWN)
    case = actions.sign(case.pk, by=world.town_handler)
    case = actions.hand_over(case.pk, by=world.town_handler)
    assert (case.state, case.holder_level, case.holder_department) == (
        State.TO_COUNTY,
        Level.COUNTY,
        world.county,
    )
    case = actions.sign(case.pk, by=world.county_staff)
    case = actions.complete(case.pk, by=world.county_staff, result="已核发营业执照")
    assert (case.state, case.holder_department, case.result) == (
        State.DONE,
        world.town_gov,
        "已核发营业执照",
    )
    case = actions.deliver(case.pk, by=world.proxy)
    assert case.state == State.DELIVERED and case.due_at is None and case.delivered_at

    chain = list(case.handovers.order_by("sent_at", "pk"))
    assert [(h.kind, h.from_level, h.to_level) for h in chain] == [
        (Handover.Kind.FORWARD, Level.COMMUNITY, Level.TOWN),
        (Handover.Kind.FORWARD, Level.TOWN, Level.COUNTY),
        (Handover.Kind.RESULT, Level.COUNTY, Level.COMMUNITY),
    ]
    assert chain[0].received_by == world.town_handler and chain[0].note == "材料齐全"
    assert chain[1].received_by == world.county_staff
    assert chain[2].received_by == world.proxy  # handed to the citizen
    assert set(case.departments.all()) == {world.town_gov, world.county}
    assert list(
        AuditEvent.objects.filter(action__startswith="relay.")
        .order_by("id")
        .values_list("action", flat=True)
    ) == [
        "relay.opened",
        "relay.handed_over",
        "relay.signed",
        "relay.handed_over",
        "relay.signed",
        "relay.completed",
        "relay.delivered",
    ]
    event = ServiceEvent.objects.get()
    assert case.event == event
    assert (event.channel, event.department, event.staff, event.external_id, event.mobile) == (
        ServiceChannel.PROXY,
        world.county,
        world.county_staff,
        case.number,
        MOBILE,
    )
    sms = OutboxMessage.objects.filter(channel="sms", recipient=MOBILE)
    assert set(sms.values_list("kind", flat=True)) == {
        "relay.opened",
        "relay.completed",
        "evaluation.link",
    }
    told = OutboxMessage.objects.filter(channel="inapp", kind="relay.handed_over")
    assert {m.user_id for m in told} >= {world.town_handler.pk, world.county_staff.pk}


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"matter_id": 999_999}, "matter", "请从办事指南中选择办理事项"),
        ({"matter_id": None}, "matter", "请从办事指南中选择办理事项"),
        ({"mobile": "1380013800"}, "mobile", "请输入11位手机号码"),
        ({"mobile": "12800138000"}, "mobile", "请输入11位手机号码"),
        ({"mobile": "138-0013-800"}, "mobile", "请输入11位手机号码"),
        ({"citizen_name": "  "}, "citizen_name", "请填写群众姓名"),
        ({"id_number": "110105194912310021"}, "id_number", "校验位"),
        ({"id_number": "12345"}, "id_number", "18位"),
        ({"village_id": 0}, "village", "村（社区）"),
    ],
)
def test_bad_input_is_refused_in_chinese_and_writes_nothing(fields, field, message):
    world = make_world()
    with pytest.raises(actions.RelayError, match=message) as refused:
        open_case(world, **fields)
    assert refused.value.field == field
    assert not RelayCase.objects.exists() and not AuditEvent.objects.exists()
    assert not OutboxMessage.objects.exists() and not DailyCounter.objects.exists()


def test_an_inactive_matter_and_another_towns_village_are_refused():
    world, other = make_world("1"), make_world("2")
    world.matter.active = False
    world.matter.save()
    with pytest.raises(actions.RelayError, match="办理事项"):
        open_case(world)
    with pytest.raises(actions.RelayError, match="本乡镇") as refused:
        open_case(other, village_id=world.village.pk)  # other's proxy, world's village
    assert refused.value.code == "forbidden"
    with pytest.raises(PermissionDenied):
        open_case(world, by=UserFactory(role=Role.LEADER))
    assert not RelayCase.objects.exists()


def test_a_hand_over_needs_every_required_material():
    world = make_world()
    case = open_case(world, received=set())
    with pytest.raises(actions.RelayError, match="居民身份证、经营场所使用证明") as refused:
        actions.hand_over(case.pk, by=world.proxy)
    assert refused.value.code == "missing_materials"
    case.refresh_from_db()
    assert (case.state, case.version) == (State.COLLECTING, 0)
    assert not Handover.objects.exists()
    assert not AuditEvent.objects.filter(action="relay.handed_over").exists()

    identity = case.materials.get(name="居民身份证")
    actions.record_materials(case.pk, received={identity.pk}, by=world.proxy)
    with pytest.raises(actions.RelayError, match="经营场所使用证明"):
        actions.hand_over(case.pk, by=world.proxy)
    required = set(case.materials.filter(required=True).values_list("pk", flat=True))
    actions.record_materials(case.pk, received=required, by=world.proxy)  # 委托书 not needed
    assert actions.hand_over(case.pk, by=world.proxy).state == State.TO_TOWN
    with pytest.raises(actions.RelayError, match="收件阶段"):
        actions.record_materials(case.pk, received=set(), by=world.proxy)
    assert AuditEvent.objects.filter(action="relay.materials_recorded").count() == 2


def test_signing_twice_or_from_a_stale_page_is_refused():
    world = make_world()
    case = open_case(world)
    case = actions.hand_over(case.pk, by=world.proxy)
    with pytest.raises(actions.RelayError, match="刷新"):
        actions.sign(case.pk, by=world.town_handler, expected_version=case.version - 1)
    actions.sign(case.pk, by=world.town_handler, expected_version=case.version)
    with pytest.raises(actions.RelayError, match="不在待签收状态") as refused:
        actions.sign(case.pk, by=world.proxy)
    assert refused.value.code == "conflict"
    assert AuditEvent.objects.filter(action="relay.signed").count() == 1
    assert Handover.objects.get().received_by == world.town_handler


def test_only_the_level_holding_the_case_acts_on_it():
    world = make_world()
    stranger = UserFactory(role=Role.HANDLER, department=DepartmentFactory())
    case = open_case(world)
    with pytest.raises(PermissionDenied):  # not in the chain at all
        actions.hand_over(case.pk, by=stranger)
    case = actions.hand_over(case.pk, by=world.proxy)
    with pytest.raises(PermissionDenied):  # the county has not got it yet
        actions.sign(case.pk, by=world.county_staff)
    case = at_county(make_world("2"))
    other = RelayCase.objects.select_related("origin_department").get(pk=case.pk)
    proxy = other.opened_by
    assert proxy is not None
    with pytest.raises(actions.RelayError, match="只能由其办理") as refused:
        actions.complete(case.pk, by=proxy, result="办好了")  # the town passed it on
    assert refused.value.code == "not_holder"
    assert RelayCase.objects.get(pk=case.pk).state == State.AT_COUNTY


def test_sent_back_for_missing_materials_and_relayed_again():
    world = make_world()
    case = at_county(world)
    permit = case.materials.get(name="经营场所使用证明")
    with pytest.raises(actions.RelayError, match="请写明"):
        actions.send_back(case.pk, by=world.county_staff, reason=" ")
    case = actions.send_back(
        case.pk, by=world.county_staff, reason="租赁合同未签字", missing={permit.pk}
    )
    assert (case.state, case.holder_level, case.holder_department) == (
        State.RETURNED,
        Level.COMMUNITY,
        world.town_gov,
    )
    assert case.return_reason == "租赁合同未签字"
    back = Handover.objects.get(kind=Handover.Kind.RETURN)
    assert (back.from_department, back.to_department, back.note) == (
        world.county,
        world.town_gov,
        "租赁合同未签字",
    )
    assert OutboxMessage.objects.filter(kind="relay.returned", channel="sms").exists()
    with pytest.raises(actions.RelayError, match="经营场所使用证明"):
        actions.hand_over(case.pk, by=world.proxy)
    received = set(case.materials.values_list("pk", flat=True))
    actions.record_materials(case.pk, received=received, by=world.proxy)
    case = actions.hand_over(case.pk, by=world.proxy)
    assert (case.state, case.return_reason) == (State.TO_TOWN, "")
    case = actions.sign(case.pk, by=world.town_handler)
    assert Handover.objects.filter(kind=Handover.Kind.FORWARD, received_at=None).count() == 0


def test_cancelling_needs_a_reason_and_ends_the_case():
    world = make_world()
    case = open_case(world)
    with pytest.raises(actions.RelayError, match="撤销原因"):
        actions.cancel(case.pk, by=world.proxy, reason="")
    case = actions.cancel(case.pk, by=world.proxy, reason="群众自行办理")
    assert (case.state, case.due_at, case.cancel_reason) == (State.CANCELLED, None, "群众自行办理")
    with pytest.raises(actions.RelayError, match="已撤销"):
        actions.hand_over(case.pk, by=world.proxy)
    with pytest.raises(actions.RelayError):
        actions.cancel(case.pk, by=world.proxy, reason="again")
    assert OutboxMessage.objects.filter(kind="relay.cancelled", channel="sms").count() == 1


def test_the_origin_town_may_cancel_a_case_at_the_county():
    world = make_world()
    case = at_county(world)
    assert "cancel" in actions.allowed_steps(case, world.proxy)
    assert "complete" not in actions.allowed_steps(case, world.proxy)
    assert actions.allowed_steps(case, world.county_staff) == {"complete", "send_back", "cancel"}
    actions.cancel(case.pk, by=world.proxy, reason="群众撤回申请")
    told = OutboxMessage.objects.filter(kind="relay.cancelled", channel="inapp")
    assert set(told.values_list("user_id", flat=True)) == {world.county_staff.pk}


def _local(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=SHANGHAI)


def test_stage_deadlines_are_working_days_across_the_national_day():
    world = make_world(promised_days=3)
    settings = RelaySettings.current()
    assert (settings.community_days, settings.town_days) == (1, 2)
    # Opened on the last working day before the National Day holiday (1–7 October 2026).
    with time_machine.travel(_local(dt.date(2026, 9, 30)), tick=False):
        case = open_case(world)
    assert case.due_at == calendar.end_of_day(dt.date(2026, 10, 8))
    assert not case.due_provisional
    with time_machine.travel(_local(dt.date(2026, 10, 8)), tick=False):
        case = actions.hand_over(case.pk, by=world.proxy)
    # 9 October (Friday) and 10 October (a Saturday made a working day).
    assert case.due_at == calendar.end_of_day(dt.date(2026, 10, 10))
    assert Handover.objects.get().due_at == case.due_at
    with time_machine.travel(_local(dt.date(2026, 10, 9)), tick=False):
        actions.sign(case.pk, by=world.town_handler)
        case = actions.hand_over(case.pk, by=world.town_handler)
    # The matter's promised 3 working days: 10, 12 and 13 October.
    assert case.due_at == calendar.end_of_day(dt.date(2026, 10, 13))
    assert case.stage_days == 3


def test_a_matter_without_a_promise_takes_the_county_default():
    world = make_world(promised_days=None)
    RelaySettings.objects.update_or_create(pk=1, defaults={"county_default_days": 7})
    with time_machine.travel(_local(dt.date(2026, 11, 2)), tick=False):  # a Monday
        case = at_county(world)
    assert case.stage_days == 7
    assert case.due_at == calendar.end_of_day(dt.date(2026, 11, 11))


def test_a_deadline_in_an_unknown_year_is_provisional_and_recomputed():
    world = make_world()
    with time_machine.travel(_local(dt.date(2026, 12, 31), 16), tick=False):
        case = open_case(world)
    assert case.due_provisional and case.due_at == calendar.end_of_day(dt.date(2027, 1, 1))
    assert not calendar.year_known(2027)
    from minsheng.core.models.calendar import HolidayDay

    HolidayDay.objects.create(date=dt.date(2027, 1, 1), kind=HolidayDay.Kind.HOLIDAY, name="元旦")
    assert sweep.recompute_provisional(frozenset({2027})) == 1
    case.refresh_from_db()
    assert case.due_at == calendar.end_of_day(dt.date(2027, 1, 4)) and not case.due_provisional
    assert AuditEvent.objects.filter(action="relay.deadline_recomputed").count() == 1


def test_the_sweep_tells_the_holder_once_per_overdue_stage():
    world = make_world()
    with time_machine.travel(_local(dt.date(2026, 11, 2)), tick=False):
        case = open_case(world)
    assert sweep.sweep(_local(dt.date(2026, 11, 3), 23)) == 0  # due at the end of the 3rd
    later = _local(dt.date(2026, 11, 4))
    assert sweep.sweep(later) == 1
    assert sweep.sweep(later) == 0
    told = OutboxMessage.objects.filter(kind="relay.overdue")
    assert set(told.values_list("user_id", flat=True)) == {world.proxy.pk, world.town_handler.pk}
    assert AuditEvent.objects.filter(action="relay.overdue_notified").count() == 1
    assert RelayCase.objects.overdue(later).get() == case

    with time_machine.travel(later, tick=False):
        actions.hand_over(case.pk, by=world.proxy)  # a new stage: a new deadline, no notice yet
    assert sweep.sweep(later) == 0
    assert sweep.sweep(_local(dt.date(2026, 11, 9))) == 1
    assert OutboxMessage.objects.filter(kind="relay.overdue").count() == 4


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no concurrent writers")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_windows_signing_at_once_give_one_winner():
    world = make_world()
    second = UserFactory(role=Role.HANDLER, department=world.town_gov)
    case = actions.hand_over(open_case(world).pk, by=world.proxy)
    start = threading.Barrier(4)
    outcomes: list[str] = []
    signers = [world.town_handler, second, world.proxy, world.town_handler]

    def sign(user) -> None:
        try:
            start.wait()
            actions.sign(case.pk, by=user, expected_version=case.version)
            outcomes.append("signed")
        except actions.RelayError as exc:
            outcomes.append(exc.code)
        finally:
            # This thread's own connection: left open, the test database cannot be dropped.
            connections.close_all()

    threads = [threading.Thread(target=sign, args=(user,)) for user in signers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "conflict", "conflict", "signed"]
    case.refresh_from_db()
    assert (case.state, case.version) == (State.AT_TOWN, 2)
    assert AuditEvent.objects.filter(action="relay.signed").count() == 1
    assert Handover.objects.get().received_at is not None


def test_numbers_count_per_day():
    world = make_world()
    with time_machine.travel(_local(dt.date(2026, 11, 2)), tick=False):
        first, second = open_case(world), open_case(world)
    with time_machine.travel(_local(dt.date(2026, 11, 3)), tick=False):
        third = open_case(world)
    assert [first.number, second.number, third.number] == [
        "DB-20261102-000001",
        "DB-20261102-000002",
        "DB-20261103-000001",
    ]
