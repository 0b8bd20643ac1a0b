"""The 差评 case's life: states and the steps allowed between them (data, not code).

``Case.move`` checks this table and nothing else writes ``Case.state``. A case opens for
every 不满意/非常不满意 rating:

    待回访核实 --回访核实--> 待定性 --定性(合理)--> 待整改 --整改--> 待反馈 --反馈--> 待复核
                             └--定性(不合理/恶意)-------------------------------> 待复核
    待复核 --复核通过--> 已办结;  待复核 --退回整改--> 待整改
    any open state --申诉成立，撤销--> 已办结
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseState(models.TextChoices):
    VERIFYING = "verifying", _("待回访核实")
    CLASSIFYING = "classifying", _("待定性")
    RECTIFYING = "rectifying", _("待整改")
    FEEDBACK = "feedback", _("待反馈")
    REVIEWING = "reviewing", _("待复核")
    CLOSED = "closed", _("已办结")


class CaseStep(models.TextChoices):
    VERIFY = "verify", _("回访核实")
    CLASSIFY = "classify", _("定性")
    DISMISS = "dismiss", _("定性为不合理或恶意")
    RECTIFY = "rectify", _("整改")
    FEEDBACK = "feedback", _("反馈")
    APPROVE = "approve", _("复核通过")
    RETURN = "return", _("退回整改")
    WITHDRAW = "withdraw", _("申诉成立，撤销")


# step → (the states it may start from, the state it leads to)
STEPS: dict[str, tuple[frozenset[str], str]] = {
    CaseStep.VERIFY: (frozenset({CaseState.VERIFYING}), CaseState.CLASSIFYING),
    CaseStep.CLASSIFY: (frozenset({CaseState.CLASSIFYING}), CaseState.RECTIFYING),
    CaseStep.DISMISS: (frozenset({CaseState.CLASSIFYING}), CaseState.REVIEWING),
    CaseStep.RECTIFY: (frozenset({CaseState.RECTIFYING}), CaseState.FEEDBACK),
    CaseStep.FEEDBACK: (frozenset({CaseState.FEEDBACK}), CaseState.REVIEWING),
    CaseStep.APPROVE: (frozenset({CaseState.REVIEWING}), CaseState.CLOSED),
    CaseStep.RETURN: (frozenset({CaseState.REVIEWING}), CaseState.RECTIFYING),
    # The supervisor upheld the staff member's appeal: the rating does not count, its case
    # ends wherever it stood.
    CaseStep.WITHDRAW: (
        frozenset(
            {
                CaseState.VERIFYING,
                CaseState.CLASSIFYING,
                CaseState.RECTIFYING,
                CaseState.FEEDBACK,
                CaseState.REVIEWING,
            }
        ),
        CaseState.CLOSED,
    ),
}

TRANSITIONS: dict[str, frozenset[str]] = {
    state: frozenset(target for sources, target in STEPS.values() if state in sources)
    for state in CaseState
}

OPEN_STATES = frozenset(s for s in CaseState if s != CaseState.CLOSED)
# Before the citizen was called back: the 1-working-day deadline runs.
BEFORE_VERIFY = frozenset({CaseState.VERIFYING})
# Before the rectification was reported back: the 5-working-day deadline runs.
BEFORE_FEEDBACK = frozenset(
    {CaseState.VERIFYING, CaseState.CLASSIFYING, CaseState.RECTIFYING, CaseState.FEEDBACK}
)


class InvalidStep(Exception):
    def __init__(self, current: str, step: str) -> None:
        self.current = current
        self.step = step
        super().__init__(f"{CaseState(current).label}: {CaseStep(step).label}")
