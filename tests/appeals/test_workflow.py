"""The appeal workflow through its actions: the closed loop with its audit, timeline and
notifications; every move allowed only from the right state and by the right person;
re-handling, extensions, merging, the rating window and promotion."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.forms.models import model_to_dict

from minsheng.appeals import actions, numbers
from minsheng.appeals.errors import AppealError, Conflict
from minsheng.appeals.models import (
    Appeal,
    AppealEvent,
    AppealSettings,
    AppealType,
    ExtensionRequest,
    Rating,
    Supervision,
)
from minsheng.appeals.states import STEPS, TRANSITIONS, State, Step
from minsheng.core import calendar
from minsheng.core.models import AuditEvent, OutboxMessage
from tests.appeals.factories import REPLY, Cast, appeal_in, make_cast, submit

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


def end_of(day: str) -> dt.datetime:
    return calendar.end_of_day(dt.date.fromisoformat(day))


@pytest.fixture
def cast() -> Cast:
    return make_cast()


def audit_actions(appeal: Appeal) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_type="appeals.appeal", object_id=str(appeal.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


def timeline(appeal: Appeal) -> list[tuple[str, bool]]:
    return list(appeal.events.order_by("created_at", "pk").values_list("kind", "public"))


def messages(kind: str) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(kind=kind).order_by("pk"))


# -- the closed loop -------------------------------------------------------------------------


def test_closed_loop_with_audit_timeline_and_notifications(cast: Cast, settings) -> None:
    settings.SITE_URL = "https://minsheng.example"
    settings.COUNTY_NAME = "示范县"
    submitted = actions.submit(
        actions.AppealInput(
            title="路灯不亮",
            body="村口路灯坏了一个月了",
            citizen_name="李秀英",
            citizen_mobile="13812341234",
        )
    )
    appeal = submitted.appeal
    assert appeal.number.startswith("YT-") and appeal.state == State.RECEIVED
    assert submitted.query_code and numbers.check_query_code(
        submitted.query_code, appeal.query_code_hash
    )
    (receipt,) = messages("appeal.received")
    assert receipt.channel == "sms" and receipt.recipient == "13812341234"
    assert appeal.number in receipt.body and submitted.query_code in receipt.body
    assert receipt.body.startswith("【示范县民生】")

    actions.dispatch(appeal.pk, department_id=cast.department.pk, by=cast.dispatcher)
    dispatched = messages("appeal.dispatched")
    # In-app to every handler and the head of the lead department, nobody else.
    assert {m.user for m in dispatched} == {cast.handler, cast.second_handler, cast.head}
    assert all(m.channel == "inapp" and m.url == f"/work/appeals/{appeal.pk}/" for m in dispatched)

    actions.sign(appeal.pk, by=cast.handler)
    actions.add_note(appeal.pk, text="已联系供电所，明天上午到场维修", by=cast.handler)
    actions.reply(appeal.pk, text="已安排电工更换路灯，现已恢复照明。", by=cast.handler)
    appeal.refresh_from_db()
    assert appeal.state == State.REPLIED and appeal.handling_days is not None
    (reply_sms,) = messages("appeal.replied")
    assert reply_sms.recipient == "13812341234"
    link = reply_sms.body.rsplit("：", 1)[1]
    assert link.startswith("https://minsheng.example/appeals/rate/")
    token = link.removeprefix("https://minsheng.example/appeals/rate/").rstrip("/")

    actions.rate(token, resolved=True, level=Rating.Level.SATISFIED, comment="修得很快")
    appeal.refresh_from_db()
    assert appeal.state == State.CLOSED and appeal.closed_at is not None
    assert appeal.satisfaction == Rating.Level.SATISFIED and appeal.resolved is True

    assert audit_actions(appeal) == [
        "appeal.received",
        "appeal.dispatched",
        "appeal.signed",
        "appeal.note_added",
        "appeal.replied",
        "appeal.rated",
        "appeal.closed",
    ]
    assert timeline(appeal) == [
        ("received", True),
        ("dispatched", True),
        ("signed", True),
        ("note", False),  # process notes are for staff only
        ("replied", True),
        ("rated", True),
        ("closed", True),
    ]
    signed = AuditEvent.objects.get(action="appeal.signed", object_id=str(appeal.pk))
    assert signed.actor_id == cast.handler.pk
    assert (signed.before, signed.after) == ({"state": "dispatched"}, {"state": "handling"})
    assert OutboxMessage.objects.filter(channel="sms", recipient="13812341234").count() == 2


def test_refusal_tells_the_citizen_where_to_go(cast: Cast) -> None:
    appeal = submit()
    actions.refuse(appeal.pk, rule_code="emergency-119", by=cast.dispatcher)
    appeal.refresh_from_db()
    assert appeal.state == State.REFUSED and "119" in appeal.outcome_message
    (sms,) = messages("appeal.refused")
    assert sms.recipient == appeal.citizen_mobile and "119" in sms.body
    assert audit_actions(appeal)[-1] == "appeal.refused"
    with pytest.raises(AppealError) as error:
        actions.refuse(submit().pk, rule_code="no-such-rule", by=cast.dispatcher)
    assert error.value.code == "validation_error"


# -- the transitions table -------------------------------------------------------------------


def test_every_move_of_the_table_is_made_by_exactly_one_step() -> None:
    made = [(source, target) for sources, target in STEPS.values() for source in sources]
    assert len(made) == len(set(made))
    table = {(source, target) for source, targets in TRANSITIONS.items() for target in targets}
    assert set(made) == table
    assert set(STEPS) == set(Step.values)
    assert set(TRANSITIONS) == set(State.values)


class _Undo(Exception):
    """Raised to roll back an attempt that succeeded, so the next starts from the same row."""


def _attempts(cast: Cast) -> dict[str, Callable[[Appeal], object]]:
    master = submit(title="同一个问题")

    def merge(appeal: Appeal) -> object:
        return actions.merge(master.pk, [appeal.pk], by=cast.dispatcher)

    return {
        Step.DISPATCH: lambda a: actions.dispatch(
            a.pk, department_id=cast.department.pk, by=cast.dispatcher
        ),
        Step.REFUSE: lambda a: actions.refuse(a.pk, rule_code="litigation", by=cast.dispatcher),
        Step.SIGN: lambda a: actions.sign(a.pk, by=cast.handler),
        Step.RETURN: lambda a: actions.return_appeal(
            a.pk, reason="不属于本部门职责范围", by=cast.handler
        ),
        Step.REPLY: lambda a: actions.reply(a.pk, text=REPLY, by=cast.handler),
        Step.REHANDLE: lambda a: actions.record_callback(
            a.pk,
            resolved=False,
            level=Rating.Level.UNSATISFIED,
            handler_at_fault=True,
            by=cast.dispatcher,
        ),
        Step.CLOSE: lambda a: actions.record_callback(
            a.pk, resolved=True, level=Rating.Level.SATISFIED, by=cast.dispatcher
        ),
        Step.MERGE: merge,
        Step.PROMOTE: lambda a: actions.promote(
            a.pk, reason="需要统筹建设，纳入实事项目", by=cast.dispatcher
        ),
    }


def _snapshot(appeal_id: int) -> tuple[object, ...]:
    appeal = Appeal.objects.get(pk=appeal_id)
    return (
        model_to_dict(appeal),
        appeal.updated_at,
        AppealEvent.objects.filter(appeal_id=appeal_id).count(),
        AuditEvent.objects.count(),
        OutboxMessage.objects.count(),
        appeal.ratings.count(),
    )


@pytest.mark.parametrize("state", list(State))
def test_each_action_moves_only_from_the_states_its_step_allows(cast: Cast, state: str) -> None:
    """For every state and every action: allowed exactly when the table says so; otherwise
    Conflict, and nothing about the appeal changed (not even its audit or outbox)."""
    appeal = appeal_in(state, cast)
    for step, attempt in _attempts(cast).items():
        sources, target = STEPS[step]
        before = _snapshot(appeal.pk)
        if state in sources:
            with pytest.raises(_Undo), transaction.atomic():
                attempt(appeal)
                assert Appeal.objects.get(pk=appeal.pk).state == target, step
                raise _Undo
        else:
            with pytest.raises(Conflict):
                attempt(appeal)
        assert _snapshot(appeal.pk) == before, step

    # Rating, callbacks, extensions and notes have no step of their own: they too refuse
    # the states they do not belong to.
    before = _snapshot(appeal.pk)
    if state != State.REPLIED:
        with pytest.raises(Conflict):
            actions.rate(actions.rating_token(appeal), resolved=True, level=Rating.Level.SATISFIED)
    if state != State.HANDLING:
        with pytest.raises(Conflict):
            actions.request_extension(appeal.pk, days=3, reason="需要协调多个部门", by=cast.handler)
    if state not in {State.RECEIVED, State.DISPATCHED, State.RETURNED, State.HANDLING}:
        with pytest.raises(Conflict):
            actions.add_note(appeal.pk, text="补充情况", by=cast.dispatcher)
        with pytest.raises(Conflict):
            actions.supervise(appeal.pk, note="请加快办理", by=cast.supervisor)
    assert _snapshot(appeal.pk) == before


def test_no_jump_from_received_to_closed(cast: Cast) -> None:
    appeal = submit()
    for attempt in (
        lambda: actions.record_callback(
            appeal.pk, resolved=True, level=Rating.Level.SATISFIED, by=cast.dispatcher
        ),
        lambda: actions.rate(
            actions.rating_token(appeal), resolved=True, level=Rating.Level.SATISFIED
        ),
        lambda: actions.reply(appeal.pk, text=REPLY, by=cast.handler),
    ):
        with pytest.raises(Conflict):
            attempt()
    assert actions.close_unrated(dt.datetime.now(TZ) + dt.timedelta(days=60)) == 0
    appeal.refresh_from_db()
    assert appeal.state == State.RECEIVED and appeal.version == 0


# -- roles and departments -------------------------------------------------------------------


def test_only_the_right_role_and_department_may_act(cast: Cast) -> None:
    appeal = appeal_in(State.RECEIVED, cast)
    for user in (cast.handler, cast.supervisor, cast.citizen, cast.head):
        with pytest.raises(PermissionDenied):
            actions.dispatch(appeal.pk, department_id=cast.department.pk, by=user)
    actions.dispatch(
        appeal.pk,
        department_id=cast.department.pk,
        co_department_ids=[cast.other_department.pk],
        by=cast.dispatcher,
    )
    before = _snapshot(appeal.pk)
    # The co-handling department may add notes but not sign, return or answer.
    for attempt in (
        lambda: actions.sign(appeal.pk, by=cast.other_handler),
        lambda: actions.return_appeal(appeal.pk, reason="不归我们管", by=cast.other_handler),
        lambda: actions.sign(appeal.pk, by=cast.dispatcher),
        lambda: actions.sign(appeal.pk, by=cast.citizen),
    ):
        with pytest.raises(PermissionDenied):
            attempt()
    assert _snapshot(appeal.pk) == before
    actions.add_note(appeal.pk, text="协办意见：已派人配合", by=cast.other_handler)

    actions.sign(appeal.pk, by=cast.handler)
    stranger = make_cast().handler  # a handler of a third department
    for user in (stranger, cast.other_handler, cast.dispatcher):
        with pytest.raises(PermissionDenied):
            actions.reply(appeal.pk, text=REPLY, by=user)
    with pytest.raises(PermissionDenied):
        actions.add_note(appeal.pk, text="不相干的部门", by=stranger)
    with pytest.raises(PermissionDenied):
        actions.supervise(appeal.pk, note="督办", by=cast.dispatcher)
    with pytest.raises(PermissionDenied):
        actions.promote(appeal.pk, reason="办不了，转项目", by=cast.handler)  # heads may
    actions.reply(appeal.pk, text=REPLY, by=cast.second_handler)  # any handler of the lead
    with pytest.raises(PermissionDenied):
        actions.record_callback(
            appeal.pk, resolved=True, level=Rating.Level.SATISFIED, by=cast.handler
        )


def test_a_returned_appeal_is_re_routed_and_the_return_can_be_disputed(cast: Cast) -> None:
    appeal = appeal_in(State.DISPATCHED, cast)
    actions.return_appeal(appeal.pk, reason="属于交通部门职责", by=cast.handler)
    appeal.refresh_from_db()
    assert appeal.state == State.RETURNED and appeal.lead_department is None
    assert appeal.return_count == 1 and appeal.due_at is None
    record = appeal.returns.get()
    assert record.department == cast.department
    assert {m.user for m in messages("appeal.returned")} == {cast.dispatcher}

    actions.dispute_return(record.pk, note="路灯属于住建部门管理", by=cast.dispatcher)
    record.refresh_from_db()
    assert record.disputed
    with pytest.raises(Conflict):
        actions.dispute_return(record.pk, note="再标一次", by=cast.dispatcher)
    with pytest.raises(PermissionDenied):
        actions.dispute_return(record.pk, note="我不是调度员", by=cast.handler)

    actions.dispatch(appeal.pk, department_id=cast.other_department.pk, by=cast.dispatcher)
    appeal.refresh_from_db()
    assert appeal.state == State.DISPATCHED and appeal.lead_department == cast.other_department
    actions.sign(appeal.pk, by=cast.other_handler)
    assert audit_actions(appeal)[-4:] == [
        "appeal.returned",
        "appeal.return_disputed",
        "appeal.redispatched",
        "appeal.signed",
    ]


# -- re-handling -----------------------------------------------------------------------------


@time_machine.travel(at("2026-03-02 09:00"), tick=False)
def test_unsatisfied_by_the_handlers_fault_goes_back_with_a_new_deadline(cast: Cast) -> None:
    appeal = appeal_in(State.REPLIED, cast, appeal_type=AppealType.HELP)
    token = actions.rating_token(appeal)
    with time_machine.travel(at("2026-03-04 10:00"), tick=False):
        actions.rate(token, resolved=False, level=Rating.Level.UNSATISFIED, comment="没修好")
        appeal.refresh_from_db()
        assert appeal.state == State.REPLIED  # the dispatcher reviews first
        assert {m.user for m in messages("appeal.unsatisfied")} == {cast.dispatcher}
        actions.review_unsatisfied(appeal.pk, handler_at_fault=True, by=cast.dispatcher)
    appeal.refresh_from_db()
    assert appeal.state == State.HANDLING and appeal.rehandle_count == 1
    assert appeal.lead_department == cast.department
    # 求助: 5 working days from Wednesday 4 March.
    assert appeal.due_at == end_of("2026-03-11")
    assert {m.user for m in messages("appeal.rehandle")} == {
        cast.handler,
        cast.second_handler,
        cast.head,
    }
    assert not Supervision.objects.exists()
    # The old link belongs to the answered round: it cannot rate the next one.
    with pytest.raises(AppealError) as error:
        actions.appeal_for_rating_token(token)
    assert error.value.code == "link_invalid"
    with pytest.raises(Conflict):
        actions.review_unsatisfied(appeal.pk, handler_at_fault=True, by=cast.dispatcher)


def test_repeated_rehandling_escalates_to_the_supervisor(cast: Cast) -> None:
    settings = AppealSettings.current()
    settings.rehandle_escalate_after = 2
    settings.save()
    appeal = appeal_in(State.REPLIED, cast)
    actions.record_callback(
        appeal.pk,
        resolved=False,
        level=Rating.Level.UNSATISFIED,
        handler_at_fault=True,
        comment="还是没有修好",
        by=cast.dispatcher,
    )
    assert not Supervision.objects.exists()
    actions.reply(appeal.pk, text=REPLY, by=cast.handler)
    actions.rate(
        actions.rating_token(Appeal.objects.get(pk=appeal.pk)),
        resolved=False,
        level=Rating.Level.UNSATISFIED,
    )
    actions.review_unsatisfied(
        appeal.pk, handler_at_fault=True, note="仍未解决", by=cast.dispatcher
    )
    appeal.refresh_from_db()
    assert appeal.rehandle_count == 2 and appeal.state == State.HANDLING
    supervision = Supervision.objects.get(appeal=appeal)
    assert supervision.reason == Supervision.Reason.REHANDLE
    assert supervision.department == cast.department and supervision.resolved_at is None
    assert {m.user for m in messages("appeal.supervised")} >= {cast.supervisor, cast.handler}
    assert "appeal.supervised" in audit_actions(appeal)
    # Answering resolves the supervision.
    actions.reply(appeal.pk, text=REPLY, by=cast.handler)
    supervision.refresh_from_db()
    assert supervision.resolved_at is not None


def test_unsatisfied_without_the_handlers_fault_is_closed(cast: Cast) -> None:
    appeal = appeal_in(State.REPLIED, cast)
    actions.rate(actions.rating_token(appeal), resolved=False, level=Rating.Level.UNSATISFIED)
    actions.review_unsatisfied(
        appeal.pk, handler_at_fault=False, note="诉求超出政策范围", by=cast.dispatcher
    )
    appeal.refresh_from_db()
    assert appeal.state == State.CLOSED and appeal.rehandle_count == 0
    assert not appeal.ratings.get().handler_at_fault


def test_a_rating_needs_a_level_and_counts_once(cast: Cast) -> None:
    appeal = appeal_in(State.REPLIED, cast)
    token = actions.rating_token(appeal)
    with pytest.raises(AppealError) as error:
        actions.rate(token, resolved=True, level="")
    assert error.value.code == "validation_error"
    with pytest.raises(AppealError) as error:
        actions.rate("forged-token", resolved=True, level=Rating.Level.SATISFIED)
    assert error.value.code == "link_invalid"
    actions.rate(token, resolved=False, level=Rating.Level.UNSATISFIED)
    with pytest.raises(Conflict):
        actions.rate(token, resolved=True, level=Rating.Level.SATISFIED)
    with pytest.raises(Conflict):
        actions.record_callback(
            appeal.pk, resolved=True, level=Rating.Level.SATISFIED, by=cast.dispatcher
        )
    assert appeal.ratings.count() == 1


# -- extensions ------------------------------------------------------------------------------


@pytest.fixture
def due_on_national_day_eve(cast: Cast) -> Appeal:
    """A 咨询 (3 working days) dispatched on Thursday 2026-09-24: 中秋 on Friday and the
    weekend are off, so it is due on Wednesday the 30th, the eve of National Day."""
    with time_machine.travel(at("2026-09-24 10:00"), tick=False):
        appeal = submit(appeal_type=AppealType.CONSULT)
        actions.dispatch(appeal.pk, department_id=cast.department.pk, by=cast.dispatcher)
        actions.sign(appeal.pk, by=cast.handler)
    appeal.refresh_from_db()
    assert appeal.due_at == end_of("2026-09-30")
    return appeal


def test_an_approved_extension_moves_the_deadline_by_working_days(
    cast: Cast, due_on_national_day_eve: Appeal
) -> None:
    appeal = due_on_national_day_eve
    with time_machine.travel(at("2026-09-29 15:00"), tick=False):
        extension = actions.request_extension(
            appeal.pk, days=3, reason="需要供电部门配合施工", by=cast.handler
        )
        with pytest.raises(Conflict):  # one pending request at a time
            actions.request_extension(appeal.pk, days=2, reason="再申请一次", by=cast.handler)
        with pytest.raises(PermissionDenied):
            actions.decide_extension(extension.pk, approve=True, by=cast.head)
        actions.decide_extension(extension.pk, approve=True, note="同意", by=cast.supervisor)
    appeal.refresh_from_db()
    # 3 working days after 30 September: 8, 9 and 10 October (a make-up Saturday).
    assert (
        appeal.due_at
        == end_of("2026-10-10")
        == calendar.add_working_days(dt.date(2026, 9, 30), 3).due_at
    )
    assert appeal.extension_count == 1 and not appeal.due_provisional
    assert {m.user for m in messages("appeal.extension_requested")} == {cast.dispatcher}
    assert audit_actions(appeal)[-2:] == [
        "appeal.extension_requested",
        "appeal.extension_decided",
    ]
    with pytest.raises(Conflict):
        actions.decide_extension(extension.pk, approve=False, by=cast.dispatcher)


def test_a_refused_extension_leaves_the_deadline(
    cast: Cast, due_on_national_day_eve: Appeal
) -> None:
    appeal = due_on_national_day_eve
    with time_machine.travel(at("2026-09-30 09:00"), tick=False):
        extension = actions.request_extension(
            appeal.pk, days=5, reason="需要协调多个部门", by=cast.handler
        )
        actions.decide_extension(
            extension.pk, approve=False, note="时限内可以办结", by=cast.dispatcher
        )
    appeal.refresh_from_db()
    assert appeal.due_at == end_of("2026-09-30") and appeal.extension_count == 0
    assert ExtensionRequest.objects.get().status == ExtensionRequest.Status.REFUSED


def test_extensions_only_before_the_deadline_and_within_the_limit(
    cast: Cast, due_on_national_day_eve: Appeal
) -> None:
    appeal = due_on_national_day_eve
    with time_machine.travel(at("2026-09-29 10:00"), tick=False):
        with pytest.raises(AppealError) as error:
            actions.request_extension(appeal.pk, days=11, reason="需要很久", by=cast.handler)
        assert error.value.code == "validation_error" and "days" in error.value.fields
        with pytest.raises(PermissionDenied):
            actions.request_extension(
                appeal.pk, days=2, reason="协办部门申请", by=cast.other_handler
            )
    # During the holiday the deadline (30 September) has passed.
    with (
        time_machine.travel(at("2026-10-02 10:00"), tick=False),
        pytest.raises(AppealError) as error,
    ):
        actions.request_extension(appeal.pk, days=2, reason="节后才能施工", by=cast.handler)
    assert error.value.code == "deadline_passed"
    assert not ExtensionRequest.objects.exists()


def test_a_pending_extension_lapses_when_the_appeal_is_answered(
    cast: Cast, due_on_national_day_eve: Appeal
) -> None:
    appeal = due_on_national_day_eve
    with time_machine.travel(at("2026-09-29 10:00"), tick=False):
        extension = actions.request_extension(appeal.pk, days=2, reason="等待材料", by=cast.handler)
        actions.reply(appeal.pk, text=REPLY, by=cast.handler)
        with pytest.raises(Conflict):
            actions.decide_extension(extension.pk, approve=True, by=cast.dispatcher)
    extension.refresh_from_db()
    assert extension.status == ExtensionRequest.Status.REFUSED
    appeal.refresh_from_db()
    assert appeal.due_at == end_of("2026-09-30")


# -- merging ---------------------------------------------------------------------------------


def test_merged_citizens_get_the_reply_and_rate_independently(cast: Cast) -> None:
    master = submit(title="幸福路路灯不亮", citizen_mobile="13900000001")
    first = submit(title="幸福路晚上没有路灯", citizen_mobile="13900000002")
    second = submit(title="幸福路路灯坏了", citizen_mobile="13900000003")
    merged = actions.merge(master.pk, [first.pk, second.pk], by=cast.dispatcher)
    assert {a.state for a in merged} == {State.MERGED}
    assert {m.recipient for m in messages("appeal.merged")} == {"13900000002", "13900000003"}
    assert audit_actions(first)[-1] == "appeal.merged"

    actions.dispatch(master.pk, department_id=cast.department.pk, by=cast.dispatcher)
    actions.sign(master.pk, by=cast.handler)
    actions.reply(master.pk, text=REPLY, by=cast.handler)

    appeals = {a.pk: a for a in Appeal.objects.filter(pk__in=[master.pk, first.pk, second.pk])}
    assert {a.state for a in appeals.values()} == {State.REPLIED}
    assert {a.reply for a in appeals.values()} == {REPLY}
    replies = {m.recipient: m.body for m in messages("appeal.replied")}
    assert set(replies) == {"13900000001", "13900000002", "13900000003"}
    for appeal in appeals.values():
        # Each citizen's link rates their own appeal.
        token = replies[appeal.citizen_mobile].rsplit("/rate/", 1)[1].rstrip("/")
        assert actions.appeal_for_rating_token(token) == appeal

    actions.rate(
        actions.rating_token(appeals[first.pk]), resolved=True, level=Rating.Level.SATISFIED
    )
    actions.rate(
        actions.rating_token(appeals[second.pk]), resolved=False, level=Rating.Level.UNSATISFIED
    )
    states = dict(
        Appeal.objects.filter(pk__in=appeals).values_list("pk", "state")  # type: ignore[misc]
    )
    assert states == {master.pk: State.REPLIED, first.pk: State.CLOSED, second.pk: State.REPLIED}
    assert Rating.objects.get(appeal=first).department == cast.department


def test_merging_into_a_merged_appeal_follows_the_chain(cast: Cast) -> None:
    a, b, c = submit(), submit(), submit()
    actions.merge(b.pk, [c.pk], by=cast.dispatcher)
    actions.merge(a.pk, [b.pk], by=cast.dispatcher)
    assert Appeal.objects.get(pk=c.pk).merged_into_id == a.pk
    with pytest.raises(Conflict):  # already merged
        actions.merge(submit().pk, [b.pk], by=cast.dispatcher)
    with pytest.raises(AppealError):
        actions.merge(a.pk, [a.pk], by=cast.dispatcher)
    actions.dispatch(a.pk, department_id=cast.department.pk, by=cast.dispatcher)
    actions.sign(a.pk, by=cast.handler)
    actions.reply(a.pk, text=REPLY, by=cast.handler)
    assert set(
        Appeal.objects.filter(pk__in=[a.pk, b.pk, c.pk]).values_list("state", flat=True)
    ) == {State.REPLIED}


def test_promotion_tells_the_merged_citizens_too(cast: Cast) -> None:
    master, duplicate = submit(), submit()
    actions.merge(master.pk, [duplicate.pk], by=cast.dispatcher)
    actions.promote(master.pk, reason="道路需要整体改造，纳入明年实事项目", by=cast.dispatcher)
    assert {m.recipient for m in messages("appeal.promoted")} == {
        master.citizen_mobile,
        duplicate.citizen_mobile,
    }
    assert Appeal.objects.get(pk=master.pk).state == State.PROMOTED
    assert audit_actions(master)[-1] == "appeal.promoted"


# -- the rating window -----------------------------------------------------------------------


def test_unrated_replies_close_when_the_rating_window_ends(cast: Cast) -> None:
    window = AppealSettings.current().rating_window_days
    with time_machine.travel(at("2026-05-11 10:00"), tick=False):
        appeal = appeal_in(State.REPLIED, cast)
        rated = appeal_in(State.REPLIED, cast)
        token = actions.rating_token(appeal)
    with time_machine.travel(at("2026-05-11 09:00") + dt.timedelta(days=window), tick=False):
        actions.rate(actions.rating_token(rated), resolved=False, level="unsatisfied")
        assert actions.close_unrated() == 0
    with time_machine.travel(at("2026-05-11 11:00") + dt.timedelta(days=window), tick=False):
        assert actions.close_unrated() == 1
        with pytest.raises(AppealError) as error:
            actions.rate(token, resolved=True, level=Rating.Level.SATISFIED)
        assert error.value.code == "link_expired"
    appeal.refresh_from_db()
    assert appeal.state == State.CLOSED
    timeout = appeal.ratings.get()
    assert timeout.source == Rating.Source.TIMEOUT and timeout.level == ""
    assert audit_actions(appeal)[-1] == "appeal.closed" and appeal.events.last().kind == "closed"
    # The unsatisfied rating waits for the dispatcher's review instead.
    assert Appeal.objects.get(pk=rated.pk).state == State.REPLIED


# -- merged appeals follow a master that is refused or promoted -------------------------------


def test_refusing_a_master_refuses_its_merged_appeals_too(cast: Cast) -> None:
    """A refused master is never answered: its merged appeals must not wait for a reply."""
    master = submit(citizen_mobile="13900000011")
    first = submit(citizen_mobile="13900000012")
    second = submit(citizen_mobile="13900000013")
    actions.merge(master.pk, [first.pk], by=cast.dispatcher)
    actions.merge(master.pk, [second.pk], by=cast.dispatcher)
    actions.refuse(master.pk, rule_code="emergency-119", by=cast.dispatcher)

    appeals = Appeal.objects.filter(pk__in=[master.pk, first.pk, second.pk])
    assert {a.state for a in appeals} == {State.REFUSED}
    assert all("119" in a.outcome_message and a.closed_at for a in appeals)
    sms = {m.recipient: m.body for m in messages("appeal.refused")}
    assert set(sms) == {"13900000011", "13900000012", "13900000013"}
    assert "119" in sms["13900000012"]
    for follower in (first, second):
        assert audit_actions(follower)[-1] == "appeal.refused"
        assert timeline(follower)[-1] == ("refused", True)
        # Still linked, so KPIs keep counting the issue once.
        assert Appeal.objects.get(pk=follower.pk).merged_into_id == master.pk
    # Nothing is left to act on: a follower cannot be refused again on its own.
    with pytest.raises(Conflict):
        actions.refuse(first.pk, rule_code="emergency-119", by=cast.dispatcher)


def test_promoting_a_master_promotes_its_merged_appeals_too(cast: Cast) -> None:
    master, duplicate = submit(), submit()
    actions.merge(master.pk, [duplicate.pk], by=cast.dispatcher)
    actions.promote(master.pk, reason="道路需要整体改造，纳入明年实事项目", by=cast.dispatcher)
    follower = Appeal.objects.get(pk=duplicate.pk)
    assert follower.state == State.PROMOTED
    assert follower.promote_reason == "道路需要整体改造，纳入明年实事项目"
    assert follower.merged_into_id == master.pk
    assert audit_actions(follower)[-1] == "appeal.promoted"
    assert timeline(follower)[-1] == ("promoted", True)
    assert len(messages("appeal.promoted")) == 2  # one each, not twice for the follower


def test_a_merged_appeal_offers_no_refusal_or_promotion_of_its_own(cast: Cast) -> None:
    """The table lets a merged appeal reach 不予受理 and 转实事项目, but only with its master:
    the staff page must not offer those actions on the merged appeal itself."""
    from minsheng.appeals.views.staff_actions import forms_for

    merged = appeal_in(State.MERGED, cast)
    names = {item["name"] for item in forms_for(cast.dispatcher, merged)}
    assert not names & {"refuse", "promote"}
    received = {item["name"] for item in forms_for(cast.dispatcher, submit())}
    assert {"refuse", "promote"} <= received
