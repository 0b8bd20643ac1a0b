"""The appeal KPIs leaders see. Definitions are in docs/appeals-kpis.md and shown next to
each figure; every figure is one SQL aggregate over indexed columns of the appeals received
in the period (a cohort), grouped by department, town, category or channel.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models
from django.db.models import Avg, Count, F, Q
from django.utils.translation import gettext_lazy as _

from minsheng.appeals.models import Appeal, Rating, ReturnRecord
from minsheng.appeals.states import State

GROUPS: dict[str, tuple[str, str]] = {
    # dimension → (field to group on, field holding its name)
    "department": ("lead_department", "lead_department__name"),
    "town": ("town", "town__name"),
    "category": ("category", "category__name"),
    "channel": ("channel", "channel"),
}

DEFINITIONS: dict[str, Any] = {
    "sign_rate": _("签收及时率 = 在签收时限内签收的件数 ÷ 已派单件数"),
    "ontime_rate": _("按期办结率 = 在办理期限内答复的件数 ÷ 已答复件数"),
    "resolve_rate": _("解决率 = 群众表示已解决的件数 ÷ 已评价件数"),
    "satisfaction_rate": _("满意率 = （满意 + 基本满意）÷ 已评价件数"),
    "return_rate": _("退单率 = 发生过退单的件数 ÷ 已派单件数"),
    "rehandle_rate": _("重办率 = 发生过重办的件数 ÷ 已答复件数"),
    "extension_rate": _("延期率 = 获批延期的件数 ÷ 已派单件数"),
    "avg_days": _("平均办理用时 = 派单到答复的工作日数的平均值"),
    "p90_days": _("90%办理用时 = 90%的诉求在此工作日数内答复"),
}


def _rate(part: int, whole: int) -> float | None:
    return round(part * 100.0 / whole, 1) if whole else None


@dataclass
class KpiRow:
    key: Any
    name: str
    received: int = 0
    dispatched: int = 0
    signed_on_time: int = 0
    replied: int = 0
    replied_on_time: int = 0
    rated: int = 0
    resolved: int = 0
    satisfied: int = 0
    returned: int = 0
    rehandled: int = 0
    extended: int = 0
    overdue_open: int = 0
    avg_days: float | None = None
    p90_days: float | None = None
    rates: dict[str, float | None] = field(default_factory=dict)

    def finish(self) -> KpiRow:
        self.rates = {
            "sign_rate": _rate(self.signed_on_time, self.dispatched),
            "ontime_rate": _rate(self.replied_on_time, self.replied),
            "resolve_rate": _rate(self.resolved, self.rated),
            "satisfaction_rate": _rate(self.satisfied, self.rated),
            "return_rate": _rate(self.returned, self.dispatched),
            "rehandle_rate": _rate(self.rehandled, self.replied),
            "extension_rate": _rate(self.extended, self.dispatched),
        }
        return self


def _aggregates(now: dt.datetime) -> dict[str, Any]:
    rated = Q(
        satisfaction__in=[Rating.Level.SATISFIED, Rating.Level.BASIC, Rating.Level.UNSATISFIED]
    )
    return {
        "received": Count("pk"),
        "dispatched": Count("pk", filter=Q(dispatched_at__isnull=False)),
        "signed_on_time": Count(
            "pk", filter=Q(signed_at__isnull=False, signed_at__lte=F("sign_due_at"))
        ),
        "replied": Count("pk", filter=Q(replied_at__isnull=False)),
        "replied_on_time": Count(
            "pk", filter=Q(replied_at__isnull=False, replied_at__lte=F("due_at"))
        ),
        "rated": Count("pk", filter=rated),
        "resolved": Count("pk", filter=rated & Q(resolved=True)),
        "satisfied": Count(
            "pk", filter=Q(satisfaction__in=[Rating.Level.SATISFIED, Rating.Level.BASIC])
        ),
        "returned": Count("pk", filter=Q(return_count__gt=0)),
        "rehandled": Count("pk", filter=Q(rehandle_count__gt=0)),
        "extended": Count("pk", filter=Q(extension_count__gt=0)),
        "overdue_open": Count(
            "pk", filter=Q(state__in=[State.DISPATCHED, State.HANDLING], due_at__lt=now)
        ),
        "avg_days": Avg("handling_days"),
    }


class Percentile90(models.Aggregate):
    function = "PERCENTILE_CONT"
    template = "%(function)s(0.9) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = models.FloatField()


def _p90_python(values: list[int]) -> float | None:
    if not values:
        return None
    values.sort()
    # The same linear interpolation as PostgreSQL's percentile_cont.
    position = 0.9 * (len(values) - 1)
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def compute(
    start: dt.datetime,
    end: dt.datetime,
    group: str | None = "department",
    queryset: models.QuerySet[Appeal] | None = None,
    now: dt.datetime | None = None,
) -> list[KpiRow]:
    """KPIs of the appeals received in [start, end), by ``group`` (None: one total row)."""
    from django.utils import timezone

    now = now or timezone.now()
    base = (
        (queryset if queryset is not None else Appeal.objects.all())
        .filter(received_at__gte=start, received_at__lt=end)
        .exclude(state=State.MERGED)
    )
    aggregates = _aggregates(now)
    postgres = connection.vendor == "postgresql"
    if postgres:
        aggregates["p90_days"] = Percentile90("handling_days")
    if group is None:
        data = base.aggregate(**aggregates)
        row = KpiRow(key=None, name=str(_("全县")), **data)
        if not postgres:
            row.p90_days = _p90_python(
                list(base.exclude(handling_days=None).values_list("handling_days", flat=True))
            )
        return [row.finish()]
    key_field, name_field = GROUPS[group]
    rows = []
    labels = dict(Appeal._meta.get_field("channel").choices) if group == "channel" else {}  # type: ignore[arg-type]
    for data in base.values(key_field, name_field).annotate(**aggregates).order_by("-received"):
        key = data.pop(key_field)
        name = data.pop(name_field) if name_field != key_field else key
        rows.append(KpiRow(key=key, name=str(labels.get(name, name) or _("未分类")), **data))
    if not postgres:
        values: dict[Any, list[int]] = {}
        for key, days in base.exclude(handling_days=None).values_list(key_field, "handling_days"):
            values.setdefault(key, []).append(days)
        for row in rows:
            row.p90_days = _p90_python(values.get(row.key, []))
    if group == "department":
        # Returns count against the department that returned the appeal, even though the
        # appeal has since gone elsewhere.
        returns = dict(
            ReturnRecord.objects.filter(appeal__in=base)
            .values("department")
            .annotate(n=Count("appeal", distinct=True))
            .values_list("department", "n")
        )
        for row in rows:
            row.returned = returns.get(row.key, 0)
    return [row.finish() for row in rows]
