"""The centres' figures, per centre, per town and for the county: opinions collected,
matters handled (办结), disputes mediated and resolved (调解成功), follow-up visits made and
overdue, and each batch's progress. Every number is a grouped SQL count; Python only puts
the few group rows (one per centre, town or batch) together."""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.centres.models import Batch, Centre, CentreFunction, Dispute, Matter, Opinion, Status
from minsheng.core.models import Division


@dataclass(frozen=True)
class Counts:
    opinions: int = 0
    matters: int = 0
    matters_done: int = 0
    disputes: int = 0
    disputes_resolved: int = 0
    follow_ups_done: int = 0
    follow_ups_overdue: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__))


def counts_by(
    centres: QuerySet[Centre], key: str, now: dt.datetime | None = None
) -> dict[Hashable, Counts]:
    """The counts of ``centres``' records grouped by ``key``, a path from a record to its
    centre or beyond (``"centre"``, ``"centre__village__parent"``): three grouped queries."""
    now = now or timezone.now()
    opinions = dict(
        Opinion.objects.filter(centre__in=centres)
        .order_by()
        .values_list(key)
        .annotate(n=Count("pk"))
    )
    matters = {
        row[key]: row
        for row in Matter.objects.filter(centre__in=centres)
        .order_by()
        .values(key)
        .annotate(n=Count("pk"), done=Count("pk", filter=Q(outcome=Matter.Outcome.DONE)))
    }
    disputes = {
        row[key]: row
        for row in Dispute.objects.filter(centre__in=centres)
        .order_by()
        .values(key)
        .annotate(
            n=Count("pk"),
            resolved=Count("pk", filter=Q(outcome=Dispute.Outcome.RESOLVED)),
            visited=Count("pk", filter=Q(follow_up_done_on__isnull=False)),
            overdue=Count("pk", filter=Q(follow_up_done_on__isnull=True, follow_up_due_at__lt=now)),
        )
    }
    result: dict[Hashable, Counts] = {}
    for group in set(opinions) | set(matters) | set(disputes):
        m = matters.get(group, {})
        d = disputes.get(group, {})
        result[group] = Counts(
            opinions=opinions.get(group, 0),
            matters=m.get("n", 0),
            matters_done=m.get("done", 0),
            disputes=d.get("n", 0),
            disputes_resolved=d.get("resolved", 0),
            follow_ups_done=d.get("visited", 0),
            follow_ups_overdue=d.get("overdue", 0),
        )
    return result


@dataclass(frozen=True)
class Progress:
    """How far the construction of a set of centres is."""

    centres: int = 0
    planned: int = 0
    building: int = 0
    basic: int = 0
    in_use: int = 0

    @property
    def built(self) -> int:
        return self.basic + self.in_use

    def __add__(self, other: Progress) -> Progress:
        return Progress(*(getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__))


def progress_by(centres: QuerySet[Centre], key: str) -> dict[Hashable, Progress]:
    """The centres counted by status, grouped by ``key`` (``"batch"``, ``"village__parent"``)."""
    rows = (
        centres.order_by()
        .values(key)
        .annotate(
            n=Count("pk"),
            **{status: Count("pk", filter=Q(status=status)) for status in Status.values},
        )
    )
    return {
        row[key]: Progress(
            row["n"],
            row[Status.PLANNED],
            row[Status.BUILDING],
            row[Status.BASIC],
            row[Status.IN_USE],
        )
        for row in rows
    }


@dataclass(frozen=True)
class Line:
    """One row of a figures table: a centre, a town or a batch."""

    key: int | None
    label: str
    progress: Progress = field(default_factory=Progress)
    counts: Counts = field(default_factory=Counts)


def by_town(centres: QuerySet[Centre], now: dt.datetime | None = None) -> list[Line]:
    progress = progress_by(centres, "village__parent")
    counts = counts_by(centres, "centre__village__parent", now)
    towns = Division.objects.filter(pk__in=[k for k in progress if k is not None])
    return [
        Line(town.pk, town.name, progress[town.pk], counts.get(town.pk, Counts()))
        for town in towns.order_by("code")
    ]


def by_batch(centres: QuerySet[Centre]) -> list[Line]:
    """Each batch's villages, built (basic or in use) and in use; centres in no batch last."""
    progress = progress_by(centres, "batch")
    batches = Batch.objects.filter(pk__in=[k for k in progress if k is not None])
    lines = [Line(b.pk, b.name, progress[b.pk]) for b in batches.order_by("year", "pk")]
    if None in progress:
        lines.append(Line(None, _("未列入批次"), progress[None]))
    return lines


def by_centre(centres: QuerySet[Centre], now: dt.datetime | None = None) -> dict[int, Counts]:
    counts = counts_by(centres, "centre", now)
    return {int(k): v for k, v in counts.items() if isinstance(k, int)}


@dataclass(frozen=True)
class Functions:
    """How many of the seven basic functions and of the extensions are in service."""

    basic: int = 0
    extensions: int = 0


def functions_by_centre(centres: QuerySet[Centre]) -> dict[int, Functions]:
    rows = (
        CentreFunction.objects.filter(centre__in=centres, in_service=True, kind__active=True)
        .order_by()
        .values("centre")
        .annotate(
            basic=Count("pk", filter=Q(kind__basic=True)),
            extensions=Count("pk", filter=Q(kind__basic=False)),
        )
    )
    return {row["centre"]: Functions(row["basic"], row["extensions"]) for row in rows}


def total(lines: list[Line]) -> Line:
    return Line(
        None,
        _("合计"),
        sum((line.progress for line in lines), Progress()),
        sum((line.counts for line in lines), Counts()),
    )


@dataclass(frozen=True)
class CountyFigures:
    """The county's centres in one object, for the leaders' dashboard."""

    progress: Progress  # how many centres, by construction status (built = basic + in use)
    counts: Counts  # opinions, matters, disputes and follow-ups of every centre
    towns: list[Line]
    batches: list[Line]

    @property
    def built(self) -> int:
        return self.progress.built


def county_figures(now: dt.datetime | None = None) -> CountyFigures:
    centres = Centre.objects.all()
    towns = by_town(centres, now)
    overall = total(towns)
    return CountyFigures(overall.progress, overall.counts, towns, by_batch(centres))
