"""好差评 statistics: definitions, the monthly rollup and the queries over it.

Definitions (docs/evaluation.md says the same for readers):

- 办件量 ``events``: service events started in the period.
- 主动评价 ``rated``: ratings the citizen actually gave (any channel but the default
  rating), not excluded by an upheld staff appeal. 默认评价 ``defaulted`` are counted apart
  and in no rate. 主动评价率 = rated / events.
- 好评率 = 非常满意+满意 / rated; 差评率 = 不满意+非常不满意 / rated;
  平均分 = mean level (5 非常满意 … 1 非常不满意) of the rated.
- 回访率 = 差评 whose citizen was called back (回访核实 done) / 差评;
  差评整改率 = 差评 whose case is closed after review / 差评.

Figures are by the month the service was given. Queries over a million ratings read
``MonthlyStat``, rebuilt month by month by the worker from the months the actions marked
dirty (``DirtyMonth``); ``compute_raw`` gives the same figures straight from the rows and is
what the tests compare the rollup with.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minsheng.core import policy
from minsheng.core.models import Department, User, Window
from minsheng.core.models.org import DEPARTMENT_ROLES
from minsheng.evaluation.models import (
    Case,
    DirtyMonth,
    MonthlyStat,
    RatingChannel,
    ServiceEvent,
)
from minsheng.evaluation.states import CaseState

GROUPS: dict[str, Any] = {
    "department": _("部门"),
    "window": _("窗口"),
    "staff": _("工作人员"),
    "matter": _("事项"),
    "channel": _("评价渠道"),
    "month": _("月份"),
}
COUNTERS = (
    "events",
    "rated",
    "defaulted",
    "excluded",
    "good",
    "bad",
    "level_sum",
    "bad_verified",
    "bad_rectified",
)
# Staff with fewer counted ratings in a month are left out of the 红黑榜.
RANKING_MIN_RATED = 5
RANKING_SIZE = 10


def _rate(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


@dataclass
class Figures:
    key: Any = None
    name: str = ""
    events: int = 0
    rated: int = 0
    defaulted: int = 0
    excluded: int = 0
    good: int = 0
    bad: int = 0
    level_sum: int = 0
    bad_verified: int = 0
    bad_rectified: int = 0
    overdue_cases: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def add(self, other: Figures) -> None:
        for name in COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def rated_rate(self) -> float | None:
        return _rate(self.rated, self.events)

    @property
    def good_rate(self) -> float | None:
        return _rate(self.good, self.rated)

    @property
    def bad_rate(self) -> float | None:
        return _rate(self.bad, self.rated)

    @property
    def verify_rate(self) -> float | None:
        return _rate(self.bad_verified, self.bad)

    @property
    def rectify_rate(self) -> float | None:
        return _rate(self.bad_rectified, self.bad)

    @property
    def average(self) -> float | None:
        return round(self.level_sum / self.rated, 2) if self.rated else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            **{name: getattr(self, name) for name in COUNTERS},
            "overdue_cases": self.overdue_cases,
            "rated_rate": self.rated_rate,
            "good_rate": self.good_rate,
            "bad_rate": self.bad_rate,
            "verify_rate": self.verify_rate,
            "rectify_rate": self.rectify_rate,
            "average": self.average,
        }


# ---------------------------------------------------------------- months


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    months, month = [], month_start(first)
    while month <= last:
        months.append(month)
        month = next_month(month)
    return months


def _moment(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def parse_month(value: str | None, default: dt.date) -> dt.date:
    try:
        year, month = (value or "").split("-")[:2]
        return dt.date(int(year), int(month), 1)
    except (ValueError, TypeError):
        return default


# ---------------------------------------------------------------- counting


def _counted() -> Q:
    return Q(rating__isnull=False, rating__excluded=False) & ~Q(
        rating__channel=RatingChannel.DEFAULT
    )


def _aggregates() -> dict[str, Any]:
    counted = _counted()
    bad = counted & Q(rating__level__lte=2)
    return {
        "n_events": Count("pk"),
        "n_rated": Count("pk", filter=counted),
        "n_defaulted": Count(
            "pk", filter=Q(rating__channel=RatingChannel.DEFAULT, rating__excluded=False)
        ),
        "n_excluded": Count("pk", filter=Q(rating__excluded=True)),
        "n_good": Count("pk", filter=counted & Q(rating__level__gte=4)),
        "n_bad": Count("pk", filter=bad),
        "n_level_sum": Sum("rating__level", filter=counted, default=0),
        "n_bad_verified": Count("pk", filter=bad & Q(rating__case__verified_at__isnull=False)),
        "n_bad_rectified": Count("pk", filter=bad & Q(rating__case__state=CaseState.CLOSED)),
    }


def _events_in(first: dt.date, last: dt.date) -> QuerySet[ServiceEvent]:
    return ServiceEvent.objects.filter(
        started_at__gte=_moment(month_start(first)), started_at__lt=_moment(next_month(last))
    )


@transaction.atomic
def refresh_month(month: dt.date) -> int:
    """Rebuild one month of the rollup from the rows; returns the rollup rows written."""
    month = month_start(month)
    rows = (
        _events_in(month, month)
        .values("department_id", "window_id", "staff_id", "matter_id", "rating__channel")
        .annotate(**_aggregates())
        .order_by()
    )
    MonthlyStat.objects.filter(month=month).delete()
    stats = [
        MonthlyStat(
            month=month,
            department_id=row["department_id"],
            window_id=row["window_id"],
            staff_id=row["staff_id"],
            matter_id=row["matter_id"],
            channel=row["rating__channel"] or "",
            **{name: row[f"n_{name}"] or 0 for name in COUNTERS},
        )
        for row in rows
    ]
    MonthlyStat.objects.bulk_create(stats, batch_size=2000)
    return len(stats)


def refresh_dirty(limit: int = 24) -> list[dt.date]:
    """Rebuild the months the actions marked. Each mark is deleted before its month is
    read: a change committed meanwhile marks the month again (see ``actions.mark_dirty``)."""
    done = []
    for month in list(DirtyMonth.objects.order_by("month").values_list("month", flat=True)[:limit]):
        DirtyMonth.objects.filter(month=month).delete()
        try:
            refresh_month(month)
        except Exception:
            DirtyMonth.objects.bulk_create([DirtyMonth(month=month)], ignore_conflicts=True)
            raise
        done.append(month)
    return done


def refresh_all() -> int:
    first = ServiceEvent.objects.order_by("started_at").values_list("started_at", flat=True).first()
    last = ServiceEvent.objects.order_by("-started_at").values_list("started_at", flat=True).first()
    if first is None or last is None:
        return 0
    months = months_between(timezone.localdate(first), timezone.localdate(last))
    for month in months:
        refresh_month(month)
    DirtyMonth.objects.filter(month__in=months).delete()
    return len(months)


# ---------------------------------------------------------------- queries


@dataclass(frozen=True)
class Query:
    group: str
    first: dt.date
    last: dt.date
    department_id: int | None = None


def default_query(group: str = "department") -> Query:
    today = timezone.localdate()
    return Query(group if group in GROUPS else "department", month_start(today), month_start(today))


def scoped_department(user: User | Any) -> int | None:
    """Department roles see their own department's figures only."""
    department_id = getattr(user, "department_id", None)
    if getattr(user, "role", None) in DEPARTMENT_ROLES and department_id is not None:
        return int(department_id)
    return None


_ROLLUP_KEYS = {
    "department": "department_id",
    "window": "window_id",
    "staff": "staff_id",
    "matter": "matter_id",
    "channel": "channel",
    "month": "month",
}


def _names(group: str, keys: Iterable[Any]) -> dict[Any, str]:
    keys = [k for k in keys if k not in (None, "")]
    if group == "department":
        return {d.pk: d.label for d in Department.objects.filter(pk__in=keys)}
    if group == "window":
        return {w.pk: str(w) for w in Window.objects.filter(pk__in=keys).select_related("hall")}
    if group == "staff":
        return {
            u.pk: f"{u.display_name}（{u.staff_no}）" if u.staff_no else u.display_name
            for u in User.objects.filter(pk__in=keys)
        }
    if group == "matter":
        from minsheng.catalog.models import ServiceMatter

        return dict(ServiceMatter.objects.filter(pk__in=keys).values_list("pk", "name"))
    if group == "channel":
        return {c.value: str(c.label) for c in RatingChannel}
    return {k: f"{k:%Y-%m}" for k in keys}


def _from_rows(group: str, rows: Iterable[dict[str, Any]], key: str) -> list[Figures]:
    result = []
    rows = list(rows)
    names = _names(group, [row[key] for row in rows])
    for row in rows:
        value = row[key]
        figures = Figures(
            key=value,
            name=names.get(value, "")
            or str(_("未评价") if group == "channel" else _("（未指定）")),
        )
        for name in COUNTERS:
            setattr(figures, name, row[name] or 0)
        result.append(figures)
    return result


def compute(query: Query, *, with_overdue: bool = True) -> tuple[list[Figures], Figures]:
    """Rows of the rollup grouped by ``query.group``, and the total."""
    key = _ROLLUP_KEYS[query.group]
    qs = MonthlyStat.objects.filter(
        month__gte=month_start(query.first), month__lte=month_start(query.last)
    )
    if query.department_id is not None:
        qs = qs.filter(department_id=query.department_id)
    rows = qs.values(key).annotate(**{name: Sum(name) for name in COUNTERS}).order_by(key)
    figures = _from_rows(query.group, rows, key)
    total = Figures(name=str(_("合计")))
    for f in figures:
        total.add(f)
    if with_overdue and query.group == "department":
        overdue = overdue_by_department(query.department_id)
        for f in figures:
            f.overdue_cases = overdue.get(f.key, 0)
        total.overdue_cases = sum(overdue.values())
    figures.sort(key=lambda f: (-f.events, str(f.name)))
    return figures, total


def compute_raw(query: Query) -> tuple[list[Figures], Figures]:
    """The same figures straight from events and ratings (slow at scale: for tests and checks)."""
    raw_keys = {
        "department": "department_id",
        "window": "window_id",
        "staff": "staff_id",
        "matter": "matter_id",
        "channel": "rating__channel",
    }
    qs = _events_in(query.first, query.last)
    if query.department_id is not None:
        qs = qs.filter(department_id=query.department_id)
    if query.group == "month":
        raise ValueError("compute_raw does not group by month")
    key = raw_keys[query.group]
    rows = [
        {
            key: row[key] or ("" if query.group == "channel" else None),
            **{n: row[f"n_{n}"] for n in COUNTERS},
        }
        for row in qs.values(key).annotate(**_aggregates()).order_by(key)
    ]
    figures = _from_rows(query.group, rows, key)
    total = Figures(name=str(_("合计")))
    for f in figures:
        total.add(f)
    figures.sort(key=lambda f: (-f.events, str(f.name)))
    return figures, total


def overdue_by_department(department_id: int | None = None) -> dict[int, int]:
    qs = Case.objects.overdue()
    if department_id is not None:
        qs = qs.filter(department_id=department_id)
    return dict(
        qs.values("department_id").annotate(n=Count("pk")).values_list("department_id", "n")
    )


def trend(query: Query) -> list[Figures]:
    figures, _total = compute(
        Query("month", query.first, query.last, query.department_id), with_overdue=False
    )
    return sorted(figures, key=lambda f: f.key)


@dataclass(frozen=True)
class Rankings:
    month: dt.date
    red: list[Figures]
    black: list[Figures]


def rankings(month: dt.date, department_id: int | None = None) -> Rankings:
    """红黑榜 of a month: staff by average score (red) and by 差评率 (black)."""
    figures, _total = compute(Query("staff", month, month, department_id), with_overdue=False)
    ranked = [f for f in figures if f.key is not None and f.rated >= RANKING_MIN_RATED]
    red = sorted(ranked, key=lambda f: (-(f.average or 0), f.bad, -f.rated))[:RANKING_SIZE]
    black_pool = [f for f in ranked if f.bad > 0]
    black = sorted(black_pool, key=lambda f: (-(f.bad_rate or 0), f.average or 0))[:RANKING_SIZE]
    return Rankings(month_start(month), red, black)


def public_table(first: dt.date, last: dt.date) -> list[dict[str, Any]]:
    """Per department and month: aggregates only, no names of people."""
    rows = (
        MonthlyStat.objects.filter(month__gte=first, month__lte=last)
        .values("month", "department_id")
        .annotate(**{name: Sum(name) for name in COUNTERS})
        .order_by("-month", "department_id")
    )
    names = _names("department", {row["department_id"] for row in rows})
    table = []
    for row in rows:
        f = Figures(key=row["department_id"], name=names.get(row["department_id"], ""))
        for name in COUNTERS:
            setattr(f, name, row[name] or 0)
        table.append({"month": row["month"], "figures": f})
    return table


def visible_departments(user: User) -> QuerySet[Department]:
    return policy.visible(user, Department.objects.all(), "evaluation.stats")
