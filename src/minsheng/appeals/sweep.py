"""The deadline sweep: 即将超期 and 超期 reminders (催办), 督办 for long-overdue appeals,
late signatures, and closing replies whose rating window passed.

Run by the worker every few minutes (and by ``minsheng appeals sweep``). Each reminder is
claimed with a conditional update, so two sweeps never send it twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.appeals import actions
from minsheng.appeals.models import Appeal, AppealSettings, Supervision
from minsheng.appeals.states import State
from minsheng.core import calendar


@dataclass
class SweepResult:
    due_soon: int = 0
    overdue: int = 0
    unsigned: int = 0
    supervised: int = 0
    closed_unrated: int = 0


def _remind(appeal: Appeal, title: str, kind: str) -> None:
    if appeal.lead_department is not None:
        actions._notify_department(appeal.lead_department, title, actions.staff_url(appeal), kind)


def sweep(now: dt.datetime | None = None) -> SweepResult:
    now = now or timezone.now()
    result = SweepResult()
    settings = AppealSettings.current()
    # 即将超期: due by the end of the next working day.
    soon_limit = calendar.add_working_days(calendar.start_day(now), 1).due_at
    soon = Appeal.objects.running().filter(
        due_at__gte=now, due_at__lte=soon_limit, due_soon_notified_at__isnull=True
    )
    for appeal in soon.select_related("lead_department").iterator():
        with transaction.atomic():
            if Appeal.objects.filter(pk=appeal.pk, due_soon_notified_at__isnull=True).update(
                due_soon_notified_at=now
            ):
                _remind(
                    appeal,
                    _("即将超期，请抓紧办理：%(t)s") % {"t": appeal.title},
                    "appeal.due_soon",
                )
                result.due_soon += 1

    overdue = Appeal.objects.overdue(now).filter(overdue_notified_at__isnull=True)
    for appeal in overdue.select_related("lead_department").iterator():
        with transaction.atomic():
            if Appeal.objects.filter(pk=appeal.pk, overdue_notified_at__isnull=True).update(
                overdue_notified_at=now
            ):
                _remind(
                    appeal,
                    _("催办：诉求已超期，请立即办理：%(t)s") % {"t": appeal.title},
                    "appeal.overdue",
                )
                result.overdue += 1

    # 签收超时: dispatched but not signed for within the limit.
    unsigned = Appeal.objects.filter(
        state=State.DISPATCHED, sign_due_at__lt=now, sign_reminded_at__isnull=True
    )
    for appeal in unsigned.select_related("lead_department").iterator():
        with transaction.atomic():
            if Appeal.objects.filter(pk=appeal.pk, sign_reminded_at__isnull=True).update(
                sign_reminded_at=now
            ):
                _remind(
                    appeal,
                    _("签收超时，请立即签收或退单：%(t)s") % {"t": appeal.title},
                    "appeal.sign_late",
                )
                result.unsigned += 1

    # 督办: overdue by more than the configured number of working days and not yet supervised.
    for appeal in (
        Appeal.objects.overdue(now).exclude(supervisions__resolved_at__isnull=True).iterator()
    ):
        assert appeal.due_at is not None
        if (
            calendar.working_days_between(appeal.due_at, now)
            < settings.supervise_after_overdue_days
        ):
            continue
        with transaction.atomic():
            locked = actions._lock(appeal.pk)
            if locked.state in (State.DISPATCHED, State.HANDLING) and actions._open_supervision(
                locked,
                Supervision.Reason.OVERDUE,
                None,
                _("超期%(n)s个工作日未办结")
                % {"n": calendar.working_days_between(appeal.due_at, now)},
            ):
                result.supervised += 1

    result.closed_unrated = actions.close_unrated(now)
    return result
