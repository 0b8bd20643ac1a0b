"""Background work of the practical projects: the hourly ledger sweep and big plan imports."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django_tasks import task

from minsheng.core import periodic
from minsheng.core.models import User
from minsheng.projects import plan_io, sweep

# Statuses change with the day and reports arrive in office hours: hourly is fresh enough,
# and a sweep with nothing to do is a few indexed queries.
SWEEP_EVERY = dt.timedelta(hours=1)


def sweep_ledger() -> str | None:
    """报送期、逾期未报催报、自动督办、台账状态; a summary line when it did something."""
    result = sweep.sweep()
    return str(result) if result.total else None


periodic.register("projects.sweep", sweep_ledger, every=SWEEP_EVERY)


@task()
def import_plan_upload(job_id: int, path: str, user_id: int, keep_valid: bool) -> dict[str, Any]:
    """A 配档表 too big to check within the request; the job row shows its progress."""
    try:
        user = User.objects.get(pk=user_id)
        result = plan_io.import_plan_job(job_id, path, user, keep_valid=keep_valid)
    finally:
        # The upload was only parked for the worker; the job row keeps the result.
        Path(path).unlink(missing_ok=True)
    return result.as_dict()
