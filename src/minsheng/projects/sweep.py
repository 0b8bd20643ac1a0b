"""The ledger sweep: reporting periods, chasing missing reports, automatic escalation by the
county's rules, and the ledger statuses as days pass.

Run hourly by the worker (``projects.tasks``) and by ``minsheng projects sweep``. Each project
is handled in its own short transaction under its row lock, the lock the actions take, so a
report that arrives meanwhile is either seen or waits. Every message is recorded with what it
is about (``ReportDue.reminded_at``/``chased_at``, ``Escalation.rule_key``) in the transaction
that writes it: a second run sends and issues nothing new.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.core import calendar
from minsheng.projects import actions, ledger
from minsheng.projects.models import (
    Escalation,
    EscalationRule,
    Milestone,
    Project,
    ProjectSettings,
    ReportDue,
)
from minsheng.projects.states import EscalationStep, ProjectState, Trigger

# Called after each project with (projects done, projects in all).
Progress = Callable[[int, int], None]

LABELS = {
    "periods": "新增报送期",
    "reminded": "报送提醒",
    "chased": "逾期未报催报",
    "escalations": "自动督办",
    "statuses": "台账状态变化",
}


@dataclass
class SweepResult:
    periods: int = 0
    reminded: int = 0
    chased: int = 0
    escalations: int = 0
    statuses: int = 0

    def __str__(self) -> str:
        return "，".join(f"{LABELS[f.name]} {getattr(self, f.name)}" for f in fields(self))

    @property
    def total(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self))


@dataclass(frozen=True)
class Firing:
    """One escalation a rule asks for: what about, and the key that makes it happen once."""

    key: str
    text: str
    milestone: Milestone | None = None
    period: dt.date | None = None


def sweep(now: dt.datetime | None = None, progress: Progress | None = None) -> SweepResult:
    now = now or timezone.now()
    today = timezone.localdate(now)
    settings = ProjectSettings.current()
    rules = list(EscalationRule.objects.filter(active=True))
    result = SweepResult()
    ids = list(Project.objects.open().order_by("pk").values_list("pk", flat=True))
    for done, project_id in enumerate(ids, start=1):
        with transaction.atomic():
            project = Project.objects.select_for_update().filter(pk=project_id).first()
            if project is not None and project.is_open:
                _sweep_project(project, settings, rules, now, today, result)
        if progress is not None:
            progress(done, len(ids))
    return result


def _periods(project: Project, frequency: str, today: dt.date) -> Iterator[dt.date]:
    """The finished reporting periods since the one the project was started (下达) in."""
    step = ledger.period_months(frequency)
    period = ledger.period_start(ledger.local_date(project.start), frequency)
    current = ledger.period_start(today, frequency)
    while period < current:
        yield period
        period = ledger.add_months(period, step)


def _sweep_project(
    project: Project,
    settings: ProjectSettings,
    rules: list[EscalationRule],
    now: dt.datetime,
    today: dt.date,
    result: SweepResult,
) -> None:
    if project.state == ProjectState.ACTIVE:
        _report_dues(project, settings, now, today, result)
    if ledger.refresh(project, today, now):
        result.statuses += 1
    if project.state == ProjectState.ACTIVE:
        for rule in rules:
            for firing in _firings(project, rule, now, today):
                if _fire(project, rule, firing, now, today):
                    result.escalations += 1


def _report_dues(
    project: Project,
    settings: ProjectSettings,
    now: dt.datetime,
    today: dt.date,
    result: SweepResult,
) -> None:
    frequency = settings.report_frequency
    existing = set(project.report_dues.values_list("period", flat=True))
    new = [
        ReportDue(
            project=project,
            period=period,
            due=ledger.report_due(period, frequency, settings.report_due_working_days),
        )
        for period in _periods(project, frequency, today)
        if period not in existing
    ]
    ReportDue.objects.bulk_create(new)
    result.periods += len(new)
    for due in project.report_dues.filter(submitted_report__isnull=True, reminded_at__isnull=True):
        label = _period_label(due.period, frequency)
        actions.notify_unit(
            project,
            _("请于%(due)s前报送“%(t)s”%(p)s进展")
            % {"due": f"{due.due:%m月%d日}", "t": project.title, "p": label},
            "projects.report.remind",
        )
        due.reminded_at = now
        due.save(update_fields=["reminded_at"])
        result.reminded += 1
    for due in project.report_dues.filter(
        submitted_report__isnull=True, chased_at__isnull=True, due__lt=today
    ):
        actions.notify_unit(
            project,
            _("“%(t)s”%(p)s进展已逾期未报（期限%(due)s），请立即报送")
            % {
                "t": project.title,
                "p": _period_label(due.period, frequency),
                "due": f"{due.due:%m月%d日}",
            },
            "projects.report.chase",
        )
        due.chased_at = now
        due.save(update_fields=["chased_at"])
        result.chased += 1


def _period_label(period: dt.date, frequency: str) -> str:
    if ledger.period_months(frequency) == 3:
        return _("%(y)s年第%(q)s季度") % {"y": period.year, "q": (period.month - 1) // 3 + 1}
    return f"{period:%Y年%m月}"


def _firings(
    project: Project, rule: EscalationRule, now: dt.datetime, today: dt.date
) -> Iterator[Firing]:
    name = f"“{project.title}”"
    if rule.trigger in (Trigger.MILESTONE_LATE, Trigger.MILESTONE_LATE_DAYS):
        for m in project.milestones.filter(done_at__isnull=True, due__lt=today):
            days = ledger.late_working_days(m, today)
            if days >= rule.threshold:
                yield Firing(
                    key=f"m{m.pk}:{m.due:%Y%m%d}",
                    milestone=m,
                    text=_(
                        "%(p)s计划节点“%(m)s”应于%(due)s完成，现已滞后%(d)s个工作日，请抓紧推进。"
                    )
                    % {"p": name, "m": m.title, "due": f"{m.due:%Y年%m月%d日}", "d": days},
                )
    elif rule.trigger == Trigger.REPORT_MISSING:
        for due in project.report_dues.filter(submitted_report__isnull=True, due__lt=today):
            days = calendar.working_days_between(due.due, today)
            if days >= rule.threshold:
                yield Firing(
                    key=f"p{due.period:%Y%m}",
                    period=due.period,
                    text=_("%(p)s%(per)s进展应于%(due)s前报送，已逾期%(d)s个工作日，请立即报送。")
                    % {
                        "p": name,
                        "per": f"{due.period:%Y年%m月}",
                        "due": f"{due.due:%Y年%m月%d日}",
                        "d": days,
                    },
                )
    elif rule.trigger == Trigger.BEHIND_MONTHS:
        since = ledger.behind_since(project, today)
        if since is not None and project.behind_months >= max(rule.threshold, 1):
            yield Firing(
                key=f"b{since:%Y%m}",
                text=_("%(p)s自%(since)s起已连续%(n)s个月滞后于计划。")
                % {"p": name, "since": f"{since:%Y年%m月}", "n": project.behind_months},
            )
    elif rule.trigger == Trigger.DEADLINE_MISSED:
        if project.deadline < today:
            yield Firing(
                key=f"d{project.deadline:%Y%m%d}",
                text=_("%(p)s完成时限为%(due)s，至今未完成销号。")
                % {"p": name, "due": f"{project.deadline:%Y年%m月%d日}"},
            )
    elif rule.trigger == Trigger.UNRESOLVED and rule.after_step:
        label = EscalationStep(rule.after_step).label
        for earlier in project.escalations.open().filter(step=rule.after_step):
            days = calendar.working_days_between(earlier.issued_at, now)
            if days >= rule.threshold:
                yield Firing(
                    key=f"e{earlier.pk}",
                    milestone=earlier.milestone,
                    period=earlier.period,
                    text=_("%(p)s经%(step)s（%(on)s）后%(d)s个工作日仍未整改到位：%(was)s")
                    % {
                        "p": name,
                        "step": label,
                        "on": f"{ledger.local_date(earlier.issued_at):%Y年%m月%d日}",
                        "d": days,
                        "was": earlier.text,
                    },
                )


def _fire(
    project: Project, rule: EscalationRule, firing: Firing, now: dt.datetime, today: dt.date
) -> bool:
    """Issue the rule's step unless it fired on this already or the step is open anyway."""
    if Escalation.objects.filter(rule=rule, project=project, rule_key=firing.key).exists():
        return False
    if actions.open_step_exists(project, rule.step, firing.milestone):
        return False
    text = actions.render_text(
        rule.text,
        {
            "project": project.title,
            "code": project.code,
            "unit": project.lead_unit.name,
            "milestone": firing.milestone.title if firing.milestone else "",
            "deadline": f"{project.deadline:%Y年%m月%d日}",
        },
        firing.text,
    )
    due = None
    if rule.step == EscalationStep.TIME_LIMIT:
        due = calendar.add_working_days(today, rule.due_days).due_at.date()
    try:
        with transaction.atomic():
            actions.issue(
                project,
                step=rule.step,
                text=text,
                by=None,
                milestone=firing.milestone,
                period=firing.period,
                rule=rule,
                rule_key=firing.key,
                due=due,
                issued_at=now,
            )
    except IntegrityError:  # a concurrent sweep issued it a moment ago
        return False
    return True
