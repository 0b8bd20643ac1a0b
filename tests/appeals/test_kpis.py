"""KPI computation on a small hand-built set whose every figure is worked out by hand.

The appeals are written directly (not through the actions) so that each timestamp is
exactly where the case needs it; the figures below are counted from the list in
``kpi_set``'s docstring.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from zoneinfo import ZoneInfo

import pytest

from minsheng.appeals import kpis
from minsheng.appeals.models import Appeal, Category, Channel, Rating, ReturnRecord
from minsheng.appeals.states import State
from tests.factories import DepartmentFactory, DivisionFactory

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=TZ)
START = dt.datetime(2026, 3, 1, tzinfo=TZ)
END = dt.datetime(2026, 4, 1, tzinfo=TZ)
_numbers = itertools.count(1)


def at(day: int, hour: int = 10, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=TZ)


def make(**fields: object) -> Appeal:
    n = next(_numbers)
    defaults: dict[str, object] = {
        "number": f"KPI-{n:06d}",
        "query_code_hash": "x",
        "title": f"诉求{n}",
        "body": "测试诉求内容",
        "received_at": at(2),
    }
    defaults.update(fields)
    return Appeal.objects.create(**defaults)


def handled(
    dept: object,
    *,
    signed_late: bool = False,
    replied: int | None = None,
    replied_late: bool = False,
    days: int | None = None,
    **fields: object,
) -> Appeal:
    """An appeal dispatched on 3 March with its sign deadline on the 4th and due on the
    12th; signed (late: on the 6th) and replied on ``replied`` (late: the 16th)."""
    values: dict[str, object] = {
        "lead_department": dept,
        "dispatched_at": at(3),
        "sign_due_at": at(4, 23),
        "signed_at": at(6) if signed_late else at(3, 15),
        "due_at": at(12, 23),
        "state": State.HANDLING,
    }
    if replied is not None or replied_late:
        values["replied_at"] = at(16) if replied_late else at(replied or 10)
        values["handling_days"] = days
        values["state"] = State.CLOSED
    values.update(fields)
    return make(**values)


@pytest.fixture
def kpi_set(db):
    """1 A/T1/C1/web: signed and replied on time, 2 days, 满意, resolved.
    2 A/T1/hotline: signed late, replied late, 8 days, 不满意, re-handled once, closed.
    3 A/T2: handling, overdue, one extension.
    4 B/T2: returned earlier by A, replied on time, 4 days, 基本满意, resolved.
    5 T1: received on the 20th, not dispatched.
    6 returned by B, waiting to be re-dispatched.
    7 merged into 1 (not counted).   8 received in February (not counted).
    9 B: replied on time, 6 days, rating window passed unrated.
    10 A: re-handled, handling again (not due yet), replied once before in 3 days, 不满意.
    """
    a = DepartmentFactory(name="甲局")
    b = DepartmentFactory(name="乙局")
    t1 = DivisionFactory(name="一镇")
    t2 = DivisionFactory(name="二镇")
    c1 = Category.objects.create(code="KPI-C1", name="路灯")
    one = handled(
        a,
        replied=10,
        days=2,
        town=t1,
        category=c1,
        satisfaction=Rating.Level.SATISFIED,
        resolved=True,
    )
    handled(
        a,
        signed_late=True,
        replied_late=True,
        days=8,
        town=t1,
        channel=Channel.HOTLINE,
        satisfaction=Rating.Level.UNSATISFIED,
        resolved=False,
        rehandle_count=1,
    )
    handled(a, town=t2, due_at=at(18, 23), extension_count=1)
    four = handled(
        b,
        replied=9,
        days=4,
        town=t2,
        satisfaction=Rating.Level.BASIC,
        resolved=True,
        return_count=1,
    )
    ReturnRecord.objects.create(appeal=four, department=a, reason="不属于本单位职责")
    make(town=t1, received_at=at(20))
    six = make(
        state=State.RETURNED,
        dispatched_at=at(3),
        return_count=1,
        received_at=at(3),
    )
    ReturnRecord.objects.create(appeal=six, department=b, reason="不属于本单位职责")
    make(state=State.MERGED, merged_into=one)
    handled(a, replied=5, days=1, received_at=at(20, month=2))
    handled(b, replied=11, days=6)
    handled(
        a,
        replied=7,
        days=3,
        rehandle_count=1,
        state=State.HANDLING,
        due_at=at(27, 23),
        satisfaction=Rating.Level.UNSATISFIED,
        resolved=False,
    )
    return {"a": a, "b": b, "t1": t1, "t2": t2, "c1": c1}


def test_totals(kpi_set):
    (total,) = kpis.compute(START, END, None, now=NOW)
    assert (total.received, total.dispatched, total.signed_on_time) == (8, 7, 5)
    assert (total.replied, total.due, total.replied_on_time) == (5, 5, 3)
    assert (total.rated, total.resolved, total.satisfied) == (4, 2, 2)
    assert (total.returned, total.rehandled, total.extended, total.overdue_open) == (2, 2, 1, 1)
    assert total.avg_days == 4.6
    assert total.p90_days == 7.2  # [2, 3, 4, 6, 8]: 6 + 0.6 × (8 − 6)
    assert total.rates == {
        "sign_rate": 71.4,
        "ontime_rate": 60.0,
        "resolve_rate": 50.0,
        "satisfaction_rate": 50.0,
        "return_rate": 28.6,
        "rehandle_rate": 40.0,
        "extension_rate": 14.3,
    }


def test_by_department_counts_returns_against_the_returner(kpi_set):
    rows = {r.key: r for r in kpis.compute(START, END, "department", now=NOW)}
    a, b = rows[kpi_set["a"].pk], rows[kpi_set["b"].pk]
    assert (a.name, a.received, a.dispatched, a.signed_on_time) == ("甲局", 4, 4, 3)
    assert (a.returned, a.returned_away) == (1, 1)
    assert a.rates["return_rate"] == 20.0  # 1 returned of the 5 it was sent
    assert a.rates["sign_rate"] == 75.0
    assert a.p90_days == 7.0  # [2, 3, 8]
    assert a.overdue_open == 1
    assert (b.received, b.returned, b.returned_away) == (2, 1, 1)
    assert b.rates["return_rate"] == 33.3
    assert b.p90_days == 5.8  # [4, 6]
    assert b.rates["satisfaction_rate"] == 100.0 and b.rated == 1
    unrouted = rows[None]
    assert (unrouted.name, unrouted.received, unrouted.returned) == ("未派单", 2, 0)
    assert sum(r.received for r in rows.values()) == 8


def test_other_groups(kpi_set):
    towns = {r.name: r for r in kpis.compute(START, END, "town", now=NOW)}
    assert {n: r.received for n, r in towns.items()} == {"一镇": 3, "二镇": 2, "未填写乡镇": 3}
    channels = {r.name: r.received for r in kpis.compute(START, END, "channel", now=NOW)}
    assert channels == {"网站/手机": 7, "12345热线": 1}
    categories = {r.name: r.received for r in kpis.compute(START, END, "category", now=NOW)}
    assert categories == {"路灯": 1, "未分类": 7}


def test_one_departments_figures(kpi_set):
    (total,) = kpis.compute(START, END, None, now=NOW, department_id=kpi_set["a"].pk)
    assert (total.received, total.returned, total.returned_away) == (4, 1, 1)
    rows = kpis.compute(START, END, "department", now=NOW, department_id=kpi_set["a"].pk)
    assert [r.key for r in rows] == [kpi_set["a"].pk]
    towns = kpis.compute(START, END, "town", now=NOW, department_id=kpi_set["a"].pk)
    assert sum(r.received for r in towns) == 4


def test_trend_by_week_fills_empty_weeks(kpi_set):
    points = kpis.trend(START, END, "week")
    assert points[0].start == dt.datetime(2026, 2, 23, tzinfo=TZ)  # the Monday before
    assert len(points) == 6
    assert sum(p.received for p in points) == 8
    assert [p.received for p in points] == [0, 7, 0, 1, 0, 0]
    months = kpis.trend(dt.datetime(2026, 1, 1, tzinfo=TZ), END, "month")
    assert [(p.label, p.received) for p in months] == [
        ("2026-01", 0),
        ("2026-02", 1),
        ("2026-03", 8),
    ]
    assert months[2].satisfaction_rate == 50.0


def test_p90_matches_percentile_cont():
    assert kpis.p90({}) is None
    assert kpis.p90({5: 1}) == 5
    assert kpis.p90(Counter([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])) == pytest.approx(9.1)
    assert kpis.p90({2: 1, 3: 1, 4: 1, 6: 1, 8: 1}) == pytest.approx(7.2)
    # Position 0.9 × 10 = 9 falls between the 10th and 11th value: 3 and 7.
    assert kpis.p90({1: 5, 3: 5, 7: 1}) == pytest.approx(3.0)
    assert kpis.p90({1: 1, 3: 9, 7: 1}) == pytest.approx(3.0)
    assert kpis.p90({1: 9, 7: 1}) == pytest.approx(1.6)


@pytest.mark.parametrize(
    ("key", "today", "first", "last"),
    [
        ("month", dt.date(2026, 2, 14), dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
        ("month", dt.date(2026, 12, 31), dt.date(2026, 12, 1), dt.date(2026, 12, 31)),
        ("quarter", dt.date(2026, 5, 5), dt.date(2026, 4, 1), dt.date(2026, 6, 30)),
        ("quarter", dt.date(2026, 11, 5), dt.date(2026, 10, 1), dt.date(2026, 12, 31)),
        ("year", dt.date(2026, 5, 5), dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
        ("last_year", dt.date(2026, 5, 5), dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
    ],
)
def test_periods(key, today, first, last):
    period = kpis.period(key, today)
    assert (period.first_day, period.last_day) == (first, last)
    assert period.start.utcoffset() == dt.timedelta(hours=8)


def test_custom_period_and_errors():
    period = kpis.period("custom", first=dt.date(2026, 3, 5), last=dt.date(2026, 3, 5))
    assert period.end - period.start == dt.timedelta(days=1)
    for first, last, message in [
        (None, dt.date(2026, 3, 5), "请填写开始日期和结束日期"),
        (dt.date(2026, 3, 6), dt.date(2026, 3, 5), "结束日期不能早于开始日期"),
        (dt.date(2020, 1, 1), dt.date(2026, 3, 5), "自定义期间最长3年"),
    ]:
        with pytest.raises(kpis.PeriodError, match=message):
            kpis.period("custom", first=first, last=last)
    with pytest.raises(kpis.PeriodError):
        kpis.period("decade")
    assert kpis.trend_unit(period.start, period.end) == "week"
    year = kpis.period("year")
    assert kpis.trend_unit(year.start, year.end) == "month"
