"""Monthly statements (月度结算): per canteen and per diner, the meal days, what the diners
paid and the subsidy, summed in the database with exact decimals."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, QuerySet, Sum

from minsheng.canteens.models import Canteen, MealCheckIn

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def _money(value: Decimal | None) -> Decimal:
    """SQLite sums decimals without their scale (15 for 15.00): always two places here."""
    return (value or ZERO).quantize(CENT)


@dataclass(frozen=True)
class Line:
    key: int
    label: str
    meals: int
    fees: Decimal
    subsidies: Decimal
    code: str = ""

    @property
    def total(self) -> Decimal:
        return self.fees + self.subsidies


def month_bounds(month: dt.date) -> tuple[dt.date, dt.date]:
    first = month.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following


def _meals(canteens: QuerySet[Canteen], month: dt.date) -> QuerySet[MealCheckIn]:
    first, following = month_bounds(month)
    return MealCheckIn.objects.filter(canteen__in=canteens, day__gte=first, day__lt=following)


def by_canteen(canteens: QuerySet[Canteen], month: dt.date) -> list[Line]:
    sums = {
        row["canteen"]: row
        for row in _meals(canteens, month)
        .values("canteen")
        .annotate(meals=Count("pk"), fees=Sum("fee"), subsidies=Sum("subsidy"))
    }
    return [
        Line(
            c.pk,
            c.name,
            sums.get(c.pk, {}).get("meals", 0),
            _money(sums.get(c.pk, {}).get("fees")),
            _money(sums.get(c.pk, {}).get("subsidies")),
            c.code,
        )
        for c in canteens.order_by("code")
    ]


def by_diner(canteen: Canteen, month: dt.date) -> list[Line]:
    rows = (
        _meals(Canteen.objects.filter(pk=canteen.pk), month)
        .values("diner", "diner__name", "diner__id_masked")
        .annotate(meals=Count("pk"), fees=Sum("fee"), subsidies=Sum("subsidy"))
        .order_by("diner__name", "diner")
    )
    return [
        Line(
            r["diner"],
            f"{r['diner__name']}（{r['diner__id_masked']}）",
            r["meals"],
            _money(r["fees"]),
            _money(r["subsidies"]),
        )
        for r in rows
    ]


def totals(lines: list[Line]) -> Line:
    return Line(
        0,
        "",
        sum(line.meals for line in lines),
        sum((line.fees for line in lines), ZERO),
        sum((line.subsidies for line in lines), ZERO),
    )
