"""The overdue sweep of the proxy cases, every five minutes on one worker (``minsheng worker``)."""

from __future__ import annotations

import datetime as dt

from minsheng.core import periodic
from minsheng.relay import sweep

# A notice is at most this late; with nothing overdue the sweep is one indexed query.
SWEEP_EVERY = dt.timedelta(minutes=5)


def sweep_overdue() -> str | None:
    """超期提醒 of the proxy cases; a summary line when it sent any."""
    sent = sweep.sweep()
    return f"代办超期提醒 {sent}" if sent else None


periodic.register("relay.sweep", sweep_overdue, every=SWEEP_EVERY)
