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
    State.MERGED: frozenset({State.REPLIED}),
    State.PROMOTED: frozenset(),
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
