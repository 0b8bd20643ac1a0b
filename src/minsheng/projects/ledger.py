"""The supervision ledger (督查台账): statuses computed from the plan and the reports.

Everything here reads; ``refresh`` alone writes, and only the computed columns of a project
the caller has locked (the actions after each change, the sweep as days pass). Working days
come from ``core.calendar`` and nowhere else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from minsheng.core import calendar
from minsheng.projects.models import (
    Milestone,
    ProgressReport,
    Project,
    ReportFrequency,
    ReportState,
)
from minsheng.projects.states import LedgerStatus, MilestoneStatus, ProjectState

# How far back "behind for N consecutive months" looks; the ladder's thresholds are a few.
MAX_BEHIND_MONTHS = 24


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    following = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def add_months(day: dt.date, months: int) -> dt.date:
    """The first of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def last_working_day(month: dt.date) -> dt.date:
    """The last working day of ``month`` (a milestone's default due date)."""
    day = month_end(month)
    while not calendar.is_working_day(day):
        day -= dt.timedelta(days=1)
    return day


def period_start(day: dt.date, frequency: str) -> dt.date:
    """The first day of the reporting period ``day`` falls in."""
    if frequency == ReportFrequency.QUARTERLY:
        return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return month_start(day)


def period_months(frequency: str) -> int:
    return 3 if frequency == ReportFrequency.QUARTERLY else 1


def report_due(period: dt.date, frequency: str, working_days: int) -> dt.date:
    """The report of ``period`` is due on the ``working_days``-th working day after it."""
    day = add_months(period, period_months(frequency))
    if not calendar.is_working_day(day):
        day = calendar.next_working_day(day)
    for _step in range(working_days - 1):
        day = calendar.next_working_day(day)
    return day


def local_date(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def milestone_status(milestone: Milestone, today: dt.date) -> MilestoneStatus:
    if milestone.done_at is not None:
        return MilestoneStatus.DONE
    if milestone.due < today:
        return MilestoneStatus.LATE
    return MilestoneStatus.PENDING


def late_working_days(milestone: Milestone, today: dt.date) -> int:
    """Working days a milestone is past its due date (0 when done or not yet due)."""
    if milestone.done_at is not None or milestone.due >= today:
        return 0
    return calendar.working_days_between(milestone.due, today)


def planned_percent(milestones: list[Milestone], period: dt.date) -> int:
    """The cumulative progress the plan promised up to the month ``period``."""
    return max(
        (
            m.planned_percent
            for m in milestones
            if m.planned_percent is not None and m.month <= period
        ),
        default=0,
    )


def _behind_at(
    milestones: list[Milestone], reports: list[ProgressReport], day: dt.date, *, strict: bool
) -> bool:
    """Whether the project was behind at the end of ``day`` (``strict``: only milestones due
    before ``day``; at a month's end a milestone due that day is late already).

    Behind: a milestone past its due date and not done by then, or the latest report up to
    ``day``'s period giving less progress than the plan promised for that period. A period
    not reported yet is no judgement on progress: the report is due in the next month, and
    missing reports are chased on their own.
    """
    for m in milestones:
        passed = m.due < day if strict else m.due <= day
        if passed and (m.done_at is None or local_date(m.done_at) > day):
            return True
    latest = next((r for r in reports if r.period <= day), None)
    if latest is None:
        return False
    return latest.percent_complete < planned_percent(milestones, latest.period)


@dataclass(frozen=True)
class Computed:
    status: LedgerStatus
    behind_months: int


def compute(project: Project, today: dt.date) -> Computed:
    if project.state == ProjectState.CLOSED:
        return Computed(LedgerStatus.CLOSED, 0)
    if project.state == ProjectState.APPLIED:
        return Computed(LedgerStatus.PENDING_ACCEPTANCE, 0)
    if project.state == ProjectState.DRAFT:
        return Computed(LedgerStatus.NORMAL, 0)
    milestones = list(project.milestones.all())
    # The standing reports, latest period first (returned ones do not count).
    reports = list(project.reports.filter(state=ReportState.SUBMITTED).order_by("-period", "-pk"))
    behind = _behind_at(milestones, reports, today, strict=True)
    months = 0
    month = add_months(today, -1)
    started = month_start(local_date(project.start))
    while months < MAX_BEHIND_MONTHS and month >= started:
        if not _behind_at(milestones, reports, month_end(month), strict=False):
            break
        months += 1
        month = add_months(month, -1)
    if project.deadline < today:
        return Computed(LedgerStatus.OVERDUE, months)
    return Computed(LedgerStatus.BEHIND if behind else LedgerStatus.NORMAL, months)


def behind_since(project: Project, today: dt.date) -> dt.date | None:
    """The first month of the current run of months behind (None when not behind)."""
    if not project.behind_months:
        return None
    return add_months(today, -project.behind_months)


def update(
    project: Project, today: dt.date | None = None, now: dt.datetime | None = None
) -> list[str]:
    """Set the computed columns of a locked project as of ``now``; the names of those that
    changed (the caller saves them)."""
    now = now or timezone.now()
    computed = compute(project, today or timezone.localdate(now))
    changed: list[str] = []
    if project.status != computed.status:
        project.status = computed.status
        project.status_changed_at = now
        changed += ["status", "status_changed_at"]
    if project.behind_months != computed.behind_months:
        project.behind_months = computed.behind_months
        changed.append("behind_months")
    return changed


def refresh(project: Project, today: dt.date | None = None, now: dt.datetime | None = None) -> bool:
    """Store the computed status of a locked project; True when it changed."""
    changed = update(project, today, now)
    if changed:
        project.save(update_fields=[*changed, "updated_at"])
    return bool(changed)
