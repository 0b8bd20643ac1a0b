"""Statistics against figures worked out by hand, through the rollup and straight from rows."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import TestCase

from minsheng.evaluation import actions, stats
from minsheng.evaluation.models import DefaultMode, EvaluationSettings, MonthlyStat
from tests.evaluation.factories import Hall, event_at, make_hall, pad_for

SH = ZoneInfo("Asia/Shanghai")
DAY = dt.datetime(2026, 3, 10, 9, 0, tzinfo=SH)
pytestmark = pytest.mark.django_db


def _rate(hall: Hall, event_id: int, level: int, channel: str = "hotline") -> int:
    data = actions.RatingInput(level, ["waiting"] if level <= 2 else [])
    if channel == "kiosk":
        return actions.rate_from_kiosk(
            actions.ServiceEvent.objects.get(pk=event_id).staff_id, data
        ).pk  # type: ignore[arg-type]
    return actions.rate_by_hotline(event_id, data, by=hall.operator).pk


def build_month(hall: Hall) -> None:
    """March 2026, by hand:

    李晓燕 (clerk): 10 events; rated 5,5,4,3,2,1 (6); one more defaults to 基本满意;
      both bad ones called back, one of them rectified and closed.
    王芳 (clerk2): 5 events; rated 5,4 and a 非常不满意 whose appeal was upheld.
    One event in April (another month) by clerk: rated 5.
    """
    # The rollup months are marked when each change commits: run those callbacks here.
    with TestCase.captureOnCommitCallbacks(execute=True):
        with time_machine.travel(DAY, tick=False):
            clerk = [
                event_at(hall, started_at=DAY - dt.timedelta(hours=1, minutes=i)) for i in range(10)
            ]
            clerk2 = [
                event_at(hall, staff=hall.clerk2, started_at=DAY - dt.timedelta(minutes=i))
                for i in range(5)
            ]
            for event, level in zip(clerk, [5, 5, 4, 3, 2, 1], strict=False):
                _rate(hall, event.pk, level)
            pad, _raw = pad_for(hall)
            actions.rate_from_pad(
                pad, actions.uuid.uuid4(), actions.RatingInput(5), event_id=clerk2[0].pk
            )
            _rate(hall, clerk2[1].pk, 4, channel="kiosk")
            excluded = _rate(hall, clerk2[2].pk, 1)
            appeal = actions.file_appeal(excluded, by=hall.clerk2, reason="系统故障，非本人原因")
            actions.decide_appeal(appeal.pk, by=hall.supervisor, upheld=True, note="属实")
            cases = list(actions.Case.objects.filter(rating__staff=hall.clerk).order_by("pk"))
            for case in cases:
                actions.verify_case(case.pk, by=hall.handler, note="已回访")
            first = cases[0]
            actions.classify_case(first.pk, by=hall.head, finding="reasonable")
            actions.rectify_case(first.pk, by=hall.handler, measures="增开窗口")
            actions.feedback_case(first.pk, by=hall.handler, note="已告知", level=4)
            actions.review_case(first.pk, by=hall.supervisor, approve=True)
        with time_machine.travel(DAY + dt.timedelta(days=20), tick=False):
            EvaluationSettings.objects.filter(pk=1).update(
                default_mode=DefaultMode.BASIC, default_after_days=15
            )
            # The sweep gives every unrated old event its default: clerk 4, clerk2 2.
            assert actions.apply_default_ratings() == 6
        april = DAY + dt.timedelta(days=30)
        with time_machine.travel(april, tick=False):
            _rate(hall, event_at(hall, started_at=april).pk, 5)


MARCH = dt.date(2026, 3, 1)


def test_figures_by_staff_match_the_hand_count() -> None:
    hall = make_hall()
    build_month(hall)
    stats.refresh_dirty()
    rows, total = stats.compute(stats.Query("staff", MARCH, MARCH))
    by = {f.key: f for f in rows}
    clerk = by[hall.clerk.pk]
    assert (clerk.events, clerk.rated, clerk.defaulted, clerk.good, clerk.bad) == (10, 6, 4, 3, 2)
    assert clerk.rated_rate == 60.0 and clerk.good_rate == 50.0 and clerk.bad_rate == 33.3
    assert clerk.average == round(20 / 6, 2) == 3.33
    assert clerk.verify_rate == 100.0 and clerk.rectify_rate == 50.0
    clerk2 = by[hall.clerk2.pk]
    assert (clerk2.events, clerk2.rated, clerk2.excluded, clerk2.defaulted) == (5, 2, 1, 2)
    assert clerk2.good_rate == 100.0 and clerk2.bad_rate == 0.0 and clerk2.average == 4.5
    assert clerk2.rated_rate == 40.0
    assert (total.events, total.rated, total.good, total.bad) == (15, 8, 5, 2)
    assert total.average == round(29 / 8, 2)
    assert clerk.name.startswith("李晓燕")


def test_the_rollup_says_what_the_rows_say_for_every_grouping() -> None:
    hall = make_hall()
    build_month(hall)
    stats.refresh_all()
    for group in ("department", "window", "staff", "matter", "channel"):
        query = stats.Query(group, MARCH, dt.date(2026, 4, 1))
        rolled, rolled_total = stats.compute(query, with_overdue=False)
        raw, raw_total = stats.compute_raw(query)
        assert [f.as_dict() for f in rolled] == [f.as_dict() for f in raw], group
        assert rolled_total.as_dict() == raw_total.as_dict()
    channels, _total = stats.compute(stats.Query("channel", MARCH, MARCH))
    by = {f.key: f for f in channels}
    assert by["hotline"].rated == 6 and by["pad"].rated == 1 and by["kiosk"].rated == 1
    assert by["default"].defaulted == 6 and by["default"].rated == 0
    months = stats.trend(stats.Query("month", MARCH, dt.date(2026, 4, 1)))
    assert [(f.key, f.events, f.rated) for f in months] == [
        (MARCH, 15, 8),
        (dt.date(2026, 4, 1), 1, 1),
    ]


def test_the_department_view_counts_overdue_cases_and_scopes_to_the_department() -> None:
    hall = make_hall()
    build_month(hall)
    stats.refresh_dirty()
    # The second bad rating's case was called back but never rectified: overdue by now.
    rows, total = stats.compute(stats.Query("department", MARCH, MARCH))
    assert [(f.key, f.overdue_cases) for f in rows] == [(hall.department.pk, 1)]
    assert total.overdue_cases == 1
    assert stats.scoped_department(hall.head) == hall.department.pk
    assert stats.scoped_department(hall.supervisor) is None
    other_rows, _t = stats.compute(
        stats.Query("department", MARCH, MARCH, hall.other_department.pk)
    )
    assert other_rows == []


def test_the_red_and_black_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    hall = make_hall()
    build_month(hall)
    stats.refresh_dirty()
    monkeypatch.setattr(stats, "RANKING_MIN_RATED", 2)
    board = stats.rankings(MARCH)
    assert [f.key for f in board.red] == [hall.clerk2.pk, hall.clerk.pk]
    assert [f.key for f in board.black] == [hall.clerk.pk]
    monkeypatch.setattr(stats, "RANKING_MIN_RATED", 3)
    assert [f.key for f in stats.rankings(MARCH).red] == [hall.clerk.pk]


def test_a_month_is_rebuilt_only_when_marked_and_the_public_table_has_no_people() -> None:
    hall = make_hall()
    build_month(hall)
    assert len(stats.refresh_dirty()) == 2
    assert stats.refresh_dirty() == []
    rows = MonthlyStat.objects.filter(month=MARCH).count()
    assert rows > 0
    table = stats.public_table(MARCH, MARCH)
    assert [(r["figures"].name, r["figures"].events) for r in table] == [("人社局", 15)]
