"""The centres' actions: construction status one checked step at a time, the 7+X checklist,
matters, disputes with their document and follow-up visit; every refusal writes nothing."""

from __future__ import annotations

import datetime as dt
from functools import partial
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from minsheng.centres import actions
from minsheng.centres.models import (
    TRANSITIONS,
    Centre,
    CentreFunction,
    CentreSettings,
    Dispute,
    FunctionKind,
    FunctionState,
    Matter,
    Status,
    StatusChange,
)
from minsheng.core.models import AuditEvent, HolidayDay, Role
from tests.centres.factories import make_centre, make_town, make_village, pdf, png
from tests.concurrency import at_once
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def audit_actions() -> list[str]:
    return list(AuditEvent.objects.order_by("pk").values_list("action", flat=True))


# ---------------------------------------------------------------- the centre


def test_a_centre_belongs_to_its_towns_government_once_per_village():
    town, department = make_town()
    village = make_village(town)
    centre = actions.create_centre(village.pk, by=None)
    assert centre.department == department and centre.status == Status.PLANNED
    assert centre.name == "石桥村邻里中心" and centre.code == village.code
    with pytest.raises(actions.CentreError, match="已有邻里中心") as error:
        actions.create_centre(village.pk, by=None)
    assert error.value.field == "village"
    with pytest.raises(actions.CentreError, match="请选择村"):
        actions.create_centre(town.pk, by=None)  # a town is not a village
    orphan = make_village(make_town()[0])
    orphan.parent.departments.all().delete()
    with pytest.raises(actions.CentreError, match="还没有乡镇政府"):
        actions.create_centre(orphan.pk, by=None)
    assert Centre.objects.count() == 1
    with pytest.raises(PermissionDenied):
        actions.create_centre(orphan.pk, by=UserFactory(role=Role.HANDLER))


def test_every_status_has_its_allowed_next_steps():
    assert set(TRANSITIONS) == set(Status.values)
    centre = Centre(status=Status.PLANNED)
    assert centre.next_statuses == [Status.BUILDING]
    centre.status = Status.BASIC
    assert centre.next_statuses == [Status.BUILDING, Status.IN_USE]
    assert centre.needs_note(Status.BUILDING) and not centre.needs_note(Status.IN_USE)
    assert not centre.can_move_to(Status.PLANNED)


def test_the_status_moves_one_step_at_a_time_and_back_only_with_a_reason():
    town, department = make_town()
    handler = UserFactory(role=Role.HANDLER, department=department)
    centre = actions.create_centre(
        make_village(town).pk, on=timezone.localdate() - dt.timedelta(days=30), by=None
    )
    before = audit_actions()
    with pytest.raises(actions.CentreError, match="不能直接改为") as error:
        actions.change_status(centre.pk, to=Status.IN_USE, by=handler)
    assert error.value.code == "invalid_transition"
    with pytest.raises(actions.CentreError, match="请选择建设状态"):
        actions.change_status(centre.pk, to="finished", by=handler)
    with pytest.raises(actions.CentreError, match="不能晚于今天"):
        actions.change_status(
            centre.pk, to=Status.BUILDING, on=timezone.localdate() + dt.timedelta(1), by=handler
        )
    with pytest.raises(actions.CentreError, match="不能早于"):
        actions.change_status(
            centre.pk, to=Status.BUILDING, on=timezone.localdate() - dt.timedelta(31), by=handler
        )
    assert Centre.objects.get().status == Status.PLANNED and audit_actions() == before

    building = actions.change_status(centre.pk, to=Status.BUILDING, by=handler)
    assert building.status == Status.BUILDING and building.status_on == timezone.localdate()
    with pytest.raises(actions.CentreError, match="请写明原因"):
        actions.change_status(centre.pk, to=Status.PLANNED, by=handler)
    back = actions.change_status(centre.pk, to=Status.PLANNED, note="资金未到位，暂缓", by=handler)
    assert back.status == Status.PLANNED
    history = list(StatusChange.objects.values_list("from_status", "to_status", "note"))
    assert history == [
        ("", "planned", ""),
        ("planned", "building", ""),
        ("building", "planned", "资金未到位，暂缓"),
    ]
    event = AuditEvent.objects.filter(action="centre.status_changed").order_by("pk").last()
    assert event.before == {"status": "building"} and event.after["status"] == "planned"


def test_a_status_change_from_a_stale_page_is_a_conflict():
    centre = make_centre(status=Status.BUILDING)
    actions.change_status(centre.pk, to=Status.BASIC, expected=Status.BUILDING, by=None)
    with pytest.raises(actions.CentreError) as error:
        actions.change_status(centre.pk, to=Status.BASIC, expected=Status.BUILDING, by=None)
    assert error.value.code == "conflict"
    assert StatusChange.objects.filter(to_status=Status.BASIC).count() == 1


def test_only_the_towns_own_handlers_change_it():
    centre = make_centre(status=Status.BUILDING)
    stranger = UserFactory(role=Role.HANDLER)  # another department
    window = UserFactory(role=Role.WINDOW_STAFF, department=centre.department)
    for user in (stranger, window, UserFactory(role=Role.LEADER)):
        with pytest.raises(PermissionDenied):
            actions.change_status(centre.pk, to=Status.BASIC, by=user)
    assert Centre.objects.get().status == Status.BUILDING


# ---------------------------------------------------------------- 7+X


def test_the_checklist_sets_plans_and_service_and_is_audited():
    centre = make_centre(status=Status.BUILDING)
    kinds = {k.code: k for k in FunctionKind.objects.all()}
    assert sum(k.basic for k in kinds.values()) == 7 and "after-school" in kinds
    shop, clinic, bath = kinds["shop"].pk, kinds["clinic"].pk, kinds["bathhouse"].pk
    with pytest.raises(actions.CentreError, match="尚未建成") as error:
        actions.set_functions(centre.pk, states={shop: FunctionState.IN_SERVICE}, by=None)
    assert error.value.field == f"kind_{shop}"
    with pytest.raises(actions.CentreError, match="请选择功能状态"):
        actions.set_functions(centre.pk, states={shop: "open"}, by=None)
    assert not CentreFunction.objects.exists()

    actions.set_functions(
        centre.pk, states={shop: FunctionState.PLANNED, bath: FunctionState.PLANNED}, by=None
    )
    actions.change_status(centre.pk, to=Status.BASIC, by=None)
    actions.set_functions(
        centre.pk,
        states={
            shop: FunctionState.IN_SERVICE,
            clinic: FunctionState.IN_SERVICE,
            bath: FunctionState.NONE,
        },
        notes={clinic: "每周二、四坐诊"},
        by=None,
    )
    rows = {f.kind.code: (f.in_service, f.note) for f in CentreFunction.objects.all()}
    assert rows == {"shop": (True, ""), "clinic": (True, "每周二、四坐诊")}
    event = AuditEvent.objects.filter(action="centre.functions_set").order_by("pk").last()
    assert event.before == {"shop": "planned", "bathhouse": "planned"}
    assert event.after == {"shop": "in_service", "clinic": "in_service"}


# ---------------------------------------------------------------- matters


def matter(centre: Centre, **fields) -> Matter:
    by = fields.pop("by", None)
    values = {
        "type": Matter.Type.PROXY,
        "person_name": "张三丰",
        "mobile": "13812345678",
        "description": "代缴城乡居民医保",
        "outcome": Matter.Outcome.DONE,
    } | fields
    return actions.record_matter(centre.pk, **values, by=by)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"type": "tax"}, "type", "请选择事项类型"),
        ({"person_name": "  "}, "person_name", "请填写办事群众姓名"),
        ({"mobile": "1381234567"}, "mobile", "11位手机号码"),
        ({"description": ""}, "description", "请写明办理的事项"),
        ({"outcome": "maybe"}, "outcome", "请选择办理结果"),
        ({"handled_on": dt.date(2999, 1, 1)}, "handled_on", "不能晚于今天"),
    ],
)
def test_a_bad_matter_is_refused_on_its_field_and_writes_nothing(fields, field, message):
    centre = make_centre()
    before = audit_actions()
    with pytest.raises(actions.CentreError, match=message) as error:
        matter(centre, **fields)
    assert error.value.field == field
    assert not Matter.objects.exists() and audit_actions() == before


def test_a_matter_is_recorded_with_the_worker_and_audited_masked():
    centre = make_centre()
    worker = UserFactory(role=Role.WINDOW_STAFF, department=centre.department)
    recorded = actions.record_matter(
        centre.pk, type=Matter.Type.CERTIFICATE, person_name="欧阳娜娜", description="开具居住证明",
        outcome=Matter.Outcome.DONE, by=worker,
    )  # fmt: skip
    assert recorded.handled_by == worker and recorded.handled_on == timezone.localdate()
    event = AuditEvent.objects.get(action="centre.matter_recorded")
    assert event.after["person"] == "欧***" and "欧阳娜娜" not in str(event.after)
    with pytest.raises(actions.CentreError, match="尚未建成"):
        matter(make_centre(status=Status.BUILDING, name="新河村"))
    with pytest.raises(PermissionDenied):
        matter(centre, by=UserFactory(role=Role.SUPERVISOR))


# ---------------------------------------------------------------- disputes


def dispute(centre: Centre, **fields) -> Dispute:
    by = fields.pop("by", None)
    values = {
        "parties": "王大山、李小河",
        "type": Dispute.Type.NEIGHBOUR,
        "description": "两家因院墙排水发生争执",
        "outcome": Dispute.Outcome.RESOLVED,
    } | fields
    return actions.record_dispute(centre.pk, **values, by=by)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"parties": "王大山"}, "parties", "至少两位当事人"),
        ({"parties": "王大山、王大山"}, "parties", "至少两位当事人"),
        ({"parties": "、".join(f"张{n}" for n in range(11))}, "parties", "最多 10 位"),
        ({"type": "war"}, "type", "请选择纠纷类型"),
        ({"description": "吵架"}, "description", "至少5个字"),
        ({"outcome": ""}, "outcome", "请选择调解结果"),
        ({"mediated_on": dt.date(2999, 1, 1)}, "mediated_on", "不能晚于今天"),
        ({"agreement": SimpleUploadedFile("a.txt", b"hello")}, "agreement", "只能上传"),
        ({"mediator_id": 0}, "mediator", "本乡镇"),
    ],
)
def test_a_bad_dispute_is_refused_on_its_field_and_writes_nothing(
    fields, field, message, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    centre = make_centre()
    before = audit_actions()
    with pytest.raises(actions.CentreError, match=message) as error:
        dispute(centre, **fields)
    assert error.value.field == field
    assert not Dispute.objects.exists() and audit_actions() == before
    assert not list(tmp_path.rglob("*.*"))


def test_the_follow_up_is_due_n_working_days_after_the_mediation(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    centre = make_centre()
    # 30 September 2026: the National Day holiday (1–7 October) does not count, the make-up
    # working Saturday 10 October does.
    first = dispute(centre, mediated_on=dt.date(2026, 9, 30))
    assert first.follow_up_days == 10 and not first.follow_up_provisional
    assert first.follow_up_due_at == dt.datetime(2026, 10, 20, 23, 59, 59, 999999, SHANGHAI)
    CentreSettings.objects.update(follow_up_working_days=3)
    second = dispute(centre, mediated_on=dt.date(2026, 9, 30), agreement=png())
    assert second.follow_up_due_on == dt.date(2026, 10, 10)
    assert second.agreement.name.endswith(".png") and "scan" not in second.agreement.name
    assert second.agreement_name == "scan.png" and second.agreement_type == "image/png"
    three = dispute(centre, parties=["甲", "乙", "丙"], agreement=pdf())
    assert three.parties == ["甲", "乙", "丙"] and three.agreement.name.endswith(".pdf")


def test_the_follow_up_is_recorded_once_and_overdue_until_then():
    centre = make_centre()
    old = dispute(centre, mediated_on=timezone.localdate() - dt.timedelta(days=40))
    fresh = dispute(centre)
    assert list(Dispute.objects.follow_up_overdue()) == [old]
    assert set(Dispute.objects.follow_up_open()) == {old, fresh}
    assert old.follow_up_overdue and not fresh.follow_up_overdue
    with pytest.raises(actions.CentreError, match="请填写回访情况"):
        actions.record_follow_up(old.pk, note=" ", by=None)
    with pytest.raises(actions.CentreError, match="不能早于") as error:
        actions.record_follow_up(
            old.pk, note="已履行", done_on=old.mediated_on - dt.timedelta(1), by=None
        )
    assert error.value.field == "done_on"
    visited = actions.record_follow_up(old.pk, note="双方已按协议履行", by=None)
    assert visited.follow_up_done_on == timezone.localdate()
    with pytest.raises(actions.CentreError, match="已经回访过") as error:
        actions.record_follow_up(old.pk, note="再访一次", by=None)
    assert error.value.code == "duplicate"
    assert Dispute.objects.get(pk=old.pk).follow_up_note == "双方已按协议履行"
    assert not Dispute.objects.follow_up_overdue().exists()
    event = AuditEvent.objects.get(action="centre.follow_up_recorded")
    assert event.after["overdue"] is True
    assert not actions.record_follow_up(fresh.pk, note="关系缓和", by=None).follow_up_overdue


def test_a_provisional_follow_up_is_computed_again_when_the_holidays_are_known():
    centre = make_centre()
    with time_machine.travel(dt.datetime(2026, 12, 28, 10, tzinfo=SHANGHAI), tick=False):
        late = dispute(centre, mediated_on=dt.date(2026, 12, 24))
    assert late.follow_up_provisional  # 2027 is not in the calendar yet: Monday to Friday
    assert late.follow_up_due_on == dt.date(2027, 1, 7)
    HolidayDay.objects.create(date=dt.date(2027, 1, 1), kind=HolidayDay.Kind.HOLIDAY, name="元旦")
    assert actions.recompute_follow_ups(frozenset({2027})) == 1
    late.refresh_from_db()
    assert late.follow_up_due_on == dt.date(2027, 1, 8)
    assert AuditEvent.objects.filter(action="centre.follow_up_recomputed").count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no concurrent writers")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_recording_the_same_follow_up_at_once_make_one_visit():
    case = dispute(make_centre())
    results = at_once(
        [
            partial(actions.record_follow_up, case.pk, note=note, by=None)
            for note in ("第一次回访", "第二次回访")
        ],
        expected=(actions.CentreError,),
    )
    outcomes = [r.code if isinstance(r, actions.CentreError) else "ok" for r in results]
    assert sorted(outcomes) == ["duplicate", "ok"]
    assert AuditEvent.objects.filter(action="centre.follow_up_recorded").count() == 1
    assert Dispute.objects.get().follow_up_note in {"第一次回访", "第二次回访"}
