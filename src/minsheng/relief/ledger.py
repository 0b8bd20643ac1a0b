"""The fund ledger: reconciliation and the public aggregates (never a person)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import ExtractYear

from minsheng.relief.models import Application, Donation, LedgerEntry, Station

ZERO = Decimal("0.00")


def reconcile(station: Station) -> list[str]:
    """What does not add up, in words; an empty list when the books balance:
    the entries replay their balances one by one and end at the station's balance, every
    donation has its income entry, every paid application its expense entry."""
    problems: list[str] = []
    running = ZERO
    for entry in LedgerEntry.objects.filter(station=station).order_by("pk"):
        running += entry.amount
        if running != entry.balance_after:
            problems.append(f"台账第 {entry.pk} 条：累计 {running}，记录余额 {entry.balance_after}")
    station.refresh_from_db(fields=["balance"])
    if running != station.balance:
        problems.append(f"台账累计 {running}，基金余额 {station.balance}")
    donated = Donation.objects.filter(station=station).aggregate(s=Sum("amount"))["s"] or ZERO
    income = (
        LedgerEntry.objects.filter(station=station, kind=LedgerEntry.Kind.DONATION).aggregate(
            s=Sum("amount")
        )["s"]
        or ZERO
    )
    if donated != income:
        problems.append(f"捐赠合计 {donated}，台账收入 {income}")
    paid = (
        Application.objects.filter(station=station, state=Application.State.PAID).aggregate(
            s=Sum("approved")
        )["s"]
        or ZERO
    )
    spent = -(
        LedgerEntry.objects.filter(station=station, kind=LedgerEntry.Kind.DISBURSEMENT).aggregate(
            s=Sum("amount")
        )["s"]
        or ZERO
    )
    if paid != spent:
        problems.append(f"已发放救助合计 {paid}，台账支出 {spent}")
    return problems


@dataclass(frozen=True)
class YearFigures:
    year: int
    money_in: Decimal
    money_out: Decimal
    helped: int
    women: int
    children: int
    donations: int


def public_figures(station: Station) -> list[YearFigures]:
    """Per year: money in and out, donations and people helped (by kind). Counts and sums
    only, so no donor, applicant or amount of one person can be read from them."""
    money_in = dict(
        Donation.objects.filter(station=station)
        .annotate(year=ExtractYear("received_on"))
        .values_list("year")
        .annotate(s=Sum("amount"))
    )
    donations = dict(
        Donation.objects.filter(station=station)
        .annotate(year=ExtractYear("received_on"))
        .values_list("year")
        .annotate(n=Count("pk"))
    )
    out_rows = (
        LedgerEntry.objects.filter(station=station, kind=LedgerEntry.Kind.DISBURSEMENT)
        .annotate(year=ExtractYear("at"))
        .values("year")
        .annotate(
            s=Sum("amount"),
            n=Count("pk"),
            women=Count("pk", filter=Q(application__kind=Application.Kind.WOMAN)),
            children=Count("pk", filter=Q(application__kind=Application.Kind.CHILD)),
        )
    )
    out = {row["year"]: row for row in out_rows}
    years = sorted(set(money_in) | set(out), reverse=True)
    return [
        YearFigures(
            year,
            (money_in.get(year) or ZERO).quantize(Decimal("0.01")),
            (-(out.get(year, {}).get("s") or ZERO)).quantize(Decimal("0.01")),
            out.get(year, {}).get("n", 0),
            out.get(year, {}).get("women", 0),
            out.get(year, {}).get("children", 0),
            donations.get(year, 0),
        )
        for year in years
    ]
