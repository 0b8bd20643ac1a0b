"""The proxy service in figures, per town and per matter: cases opened, done (办结) and
overdue now, the average working days from opening to completion, and satisfaction (满意率)
from the 好差评 ratings the citizens gave the completed cases.

Counts are grouped SQL aggregates; only the working days are counted in Python
(``core.calendar`` is the one place that knows them), over the completed cases' two
timestamps.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable
from dataclasses import dataclass, fields

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.catalog.models import ServiceMatter
from minsheng.core import calendar
from minsheng.core.models import Department
from minsheng.evaluation.models import GOOD_LEVELS, RatingChannel
from minsheng.relay.models import OPEN_STATES, RelayCase, State


@dataclass(frozen=True)
class Line:
    key: Hashable = None
    label: str = ""
    opened: int = 0
    done: int = 0  # completed by the county, handed to the citizen or not yet
    open: int = 0
    overdue: int = 0
    rated: int = 0  # ratings the citizens gave (not defaulted, not taken out on appeal)
    good: int = 0  # 满意 or 非常满意
    working_days: int = 0  # summed over the completed cases

    def __add__(self, other: Line) -> Line:
        numbers = {
            f.name: getattr(self, f.name) + getattr(other, f.name)
            for f in fields(self)
            if f.name not in ("key", "label")
        }
        return Line(self.key, self.label, **numbers)

    @property
    def average_days(self) -> float | None:
        return round(self.working_days / self.done, 1) if self.done else None

    @property
    def satisfaction(self) -> float | None:
        """满意率: the share of ratings at 满意 or above, in per cent."""
        return round(100.0 * self.good / self.rated, 1) if self.rated else None


def _counted() -> Q:
    # As the 好差评 statistics count: a rating the citizen gave and that still counts.
    return Q(event__rating__isnull=False, event__rating__excluded=False) & ~Q(
        event__rating__channel=RatingChannel.DEFAULT
    )


def lines(
    cases: QuerySet[RelayCase],
    key: str,
    label: Callable[[list[Hashable]], dict[Hashable, str]],
    now: dt.datetime | None = None,
) -> list[Line]:
    """The figures of ``cases`` grouped by the field ``key``, named by ``label``; the most
    cases first."""
    now = now or timezone.now()
    open_states = sorted(OPEN_STATES)
    counted = _counted()
    rows = list(
        cases.order_by()
        .values(key)
        .annotate(
            opened=Count("pk"),
            done=Count("pk", filter=Q(completed_at__isnull=False)),
            open=Count("pk", filter=Q(state__in=open_states)),
            overdue=Count("pk", filter=Q(state__in=open_states, due_at__lt=now)),
            rated=Count("pk", filter=counted),
            good=Count("pk", filter=counted & Q(event__rating__level__in=sorted(GOOD_LEVELS))),
        )
    )
    days: dict[Hashable, int] = {}
    completed = cases.filter(completed_at__isnull=False).order_by()
    for group, opened_at, completed_at in completed.values_list(key, "opened_at", "completed_at"):
        days[group] = days.get(group, 0) + calendar.working_days_between(opened_at, completed_at)
    names = label([row[key] for row in rows])
    result = [
        Line(
            key=row[key],
            label=names.get(row[key], ""),
            opened=row["opened"],
            done=row["done"],
            open=row["open"],
            overdue=row["overdue"],
            rated=row["rated"],
            good=row["good"],
            working_days=days.get(row[key], 0),
        )
        for row in rows
    ]
    result.sort(key=lambda line: (-line.opened, line.label))
    return result


def _department_labels(keys: list[Hashable]) -> dict[Hashable, str]:
    return {d.pk: d.label for d in Department.objects.filter(pk__in=keys)}


def _matter_labels(keys: list[Hashable]) -> dict[Hashable, str]:
    return dict(ServiceMatter.objects.filter(pk__in=keys).values_list("pk", "name"))


def by_town(cases: QuerySet[RelayCase], now: dt.datetime | None = None) -> list[Line]:
    """Per town: the town government (street office) whose proxy workers took the cases."""
    return lines(cases, "origin_department", _department_labels, now)


def by_matter(cases: QuerySet[RelayCase], now: dt.datetime | None = None) -> list[Line]:
    return lines(cases, "matter", _matter_labels, now)


def total(rows: list[Line]) -> Line:
    return sum(rows, Line(label=_("合计")))


def by_state(cases: QuerySet[RelayCase]) -> list[tuple[str, str, int]]:
    """(state, label, cases) for every state, in the relay's order."""
    counts = dict(cases.order_by().values_list("state").annotate(n=Count("pk")))
    return [(state.value, str(state.label), counts.get(state.value, 0)) for state in State]


@dataclass(frozen=True)
class CountyFigures:
    """The county's proxy service in one object, for the leaders' dashboard."""

    total: Line  # opened, done, open, overdue, average working days, satisfaction
    towns: list[Line]  # per town, the most cases first
    matters: list[Line]  # per matter, the most asked first
    states: list[tuple[str, str, int]]  # (state, label, cases) in the relay's order


def county_figures(now: dt.datetime | None = None, since: dt.date | None = None) -> CountyFigures:
    """Every case of the county (opened on or after ``since``, if given)."""
    now = now or timezone.now()
    cases = RelayCase.objects.all()
    if since is not None:
        start = dt.datetime.combine(since, dt.time.min, tzinfo=calendar.CALENDAR_TZ)
        cases = cases.filter(opened_at__gte=start)
    towns = by_town(cases, now)
    return CountyFigures(total(towns), towns, by_matter(cases, now), by_state(cases))
