"""The daily KPI rollup: the counts behind every figure of docs/appeals-kpis.md, per day
received × department / town / category / channel, so that a year of KPIs reads a few
thousand small rows instead of every appeal of the year.

Why and how it stays right: docs/decisions/0006-kpi-rollup.md. In short:

- Rows hold the days *before today* (``KpiRollupState.complete_before``); today's figures,
  and everything that depends on the current time (超期未办), are counted live.
- A day is recomputed whole from the appeals received on it (delete + insert), so any change
  to any of its appeals is handled the same way. Which days changed is read from
  ``Appeal.updated_at`` (indexed; every action saves it): the days received of the appeals
  changed since the last refresh's ``watermark``.
- ``refresh()`` runs every five minutes on the worker: the figures of past days are at
  most that much behind (today's are live). Until the first refresh the KPIs are counted
  live from the appeals.
- Every writer first locks the state row: two refreshes never interleave their
  deletes and inserts of a day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from minsheng.appeals.models import (
    Appeal,
    KpiDaily,
    KpiGrain,
    KpiRollupState,
    Rating,
    ReturnRecord,
)
from minsheng.appeals.states import RUNNING_STATES

# A KPI dimension → the appeal's field (``department`` is the lead department).
DIMENSIONS: dict[str, str] = {
    "department": "lead_department",
    "town": "town",
    "category": "category",
    "channel": "channel",
}
# Each grain of the rollup → the dimensions its rows are grouped by.
GRAINS: dict[str, tuple[str, ...]] = {
    KpiGrain.DEPARTMENT: ("department",),
    KpiGrain.TOWN: ("town",),
    KpiGrain.CATEGORY: ("category",),
    KpiGrain.CHANNEL: ("channel",),
    KpiGrain.DEPARTMENT_TOWN: ("department", "town"),
    KpiGrain.DEPARTMENT_CATEGORY: ("department", "category"),
    KpiGrain.DEPARTMENT_CHANNEL: ("department", "channel"),
}
ALL_DIMENSIONS = ("department", "town", "category", "channel")
# How far behind its start a refresh sets the watermark: covers clocks of app servers and
# database that differ a little (the open transactions are covered exactly, see _watermark).
MARGIN = dt.timedelta(seconds=2)
# The most days one query reads when a refresh or rebuild recomputes them.
CHUNK_DAYS = 16


@dataclass
class Tally:
    """The additive counts of a group of appeals (see kpis.KpiRow for their meaning)."""

    received: int = 0
    dispatched: int = 0
    signed_on_time: int = 0
    replied: int = 0
    answered: int = 0  # replied and not back in handling: 应办结 without the overdue ones
    replied_on_time: int = 0
    rated: int = 0
    resolved: int = 0
    satisfied: int = 0
    returned: int = 0  # appeals with a return, counted with their lead department
    rehandled: int = 0
    extended: int = 0
    returns_made: int = 0  # appeals the department returned (department grains only)
    returns_made_away: int = 0  # … of which another department (or none) leads now
    days_count: int = 0
    days_sum: int = 0
    days_histogram: dict[int, int] = field(default_factory=dict)

    def add(self, other: Tally) -> None:
        # Through __dict__: a rebuild adds a few million tallies, getattr/setattr is slower.
        mine, theirs = self.__dict__, other.__dict__
        for name in COUNT_FIELDS:
            mine[name] += theirs[name]
        histogram = self.days_histogram
        for days, n in other.days_histogram.items():
            histogram[days] = histogram.get(days, 0) + n


COUNT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Tally) if f.name != "days_histogram")
# The counts taken from the appeals themselves (the returns come from ReturnRecord).
APPEAL_COUNTS: tuple[str, ...] = tuple(
    name
    for name in COUNT_FIELDS
    if name not in ("returns_made", "returns_made_away", "days_count", "days_sum")
)

Key = tuple[Any, ...]


def appeal_counts() -> dict[str, Count]:
    """The SQL aggregates of ``APPEAL_COUNTS``, none of which depends on the current time."""
    rated = Q(
        satisfaction__in=[Rating.Level.SATISFIED, Rating.Level.BASIC, Rating.Level.UNSATISFIED]
    )
    # Answered: replied and not back in handling after a 重办 (whose old reply time no longer
    # tells whether the new deadline is met).
    answered = Q(replied_at__isnull=False) & ~Q(state__in=list(RUNNING_STATES))
    return {
        "received": Count("pk"),
        "dispatched": Count("pk", filter=Q(dispatched_at__isnull=False)),
        "signed_on_time": Count(
            "pk", filter=Q(signed_at__isnull=False, signed_at__lte=F("sign_due_at"))
        ),
        "replied": Count("pk", filter=Q(replied_at__isnull=False)),
        "answered": Count("pk", filter=answered),
        "replied_on_time": Count("pk", filter=answered & Q(replied_at__lte=F("due_at"))),
        "rated": Count("pk", filter=rated),
        "resolved": Count("pk", filter=rated & Q(resolved=True)),
        "satisfied": Count(
            "pk", filter=Q(satisfaction__in=[Rating.Level.SATISFIED, Rating.Level.BASIC])
        ),
        "returned": Count("pk", filter=Q(return_count__gt=0)),
        "rehandled": Count("pk", filter=Q(rehandle_count__gt=0)),
        "extended": Count("pk", filter=Q(extension_count__gt=0)),
    }


def tally_appeals(
    appeals: QuerySet[Appeal], dims: Iterable[str], extra: Iterable[str] = ()
) -> dict[Key, Tally]:
    """Tallies of ``appeals`` per value of ``dims`` (then of the ``extra`` annotations),
    with the histogram of handling days: one query."""
    names = [DIMENSIONS[d] for d in dims] + list(extra)
    tallies: dict[Key, Tally] = {}
    rows = appeals.values(*names, "handling_days").annotate(**appeal_counts()).order_by()
    for row in rows:
        key = tuple(row[name] for name in names)
        tally = tallies.get(key)
        if tally is None:
            tally = tallies[key] = Tally()
        counts = tally.__dict__
        for name in APPEAL_COUNTS:
            counts[name] += row[name]
        days = row["handling_days"]
        if days is not None:
            n = row["received"]
            tally.days_count += n
            tally.days_sum += days * n
            tally.days_histogram[days] = tally.days_histogram.get(days, 0) + n
    return tallies


def tally_returns(
    records: QuerySet[ReturnRecord], dims: Iterable[str], extra: Iterable[str] = ()
) -> dict[Key, Tally]:
    """Returns per department that made them (``department`` in ``dims``) and the appeal's
    other dimensions: each appeal once per department, however often it returned it."""
    names = [
        "department" if d == "department" else f"appeal__{DIMENSIONS[d]}" for d in dims
    ] + list(extra)
    away = Q(appeal__lead_department__isnull=True) | ~Q(appeal__lead_department=F("department"))
    tallies: dict[Key, Tally] = {}
    rows = (
        records.values(*names)
        .annotate(
            n=Count("appeal", distinct=True),
            away=Count("appeal", distinct=True, filter=away),
        )
        .order_by()
    )
    for row in rows:
        key = tuple(row[name] for name in names)
        tallies[key] = Tally(returns_made=row["n"], returns_made_away=row["away"])
    return tallies


def project(
    tallies: dict[Key, Tally], dims: tuple[str, ...], keep: tuple[str, ...]
) -> dict[Key, Tally]:
    """Sum tallies keyed by ``dims`` into tallies keyed by the subset ``keep``."""
    positions = [dims.index(d) for d in keep]
    out: dict[Key, Tally] = {}
    for key, tally in tallies.items():
        short = tuple(key[i] for i in positions)
        total = out.get(short)
        if total is None:
            total = out[short] = Tally()
        total.add(tally)
    return out


# ---------------------------------------------------------------- days


def midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def local_day() -> TruncDate:
    return TruncDate("received_at", tzinfo=timezone.get_current_timezone())


def _chunks(days: list[dt.date]) -> Iterable[list[dt.date]]:
    """Sorted days in runs no longer than ``CHUNK_DAYS`` (one query each)."""
    chunk: list[dt.date] = []
    for day in sorted(days):
        if chunk and (day - chunk[0]).days >= CHUNK_DAYS:
            yield chunk
            chunk = []
        chunk.append(day)
    if chunk:
        yield chunk


def _rows_for(days: list[dt.date]) -> list[KpiDaily]:
    """The rollup rows of ``days`` (sorted, within ``CHUNK_DAYS``), from two queries."""
    # Only the days asked for: the changed days of a refresh are scattered over months.
    received = Q(pk__in=[])
    returned = Q(pk__in=[])
    for day in days:
        start, end = midnight(day), midnight(day + dt.timedelta(days=1))
        received |= Q(received_at__gte=start, received_at__lt=end)
        returned |= Q(appeal__received_at__gte=start, appeal__received_at__lt=end)
    appeals = Appeal.objects.filter(received, merged_into__isnull=True).annotate(day=local_day())
    records = ReturnRecord.objects.filter(returned, appeal__merged_into__isnull=True).annotate(
        day=TruncDate("appeal__received_at", tzinfo=timezone.get_current_timezone())
    )
    finest = tally_appeals(appeals, ALL_DIMENSIONS, extra=("day",))
    returns = tally_returns(records, ALL_DIMENSIONS, extra=("day",))
    wanted = set(days)
    dims = (*ALL_DIMENSIONS, "day")
    rows: list[KpiDaily] = []
    for grain, grain_dims in GRAINS.items():
        keep = (*grain_dims, "day")
        tallies = project(finest, dims, keep)
        if "department" in grain_dims:
            for key, tally in project(returns, dims, keep).items():
                tallies.setdefault(key, Tally()).add(tally)
        for key, tally in tallies.items():
            values = dict(zip(keep, key, strict=True))
            if values["day"] not in wanted:
                continue
            rows.append(
                KpiDaily(
                    day=values["day"],
                    grain=grain,
                    department_id=values.get("department"),
                    town_id=values.get("town"),
                    category_id=values.get("category"),
                    channel=values.get("channel") or "",
                    days_histogram={str(k): v for k, v in sorted(tally.days_histogram.items())},
                    **{name: getattr(tally, name) for name in COUNT_FIELDS},
                )
            )
    return rows


def _recompute(days: Iterable[dt.date]) -> int:
    """Replace the rows of ``days``; the caller holds the state row's lock."""
    written = 0
    for chunk in _chunks(list(days)):
        rows = _rows_for(chunk)
        KpiDaily.objects.filter(day__in=chunk).delete()
        KpiDaily.objects.bulk_create(rows, batch_size=2000)
        written += len(rows)
    return written


def _locked_state() -> KpiRollupState:
    KpiRollupState.objects.get_or_create(pk=1)
    return KpiRollupState.objects.select_for_update().get(pk=1)


def _watermark(started: dt.datetime) -> dt.datetime:
    """Appeals changed before this are in the rollup once the refresh that started at
    ``started`` commits. A transaction still open elsewhere may commit a change it made
    before ``started`` after the refresh read the day: such changes are found again next
    time because the watermark stays behind the oldest open transaction."""
    oldest = started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT min(xact_start) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND xact_start IS NOT NULL"
            )
            (first,) = cursor.fetchone()
        if first is not None:
            oldest = min(oldest, first)
    return oldest - MARGIN


def _days_received(appeals: QuerySet[Appeal]) -> set[dt.date]:
    return set(appeals.annotate(day=local_day()).values_list("day", flat=True).distinct())


@dataclass(frozen=True)
class RefreshResult:
    days: int
    rows: int

    def __str__(self) -> str:
        return f"重算 {self.days} 天，写入 {self.rows} 行"


def is_fresh(today: dt.date | None = None) -> bool:
    """Whether the rollup holds every day before ``today`` as it is now (no lock taken)."""
    today = today or timezone.localdate()
    state = KpiRollupState.objects.filter(pk=1).first()
    if state is None or state.watermark is None or state.complete_before != today:
        return False
    return not Appeal.objects.filter(updated_at__gte=state.watermark).exists()


def refresh(today: dt.date | None = None) -> RefreshResult:
    """Bring the rollup up to date: the days whose appeals changed since the last refresh,
    and the days that ended since. Cheap when nothing changed."""
    today = today or timezone.localdate()
    if is_fresh(today):
        return RefreshResult(0, 0)
    with transaction.atomic():
        state = _locked_state()
        started = timezone.now()
        full = state.watermark is None or state.complete_before is None
        if full:
            days = _days_received(Appeal.objects.all())
        else:
            assert state.watermark is not None and state.complete_before is not None
            days = _days_received(Appeal.objects.filter(updated_at__gte=state.watermark))
            if state.complete_before < today:
                # Days that ended since the last refresh come in whole.
                days |= _days_received(
                    Appeal.objects.filter(
                        received_at__gte=midnight(state.complete_before),
                        received_at__lt=midnight(today),
                    )
                )
        days = {d for d in days if d < today}
        if not full and len(days) <= CHUNK_DAYS:
            # The usual case: a few days, in this one short transaction.
            rows = _recompute(days)
            _advance(state, started, today)
            return RefreshResult(len(days), rows)
    # Many days (the first build, a bulk change): a chunk per transaction, so that the
    # state row is never locked for long.
    return _recompute_in_chunks(sorted(days), started, today, prune=full)


def _advance(state: KpiRollupState, started: dt.datetime, today: dt.date) -> None:
    state.watermark = _watermark(started)
    state.complete_before = today
    state.refreshed_at = timezone.now()
    state.save()


def _recompute_in_chunks(
    days: list[dt.date],
    started: dt.datetime,
    today: dt.date,
    *,
    prune: bool,
    progress: Callable[[int, int], None] | None = None,
) -> RefreshResult:
    done = 0
    rows = 0
    if progress is not None:
        progress(0, len(days))
    for chunk in _chunks(days):
        with transaction.atomic():
            _locked_state()
            rows += _recompute(chunk)
        done += len(chunk)
        if progress is not None:
            progress(done, len(days))
    with transaction.atomic():
        state = _locked_state()
        if prune:
            # Days without appeals any more (deleted ones) keep no rows.
            KpiDaily.objects.exclude(day__in=days).delete()
        _advance(state, started, today)
    return RefreshResult(len(days), rows)


def rebuild(
    progress: Callable[[int, int], None] | None = None, today: dt.date | None = None
) -> RefreshResult:
    """Recompute every day (after a bulk import, a restore, or to check the rollup), a
    chunk of days per transaction so that the dashboard keeps answering meanwhile.
    ``progress(done, total)`` is told the days done."""
    today = today or timezone.localdate()
    started = timezone.now()
    days = sorted(d for d in _days_received(Appeal.objects.all()) if d < today)
    return _recompute_in_chunks(days, started, today, prune=True, progress=progress)
