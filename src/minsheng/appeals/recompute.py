"""Provisional deadlines made final when a year's holiday notice is imported.

A deadline that runs into a year the calendar does not know yet is computed with Monday to
Friday and marked ``due_provisional``. When the notice comes, the calendar calls
``recompute`` (after the import commits) and every such appeal gets its deadlines again
from the stored start: the dispatch (or the latest re-handle), the time limit of its type
and urgency, plus the extensions approved since. The time limit is read from today's
table: a county that changed its limits in the meantime gets the new ones, as for any
deadline computed today.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from minsheng.appeals import actions
from minsheng.appeals.models import Appeal, AppealEvent, AppealSettings, ExtensionRequest
from minsheng.core import audit, calendar

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deadlines:
    sign_due_at: dt.datetime | None
    due_at: dt.datetime
    provisional: bool


def deadlines(appeal: Appeal, sign_within_days: int) -> Deadlines | None:
    """The appeal's deadlines as the calendar computes them now (None: not dispatched)."""
    if appeal.dispatched_at is None:
        return None
    start = appeal.dispatched_at
    if appeal.rehandle_count:
        # A re-handle starts a new period from its own moment (see actions._rehandle).
        rehandled = (
            AppealEvent.objects.filter(appeal=appeal, kind="rehandle")
            .order_by("-created_at", "-pk")
            .values_list("created_at", flat=True)
            .first()
        )
        start = rehandled or start
    due = calendar.add_working_days(start, actions.time_limit(appeal.appeal_type, appeal.urgency))
    due_at, provisional = due.due_at, due.provisional
    approved = ExtensionRequest.objects.filter(
        appeal=appeal, status=ExtensionRequest.Status.APPROVED, decided_at__gte=start
    ).order_by("decided_at", "pk")
    for extension in approved:
        extended = actions.extend_deadline(due_at, extension.days)
        due_at, provisional = extended.due_at, provisional or extended.provisional
    sign_due_at = appeal.sign_due_at
    if sign_due_at is not None:
        sign = calendar.add_working_days(appeal.dispatched_at, sign_within_days)
        sign_due_at = sign.due_at
        provisional = provisional or sign.provisional
    return Deadlines(sign_due_at, due_at, provisional)


def recompute_appeal(appeal_id: int, sign_within_days: int) -> bool:
    """Recompute one appeal under its row lock; True if a deadline moved."""
    with transaction.atomic():
        appeal = actions._lock(appeal_id)
        if not appeal.due_provisional:
            return False
        new = deadlines(appeal, sign_within_days)
        if new is None:
            return False
        before = {"due_at": appeal.due_at, "sign_due_at": appeal.sign_due_at}
        moved = (new.due_at, new.sign_due_at) != (appeal.due_at, appeal.sign_due_at)
        appeal.due_at = new.due_at
        appeal.sign_due_at = new.sign_due_at
        appeal.due_provisional = new.provisional
        if moved:
            # A reminder sent for the old deadline says nothing about the new one.
            appeal.due_soon_notified_at = None
            appeal.overdue_notified_at = None
        appeal.save(
            update_fields=[
                "due_at",
                "sign_due_at",
                "due_provisional",
                "due_soon_notified_at",
                "overdue_notified_at",
                "updated_at",
            ]
        )
        if moved:
            local = new.due_at.astimezone(calendar.CALENDAR_TZ)
            actions._event(
                appeal,
                "deadline_recomputed",
                None,
                _("节假日安排公布，办理期限调整为%(date)s") % {"date": f"{local:%Y-%m-%d}"},
            )
        audit.record(
            None,
            "appeal.deadline_recomputed",
            appeal,
            before=before,
            after={
                "due_at": appeal.due_at,
                "sign_due_at": appeal.sign_due_at,
                "provisional": appeal.due_provisional,
            },
        )
        return moved


@calendar.register_provisional_recompute
def recompute(years: frozenset[int]) -> int:
    """Every appeal with a provisional deadline: few (those dispatched in the last weeks of
    a year before its notice came), so all of them rather than guessing which the years
    touch. Returns how many moved."""
    sign_within_days = AppealSettings.current().sign_within_days
    ids = list(Appeal.objects.filter(due_provisional=True).values_list("pk", flat=True))
    moved = sum(recompute_appeal(appeal_id, sign_within_days) for appeal_id in ids)
    logger.info(
        "recomputed %d provisional appeal deadlines for %s: %d moved",
        len(ids),
        sorted(years),
        moved,
    )
    return moved
