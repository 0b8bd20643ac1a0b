"""Background work of the appeals: the receipts of appeals accepted through the API (a task
after their commit, and every 15 seconds as a safety net), and every five minutes on one
worker the deadline sweep and the KPI rollup brought up to date."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from minsheng.appeals import actions, rollup, sweep
from minsheng.core import commit, periodic

# A reminder is at most this late; the sweep is a handful of indexed queries when there is
# nothing to do, so running it often costs nothing.
SWEEP_EVERY = dt.timedelta(minutes=5)


def sweep_deadlines() -> str | None:
    """即将超期/超期催办/签收超时/督办/逾期未评价办结; a summary line when it did something."""
    result = sweep.sweep()
    return str(result) if result.total else None


periodic.register("appeals.sweep", sweep_deadlines, every=SWEEP_EVERY)


# The dashboard's figures of past days are as old as the last run (today's are live).
ROLLUP_EVERY = dt.timedelta(minutes=5)


def refresh_kpi_rollup() -> str | None:
    """The KPI rollup's days changed or ended since the last run; a line when there were."""
    result = rollup.refresh()
    return str(result) if result.days else None


periodic.register(
    "appeals.kpi_rollup",
    refresh_kpi_rollup,
    every=ROLLUP_EVERY,
    # The first build of a large county's rollup takes minutes: no second worker meanwhile.
    ttl=dt.timedelta(minutes=30),
)


@task()
def register_receipts_task() -> int:
    """Queued after the commit of appeals accepted through the API (one task for many)."""
    commit.task_started(actions.RECEIPTS_QUEUED_KEY)
    return actions.register_receipts()


def register_receipts() -> str | None:
    """The safety net: receipts whose task was never queued or died with its worker."""
    count = actions.register_receipts()
    return f"{count} receipts written" if count else None


periodic.register("appeals.receipts", register_receipts, every=dt.timedelta(seconds=15))
