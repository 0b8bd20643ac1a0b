"""The proxy cases' deadlines in the background: the overdue sweep, and provisional
deadlines made final when a year's holidays are imported.

The sweep (every five minutes on one worker, ``tasks``; or ``minsheng relay sweep``) tells
the department holding an overdue stage once: the notice is claimed with a conditional
update of ``overdue_notified_at`` in the transaction that writes the message, so two sweeps
never send it twice. Every new stage clears the flag (``actions._stage``), so a case late
again at the next level is reported again.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.core import audit, calendar
from minsheng.relay import actions
from minsheng.relay.models import RelayCase


def sweep(now: dt.datetime | None = None) -> int:
    """Notify the holder of each newly overdue stage; the number of cases notified."""
    now = now or timezone.now()
    candidates = (
        RelayCase.objects.overdue(now)
        .filter(overdue_notified_at__isnull=True)
        .select_related("matter")
        .order_by("due_at")
    )
    sent = 0
    for case in candidates.iterator():
        with transaction.atomic():
            claimed = RelayCase.objects.filter(
                pk=case.pk, version=case.version, overdue_notified_at__isnull=True
            ).update(overdue_notified_at=now)
            if not claimed:  # moved on or notified since the list was read
                continue
            actions._notify(
                case.holder_department_id,
                _("代办件已超期，请尽快办理：%(matter)s（%(number)s）")
                % {"matter": case.matter.name, "number": case.number},
                case,
                "relay.overdue",
            )
            audit.record(
                None,
                "relay.overdue_notified",
                case,
                after={
                    "state": case.state,
                    "holder": case.holder_department_id,
                    "due_at": case.due_at.isoformat() if case.due_at else None,
                },
            )
            sent += 1
    return sent


@calendar.register_provisional_recompute
def recompute_provisional(years: frozenset[int]) -> int:
    """Open stages whose deadline ran into a year unknown when it was computed: again from
    the stored start and length. Returns how many deadlines moved."""
    moved = 0
    for pk in RelayCase.objects.open().filter(due_provisional=True).values_list("pk", flat=True):
        with transaction.atomic():
            case = RelayCase.objects.select_for_update().get(pk=pk)
            if not case.is_open or not case.due_provisional or case.due_at is None:
                continue
            due = calendar.add_working_days(case.stage_started_at, case.stage_days)
            changed = due.due_at != case.due_at
            RelayCase.objects.filter(pk=pk).update(
                due_at=due.due_at,
                due_provisional=due.provisional,
                # A notice sent for the old deadline says nothing about the new one.
                **({"overdue_notified_at": None} if changed else {}),
            )
            if changed:
                audit.record(
                    None,
                    "relay.deadline_recomputed",
                    case,
                    before={"due_at": case.due_at.isoformat()},
                    after={"due_at": due.due_at.isoformat(), "years": sorted(years)},
                )
                moved += 1
    return moved
