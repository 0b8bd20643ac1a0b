"""The appeal KPIs leaders see.

Definitions are in docs/appeals-kpis.md and shown next to each figure. Every figure is about
the appeals *received* in the period (a cohort), grouped by department, town, category or
channel. Duplicates merged into another appeal are not counted (their master is).

The counts of whole days before today are summed from the daily rollup (``appeals.rollup``,
docs/decisions/0006-kpi-rollup.md) as the worker last refreshed it; the rest of the period,
and 超期未办 (which depends on the time of asking), are counted from the appeals
themselves. After a refresh the figures equal counting every appeal of the period
(tests/appeals/test_rollup.py checks it).

A department's figures are the appeals it leads (主办), except the returns (退单): those
count against the department that returned the appeal, which by then is no longer its lead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from minsheng.appeals import rollup
from minsheng.appeals.models import (
    Appeal,
    Category,
    Channel,
    KpiDaily,
    KpiGrain,
    KpiRollupState,
    ReturnRecord,
)
from minsheng.appeals.states import RUNNING_STATES
from minsheng.core.models import Department, Division

# The dimensions the figures are grouped by, and their labels.
GROUPS: dict[str, Any] = {
    "department": gettext_lazy("部门"),
    "town": gettext_lazy("乡镇"),
    "category": gettext_lazy("分类"),
    "channel": gettext_lazy("渠道"),
}
# The name of the row of appeals that have no value for the dimension.
MISSING_NAMES: dict[str, Any] = {
    "department": gettext_lazy("未派单"),
    "town": gettext_lazy("未填写乡镇"),
    "category": gettext_lazy("未分类"),
    "channel": gettext_lazy("未知渠道"),
}

# Each figure's name, and its definition shown next to it. Keep in step with the docs.
LABELS: dict[str, Any] = {
    "received": gettext_lazy("受理量"),
    "sign_rate": gettext_lazy("签收及时率"),
    "ontime_rate": gettext_lazy("按期办结率"),
    "resolve_rate": gettext_lazy("解决率"),
    "satisfaction_rate": gettext_lazy("满意率"),
    "return_rate": gettext_lazy("退单率"),
    "rehandle_rate": gettext_lazy("重办率"),
    "extension_rate": gettext_lazy("延期率"),
    "avg_days": gettext_lazy("平均办理用时"),
    "p90_days": gettext_lazy("90%办理用时"),
    "overdue_open": gettext_lazy("超期未办"),
}
DEFINITIONS: dict[str, Any] = {
    "received": gettext_lazy("期间内受理的诉求件数（不含被合并的重复件）"),
    "sign_rate": gettext_lazy("在签收时限内签收的件数 ÷ 已派单件数"),
    "ontime_rate": gettext_lazy(
        "在办理期限内答复的件数 ÷ 应办结件数（已答复的件数 + 已超期仍未答复的件数）"
    ),
    "resolve_rate": gettext_lazy("群众表示问题已解决的件数 ÷ 已评价件数（逾期未评价的不计入）"),
    "satisfaction_rate": gettext_lazy("（满意 + 基本满意）的件数 ÷ 已评价件数"),
    "return_rate": gettext_lazy("发生过退单的件数 ÷ 已派单件数；按部门统计时计入退单的部门"),
    "rehandle_rate": gettext_lazy("因群众不满意被退回重办过的件数 ÷ 答复过的件数"),
    "extension_rate": gettext_lazy("获批延期的件数 ÷ 已派单件数"),
    "avg_days": gettext_lazy("从派单到答复经过的工作日数的平均值"),
    "p90_days": gettext_lazy("90%的已答复诉求在此工作日数内答复（线性插值的第90百分位数）"),
    "overdue_open": gettext_lazy("已过办理期限仍未答复的件数（按当前时间）"),
}
RATE_KEYS = (
    "sign_rate",
    "ontime_rate",
    "resolve_rate",
    "satisfaction_rate",
    "return_rate",
    "rehandle_rate",
    "extension_rate",
)


def _rate(part: int, whole: int) -> float | None:
    return round(part * 100.0 / whole, 1) if whole else None


@dataclass
class KpiRow:
    key: Any
    name: str
    received: int = 0
    dispatched: int = 0
    signed_on_time: int = 0
    replied: int = 0  # got a reply at least once
    due: int = 0  # answered now, or past due without an answer (应办结)
    replied_on_time: int = 0
    rated: int = 0
    resolved: int = 0
    satisfied: int = 0
    returned: int = 0
    # Appeals the department returned that now lie elsewhere: they were dispatched to it,
    # so they belong to its denominator of the return rate (department figures only).
    returned_away: int = 0
    rehandled: int = 0
    extended: int = 0
    overdue_open: int = 0
    avg_days: float | None = None
    p90_days: float | None = None
    rates: dict[str, float | None] = field(default_factory=dict)

    def finish(self) -> KpiRow:
        if self.avg_days is not None:
            self.avg_days = round(float(self.avg_days), 1)
        if self.p90_days is not None:
            self.p90_days = round(float(self.p90_days), 1)
        self.rates = {
            "sign_rate": _rate(self.signed_on_time, self.dispatched),
            "ontime_rate": _rate(self.replied_on_time, self.due),
            "resolve_rate": _rate(self.resolved, self.rated),
            "satisfaction_rate": _rate(self.satisfied, self.rated),
            "return_rate": _rate(self.returned, self.dispatched + self.returned_away),
            "rehandle_rate": _rate(self.rehandled, self.replied),
            "extension_rate": _rate(self.extended, self.dispatched),
        }
        return self


def p90(histogram: dict[int, int]) -> float | None:
    """The 90th percentile of the values counted in ``histogram`` (value → how many), with
    the linear interpolation of PostgreSQL's ``percentile_cont(0.9)``."""
    n = sum(histogram.values())
    if not n:
        return None
    position = 0.9 * (n - 1)
    low_index = int(position)
    low = high = None
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if low is None and seen > low_index:
            low = value
        if seen > low_index + 1 or seen == n:
            high = value
            break
    assert low is not None and high is not None
    return low + (high - low) * (position - low_index)


# ---------------------------------------------------------------- where the counts come from


@dataclass(frozen=True)
class Split:
    """[start, end) cut into the whole days the rollup holds and the rest, counted live."""

    first_day: dt.date | None  # rollup days [first_day, stop_day); None: no rollup part
    stop_day: dt.date | None
    live_ranges: tuple[tuple[dt.datetime, dt.datetime], ...]

    def live(self, prefix: str = "") -> Q:
        """The appeals counted live, for a model reaching them through ``prefix``."""
        q = Q(pk__in=[])
        for start, end in self.live_ranges:
            if start < end:
                q |= Q(**{f"{prefix}received_at__gte": start, f"{prefix}received_at__lt": end})
        return q


def _ceil_midnight(moment: dt.datetime) -> dt.date:
    local = timezone.localtime(moment)
    day = local.date()
    return day if local == rollup.midnight(day) else day + dt.timedelta(days=1)


def split(start: dt.datetime, end: dt.datetime, now: dt.datetime) -> Split:
    """[start, end) cut into the rollup's days and the rest."""
    first = _ceil_midnight(start)
    state = KpiRollupState.objects.filter(pk=1).first()
    if state is None or state.watermark is None or state.complete_before is None:
        return Split(None, None, ((start, end),))
    stop = min(timezone.localtime(end).date(), state.complete_before, timezone.localdate(now))
    if stop <= first:
        return Split(None, None, ((start, end),))
    return Split(
        first,
        stop,
        ((start, rollup.midnight(first)), (rollup.midnight(stop), end)),
    )


def _grain(group: str | None, department_id: int | None) -> str:
    if group is None or group == "department":
        return KpiGrain.DEPARTMENT
    return f"department_{group}" if department_id is not None else group


def _rollup_tallies(
    part: Split, group: str | None, department_id: int | None
) -> dict[Any, rollup.Tally]:
    """The rollup's sums per value of ``group`` (None: one key, None) for the whole days."""
    assert part.first_day is not None and part.stop_day is not None
    rows = KpiDaily.objects.filter(
        grain=_grain(group, department_id), day__gte=part.first_day, day__lt=part.stop_day
    )
    if department_id is not None:
        rows = rows.filter(department_id=department_id)
    sums = {name: Sum(name) for name in rollup.COUNT_FIELDS}
    tallies: dict[Any, rollup.Tally] = {}
    if group is None:
        data = rows.aggregate(**sums)
        if data["received"] is not None:
            tallies[None] = rollup.Tally(**data)
    else:
        for data in rows.values(group).annotate(**sums).order_by():
            key = data.pop(group)
            tallies[key] = rollup.Tally(**data)
    # The histograms are summed in the database: a year by category is ~15,000 rows.
    table = KpiDaily._meta.db_table
    each = "jsonb_each_text" if connection.vendor == "postgresql" else "json_each"
    columns = {"department": "department_id", "town": "town_id", "category": "category_id"}
    key_sql = f"t.{columns.get(group, group)}, " if group else ""
    where = "t.grain = %s AND t.day >= %s AND t.day < %s AND t.days_count > 0"
    params: list[Any] = [_grain(group, department_id), part.first_day, part.stop_day]
    if department_id is not None:
        where += " AND t.department_id = %s"
        params.append(department_id)
    sql = (
        f"SELECT {key_sql}CAST(h.key AS integer), SUM(CAST(h.value AS integer))"  # noqa: S608 (no user input)
        f" FROM {table} t, {each}(t.days_histogram) h WHERE {where}"
        f" GROUP BY {'1, 2' if group else '1'}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for *key, days, n in cursor.fetchall():
            tally = tallies.setdefault(key[0] if key else None, rollup.Tally())
            tally.days_histogram[days] = tally.days_histogram.get(days, 0) + int(n)
    return tallies


def _live_tallies(
    part: Split, group: str | None, department_id: int | None, by_returner: bool
) -> dict[Any, rollup.Tally]:
    """The same sums counted from the appeals of the days the rollup does not hold."""
    appeals = Appeal.objects.filter(part.live(), merged_into__isnull=True)
    if department_id is not None:
        appeals = appeals.filter(lead_department_id=department_id)
    dims = (group,) if group else ()
    tallies = rollup.project(rollup.tally_appeals(appeals, dims), dims, dims)
    if by_returner:
        records = ReturnRecord.objects.filter(
            part.live("appeal__"), appeal__merged_into__isnull=True
        )
        if department_id is not None:
            records = records.filter(department_id=department_id)
        full = ("department",) if group in (None, "department") else ("department", group)
        returns = rollup.project(rollup.tally_returns(records, full), full, dims)
        for key, tally in returns.items():
            tallies.setdefault(key, rollup.Tally()).add(tally)
    return {(key[0] if key else None): tally for key, tally in tallies.items()}


def _overdue(
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    group: str | None,
    department_id: int | None,
) -> dict[Any, int]:
    """超期未办 depends on the time of asking: always live, over the few running appeals
    (the partial index on running appeals' ``due_at``)."""
    appeals = Appeal.objects.filter(
        received_at__gte=start,
        received_at__lt=end,
        merged_into__isnull=True,
        state__in=list(RUNNING_STATES),
        due_at__lt=now,
    )
    if department_id is not None:
        appeals = appeals.filter(lead_department_id=department_id)
    if group is None:
        return {None: appeals.count()}
    field = rollup.DIMENSIONS[group]
    return {
        row[field]: row["n"] for row in appeals.values(field).annotate(n=Count("pk")).order_by()
    }


NAMED: dict[str, type[models.Model]] = {
    "department": Department,
    "town": Division,
    "category": Category,
}


def _names(group: str, keys: Iterable[Any]) -> dict[Any, str]:
    model = NAMED.get(group)
    if model is None:
        return {key: _name(group, key) for key in keys}
    found = dict(
        model._default_manager.filter(pk__in=[k for k in keys if k]).values_list("pk", "name")
    )
    return {key: _name(group, found.get(key)) for key in keys}


def _name(group: str, value: Any) -> str:
    if value is None or value == "":
        return str(MISSING_NAMES[group])
    if group == "channel":
        try:
            return str(Channel(value).label)
        except ValueError:
            return str(value)
    return str(value)


def compute(
    start: dt.datetime,
    end: dt.datetime,
    group: str | None = "department",
    now: dt.datetime | None = None,
    department_id: int | None = None,
) -> list[KpiRow]:
    """KPIs of the appeals received in [start, end), by ``group`` (None: one total row),
    busiest first. ``department_id`` limits them to one department's figures.

    Whole days before today come from the daily rollup (as of the worker's last refresh,
    at most five minutes ago), the rest and 超期未办 are counted live."""
    if group is not None and group not in GROUPS:
        raise ValueError(f"unknown KPI group {group!r}")
    now = now or timezone.now()
    part = split(start, end, now)
    # Department figures (and any figures of one department) count returns by who made them.
    by_returner = group == "department" or department_id is not None
    tallies = _live_tallies(part, group, department_id, by_returner)
    if part.first_day is not None:
        for key, tally in _rollup_tallies(part, group, department_id).items():
            tallies.setdefault(key, rollup.Tally()).add(tally)
    overdue = _overdue(start, end, now, group, department_id)
    if group is None:
        tallies.setdefault(None, rollup.Tally())
    names = {None: str(_("合计"))} if group is None else _names(group, tallies.keys())
    rows = []
    for key, tally in tallies.items():
        if not (tally.received or tally.returns_made) and group is not None:
            continue
        overdue_open = overdue.get(key, 0)
        row = KpiRow(
            key=key,
            name=names[key],
            received=tally.received,
            dispatched=tally.dispatched,
            signed_on_time=tally.signed_on_time,
            replied=tally.replied,
            due=tally.answered + overdue_open,
            replied_on_time=tally.replied_on_time,
            rated=tally.rated,
            resolved=tally.resolved,
            satisfied=tally.satisfied,
            returned=tally.returns_made if by_returner else tally.returned,
            returned_away=tally.returns_made_away if by_returner else 0,
            rehandled=tally.rehandled,
            extended=tally.extended,
            overdue_open=overdue_open,
            avg_days=tally.days_sum / tally.days_count if tally.days_count else None,
            p90_days=p90(tally.days_histogram),
        )
        rows.append(row.finish())
    return sorted(rows, key=lambda r: (-r.received, -r.returned, r.name))


# ---------------------------------------------------------------- volume trends


@dataclass
class TrendPoint:
    start: dt.datetime
    label: str
    received: int = 0
    replied: int = 0
    satisfied: int = 0
    rated: int = 0

    @property
    def satisfaction_rate(self) -> float | None:
        return _rate(self.satisfied, self.rated)


TREND_COUNTS = ("received", "replied", "satisfied", "rated")


def _bucket(day: dt.date, unit: str) -> dt.date:
    if unit == "month":
        return day.replace(day=1)
    if unit == "week":
        return day - dt.timedelta(days=day.weekday())
    return day


def _bucket_starts(start: dt.datetime, end: dt.datetime, unit: str) -> list[dt.datetime]:
    tz = timezone.get_current_timezone()
    day = _bucket(timezone.localtime(start, tz).date(), unit)
    starts: list[dt.datetime] = []
    while True:
        moment = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
        if moment >= end:
            return starts
        starts.append(moment)
        if unit == "month":
            day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        elif unit == "week":
            day += dt.timedelta(days=7)
        else:
            day += dt.timedelta(days=1)


def _bucket_label(moment: dt.datetime, unit: str) -> str:
    if unit == "month":
        return f"{moment:%Y-%m}"
    if unit == "week":
        return _("%(date)s当周") % {"date": f"{moment:%m-%d}"}
    return f"{moment:%m-%d}"


def trend_unit(start: dt.datetime, end: dt.datetime) -> str:
    """Months for a period longer than a quarter, weeks for shorter ones."""
    return "month" if (end - start).days > 92 else "week"


def trend(
    start: dt.datetime,
    end: dt.datetime,
    unit: str | None = None,
    department_id: int | None = None,
    now: dt.datetime | None = None,
) -> list[TrendPoint]:
    """Appeals received in [start, end) per month/week/day, with how many of them were
    answered and how their citizens rated them (every bucket, also the empty ones)."""
    unit = unit or trend_unit(start, end)
    part = split(start, end, now or timezone.now())
    days: list[dict[str, Any]] = []
    if part.first_day is not None:
        rows = KpiDaily.objects.filter(
            grain=KpiGrain.DEPARTMENT, day__gte=part.first_day, day__lt=part.stop_day
        )
        if department_id is not None:
            rows = rows.filter(department_id=department_id)
        days += rows.values("day").annotate(**{n: Sum(n) for n in TREND_COUNTS}).order_by()
    appeals = Appeal.objects.filter(part.live(), merged_into__isnull=True)
    if department_id is not None:
        appeals = appeals.filter(lead_department_id=department_id)
    counts = rollup.appeal_counts()
    days += (
        appeals.annotate(day=rollup.local_day())
        .values("day")
        .annotate(**{n: counts[n] for n in TREND_COUNTS})
        .order_by()
    )
    buckets: dict[dt.date, dict[str, int]] = {}
    for row in days:
        bucket = buckets.setdefault(_bucket(row["day"], unit), dict.fromkeys(TREND_COUNTS, 0))
        for name in TREND_COUNTS:
            bucket[name] += row[name]
    return [
        TrendPoint(
            start=moment,
            label=_bucket_label(moment, unit),
            **buckets.get(moment.date(), dict.fromkeys(TREND_COUNTS, 0)),
        )
        for moment in _bucket_starts(start, end, unit)
    ]


# ---------------------------------------------------------------- periods


PERIODS: dict[str, Any] = {
    "month": gettext_lazy("本月"),
    "quarter": gettext_lazy("本季度"),
    "year": gettext_lazy("本年"),
    "last_year": gettext_lazy("上年"),
    "custom": gettext_lazy("自定义"),
}
# A custom period longer than this would scan years of appeals on every page view.
MAX_CUSTOM_DAYS = 3 * 366


class PeriodError(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    key: str
    start: dt.datetime  # inclusive
    end: dt.datetime  # exclusive

    @property
    def first_day(self) -> dt.date:
        return timezone.localtime(self.start).date()

    @property
    def last_day(self) -> dt.date:
        return timezone.localtime(self.end).date() - dt.timedelta(days=1)

    @property
    def label(self) -> str:
        return f"{self.first_day:%Y-%m-%d} ~ {self.last_day:%Y-%m-%d}"


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def period(
    key: str,
    today: dt.date | None = None,
    first: dt.date | None = None,
    last: dt.date | None = None,
) -> Period:
    """The period ``key`` around ``today``; "custom" runs from ``first`` to ``last``
    inclusive. Raises PeriodError with a message for the user when that is not a period."""
    today = today or timezone.localdate()
    if key == "month":
        start = today.replace(day=1)
        end = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    elif key == "quarter":
        start = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
        end = (
            start.replace(month=start.month + 3)
            if start.month < 10
            else dt.date(start.year + 1, 1, 1)
        )
    elif key == "year":
        start, end = dt.date(today.year, 1, 1), dt.date(today.year + 1, 1, 1)
    elif key == "last_year":
        start, end = dt.date(today.year - 1, 1, 1), dt.date(today.year, 1, 1)
    elif key == "custom":
        if first is None or last is None:
            raise PeriodError(_("请填写开始日期和结束日期"))
        if last < first:
            raise PeriodError(_("结束日期不能早于开始日期"))
        if (last - first).days >= MAX_CUSTOM_DAYS:
            raise PeriodError(_("自定义期间最长3年"))
        start, end = first, last + dt.timedelta(days=1)
    else:
        raise PeriodError(_("统计期间不正确"))
    return Period(key, _midnight(start), _midnight(end))
