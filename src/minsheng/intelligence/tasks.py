"""Background work of appeal intelligence: the automatic routing of a new appeal."""

from __future__ import annotations

from django_tasks import task

from minsheng.intelligence import routing


@task()
def route_new_appeal(appeal_id: int) -> bool:
    """Off the intake request: classifying costs a few milliseconds and loads the model."""
    return routing.auto_route(appeal_id)
