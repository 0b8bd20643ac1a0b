"""The county's figures of the community services, for the leaders' overview: one small
function per service, each a handful of SQL aggregates over the whole county."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Sum
from django.utils import timezone

from minsheng.canteens.models import Canteen, Diner, MealCheckIn
from minsheng.relief import ledger
from minsheng.relief.models import Application, Station
from minsheng.venues import stats
from minsheng.venues.models import Venue

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class CanteenFigures:
    canteens: int
    diners: int
    diners_by_category: list[tuple[str, int]]
    meals_today: int
    meals_month: int
    fees_month: Decimal
    subsidies_month: Decimal
    # The last 30 days, oldest first: (day, meals).
    daily: list[tuple[dt.date, int]] = field(default_factory=list)


def canteens(today: dt.date | None = None) -> CanteenFigures:
    today = today or timezone.localdate()
    month = MealCheckIn.objects.filter(day__gte=today.replace(day=1), day__lte=today)
    sums = month.aggregate(n=Count("pk"), fees=Sum("fee"), subsidies=Sum("subsidy"))
    by_category = dict(
        Diner.objects.filter(active=True).values_list("category").annotate(n=Count("pk"))
    )
    first = today - dt.timedelta(days=29)
    per_day = dict(
        MealCheckIn.objects.filter(day__gte=first, day__lte=today)
        .values_list("day")
        .annotate(n=Count("pk"))
    )
    return CanteenFigures(
        canteens=Canteen.objects.filter(active=True).count(),
        diners=sum(by_category.values()),
        diners_by_category=[
            (str(Diner.Category(c).label), by_category.get(c, 0)) for c in Diner.Category.values
        ],
        meals_today=per_day.get(today, 0),
        meals_month=sums["n"],
        fees_month=sums["fees"] or ZERO,
        subsidies_month=sums["subsidies"] or ZERO,
        daily=[
            (first + dt.timedelta(days=i), per_day.get(first + dt.timedelta(days=i), 0))
            for i in range(30)
        ],
    )


@dataclass(frozen=True)
class VenueFigures:
    venues: int
    inside_now: int
    capacity: int
    entries_30_days: int
    by_hour: list[int]  # entries in the last 30 days by hour of day, 0–23


def venues(now: dt.datetime | None = None) -> VenueFigures:
    now = now or timezone.now()
    open_venues = Venue.objects.filter(active=True)
    totals = open_venues.aggregate(inside=Sum("inside"), capacity=Sum("capacity"))
    usage = stats.usage(open_venues, now - dt.timedelta(days=30))
    return VenueFigures(
        venues=open_venues.count(),
        inside_now=totals["inside"] or 0,
        capacity=totals["capacity"] or 0,
        entries_30_days=usage["total"],
        by_hour=usage["by_hour"],
    )


@dataclass(frozen=True)
class ReliefYear:
    year: int
    money_in: Decimal
    money_out: Decimal
    helped: int


@dataclass(frozen=True)
class ReliefFigures:
    stations: int
    balance: Decimal
    pending: int  # applications not yet decided
    years: list[ReliefYear]  # newest first, summed over the stations


def relief() -> ReliefFigures:
    years: dict[int, ReliefYear] = {}
    stations = list(Station.objects.all())
    for station in stations:  # a county has one or two stations
        for y in ledger.public_figures(station):
            seen = years.get(y.year, ReliefYear(y.year, ZERO, ZERO, 0))
            years[y.year] = ReliefYear(
                y.year,
                seen.money_in + y.money_in,
                seen.money_out + y.money_out,
                seen.helped + y.helped,
            )
    pending = Application.objects.filter(
        state__in=[
            Application.State.SUBMITTED,
            Application.State.VILLAGE_VERIFIED,
            Application.State.TOWN_VERIFIED,
        ]
    ).count()
    return ReliefFigures(
        stations=len(stations),
        balance=sum((s.balance for s in stations), ZERO),
        pending=pending,
        years=[years[y] for y in sorted(years, reverse=True)],
    )
