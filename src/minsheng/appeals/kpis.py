"""The appeal KPIs leaders see.

Definitions are in docs/appeals-kpis.md and shown next to each figure. Every figure is an
SQL aggregate over the appeals *received* in the period (a cohort), grouped by department,
town, category or channel: one query per table, however many appeals there are. Duplicates
merged into another appeal are not counted (their master is).

A department's figures are the appeals it leads (主办), except the returns (退单): those
count against the department that returned the appeal, which by then is no longer its lead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models
from django.db.models import Avg, Count, F, Q
from django.db.models.functions import TruncDay, TruncMonth, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from minsheng.appeals.models import Appeal, Channel, Rating, ReturnRecord
from minsheng.appeals.states import RUNNING_STATES

# dimension → (label, field to group on, field holding its name)
GROUPS: dict[str, tuple[Any, str, str]] = {
    "department": (gettext_lazy("部门"), "lead_department", "lead_department__name"),
    "town": (gettext_lazy("乡镇"), "town", "town__name"),
    "category": (gettext_lazy("分类"), "category", "category__name"),
    "channel": (gettext_lazy("渠道"), "channel", "channel"),
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


def _aggregates(now: dt.datetime) -> dict[str, Any]:
    rated = Q(
        satisfaction__in=[Rating.Level.SATISFIED, Rating.Level.BASIC, Rating.Level.UNSATISFIED]
    )
    running = Q(state__in=list(RUNNING_STATES))
    # Answered: replied and not back in handling after a 重办 (whose old reply time no longer
    # tells whether the new deadline is met).
    answered = Q(replied_at__isnull=False) & ~running
    overdue = running & Q(due_at__lt=now)
    return {
        "received": Count("pk"),
        "dispatched": Count("pk", filter=Q(dispatched_at__isnull=False)),
        "signed_on_time": Count(
            "pk", filter=Q(signed_at__isnull=False, signed_at__lte=F("sign_due_at"))
        ),
        "replied": Count("pk", filter=Q(replied_at__isnull=False)),
        "due": Count("pk", filter=answered | overdue),
        "replied_on_time": Count("pk", filter=answered & Q(replied_at__lte=F("due_at"))),
        "rated": Count("pk", filter=rated),
        "resolved": Count("pk", filter=rated & Q(resolved=True)),
        "satisfied": Count(
            "pk", filter=Q(satisfaction__in=[Rating.Level.SATISFIED, Rating.Level.BASIC])
        ),
        "returned": Count("pk", filter=Q(return_count__gt=0)),
        "rehandled": Count("pk", filter=Q(rehandle_count__gt=0)),
        "extended": Count("pk", filter=Q(extension_count__gt=0)),
        "overdue_open": Count("pk", filter=overdue),
        "avg_days": Avg("handling_days"),
    }


class Percentile90(models.Aggregate):
    function = "PERCENTILE_CONT"
    template = "%(function)s(0.9) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = models.FloatField()


def p90(values: Iterable[int]) -> float | None:
    """The 90th percentile with the same linear interpolation as PostgreSQL's
    ``percentile_cont(0.9)``, so that both databases give the same figure."""
    ordered = sorted(values)
    if not ordered:
        return None
    position = 0.9 * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def cohort(
    start: dt.datetime,
    end: dt.datetime,
    queryset: models.QuerySet[Appeal] | None = None,
    department_id: int | None = None,
) -> models.QuerySet[Appeal]:
    """The appeals the KPIs of [start, end) are about."""
    base = (queryset if queryset is not None else Appeal.objects.all()).filter(
        received_at__gte=start, received_at__lt=end, merged_into__isnull=True
    )
    if department_id is not None:
        base = base.filter(lead_department_id=department_id)
    return base


def _returns(
    start: dt.datetime,
    end: dt.datetime,
    group: str | None,
    department_id: int | None,
) -> tuple[dict[Any, int], dict[Any, int], dict[Any, str]]:
    """Returns by the department that made them: (appeals returned, of which now elsewhere,
    names) per key of ``group``."""
    records = ReturnRecord.objects.filter(
        appeal__received_at__gte=start,
        appeal__received_at__lt=end,
        appeal__merged_into__isnull=True,
    )
    if department_id is not None:
        records = records.filter(department_id=department_id)
    if group is None:
        key_path, name_path = None, None
    elif group == "department":
        key_path, name_path = "department", "department__name"
    else:
        _label, key_field, name_field = GROUPS[group]
        key_path, name_path = f"appeal__{key_field}", f"appeal__{name_field}"
    away = Q(appeal__lead_department__isnull=True) | ~Q(appeal__lead_department=F("department"))
    aggregates = {
        "n": Count("appeal", distinct=True),
        "away": Count("appeal", distinct=True, filter=away),
    }
    if key_path is None:
        data = records.aggregate(**aggregates)
        return {None: data["n"]}, {None: data["away"]}, {}
    assert name_path is not None
    returned: dict[Any, int] = {}
    returned_away: dict[Any, int] = {}
    names: dict[Any, str] = {}
    for row in records.values(key_path, name_path).annotate(**aggregates).order_by():
        key = row[key_path]
        returned[key] = row["n"]
        returned_away[key] = row["away"]
        names[key] = row[name_path]
    return returned, returned_away, names


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
    queryset: models.QuerySet[Appeal] | None = None,
    now: dt.datetime | None = None,
    department_id: int | None = None,
) -> list[KpiRow]:
    """KPIs of the appeals received in [start, end), by ``group`` (None: one total row),
    busiest first. ``department_id`` limits them to one department's figures."""
    now = now or timezone.now()
    base = cohort(start, end, queryset, department_id)
    aggregates = _aggregates(now)
    postgres = connection.vendor == "postgresql"
    if postgres:
        aggregates["p90_days"] = Percentile90("handling_days")
    # Department figures (and any figures of one department) count returns by who made them.
    by_returner = group == "department" or department_id is not None
    if by_returner:
        returned, returned_away, return_names = _returns(start, end, group, department_id)

    if group is None:
        row = KpiRow(key=None, name=str(_("合计")), **base.aggregate(**aggregates))
        if not postgres:
            days = base.filter(handling_days__isnull=False).values_list("handling_days", flat=True)
            row.p90_days = p90(d for d in days if d is not None)
        if by_returner:
            row.returned = returned[None]
            row.returned_away = returned_away[None]
        return [row.finish()]

    _label, key_field, name_field = GROUPS[group]
    rows: dict[Any, KpiRow] = {}
    for data in base.values(key_field, name_field).annotate(**aggregates).order_by():
        key = data.pop(key_field)
        name = data.pop(name_field, key)
        rows[key] = KpiRow(key=key, name=_name(group, name), **data)
    if not postgres:
        values: dict[Any, list[int]] = {}
        for key, days in base.filter(handling_days__isnull=False).values_list(
            key_field, "handling_days"
        ):
            values.setdefault(key, []).append(days)
        for key, row in rows.items():
            row.p90_days = p90(values.get(key, []))
    if by_returner:
        for key, row in rows.items():
            row.returned = returned.get(key, 0)
            row.returned_away = returned_away.get(key, 0)
        for key in returned.keys() - rows.keys():
            # A department that returned everything it got still has a return rate.
            rows[key] = KpiRow(
                key=key,
                name=_name(group, return_names.get(key)),
                returned=returned[key],
                returned_away=returned_away[key],
            )
    return sorted(
        (row.finish() for row in rows.values()),
        key=lambda r: (-r.received, -r.returned, r.name),
    )


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


TRUNCATE = {"month": TruncMonth, "week": TruncWeek, "day": TruncDay}


def _bucket_starts(start: dt.datetime, end: dt.datetime, unit: str) -> list[dt.datetime]:
    tz = timezone.get_current_timezone()
    day = timezone.localtime(start, tz).date()
    if unit == "month":
        day = day.replace(day=1)
    elif unit == "week":
        day -= dt.timedelta(days=day.weekday())
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
    queryset: models.QuerySet[Appeal] | None = None,
    department_id: int | None = None,
) -> list[TrendPoint]:
    """Appeals received in [start, end) per month/week/day, with how many of them were
    answered and how their citizens rated them (every bucket, also the empty ones)."""
    unit = unit or trend_unit(start, end)
    tz = timezone.get_current_timezone()
    base = cohort(start, end, queryset, department_id)
    counts = {
        timezone.localtime(row["bucket"], tz): row
        for row in base.annotate(bucket=TRUNCATE[unit]("received_at", tzinfo=tz))
        .values("bucket")
        .annotate(
            received=Count("pk"),
            replied=Count("pk", filter=Q(replied_at__isnull=False)),
            satisfied=Count(
                "pk", filter=Q(satisfaction__in=[Rating.Level.SATISFIED, Rating.Level.BASIC])
            ),
            rated=Count(
                "pk",
                filter=Q(
                    satisfaction__in=[
                        Rating.Level.SATISFIED,
                        Rating.Level.BASIC,
                        Rating.Level.UNSATISFIED,
                    ]
                ),
            ),
        )
        .order_by("bucket")
    }
    points = []
    for moment in _bucket_starts(start, end, unit):
        row = counts.get(moment, {})
        points.append(
            TrendPoint(
                start=moment,
                label=_bucket_label(moment, unit),
                received=row.get("received", 0),
                replied=row.get("replied", 0),
                satisfied=row.get("satisfied", 0),
                rated=row.get("rated", 0),
            )
        )
    return points


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
