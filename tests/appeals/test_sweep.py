"""The deadline sweep (即将超期, 超期催办, 督办, late signatures, closing unrated replies) on
real calendar dates around the 2026 National Day holiday, the periodic job and command that
run it, and provisional deadlines made final when the next year's holidays are imported."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from minsheng.appeals import actions, recompute, sweep, tasks
from minsheng.appeals.models import Appeal, AppealSettings, AppealType, Supervision
from minsheng.appeals.states import State
from minsheng.core import calendar, holidays_csv, periodic
from minsheng.core.models import AuditEvent, OutboxMessage
from tests.appeals.factories import REPLY, Cast, make_cast, submit

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


def end_of(day: str) -> dt.datetime:
    return calendar.end_of_day(dt.date.fromisoformat(day))


@pytest.fixture
def cast() -> Cast:
    return make_cast()


def dispatched(
    cast: Cast, moment: str, appeal_type: str = AppealType.CONSULT, *, sign: bool = True
) -> Appeal:
    with time_machine.travel(at(moment), tick=False):
        appeal = submit(appeal_type=appeal_type)
        actions.dispatch(appeal.pk, department_id=cast.department.pk, by=cast.dispatcher)
        if sign:
            actions.sign(appeal.pk, by=cast.handler)
    return Appeal.objects.get(pk=appeal.pk)


def run(moment: str) -> sweep.SweepResult:
    with time_machine.travel(at(moment), tick=False):
        return sweep.sweep()


def reminders(kind: str, appeal: Appeal | None = None) -> list[OutboxMessage]:
    messages = OutboxMessage.objects.filter(kind=kind)
    if appeal is not None:
        messages = messages.filter(url=actions.staff_url(appeal))
    return list(messages)


def test_due_soon_spans_the_holiday_and_is_sent_once(cast: Cast) -> None:
    # 咨询 (3 working days) dispatched on Monday 28 September: 29th, 30th, then 8 October.
    after_holiday = dispatched(cast, "2026-09-28 10:00")
    assert after_holiday.due_at == end_of("2026-10-08")
    later = dispatched(cast, "2026-09-29 10:00")
    assert later.due_at == end_of("2026-10-09")

    # On the eve of the holiday the next working day is 8 October: due soon (amber).
    result = run("2026-09-30 09:00")
    assert result.due_soon == 1
    assert calendar.due_soon(after_holiday.due_at, at("2026-09-30 09:00"))
    assert not calendar.due_soon(later.due_at, at("2026-09-30 09:00"))
    sent = reminders("appeal.due_soon", after_holiday)
    assert {m.user for m in sent} == {cast.handler, cast.second_handler, cast.head}
    assert not reminders("appeal.due_soon", later)

    # Running again (the next five minutes, or a second worker) sends nothing new.
    assert run("2026-09-30 09:05").due_soon == 0
    assert run("2026-10-04 09:00").due_soon == 0
    assert len(reminders("appeal.due_soon")) == 3
    # On 8 October the second one is due the next working day.
    assert run("2026-10-08 09:00").due_soon == 1
    assert len(reminders("appeal.due_soon", later)) == 3


def test_overdue_reminder_once_then_supervision_after_n_working_days(cast: Cast) -> None:
    settings = AppealSettings.current()
    settings.supervise_after_overdue_days = 2
    settings.save()
    # 咨询 dispatched on Thursday 24 September; 中秋 (Friday) and the weekend are off, so
    # it is due on Wednesday 30 September.
    appeal = dispatched(cast, "2026-09-24 10:00")
    assert appeal.due_at == end_of("2026-09-30")

    first = run("2026-10-01 09:00")  # overdue since midnight, in the holiday
    assert (first.overdue, first.supervised) == (1, 0)
    assert {m.user for m in reminders("appeal.overdue", appeal)} == {
        cast.handler,
        cast.second_handler,
        cast.head,
    }
    assert appeal.events.filter(kind="overdue").count() == 1
    for moment in ("2026-10-01 09:05", "2026-10-07 17:00", "2026-10-08 09:00"):
        again = run(moment)
        assert (again.overdue, again.supervised) == (0, 0), moment
    assert len(reminders("appeal.overdue")) == 3

    # The holiday does not count: 1 working day overdue on 8 October, 2 on the 9th.
    assert sweep.overdue_working_days(appeal.due_at, at("2026-10-08 09:00")) == 1
    assert run("2026-10-09 09:00").supervised == 1
    supervision = Supervision.objects.get(appeal=appeal)
    assert supervision.reason == Supervision.Reason.OVERDUE
    assert supervision.department == cast.department and supervision.raised_by is None
    assert "2个工作日" in supervision.note
    assert {m.user for m in reminders("appeal.supervised")} == {
        cast.supervisor,
        cast.handler,
        cast.second_handler,
        cast.head,
    }
    assert AuditEvent.objects.filter(action="appeal.supervised", object_id=str(appeal.pk)).exists()
    assert run("2026-10-10 09:00").supervised == 0
    assert Supervision.objects.count() == 1

    # The reply ends the supervision; the appeal leaves the sweep's sight.
    with time_machine.travel(at("2026-10-10 10:00"), tick=False):
        actions.reply(appeal.pk, text=REPLY, by=cast.handler)
    supervision.refresh_from_db()
    assert supervision.resolved_at is not None
    assert run("2026-10-12 09:00").supervised == 0


def test_an_extension_resets_the_reminders(cast: Cast) -> None:
    appeal = dispatched(cast, "2026-09-28 10:00")  # due 8 October
    run("2026-09-30 09:00")
    with time_machine.travel(at("2026-09-30 10:00"), tick=False):
        extension = actions.request_extension(
            appeal.pk, days=2, reason="需要现场复核", by=cast.handler
        )
        actions.decide_extension(extension.pk, approve=True, by=cast.dispatcher)
    appeal.refresh_from_db()
    assert appeal.due_at == end_of("2026-10-10") and appeal.due_soon_notified_at is None
    assert run("2026-10-09 09:00").due_soon == 1
    assert run("2026-10-12 09:00").overdue == 1


def test_late_signature_is_reminded_once(cast: Cast) -> None:
    # Dispatched on 30 September: it must be signed for by the end of 8 October.
    appeal = dispatched(cast, "2026-09-30 10:00", AppealType.COMPLAINT, sign=False)
    assert appeal.sign_due_at == end_of("2026-10-08")
    signed = dispatched(cast, "2026-09-30 10:00", AppealType.COMPLAINT)
    assert run("2026-10-08 16:00").unsigned == 0
    result = run("2026-10-09 08:30")
    assert result.unsigned == 1
    assert reminders("appeal.sign_late", appeal) and not reminders("appeal.sign_late", signed)
    assert appeal.events.filter(kind="sign_late").exists()
    assert run("2026-10-09 08:35").unsigned == 0
    # Re-routing starts a new signing period (and its own reminder).
    with time_machine.travel(at("2026-10-09 09:00"), tick=False):
        actions.dispatch(appeal.pk, department_id=cast.other_department.pk, by=cast.dispatcher)
    assert Appeal.objects.get(pk=appeal.pk).sign_reminded_at is None


def test_sweep_closes_unrated_replies_after_the_window(cast: Cast) -> None:
    appeal = dispatched(cast, "2026-11-02 10:00")
    with time_machine.travel(at("2026-11-03 10:00"), tick=False):
        actions.reply(appeal.pk, text=REPLY, by=cast.handler)
    assert run("2026-11-09 09:00").closed_unrated == 0
    assert run("2026-11-10 11:00").closed_unrated == 1
    assert Appeal.objects.get(pk=appeal.pk).state == State.CLOSED


def test_the_worker_runs_the_sweep_every_five_minutes(cast: Cast) -> None:
    job = periodic.get("appeals.sweep")
    assert job is not None and job.fn is tasks.sweep_deadlines
    assert job.every == dt.timedelta(minutes=5)
    dispatched(cast, "2026-09-24 10:00")  # due 30 September
    with time_machine.travel(at("2026-10-01 09:00"), tick=False):
        assert tasks.sweep_deadlines() == (
            "即将超期提醒 0，超期催办 1，签收超时提醒 0，超期督办 0，逾期未评价办结 0"
        )
        assert tasks.sweep_deadlines() is None  # nothing new: nothing to print


def test_commands_report_progress_and_counts(cast: Cast) -> None:
    dispatched(cast, "2026-09-24 10:00")  # due 30 September
    out = io.StringIO()
    with time_machine.travel(at("2026-10-09 09:00"), tick=False):
        call_command("appeals", "sweep", stdout=out)
    text = out.getvalue()
    assert "诉求期限巡查" in text and "完成" in text
    assert "超期催办 1" in text and "超期督办 1" in text
    out = io.StringIO()
    call_command("appeals", "close-unrated", stdout=out)
    assert "已办结 0 件" in out.getvalue()


# -- provisional deadlines -------------------------------------------------------------------

CSV_2027 = """date,kind,name
2027-01-01,holiday,元旦
2027-01-02,holiday,元旦
2027-01-03,holiday,元旦
2027-02-06,放假,春节
2027-02-07,放假,春节
2027-02-08,放假,春节
"""


def test_a_deadline_into_an_unknown_year_is_recomputed_when_its_holidays_arrive(
    cast: Cast, django_capture_on_commit_callbacks
) -> None:
    assert not calendar.year_known(2027)
    # 13 working days from Monday 28 December 2026, counting Monday to Friday in 2027.
    appeal = dispatched(cast, "2026-12-28 10:00", AppealType.COMPLAINT)
    assert appeal.due_at == end_of("2027-01-14") and appeal.due_provisional
    # Extended by 2 days before the deadline: still provisional.
    extended = dispatched(cast, "2026-12-28 10:00", AppealType.COMPLAINT)
    with time_machine.travel(at("2027-01-12 10:00"), tick=False):
        request = actions.request_extension(extended.pk, days=2, reason="需要协调", by=cast.handler)
        actions.decide_extension(request.pk, approve=True, by=cast.dispatcher)
    extended.refresh_from_db()
    assert extended.due_at == end_of("2027-01-18") and extended.due_provisional
    final = dispatched(cast, "2026-11-02 10:00", AppealType.COMPLAINT)  # all within 2026
    assert not final.due_provisional

    with django_capture_on_commit_callbacks(execute=True):
        holidays_csv.import_holidays(holidays_csv.parse(CSV_2027.encode()), by=None)

    appeal.refresh_from_db()
    extended.refresh_from_db()
    # New Year's Day 2027 is a holiday: one working day later, and final.
    assert appeal.due_at == end_of("2027-01-15") and not appeal.due_provisional
    assert extended.due_at == end_of("2027-01-19") and not extended.due_provisional
    assert appeal.sign_due_at == end_of("2026-12-29")
    assert appeal.events.filter(kind="deadline_recomputed").count() == 1
    recomputed = AuditEvent.objects.get(
        action="appeal.deadline_recomputed", object_id=str(appeal.pk)
    )
    assert recomputed.after["provisional"] is False
    assert Appeal.objects.get(pk=final.pk).due_at == final.due_at
    # Nothing provisional is left, so a second import changes nothing.
    assert recompute.recompute(frozenset({2027})) == 0


def test_recompute_counts_from_the_latest_rehandle(cast: Cast) -> None:
    appeal = dispatched(cast, "2026-12-01 10:00", AppealType.COMPLAINT)
    with time_machine.travel(at("2026-12-21 10:00"), tick=False):
        actions.reply(appeal.pk, text=REPLY, by=cast.handler)
        actions.record_callback(
            appeal.pk,
            resolved=False,
            level="unsatisfied",
            handler_at_fault=True,
            by=cast.dispatcher,
        )
    appeal.refresh_from_db()
    assert appeal.due_provisional and appeal.due_at == end_of("2027-01-07")
    new = recompute.deadlines(appeal, AppealSettings.current().sign_within_days)
    assert new is not None and new.due_at == appeal.due_at
