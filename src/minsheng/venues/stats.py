"""Usage figures of the open venues: entries by hour of day, by venue and by month."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, QuerySet
from django.db.models.functions import ExtractHour, TruncMonth

from minsheng.venues.models import GatePassage, Venue


def entries(venues: QuerySet[Venue], since: dt.datetime) -> QuerySet[GatePassage]:
    return GatePassage.objects.filter(
        venue__in=venues, direction=GatePassage.Direction.IN, allowed=True, at__gte=since
    ).exclude(reason=GatePassage.Reason.ALREADY_INSIDE)


def usage(venues: QuerySet[Venue], since: dt.datetime) -> dict[str, Any]:
    """Counts since ``since`` (local time for hours and months)."""
    rows = entries(venues, since)
    by_hour = dict(
        rows.annotate(hour=ExtractHour("at")).values_list("hour").annotate(n=Count("pk"))
    )
    by_venue = dict(rows.values_list("venue").annotate(n=Count("pk")))
    by_month = [
        (month.date() if isinstance(month, dt.datetime) else month, n)
        for month, n in rows.annotate(month=TruncMonth("at"))
        .values_list("month")
        .annotate(n=Count("pk"))
        .order_by("month")
    ]
    denied = dict(
        GatePassage.objects.filter(venue__in=venues, allowed=False, at__gte=since)
        .values_list("reason")
        .annotate(n=Count("pk"))
    )
    return {
        "total": sum(by_venue.values()),
        "by_hour": [by_hour.get(h, 0) for h in range(24)],
        "by_venue": by_venue,
        "by_month": by_month,
        "denied": denied,
    }
