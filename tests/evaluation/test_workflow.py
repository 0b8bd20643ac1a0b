"""The 好差评 actions: events, the three rating channels, defaults, 差评 cases, appeals."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from minsheng.core import calendar
from minsheng.core.models import AuditEvent, OutboxMessage
from minsheng.evaluation import actions
from minsheng.evaluation.errors import Conflict, EvaluationError
from minsheng.evaluation.models import (
    Case,
    DefaultMode,
    EvaluationSettings,
    Level,
    PadDevice,
    Rating,
    RatingChannel,
    StaffAppeal,
)
from minsheng.evaluation.states import STEPS, TRANSITIONS, CaseState, CaseStep
from tests.evaluation.factories import event_at, make_hall, pad_for
from tests.factories import WindowFactory

SH = ZoneInfo("Asia/Shanghai")
MONDAY = dt.datetime(2026, 3, 9, 10, 0, tzinfo=SH)  # an ordinary working week
pytestmark = pytest.mark.django_db


def _input(level: int, reasons: list[str] | None = None, **kw: object) -> actions.RatingInput:
    return actions.RatingInput(level, reasons or [], **kw)  # type: ignore[arg-type]


def test_the_case_workflow_is_data() -> None:
    for step, (sources, target) in STEPS.items():
        for source in sources:
            assert target in TRANSITIONS[source], (step, source)
    assert TRANSITIONS[CaseState.CLOSED] == frozenset()
    reachable = {CaseState.VERIFYING} | {target for _s, target in STEPS.values()}
    assert reachable == set(CaseState)


def test_window_staff_start_and_finish_an_event_and_the_citizen_gets_the_link() -> None:
    hall = make_hall()
    event = actions.start_event(by=hall.clerk, matter_id=hall.matter.pk, mobile="13800138000")
    assert event.window == hall.window and event.department == hall.department
    assert event.staff == hall.clerk and event.number.startswith("BJ")
    assert not OutboxMessage.objects.filter(kind="evaluation.link").exists()
    actions.finish_event(event.pk, by=hall.clerk)
    sms = OutboxMessage.objects.get(kind="evaluation.link")
    assert sms.recipient == "13800138000" and "/evaluation/r/" in sms.body
    # Without a number nothing is sent; a second 办结 changes nothing.
    quiet = actions.start_event(by=hall.clerk)
    actions.finish_event(quiet.pk, by=hall.clerk)
    actions.finish_event(quiet.pk, by=hall.clerk)
    assert OutboxMessage.objects.filter(kind="evaluation.link").count() == 1


def test_only_staff_of_the_department_record_events() -> None:
    hall = make_hall()
    with pytest.raises(PermissionDenied):
        actions.start_event(by=hall.supervisor)
    with pytest.raises(EvaluationError):
        actions.start_event(by=hall.other_head, window=hall.window)


def test_a_pad_token_is_stored_hashed_and_bound_to_its_window() -> None:
    hall = make_hall()
    pad, raw = pad_for(hall)
    assert raw not in PadDevice.objects.get(pk=pad.pk).token_hash
    assert actions.pad_for_token(hall.window.pk, raw) == pad
    assert actions.pad_for_token(hall.other_window.pk, raw) is None
    assert actions.pad_for_token(hall.window.pk, raw + "x") is None
    actions.unbind_pad(pad.pk, by=hall.head)
    assert actions.pad_for_token(hall.window.pk, raw) is None
    # Window staff bind only their own window's pad; nobody another department's.
    with pytest.raises(PermissionDenied):
        actions.bind_pad(hall.other_window.pk, by=hall.clerk)
    same_department = WindowFactory(department=hall.department, hall=hall.window.hall)
    with pytest.raises(EvaluationError):
        actions.bind_pad(same_department.pk, by=hall.clerk)


def test_a_pad_rating_is_idempotent_and_one_per_event() -> None:
    hall = make_hall()
    pad, _raw = pad_for(hall)
    event = event_at(hall)
    key = uuid.uuid4()
    first = actions.rate_from_pad(pad, key, _input(5), event_id=event.pk)
    again = actions.rate_from_pad(pad, key, _input(5), event_id=event.pk)
    assert not first.replayed and again.replayed and again.rating.pk == first.rating.pk
    assert Rating.objects.count() == 1
    with pytest.raises(Conflict) as error:
        actions.rate_from_pad(pad, uuid.uuid4(), _input(4), event_id=event.pk)
    assert error.value.code == "already_rated"
    # The pad rates its own window's current event only.
    other = event_at(hall, window=hall.other_window, staff=hall.head)
    with pytest.raises(EvaluationError):
        actions.rate_from_pad(pad, uuid.uuid4(), _input(5), event_id=other.pk)


def test_a_pad_without_an_event_rates_nothing() -> None:
    hall = make_hall()
    pad, _raw = pad_for(hall)
    with pytest.raises(EvaluationError) as error:
        actions.rate_from_pad(pad, uuid.uuid4(), _input(5))
    assert error.value.code == "no_event"
    event = event_at(hall)
    result = actions.rate_from_pad(pad, uuid.uuid4(), _input(5))
    assert result.rating.event == event and result.rating.channel == RatingChannel.PAD
    assert actions.current_event(hall.window) is None  # rated: wait for the next one


def test_a_resent_rating_is_answered_after_the_current_event_moved_on() -> None:
    hall = make_hall()
    pad, _raw = pad_for(hall)
    first_event = event_at(hall)
    key = uuid.uuid4()
    first = actions.rate_from_pad(pad, key, _input(5))
    assert first.rating.event == first_event
    event_at(hall, started_at=first_event.started_at + dt.timedelta(minutes=5))  # next citizen
    # The tablet did not get the answer and sends the same rating again, without an event.
    again = actions.rate_from_pad(pad, key, _input(5))
    assert again.replayed and again.rating.pk == first.rating.pk
    assert Rating.objects.count() == 1
    assert actions.current_event(hall.window) is not None  # the new event is still unrated


def test_each_process_keeps_a_pad_for_a_few_seconds(settings) -> None:
    hall = make_hall()
    pad, raw = pad_for(hall)
    settings.PAD_TOKEN_CACHE_SECONDS = 60
    assert actions.pad_for_token(hall.window.pk, raw) is not None
    # Another process stops the pad (no signal reaches this one): kept until it expires.
    PadDevice.objects.filter(pk=pad.pk).update(active=False)
    assert actions.pad_for_token(hall.window.pk, raw) is not None
    settings.PAD_TOKEN_CACHE_SECONDS = 0
    assert actions.pad_for_token(hall.window.pk, raw) is None
    # Unbinding in this process takes effect at once, whatever the cache time.
    PadDevice.objects.filter(pk=pad.pk).update(active=True)
    settings.PAD_TOKEN_CACHE_SECONDS = 60
    assert actions.pad_for_token(hall.window.pk, raw) is not None
    actions.unbind_pad(pad.pk, by=hall.head)
    assert actions.pad_for_token(hall.window.pk, raw) is None


def test_bad_ratings_need_reasons_and_open_a_case() -> None:
    hall = make_hall()
    event = event_at(hall)
    with pytest.raises(EvaluationError) as error:
        actions.rate_by_hotline(event.pk, _input(Level.BAD), by=hall.operator)
    assert "reasons" in error.value.fields
    with pytest.raises(EvaluationError):
        actions.rate_by_hotline(event.pk, _input(Level.BAD, ["nonsense"]), by=hall.operator)
    rating = actions.rate_by_hotline(
        event.pk,
        _input(Level.VERY_BAD, ["waiting", "attitude"], comment="等太久"),
        by=hall.operator,
    )
    assert rating.recorded_by == hall.operator and rating.channel == RatingChannel.HOTLINE
    assert rating.case.state == CaseState.VERIFYING
    # Reasons of a good rating are dropped.
    good = actions.rate_by_hotline(event_at(hall).pk, _input(5, ["waiting"]), by=hall.operator)
    assert good.reasons == [] and not Case.objects.filter(rating=good).exists()
    with pytest.raises(PermissionDenied):
        actions.rate_by_hotline(event_at(hall).pk, _input(5), by=hall.clerk)


def test_the_kiosk_rates_the_latest_unrated_event_of_the_day() -> None:
    hall = make_hall()
    with time_machine.travel(MONDAY, tick=False):
        event_at(hall, started_at=MONDAY - dt.timedelta(days=1))  # yesterday's: not today
        with pytest.raises(EvaluationError) as error:
            actions.rate_from_kiosk(hall.clerk.pk, _input(5))
        assert error.value.code == "no_event"
        early = event_at(hall, started_at=MONDAY - dt.timedelta(hours=1))
        late = event_at(hall, started_at=MONDAY - dt.timedelta(minutes=5))
        assert actions.rate_from_kiosk(hall.clerk.pk, _input(4)).event == late
        assert actions.rate_from_kiosk(hall.clerk.pk, _input(3)).event == early
        with pytest.raises(EvaluationError):
            actions.rate_from_kiosk(hall.clerk.pk, _input(5))
        with pytest.raises(EvaluationError):
            actions.rate_from_kiosk(hall.head.pk, _input(5))  # not window staff


def test_signed_links_rate_once_and_expire() -> None:
    hall = make_hall()
    with time_machine.travel(MONDAY, tick=False):
        event = event_at(hall)
        token = actions.link_token(event)
        assert actions.event_for_token(token) == event
        for bad in (token[:-2] + "xx", "1:abc", str(event.pk)):
            with pytest.raises(EvaluationError) as error:
                actions.event_for_token(bad)
            assert error.value.code == "link_invalid"
        expired = event_at(hall)
        old_token = actions.link_token(expired)
        rating = actions.rate_from_link(
            token, _input(5, indicators={"efficiency": 5, "attitude": 4})
        )
        assert rating.channel == RatingChannel.LINK and rating.indicators["attitude"] == 4
        with pytest.raises(Conflict):
            actions.rate_from_link(token, _input(5))
        with pytest.raises(EvaluationError):
            actions.rate_from_link(
                actions.link_token(event_at(hall)), _input(5, indicators={"x": 1})
            )
    days = EvaluationSettings.current().link_valid_days
    with time_machine.travel(MONDAY + dt.timedelta(days=days, hours=1), tick=False):
        with pytest.raises(EvaluationError) as error:
            actions.rate_from_link(old_token, _input(5))
        assert error.value.code == "link_expired"


def test_default_ratings_after_n_days_when_the_county_chose_them() -> None:
    hall = make_hall()
    with time_machine.travel(MONDAY, tick=False):
        old = event_at(hall, started_at=MONDAY - dt.timedelta(days=16))
        young = event_at(hall, started_at=MONDAY - dt.timedelta(days=2))
        assert actions.apply_default_ratings() == 0  # off by default
        EvaluationSettings.objects.filter(pk=1).update(default_mode=DefaultMode.BASIC)
        assert actions.apply_default_ratings() == 1
        rating = Rating.objects.get(event=old)
        assert rating.level == Level.BASIC and rating.channel == RatingChannel.DEFAULT
        assert not Rating.objects.filter(event=young).exists()
        assert actions.apply_default_ratings() == 0
        assert AuditEvent.objects.filter(action="evaluation.defaulted").count() == 1


def _bad_case(hall, at: dt.datetime) -> Case:  # type: ignore[no-untyped-def]
    event = event_at(hall, started_at=at - dt.timedelta(minutes=10), mobile="13900139000")
    rating = actions.rate_by_hotline(event.pk, _input(Level.BAD, ["waiting"]), by=hall.operator)
    return Case.objects.get(rating=rating)


def test_a_case_runs_through_every_step_with_working_day_deadlines() -> None:
    hall = make_hall()
    with time_machine.travel(MONDAY, tick=False):
        case = _bad_case(hall, MONDAY)
        assert case.verify_due_at == calendar.add_working_days(MONDAY, 1).due_at
        assert case.rectify_due_at == calendar.add_working_days(MONDAY, 5).due_at
        assert not case.is_overdue()
        assert OutboxMessage.objects.filter(kind="evaluation.case.opened", user=hall.head).exists()
    # Two working days later nobody called back: overdue, on the board.
    with time_machine.travel(MONDAY + dt.timedelta(days=2), tick=False):
        assert Case.objects.overdue().filter(pk=case.pk).exists()
        with pytest.raises(PermissionDenied):
            actions.verify_case(case.pk, by=hall.other_head, note="已回访")
        with pytest.raises(PermissionDenied):  # the role, before anything else
            actions.classify_case(case.pk, by=hall.handler, finding="reasonable")
        actions.verify_case(case.pk, by=hall.handler, note="已电话回访，情况属实")
        assert not Case.objects.overdue().filter(pk=case.pk).exists()
        with pytest.raises(Conflict):  # a stale page
            actions.classify_case(case.pk, by=hall.head, finding="reasonable", expected_version=0)
        actions.classify_case(case.pk, by=hall.head, finding="reasonable")
        with pytest.raises(EvaluationError):
            actions.rectify_case(case.pk, by=hall.handler, measures="")
        actions.rectify_case(case.pk, by=hall.handler, measures="高峰期增开窗口", evidence="排班表")
        actions.feedback_case(case.pk, by=hall.handler, note="已告知群众", level=Level.GOOD)
        assert OutboxMessage.objects.filter(
            kind="evaluation.case.feedback", recipient="13900139000"
        ).exists()
        with pytest.raises(EvaluationError):
            actions.review_case(case.pk, by=hall.supervisor, approve=False, note="")
        actions.review_case(case.pk, by=hall.supervisor, approve=False, note="佐证不足，请补充")
        case.refresh_from_db()
        assert case.state == CaseState.RECTIFYING and case.rectified_at is None
        actions.rectify_case(case.pk, by=hall.handler, measures="高峰期增开窗口，补充排班表")
        actions.feedback_case(case.pk, by=hall.handler, note="已再次告知", level=Level.VERY_GOOD)
        with pytest.raises(PermissionDenied):
            actions.review_case(case.pk, by=hall.head, approve=True)
        actions.review_case(case.pk, by=hall.supervisor, approve=True, note="整改到位")
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED and case.closed_at is not None
    assert case.feedback_level == Level.VERY_GOOD and case.finding == "reasonable"
    steps = list(
        AuditEvent.objects.filter(object_type="evaluation.case", object_id=str(case.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert steps[0] == "evaluation.case.opened" and steps[-1] == "evaluation.case.reviewed"
    with pytest.raises(Conflict):
        actions.verify_case(case.pk, by=hall.handler, note="再回访一次")


def test_an_unreasonable_rating_goes_straight_to_review() -> None:
    hall = make_hall()
    with time_machine.travel(MONDAY, tick=False):
        case = _bad_case(hall, MONDAY)
        actions.verify_case(case.pk, by=hall.handler, note="群众未接电话后回拨核实")
        with pytest.raises(EvaluationError):
            actions.classify_case(case.pk, by=hall.head, finding="malicious")  # needs a reason
        actions.classify_case(case.pk, by=hall.head, finding="malicious", note="录像显示无此事")
        case.refresh_from_db()
        assert case.state == CaseState.REVIEWING
        assert not Case.objects.overdue(MONDAY + dt.timedelta(days=30)).filter(pk=case.pk).exists()
        assert CaseStep.DISMISS in STEPS


def test_an_upheld_appeal_keeps_the_rating_out_of_the_statistics() -> None:
    hall = make_hall()
    rating = actions.rate_by_hotline(
        event_at(hall).pk, _input(Level.VERY_BAD, ["attitude"]), by=hall.operator
    )
    with pytest.raises(EvaluationError):
        actions.file_appeal(rating.pk, by=hall.clerk2, reason="不是我办的")  # not their rating
    appeal = actions.file_appeal(rating.pk, by=hall.clerk, reason="当天系统故障，非本人原因")
    with pytest.raises(Conflict):
        actions.file_appeal(rating.pk, by=hall.clerk, reason="再次申诉")
    with pytest.raises(PermissionDenied):
        actions.decide_appeal(appeal.pk, by=hall.head, upheld=True, note="同意")
    actions.decide_appeal(appeal.pk, by=hall.supervisor, upheld=True, note="经核实系统故障")
    rating.refresh_from_db()
    assert rating.excluded and Rating.objects.filter(pk=rating.pk).exists()
    # Its case ends: nothing to rectify, nothing overdue.
    assert Case.objects.get(rating=rating).state == CaseState.CLOSED
    assert StaffAppeal.objects.get(pk=appeal.pk).decision == StaffAppeal.Decision.UPHELD
    with pytest.raises(Conflict):
        actions.decide_appeal(appeal.pk, by=hall.supervisor, upheld=False, note="改判")
