"""The appeal's life: states and the transitions allowed between them.

This table is the only definition of the workflow; ``Appeal.transition`` checks it and
nothing else writes ``Appeal.state``.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class State(models.TextChoices):
    RECEIVED = "received", _("已受理")  # 待派单
    DISPATCHED = "dispatched", _("已派单")  # 待签收
    RETURNED = "returned", _("已退单")  # 待改派
    HANDLING = "handling", _("办理中")  # 已签收
    REPLIED = "replied", _("已答复")  # 待回访评价
    CLOSED = "closed", _("已办结")
    REFUSED = "refused", _("不予受理")  # or 转办: handed to another statutory route
    MERGED = "merged", _("已合并")
    PROMOTED = "promoted", _("转实事项目")


TRANSITIONS: dict[str, frozenset[str]] = {
    State.RECEIVED: frozenset({State.DISPATCHED, State.REFUSED, State.MERGED, State.PROMOTED}),
    State.DISPATCHED: frozenset({State.HANDLING, State.RETURNED, State.DISPATCHED, State.MERGED}),
    State.RETURNED: frozenset({State.DISPATCHED, State.REFUSED, State.MERGED, State.PROMOTED}),
    State.HANDLING: frozenset({State.REPLIED, State.PROMOTED, State.MERGED}),
    State.REPLIED: frozenset({State.CLOSED, State.HANDLING}),
    State.CLOSED: frozenset(),
    State.REFUSED: frozenset(),
    # A merged appeal follows its master: when the master is answered, so is every merged
    # citizen, each of whom then rates the reply.
    # Refused or promoted with the master too: a merged appeal never waits for a master that
    # will not be answered.
    State.MERGED: frozenset({State.REPLIED, State.REFUSED, State.PROMOTED}),
    State.PROMOTED: frozenset(),
}


class Step(models.TextChoices):
    """The moves the actions make. Two actions may lead to the same state from different
    ones (签收 and 重办 both lead to 办理中), so each action names its step and may start only
    from the step's sources: a 签收 on an answered appeal must not reopen it."""

    DISPATCH = "dispatch", _("派单")
    REFUSE = "refuse", _("作不予受理处理")
    SIGN = "sign", _("签收")
    RETURN = "return", _("退单")
    REPLY = "reply", _("答复")
    FOLLOW_REPLY = "follow_reply", _("随主诉求答复")
    FOLLOW_REFUSE = "follow_refuse", _("随主诉求不予受理")
    FOLLOW_PROMOTE = "follow_promote", _("随主诉求转实事项目")
    REHANDLE = "rehandle", _("重办")
    CLOSE = "close", _("办结")
    MERGE = "merge", _("合并")
    PROMOTE = "promote", _("转实事项目")


# step → (the states it may start from, the state it leads to). Every pair here is in
# TRANSITIONS and every pair of TRANSITIONS is made by exactly one step (a test checks it).
STEPS: dict[str, tuple[frozenset[str], str]] = {
    Step.DISPATCH: (
        frozenset({State.RECEIVED, State.RETURNED, State.DISPATCHED}),
        State.DISPATCHED,
    ),
    Step.REFUSE: (frozenset({State.RECEIVED, State.RETURNED}), State.REFUSED),
    Step.SIGN: (frozenset({State.DISPATCHED}), State.HANDLING),
    Step.RETURN: (frozenset({State.DISPATCHED}), State.RETURNED),
    Step.REPLY: (frozenset({State.HANDLING}), State.REPLIED),
    Step.FOLLOW_REPLY: (frozenset({State.MERGED}), State.REPLIED),
    Step.FOLLOW_REFUSE: (frozenset({State.MERGED}), State.REFUSED),
    Step.FOLLOW_PROMOTE: (frozenset({State.MERGED}), State.PROMOTED),
    Step.REHANDLE: (frozenset({State.REPLIED}), State.HANDLING),
    Step.CLOSE: (frozenset({State.REPLIED}), State.CLOSED),
    Step.MERGE: (
        frozenset({State.RECEIVED, State.DISPATCHED, State.RETURNED, State.HANDLING}),
        State.MERGED,
    ),
    Step.PROMOTE: (
        frozenset({State.RECEIVED, State.RETURNED, State.HANDLING}),
        State.PROMOTED,
    ),
}

OPEN_STATES = frozenset({State.RECEIVED, State.DISPATCHED, State.RETURNED, State.HANDLING})
# States in which the handling deadline runs (the sweep marks these due-soon / overdue).
RUNNING_STATES = frozenset({State.DISPATCHED, State.HANDLING})
FINAL_STATES = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)


class InvalidTransition(Exception):
    def __init__(self, current: str, target: str) -> None:
        self.current = current
        self.target = target
        super().__init__(f"{State(current).label} → {State(target).label}")
