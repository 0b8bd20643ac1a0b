"""Background work of 好差评, run by ``minsheng worker``: default ratings and the rollup."""

from __future__ import annotations

import datetime as dt

from minsheng.core import periodic
from minsheng.evaluation import actions, stats


def default_ratings() -> str | None:
    """逾期未评价 → 基本满意, when the county's settings say so."""
    done = actions.apply_default_ratings()
    return f"{done} 件默认评价" if done else None


def refresh_rollup() -> str | None:
    """Rebuild the statistics of the months whose figures changed."""
    months = stats.refresh_dirty()
    return f"统计月份 {', '.join(f'{m:%Y-%m}' for m in months)}" if months else None


periodic.register("evaluation.defaults", default_ratings, every=dt.timedelta(hours=1))
# The rollup lags the ratings by at most this: leaders' pages read it.
periodic.register("evaluation.rollup", refresh_rollup, every=dt.timedelta(minutes=5))
