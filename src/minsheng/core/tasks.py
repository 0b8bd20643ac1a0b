"""Background work of the core: outbox delivery, as a task and as a periodic sweep."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from minsheng.core import periodic
from minsheng.core.outbox import delivery


@task()
def deliver_outbox() -> dict[str, int]:
    """Queued after every commit that wrote outbox messages, so they leave at once."""
    return delivery.deliver_due().as_dict()


def sweep_outbox() -> str | None:
    """The safety net: retries that fell due, and messages whose task was never queued."""
    report = delivery.deliver_due()
    return str(report) if report.attempted else None


periodic.register("outbox.deliver", sweep_outbox, every=dt.timedelta(seconds=15))
