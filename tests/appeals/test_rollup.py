"""The KPI rollup gives the same figures as counting every appeal.

A generated set of appeals (every state, late and on-time signatures and replies, ratings,
returns by other departments, merges, appeals received today) is counted two ways: by
``kpis.compute`` (rollup for whole days before today + live for the rest) and by a plain
Python count of the definitions in docs/appeals-kpis.md over the rows themselves. Then
appeals change (as the actions change them: ``save()`` bumps ``updated_at``), time moves on,
and the incremental refresh must again agree with the count.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import call_command

from minsheng.appeals import kpis, rollup, tasks
from minsheng.appeals.models import (
    Appeal,
    Category,
    Channel,
    KpiDaily,
    KpiRollupState,
    Rating,
    ReturnRecord,
)
from minsheng.appeals.states import RUNNING_STATES, State
from minsheng.core import periodic
from minsheng.core.models import Department, Division
from tests.appeals.test_kpis import TZ
from tests.factories import DepartmentFactory, DivisionFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 15, 15, 30, tzinfo=TZ)  # a Monday afternoon
FIRST_DAY = dt.date(2026, 4, 1)
LEVELS = ["", "", Rating.Level.SATISFIED, Rating.Level.BASIC, Rating.Level.UNSATISFIED]
FIELDS = {
    "department": "lead_department_id",
    "town": "town_id",
    "category": "category_id",
    "channel": "channel",
}
COUNTS = (
    "received",
    "dispatched",
    "signed_on_time",
    "replied",
    "due",
    "replied_on_time",
    "rated",
    "resolved",
    "satisfied",
    "returned",
    "returned_away",
    "rehandled",
    "extended",
    "overdue_open",
)


@pytest.fixture
def now() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW - dt.timedelta(minutes=2), tick=False) as traveller:
        yield traveller


def _appeal(rng: random.Random, n: int, world: dict[str, list[Any]]) -> Appeal:
    day = FIRST_DAY + dt.timedelta(days=rng.randrange((NOW.date() - FIRST_DAY).days + 1))
    received = dt.datetime.combine(day, dt.time(rng.randrange(24), rng.randrange(60)), TZ)
    if received > NOW:
        received = NOW - dt.timedelta(minutes=rng.randrange(1, 600))
    state = rng.choice(
        [State.CLOSED] * 4
        + [State.REPLIED, State.HANDLING, State.HANDLING, State.DISPATCHED, State.RECEIVED]
        + [State.RETURNED, State.REFUSED, State.PROMOTED]
    )
    values: dict[str, Any] = {
        "number": f"RU-{n:06d}",
        "query_code_hash": "x",
        "title": f"诉求{n}",
        "body": "测试",
        "received_at": received,
        "state": state,
        "town": rng.choice(world["towns"]),
        "category": rng.choice(world["categories"]),
        "channel": rng.choice([Channel.HOTLINE, Channel.HOTLINE, Channel.WEB, Channel.WECHAT]),
    }
    if state not in (State.RECEIVED, State.REFUSED):
        dispatched = received + dt.timedelta(hours=rng.randrange(1, 30))
        values["dispatched_at"] = dispatched
        values["sign_due_at"] = dispatched + dt.timedelta(days=1)
        values["due_at"] = dispatched + dt.timedelta(days=rng.choice([1, 3, 7, 15, 60]))
        values["return_count"] = rng.choice([0, 0, 0, 1])
    if state not in (State.RECEIVED, State.REFUSED, State.RETURNED):
        values["lead_department"] = rng.choice(world["departments"])
    if state in (State.HANDLING, State.REPLIED, State.CLOSED, State.PROMOTED):
        values["signed_at"] = values["dispatched_at"] + dt.timedelta(hours=rng.randrange(1, 48))
        values["extension_count"] = rng.choice([0, 0, 0, 0, 1])
    if state in (State.REPLIED, State.CLOSED) or (state == State.HANDLING and rng.random() < 0.3):
        values["replied_at"] = values["signed_at"] + dt.timedelta(hours=rng.randrange(2, 400))
        values["handling_days"] = rng.choice([0, 1, 1, 2, 3, 3, 4, 5, 8, 13, 21])
        values["rehandle_count"] = 1 if state == State.HANDLING else rng.choice([0, 0, 0, 1])
    if state == State.CLOSED or values.get("rehandle_count"):
        level = rng.choice(LEVELS)
        values["satisfaction"] = level
        values["resolved"] = None if not level else rng.random() < 0.7
    return Appeal(**values)


@pytest.fixture
def world(now: Any) -> dict[str, list[Any]]:
    """~700 appeals over the eleven weeks up to today, with returns and merges."""
    rng = random.Random(20260615)
    world: dict[str, list[Any]] = {
        "departments": [None, *(DepartmentFactory(name=f"局{i}") for i in range(4))],
        "towns": [None, *(DivisionFactory(name=f"镇{i}") for i in range(3))],
        "categories": [
            None,
            *(Category.objects.create(code=f"RU{i}", name=f"分类{i}") for i in range(3)),
        ],
    }
    appeals = Appeal.objects.bulk_create(_appeal(rng, n, world) for n in range(700))
    departments = [d for d in world["departments"] if d is not None]
    for appeal in appeals:
        if appeal.return_count:
            # Returned by another department, sometimes twice by the same one.
            returner = rng.choice(departments)
            for _ in range(rng.choice([1, 1, 2])):
                ReturnRecord.objects.create(appeal=appeal, department=returner, reason="不属于")
    for duplicate in rng.sample(appeals, 25):
        master = rng.choice(appeals)
        if master.pk != duplicate.pk:
            duplicate.merged_into = master
            duplicate.state = State.MERGED
            duplicate.save()
    # Written two minutes ago: behind the watermark of a refresh now.
    now.move_to(NOW)
    return world


# ---------------------------------------------------------------- the count by hand


def expected(
    start: dt.datetime,
    end: dt.datetime,
    group: str | None,
    now: dt.datetime,
    department_id: int | None = None,
    rows_now: tuple[list[Appeal], list[ReturnRecord]] | None = None,
) -> dict[Any, dict[str, Any]]:
    """Every figure counted in Python from the rows, as docs/appeals-kpis.md defines it."""
    appeals, records = rows_now or (list(Appeal.objects.all()), list(ReturnRecord.objects.all()))
    cohort = [a for a in appeals if start <= a.received_at < end and a.merged_into_id is None]
    by_returner = group == "department" or department_id is not None
    rows: dict[Any, dict[str, Any]] = {}

    def row(key: Any) -> dict[str, Any]:
        return rows.setdefault(key, {**dict.fromkeys(COUNTS, 0), "days": []})

    if group is None:
        row(None)  # the total row, also of nothing

    for a in cohort:
        if department_id is not None and a.lead_department_id != department_id:
            continue
        r = row(getattr(a, FIELDS[group]) if group else None)
        running = a.state in RUNNING_STATES
        answered = a.replied_at is not None and not running
        overdue = running and a.due_at is not None and a.due_at < now
        rated = a.satisfaction in (
            Rating.Level.SATISFIED,
            Rating.Level.BASIC,
            Rating.Level.UNSATISFIED,
        )
        r["received"] += 1
        r["dispatched"] += a.dispatched_at is not None
        r["signed_on_time"] += a.signed_at is not None and a.signed_at <= a.sign_due_at
        r["replied"] += a.replied_at is not None
        r["due"] += answered or overdue
        r["replied_on_time"] += answered and a.due_at is not None and a.replied_at <= a.due_at
        r["rated"] += rated
        r["resolved"] += rated and a.resolved is True
        r["satisfied"] += a.satisfaction in (Rating.Level.SATISFIED, Rating.Level.BASIC)
        r["returned"] += 0 if by_returner else a.return_count > 0
        r["rehandled"] += a.rehandle_count > 0
        r["extended"] += a.extension_count > 0
        r["overdue_open"] += overdue
        if a.handling_days is not None:
            r["days"].append(a.handling_days)
    if by_returner:
        in_cohort = {a.pk: a for a in cohort}
        seen: set[tuple[int, int]] = set()
        for record in records:
            a = in_cohort.get(record.appeal_id)
            if a is None or (department_id is not None and record.department_id != department_id):
                continue
            if (a.pk, record.department_id) in seen:
                continue  # each appeal once per department, however often it returned it
            seen.add((a.pk, record.department_id))
            if group is None:
                key = None
            elif group == "department":
                key = record.department_id
            else:
                key = getattr(a, FIELDS[group])
            r = row(key)
            r["returned"] += 1
            r["returned_away"] += a.lead_department_id != record.department_id
    for r in rows.values():
        days = r.pop("days")
        r["avg_days"] = round(sum(days) / len(days), 1) if days else None
        r["p90_days"] = kpis.p90(Counter(days))
        if r["p90_days"] is not None:
            r["p90_days"] = round(r["p90_days"], 1)
    return rows


def computed(rows: list[kpis.KpiRow]) -> dict[Any, dict[str, Any]]:
    return {
        r.key: {
            **{name: getattr(r, name) for name in COUNTS},
            "avg_days": r.avg_days,
            "p90_days": r.p90_days,
        }
        for r in rows
    }


def periods() -> list[tuple[dt.datetime, dt.datetime]]:
    this_month = kpis.period("month", NOW.date())
    return [
        (this_month.start, this_month.end),  # whole days, then today and the future
        (kpis.period("year", NOW.date()).start, kpis.period("year", NOW.date()).end),
        (rollup.midnight(dt.date(2026, 4, 20)), rollup.midnight(dt.date(2026, 5, 11))),
        (NOW - dt.timedelta(days=30), NOW),  # not on midnights: the ends are counted live
        (rollup.midnight(NOW.date()), NOW + dt.timedelta(hours=1)),  # today only
    ]


def assert_same(now: dt.datetime) -> None:
    # The figures below come from the rollup (not the live fallback).
    assert rollup.is_fresh()
    departments = list(Department.objects.values_list("pk", flat=True))
    rows_now = (list(Appeal.objects.all()), list(ReturnRecord.objects.all()))
    for start, end in periods():
        for group in (None, *kpis.GROUPS):
            got = computed(kpis.compute(start, end, group, now=now))
            assert got == expected(start, end, group, now, None, rows_now), (start, end, group)
        for department in departments[:2]:
            for group in (None, *kpis.GROUPS):
                got = computed(kpis.compute(start, end, group, now=now, department_id=department))
                want = expected(start, end, group, now, department, rows_now)
                assert got == want, (start, end, group, department)


def settle(now: time_machine.Coordinates) -> None:
    """Refresh, and again a minute later: the appeals written at the frozen moment are then
    behind the watermark (a refresh keeps the last seconds dirty, see ``rollup.MARGIN``)."""
    rollup.refresh()
    now.shift(dt.timedelta(minutes=1))
    rollup.refresh()
    assert rollup.is_fresh()


# ---------------------------------------------------------------- tests


def test_rollup_equals_counting_every_appeal(world):
    assert rollup.refresh().days == (NOW.date() - FIRST_DAY).days
    assert rollup.is_fresh()
    state = KpiRollupState.objects.get()
    assert state.complete_before == NOW.date()
    assert KpiDaily.objects.filter(day__gte=NOW.date()).count() == 0  # today is counted live
    assert KpiDaily.objects.exists()
    assert kpis.split(rollup.midnight(FIRST_DAY), NOW, NOW).first_day == FIRST_DAY
    assert_same(NOW)


def test_each_grain_sums_to_the_same_total(world):
    rollup.refresh()
    totals = {
        grain: KpiDaily.objects.filter(grain=grain).values_list("received", flat=True)
        for grain in rollup.GRAINS
    }
    assert len({sum(values) for values in totals.values()}) == 1


def test_incremental_refresh_follows_changes_and_the_days_ending(world, now):
    settle(now)
    rng = random.Random(7)
    # An hour later: replies, ratings, a 重办, a re-dispatch, a new return — each through
    # save(), as the actions do.
    now.shift(dt.timedelta(hours=1))
    later = NOW + dt.timedelta(hours=1, minutes=1)
    changed = rng.sample(list(Appeal.objects.filter(merged_into__isnull=True)), 40)
    departments = list(Department.objects.all())
    for appeal in changed:
        if appeal.state in RUNNING_STATES:
            appeal.state = State.REPLIED
            appeal.replied_at = later
            appeal.handling_days = rng.randrange(0, 9)
        elif appeal.state == State.REPLIED:
            appeal.state = State.CLOSED
            appeal.satisfaction = Rating.Level.UNSATISFIED
            appeal.resolved = False
        elif appeal.state == State.CLOSED:
            appeal.state = State.HANDLING
            appeal.rehandle_count += 1
            appeal.due_at = later + dt.timedelta(days=3)
        else:
            old = appeal.lead_department
            appeal.lead_department = rng.choice(departments)
            appeal.dispatched_at = appeal.dispatched_at or later
            if old is not None and old != appeal.lead_department:
                ReturnRecord.objects.create(appeal=appeal, department=old, reason="改派")
                appeal.return_count += 1
        appeal.save()
    days = {timezone_day(a.received_at) for a in changed} - {NOW.date()}
    assert rollup.refresh().days == len(days)
    settle(now)
    assert_same(later + dt.timedelta(minutes=1))
    # Nothing changed since: the next refresh only looks (one index probe).
    now.shift(dt.timedelta(minutes=5))
    rollup.refresh()
    assert rollup.is_fresh()
    # The next morning yesterday (the old today) enters the rollup whole.
    now.move_to(dt.datetime(2026, 6, 16, 9, 0, tzinfo=TZ))
    assert not rollup.is_fresh()
    assert rollup.refresh().days >= 1
    assert KpiDaily.objects.filter(day=NOW.date()).exists()
    assert KpiRollupState.objects.get().complete_before == dt.date(2026, 6, 16)
    assert_same(dt.datetime(2026, 6, 16, 9, 0, tzinfo=TZ))


def timezone_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(TZ).date()


def test_past_days_follow_the_worker(world, now):
    start, end = periods()[1]
    # Before the first build every figure is counted live (and right).
    assert kpis.split(start, end, NOW).first_day is None
    assert computed(kpis.compute(start, end, "town", now=NOW)) == expected(start, end, "town", NOW)
    settle(now)
    now.shift(dt.timedelta(hours=1))
    # A change across every day (as a bulk re-rating would make).
    closed = list(Appeal.objects.filter(state=State.CLOSED))
    for appeal in closed:
        appeal.satisfaction = Rating.Level.SATISFIED
        appeal.save()
    assert not rollup.is_fresh()
    # Past days show the figures of the worker's last run until it runs again.
    (total,) = kpis.compute(start, end, None, now=NOW + dt.timedelta(hours=1))
    assert total.satisfied < len([a for a in closed if a.merged_into_id is None])
    result = tasks.refresh_kpi_rollup()
    assert result is not None and "重算" in result
    settle(now)
    assert_same(NOW + dt.timedelta(hours=1, minutes=2))


def test_rebuild_command_shows_progress_and_repairs_the_rollup(world):
    rollup.refresh()
    # Rows changed behind the actions' back (update() bypasses updated_at) need a rebuild.
    Appeal.objects.filter(state=State.CLOSED).update(satisfaction=Rating.Level.SATISFIED)
    KpiDaily.objects.filter(day=dt.date(2026, 5, 4)).delete()
    out = StringIO()
    call_command("appeals", "rollup", "--rebuild", stdout=out)
    text = out.getvalue()
    assert "重算诉求统计日汇总" in text and "完成" in text and "100%" in text
    assert_same(NOW)
    out = StringIO()
    call_command("appeals", "rollup", stdout=out)
    assert "统计日汇总已是最新" in out.getvalue()


def test_the_worker_refreshes_the_rollup(world):
    job = periodic.get("appeals.kpi_rollup")
    assert job is not None and job.every == tasks.ROLLUP_EVERY
    assert "重算" in (tasks.refresh_kpi_rollup() or "")
    assert tasks.refresh_kpi_rollup() is None  # nothing changed since


def test_empty_county(now):
    assert rollup.refresh() == rollup.RefreshResult(0, 0)
    (total,) = kpis.compute(rollup.midnight(FIRST_DAY), NOW, None)
    assert total.received == 0 and total.p90_days is None and total.avg_days is None
    points = kpis.trend(rollup.midnight(FIRST_DAY), rollup.midnight(NOW.date()), "month")
    assert [p.received for p in points] == [0, 0, 0]


def test_trend_from_the_rollup_and_today(world):
    rollup.refresh()
    start, end = kpis.period("year", NOW.date()).start, kpis.period("year", NOW.date()).end
    points = kpis.trend(start, end, "week")
    cohort = [
        a for a in Appeal.objects.filter(merged_into__isnull=True) if start <= a.received_at < end
    ]
    weeks = Counter(
        timezone_day(a.received_at) - dt.timedelta(days=timezone_day(a.received_at).weekday())
        for a in cohort
    )
    assert {p.start.date(): p.received for p in points if p.received} == dict(weeks)
    assert sum(p.rated for p in points) == sum(
        a.satisfaction in ("satisfied", "basic", "unsatisfied") for a in cohort
    )
    town = Division.objects.filter(name="镇1").get()
    assert town.pk in {r.key for r in kpis.compute(start, end, "town")}
