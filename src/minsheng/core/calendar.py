"""The working-day calendar: the only place that knows what a working day is.

Every deadline in the product comes from here. A day is a working day according to, in order:

1. the ``HolidayDay`` table (the State Council's yearly notice, imported by an admin);
2. the ``chinesecalendar`` package, for the years it covers (2004–2026 in 1.11);
3. Monday to Friday, for a year neither of them knows. Deadlines that depend on such a year
   are marked *provisional* and recomputed by the apps when the year's notice is imported
   (see ``register_provisional_recompute``).

Counting follows the civil code (民法典第二百零一条): the day a period starts is not counted.
Something received on a working day up to ``WORKDAY_CUTOFF`` starts on that day; received
later, or on a day off, it starts on the next working day. ``add_working_days(moment, n)``
is due at the end of the n-th working day after the start day; n=0 means "the same day".

Each process keeps the computed years in memory. Changes to ``HolidayDay`` clear that memory
at once in the process that made them, and, once committed, bump a version token in Django's
cache that the other processes look at every ``VERSION_CHECK_SECONDS``.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
import datetime as dt
import logging
import time
import uuid
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import chinese_calendar
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from minsheng.core import audit, policy
from minsheng.core.models.calendar import HolidayDay

if TYPE_CHECKING:
    from minsheng.core.policy import AnyUser

logger = logging.getLogger(__name__)

# Chinese statutory holidays are days in China, whatever TIME_ZONE or the viewer's zone says.
CALENDAR_TZ = ZoneInfo("Asia/Shanghai")

VERSION_KEY = "minsheng:calendar:version"
# How stale another process's view of the HolidayDay table may get. Holiday notices come
# once a year, so seconds do not matter; a cache round trip on every call would.
VERSION_CHECK_SECONDS = 10.0

# The years chinesecalendar has data for: the same rule it uses to raise NotImplementedError.
_PACKAGE_FIRST_YEAR = min(chinese_calendar.holidays).year
_PACKAGE_LAST_YEAR = max(chinese_calendar.holidays).year

WEEKDAY_NAMES = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")


@dataclass(frozen=True)
class Deadline:
    """When something is due. ``provisional`` when a year on the way was not known."""

    due_at: dt.datetime
    provisional: bool


# -- per-year data and its cache -------------------------------------------------------------


@dataclass(frozen=True)
class _Year:
    year: int
    known: bool
    first: int  # ordinal of 1 January
    flags: bytes  # one byte per day of the year: 1 for a working day
    workdays: tuple[int, ...]  # ordinals of the working days, ascending

    def is_working(self, ordinal: int) -> bool:
        return bool(self.flags[ordinal - self.first])


@dataclass
class _Cache:
    years: dict[int, _Year] = field(default_factory=dict)
    version: str | None = None  # the shared token the years were loaded under
    checked_at: float = float("-inf")
    # HolidayDay changed in a transaction that has not committed yet: what this process reads
    # now may be rolled back, so it is not kept.
    dirty: bool = False


_cache = _Cache()


def _package_says_working(day: dt.date) -> bool | None:
    """chinesecalendar's answer, or None for a year it does not cover."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


def _load_year(year: int) -> _Year:
    first = dt.date(year, 1, 1)
    length = 366 if _stdlib_calendar.isleap(year) else 365
    table = dict(
        HolidayDay.objects.filter(date__range=(first, dt.date(year, 12, 31))).values_list(
            "date", "kind"
        )
    )
    in_package = _PACKAGE_FIRST_YEAR <= year <= _PACKAGE_LAST_YEAR
    flags = bytearray(length)
    for offset in range(length):
        day = first + dt.timedelta(days=offset)
        kind = table.get(day)
        if kind is not None:
            working = kind == HolidayDay.Kind.WORKDAY
        else:
            package = _package_says_working(day) if in_package else None
            working = day.weekday() < 5 if package is None else package
        flags[offset] = working
    base = first.toordinal()
    return _Year(
        year=year,
        known=in_package or bool(table),
        first=base,
        flags=bytes(flags),
        workdays=tuple(base + i for i, working in enumerate(flags) if working),
    )


def _shared_version() -> str | None:
    try:
        return cache.get(VERSION_KEY)
    except Exception:  # a cache outage must not stop deadlines; the local data stays usable
        logger.warning("could not read the calendar version from the cache", exc_info=True)
        return _cache.version


def _refresh_if_stale() -> None:
    now = time.monotonic()
    if now - _cache.checked_at < VERSION_CHECK_SECONDS:
        return
    _cache.checked_at = now
    version = _shared_version()
    if version != _cache.version:
        _cache.years.clear()
        _cache.version = version


def _uncommitted_changes() -> bool:
    if not _cache.dirty:
        return False
    if transaction.get_connection().in_atomic_block:
        return True
    # The transaction ended without committing (its on-commit hook would have reset the
    # flag), so whatever was read inside it is gone with it.
    _cache.dirty = False
    _cache.years.clear()
    return False


def _year(year: int) -> _Year:
    _refresh_if_stale()
    data = _cache.years.get(year)
    if data is None:
        data = _load_year(year)
        if not _uncommitted_changes():
            _cache.years[year] = data
    return data


def clear_cache() -> None:
    """Forget every computed year in this process (tests call it between cases)."""
    _cache.years.clear()
    _cache.version = None
    _cache.checked_at = float("-inf")
    _cache.dirty = False


def _publish_change() -> None:
    token = uuid.uuid4().hex
    try:
        cache.set(VERSION_KEY, token, timeout=None)
    except Exception:  # the change is committed; other processes will catch up on restart
        logger.warning("could not publish the calendar version to the cache", exc_info=True)
    _cache.years.clear()
    _cache.version = token
    _cache.dirty = False


def _holiday_changed(sender: type[HolidayDay], using: str, **kwargs: Any) -> None:
    _cache.years.clear()
    _cache.dirty = True
    transaction.on_commit(_publish_change, using=using)


post_save.connect(_holiday_changed, sender=HolidayDay, dispatch_uid="calendar.holiday_saved")
post_delete.connect(_holiday_changed, sender=HolidayDay, dispatch_uid="calendar.holiday_deleted")


# -- moments and days ------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _parse_cutoff(value: str) -> dt.time:
    try:
        return dt.time.fromisoformat(value.strip())
    except ValueError:
        raise ImproperlyConfigured(
            f"WORKDAY_CUTOFF 应为 HH:MM 格式的时间，而不是 {value!r}"
        ) from None


def cutoff() -> dt.time:
    return _parse_cutoff(settings.WORKDAY_CUTOFF)


def _local_day(moment: dt.datetime | dt.date) -> tuple[dt.date, bool]:
    """The calendar day of ``moment`` in China, and whether it is after the cut-off.

    A bare date stands for the start of that day.
    """
    if not isinstance(moment, dt.datetime):
        return moment, False
    if timezone.is_naive(moment):
        raise ValueError("the calendar needs an aware datetime, not a naive one")
    local = moment.astimezone(CALENDAR_TZ)
    return local.date(), local.time().replace(tzinfo=None) > cutoff()


def end_of_day(day: dt.date) -> dt.datetime:
    """The last instant of ``day`` in China: what a deadline on that day means."""
    return dt.datetime.combine(day, dt.time.max, tzinfo=CALENDAR_TZ)


def _nth_working_day_after(ordinal: int, n: int) -> tuple[int, bool]:
    """The ordinal of the n-th working day after day ``ordinal`` (n >= 1), and whether an
    unknown year was consulted on the way."""
    year = dt.date.fromordinal(ordinal).year
    provisional = False
    while True:
        data = _year(year)
        provisional = provisional or not data.known
        index = bisect_right(data.workdays, ordinal)
        available = len(data.workdays) - index
        if n <= available:
            return data.workdays[index + n - 1], provisional
        n -= available
        year += 1


def _start(moment: dt.datetime | dt.date) -> tuple[int, bool]:
    day, after_cutoff = _local_day(moment)
    data = _year(day.year)
    ordinal = day.toordinal()
    if not after_cutoff and data.is_working(ordinal):
        return ordinal, not data.known
    start, provisional = _nth_working_day_after(ordinal, 1)
    return start, provisional or not data.known


# -- the public API --------------------------------------------------------------------------


def is_working_day(day: dt.date) -> bool:
    """Whether ``day`` is a working day (a date; for a datetime pass its local date)."""
    if isinstance(day, dt.datetime):
        raise TypeError("is_working_day takes a date; use start_day() for a moment")
    return _year(day.year).is_working(day.toordinal())


def year_known(year: int) -> bool:
    """Whether the holidays of ``year`` are known (package or imported notice)."""
    return _year(year).known


def start_day(moment: dt.datetime | dt.date) -> dt.date:
    """The day the clock starts for something received at ``moment``: that day if it is a
    working day and the moment is not after the cut-off, otherwise the next working day."""
    return dt.date.fromordinal(_start(moment)[0])


def next_working_day(day: dt.date) -> dt.date:
    """The first working day after ``day``."""
    return dt.date.fromordinal(_nth_working_day_after(day.toordinal(), 1)[0])


def add_working_days(moment: dt.datetime | dt.date, n: int) -> Deadline:
    """The deadline ``n`` working days after ``moment``: the end of the n-th working day after
    the start day; ``n=0`` is the end of the start day itself (urgent, same-day items)."""
    if n < 0:
        raise ValueError("n must not be negative")
    ordinal, provisional = _start(moment)
    if n:
        ordinal, later = _nth_working_day_after(ordinal, n)
        provisional = provisional or later
    return Deadline(due_at=end_of_day(dt.date.fromordinal(ordinal)), provisional=provisional)


def working_days_between(start: dt.datetime | dt.date, end: dt.datetime | dt.date) -> int:
    """How many working days the clock has run from ``start`` to ``end``.

    Counts the working days after ``start_day(start)`` up to and including the day of ``end``
    (its time of day does not matter), so that
    ``working_days_between(m, add_working_days(m, n).due_at) == n``. Never negative: an
    ``end`` on or before the start day gives 0.
    """
    first, _provisional = _start(start)
    last = _local_day(end)[0].toordinal()
    count = 0
    for year in range(
        dt.date.fromordinal(first).year, dt.date.fromordinal(max(first, last)).year + 1
    ):
        workdays = _year(year).workdays
        count += max(0, bisect_right(workdays, last) - bisect_right(workdays, first))
    return count


def is_overdue(due_at: dt.datetime, now: dt.datetime | None = None) -> bool:
    return (now or timezone.now()) > due_at


def due_soon(due_at: dt.datetime, now: dt.datetime | None = None, within_days: int = 1) -> bool:
    """Not overdue yet, and due by the end of the ``within_days``-th working day after today
    (0: by the end of today). Counts from today's date: the cut-off is about when something
    arrives, not about how much time is left."""
    if within_days < 0:
        raise ValueError("within_days must not be negative")
    now = now or timezone.now()
    if is_overdue(due_at, now):
        return False
    limit = _local_day(now)[0]
    if within_days:
        limit = dt.date.fromordinal(_nth_working_day_after(limit.toordinal(), within_days)[0])
    return due_at <= end_of_day(limit)


# -- describing a year (for `minsheng holidays show` and the admin) --------------------------


@dataclass(frozen=True)
class SpecialDay:
    date: dt.date
    working: bool
    name: str
    imported: bool  # from the HolidayDay table rather than the package

    @property
    def weekday_name(self) -> str:
        return WEEKDAY_NAMES[self.date.weekday()]


@dataclass(frozen=True)
class YearSummary:
    year: int
    known: bool
    in_package: bool
    imported_count: int
    working_days: int
    special_days: tuple[SpecialDay, ...]


def _chinese_holiday_name(name: str | None) -> str:
    try:
        return str(chinese_calendar.Holiday(name).chinese)
    except ValueError:
        return name or ""


def describe_year(year: int) -> YearSummary:
    """The holidays and make-up working days of ``year`` as the calendar sees them."""
    in_package = _PACKAGE_FIRST_YEAR <= year <= _PACKAGE_LAST_YEAR
    days: dict[dt.date, SpecialDay] = {}
    if in_package:
        for source, working in (
            (chinese_calendar.holidays, False),
            (chinese_calendar.workdays, True),
        ):
            for day, name in source.items():
                if day.year == year:
                    days[day] = SpecialDay(
                        day, working, _chinese_holiday_name(name), imported=False
                    )
    rows = HolidayDay.objects.filter(date__year=year)
    for row in rows:
        days[row.date] = SpecialDay(
            row.date, row.kind == HolidayDay.Kind.WORKDAY, row.name, imported=True
        )
    data = _year(year)
    return YearSummary(
        year=year,
        known=data.known,
        in_package=in_package,
        imported_count=sum(1 for d in days.values() if d.imported),
        working_days=len(data.workdays),
        special_days=tuple(sorted(days.values(), key=lambda d: d.date)),
    )


def package_years() -> range:
    return range(_PACKAGE_FIRST_YEAR, _PACKAGE_LAST_YEAR + 1)


def imported_years() -> list[int]:
    return sorted({d.year for d in HolidayDay.objects.dates("date", "year")})


# -- recomputing provisional deadlines -------------------------------------------------------

RecomputeFunction = Callable[[frozenset[int]], object]
_recompute_functions: list[RecomputeFunction] = []


def register_provisional_recompute(fn: RecomputeFunction) -> RecomputeFunction:
    """Register ``fn(years)``, called after a change to the holidays of ``years`` commits.

    It should recompute the open items whose deadline is provisional and whose period
    touches one of ``years``. Usable as a decorator; registering twice is harmless.
    """
    if fn not in _recompute_functions:
        _recompute_functions.append(fn)
    return fn


def schedule_provisional_recompute(years: Iterable[int]) -> None:
    """Call every registered function for ``years`` once the current transaction commits.

    Each runs on its own: one that fails is logged and does not stop the others.
    """
    frozen = frozenset(years)
    if not frozen:
        return
    for fn in _recompute_functions:
        transaction.on_commit(_bind(fn, frozen), robust=True)


def _bind(fn: RecomputeFunction, years: frozenset[int]) -> Callable[[], None]:
    def recompute() -> None:
        fn(years)

    # Django names a failing on-commit hook by its __qualname__ in the log: name the app's.
    recompute.__qualname__ = getattr(fn, "__qualname__", repr(fn))
    return recompute


# -- actions on single holiday entries (the admin's add/edit/delete) -------------------------

_HOLIDAY_FIELDS = ("date", "kind", "name", "source")


@transaction.atomic
def save_holiday(
    day: HolidayDay, *, by: AnyUser | None, before: dict[str, Any] | None = None
) -> HolidayDay:
    """Create or change one entry. ``by=None`` is the command line (shell access already).

    ``before`` is the entry's state before the change, for the audit trail and to recompute
    the year it moved away from.
    """
    if by is not None:
        policy.require(by, "holiday.manage")
    day.full_clean()
    day.save()
    after = audit.snapshot(day, _HOLIDAY_FIELDS)
    audit.record(by, "holiday.saved", day, before=before, after=after)
    years = {day.date.year}
    if before is not None:
        years.add(dt.date.fromisoformat(before["date"]).year)
    schedule_provisional_recompute(years)
    return day


@transaction.atomic
def delete_holidays(days: Iterable[HolidayDay], *, by: AnyUser | None) -> int:
    if by is not None:
        policy.require(by, "holiday.manage")
    years: set[int] = set()
    count = 0
    for day in days:
        before = audit.snapshot(day, _HOLIDAY_FIELDS)
        audit.record(by, "holiday.deleted", day, before=before)
        years.add(day.date.year)
        day.delete()
        count += 1
    schedule_provisional_recompute(years)
    return count
