"""The deadline sweep: 即将超期 and 超期 reminders (催办), 督办 for long-overdue appeals,
late signatures, and closing replies whose rating window passed.

Run by the worker every few minutes (``appeals.tasks``) and by ``minsheng appeals sweep``.
Each reminder is claimed with a conditional update of its ``*_notified_at`` column inside
the transaction that writes the message, so two sweeps never send it twice and a sweep
that dies half-way sends nothing it did not record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, fields

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.appeals import actions
from minsheng.appeals.models import Appeal, AppealSettings, Supervision
from minsheng.appeals.states import RUNNING_STATES, State
from minsheng.core import audit, calendar

# Called between the phases with (phase number, phase count, what comes next).
Progress = Callable[[int, int, str], None]

LABELS = {
    "due_soon": "即将超期提醒",
    "overdue": "超期催办",
    "unsigned": "签收超时提醒",
    "supervised": "超期督办",
    "closed_unrated": "逾期未评价办结",
}


@dataclass
class SweepResult:
    due_soon: int = 0
    overdue: int = 0
    unsigned: int = 0
    supervised: int = 0
    closed_unrated: int = 0

    def __str__(self) -> str:
        return "，".join(f"{LABELS[f.name]} {getattr(self, f.name)}" for f in fields(self))

    @property
    def total(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self))


def _claim(appeal: Appeal, column: str, now: dt.datetime, states: frozenset[str]) -> bool:
    """Mark the reminder sent if nobody did and the appeal is still where it was."""
    claimed = Appeal.objects.filter(
        pk=appeal.pk, state__in=states, **{f"{column}__isnull": True}
    ).update(**{column: now})
    return claimed == 1


def _remind(
    candidates: QuerySet[Appeal],
    column: str,
    now: dt.datetime,
    states: frozenset[str],
    title: str,
    kind: str,
    timeline: str = "",
) -> int:
    """Send one reminder per appeal to its lead department; ``timeline``: also note it in
    the appeal's timeline (催办 and late signatures are part of its record)."""
    sent = 0
    for appeal in candidates.only("pk", "title", "lead_department_id").iterator():
        if appeal.lead_department_id is None:
            continue
        with transaction.atomic():
            if not _claim(appeal, column, now, states):
                continue
            actions._notify_department(
                appeal.lead_department_id,
                title % {"t": appeal.title},
                actions.staff_url(appeal),
                kind,
            )
            if timeline:
                actions._event(appeal, kind.removeprefix("appeal."), None, timeline)
                audit.record(None, kind, appeal, after={"department": appeal.lead_department_id})
            sent += 1
    return sent


def overdue_working_days(due_at: dt.datetime, now: dt.datetime) -> int:
    """Working days past the deadline: 1 on the first working day after the due day."""
    return calendar.working_days_between(due_at.astimezone(calendar.CALENDAR_TZ).date(), now)


def _supervise_overdue(now: dt.datetime, after_days: int) -> int:
    # n working days overdue needs at least n calendar days after the due day: a cheap
    # pre-filter in SQL before counting working days in Python.
    candidates = (
        Appeal.objects.overdue(now)
        .filter(due_at__lt=now - dt.timedelta(days=max(after_days - 1, 0)))
        .exclude(pk__in=Supervision.objects.filter(resolved_at__isnull=True).values("appeal"))
        .values_list("pk", "due_at")
    )
    raised = 0
    for appeal_id, due_at in list(candidates):
        if due_at is None or overdue_working_days(due_at, now) < after_days:
            continue
        with transaction.atomic():
            appeal = actions._lock(appeal_id)
            if appeal.state not in RUNNING_STATES or appeal.due_at is None:
                continue
            if appeal.due_at >= now:  # extended since the list was read
                continue
            if actions._open_supervision(
                appeal,
                Supervision.Reason.OVERDUE,
                None,
                _("超期%(n)s个工作日未办结") % {"n": overdue_working_days(appeal.due_at, now)},
            ):
                raised += 1
    return raised


def sweep(now: dt.datetime | None = None, progress: Progress | None = None) -> SweepResult:
    now = now or timezone.now()
    result = SweepResult()
    settings = AppealSettings.current()
    steps = len(LABELS)

    def step(done: int, label: str) -> None:
        if progress is not None:
            progress(done, steps, label)

    # 即将超期: due by the end of the next working day — the same rule as the amber mark
    # in the lists (calendar.due_soon).
    step(0, LABELS["due_soon"])
    today = now.astimezone(calendar.CALENDAR_TZ).date()
    soon_limit = calendar.end_of_day(calendar.next_working_day(today))
    result.due_soon = _remind(
        Appeal.objects.running().filter(
            due_at__gte=now, due_at__lte=soon_limit, due_soon_notified_at__isnull=True
        ),
        "due_soon_notified_at",
        now,
        RUNNING_STATES,
        _("即将超期，请抓紧办理：%(t)s"),
        "appeal.due_soon",
    )

    step(1, LABELS["overdue"])
    result.overdue = _remind(
        Appeal.objects.overdue(now).filter(overdue_notified_at__isnull=True),
        "overdue_notified_at",
        now,
        RUNNING_STATES,
        _("催办：诉求已超期，请立即办理：%(t)s"),
        "appeal.overdue",
        timeline=_("诉求已超过办理期限，已向承办部门催办"),
    )

    # 签收超时: dispatched but not signed for within the limit.
    step(2, LABELS["unsigned"])
    result.unsigned = _remind(
        Appeal.objects.filter(
            state=State.DISPATCHED, sign_due_at__lt=now, sign_reminded_at__isnull=True
        ),
        "sign_reminded_at",
        now,
        frozenset({State.DISPATCHED}),
        _("签收超时，请立即签收或退单：%(t)s"),
        "appeal.sign_late",
        timeline=_("超过签收时限未签收，已提醒承办部门"),
    )

    # 督办: overdue by the configured number of working days and not supervised yet.
    step(3, LABELS["supervised"])
    result.supervised = _supervise_overdue(now, settings.supervise_after_overdue_days)

    step(4, LABELS["closed_unrated"])
    result.closed_unrated = actions.close_unrated(now)
    step(5, "")
    return result
