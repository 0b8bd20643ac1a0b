"""A project's life, its ledger statuses and the escalation ladder (data, not code).

``Project.move`` checks ``STEPS`` and nothing else writes ``Project.state``:

    草稿 --下达--> 推进中 --申请销号--> 待验收 --验收通过--> 已销号
                                       └--退回--> 推进中

``Project.status`` is the ledger's view (正常推进/滞后/超期/待验收/已销号), computed from the
plan and the reports by ``ledger.py`` and stored for filtering.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProjectState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    ACTIVE = "active", _("推进中")
    APPLIED = "applied", _("待验收")
    CLOSED = "closed", _("已销号")


class ProjectStep(models.TextChoices):
    START = "start", _("下达")
    APPLY = "apply", _("申请销号")
    ACCEPT = "accept", _("验收通过")
    REJECT = "reject", _("退回")


# step → (the states it may start from, the state it leads to)
STEPS: dict[str, tuple[frozenset[str], str]] = {
    ProjectStep.START: (frozenset({ProjectState.DRAFT}), ProjectState.ACTIVE),
    ProjectStep.APPLY: (frozenset({ProjectState.ACTIVE}), ProjectState.APPLIED),
    ProjectStep.ACCEPT: (frozenset({ProjectState.APPLIED}), ProjectState.CLOSED),
    ProjectStep.REJECT: (frozenset({ProjectState.APPLIED}), ProjectState.ACTIVE),
}

# Reports, plans and escalations concern projects under way (and those waiting for
# acceptance: the unit keeps reporting until the supervisor decides).
OPEN_STATES = frozenset({ProjectState.ACTIVE, ProjectState.APPLIED})


class LedgerStatus(models.TextChoices):
    NORMAL = "normal", _("正常推进")
    BEHIND = "behind", _("滞后")
    OVERDUE = "overdue", _("超期")
    PENDING_ACCEPTANCE = "pending_acceptance", _("待验收")
    CLOSED = "closed", _("已销号")


class MilestoneStatus(models.TextChoices):
    PENDING = "pending", _("未到期")
    DONE = "done", _("已完成")
    LATE = "late", _("滞后")


class EscalationStep(models.TextChoices):
    """The ladder, mildest first (``LADDER`` gives the rank)."""

    REMIND = "remind", _("提醒")
    URGE = "urge", _("催办")
    WRITTEN = "written", _("书面督办")
    TIME_LIMIT = "time_limit", _("限期办结")
    INTERVIEW = "interview", _("约谈")
    NOTICE = "notice", _("通报批评")


LADDER: dict[str, int] = {step: rank for rank, step in enumerate(EscalationStep)}
# Steps that produce a numbered document the supervisor prints and sends.
NUMBERED_STEPS = frozenset({EscalationStep.WRITTEN, EscalationStep.NOTICE})


class Trigger(models.TextChoices):
    MILESTONE_LATE = "milestone_late", _("节点到期未完成")
    MILESTONE_LATE_DAYS = "milestone_late_days", _("节点滞后达N个工作日")
    BEHIND_MONTHS = "behind_months", _("连续N个月滞后")
    DEADLINE_MISSED = "deadline_missed", _("超过完成时限")
    REPORT_MISSING = "report_missing", _("进展逾期未报达N个工作日")
    UNRESOLVED = "unresolved", _("上一级督办后N个工作日仍未整改")


class InvalidStep(Exception):
    def __init__(self, current: str, step: str) -> None:
        self.current = current
        self.step = step
        super().__init__(f"{ProjectState(current).label}: {ProjectStep(step).label}")
