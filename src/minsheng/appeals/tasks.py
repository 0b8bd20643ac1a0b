"""Background work of the appeals: the deadline sweep, every five minutes on one worker."""

from __future__ import annotations

import datetime as dt

from minsheng.appeals import sweep
from minsheng.core import periodic

# A reminder is at most this late; the sweep is a handful of indexed queries when there is
# nothing to do, so running it often costs nothing.
SWEEP_EVERY = dt.timedelta(minutes=5)


def sweep_deadlines() -> str | None:
    """即将超期/超期催办/签收超时/督办/逾期未评价办结; a summary line when it did something."""
    result = sweep.sweep()
    return str(result) if result.total else None


periodic.register("appeals.sweep", sweep_deadlines, every=SWEEP_EVERY)
