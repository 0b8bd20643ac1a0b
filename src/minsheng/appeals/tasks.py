"""Background work of the appeals, every five minutes on one worker: the deadline sweep,
and the KPI rollup brought up to date."""

from __future__ import annotations

import datetime as dt

from minsheng.appeals import rollup, sweep
from minsheng.core import periodic

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
