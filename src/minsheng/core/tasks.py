"""Background work of the core: outbox delivery, as a task and as a periodic sweep."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from minsheng.core import audit, outbox, periodic
from minsheng.core.outbox import delivery


@task()
def deliver_outbox() -> dict[str, int]:
    """Queued after commits that wrote outbox messages, so they leave at once."""
    outbox.delivery_started()
    return delivery.deliver_due().as_dict()


def sweep_outbox() -> str | None:
    """The safety net: retries that fell due, and messages whose task was never queued."""
    report = delivery.deliver_due()
    return str(report) if report.attempted else None


periodic.register("outbox.deliver", sweep_outbox, every=dt.timedelta(seconds=15))


def seal_audit() -> str | None:
    """Seals the audit events that no request sealed after its commit (the last ones of a
    burst, or those of a process that stopped right after committing)."""
    sealed = audit.seal_pending()
    return f"sealed {sealed} audit events" if sealed else None


periodic.register("audit.seal", seal_audit, every=dt.timedelta(seconds=15))
