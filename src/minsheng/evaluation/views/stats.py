"""Statistics pages: figures by staff, window, department, matter, channel; 红黑榜; Excel."""

from __future__ import annotations

import io
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from minsheng.core import audit, policy
from minsheng.evaluation import stats
from minsheng.evaluation.views.staff import staff_user

COLUMNS: list[tuple[str, Any]] = [
    ("events", _("办件量")),
    ("rated", _("主动评价数")),
    ("rated_rate", _("主动评价率(%)")),
    ("good_rate", _("好评率(%)")),
    ("bad", _("差评数")),
    ("bad_rate", _("差评率(%)")),
    ("verify_rate", _("回访率(%)")),
    ("rectify_rate", _("差评整改率(%)")),
    ("average", _("平均分")),
    ("defaulted", _("默认评价数")),
    ("excluded", _("申诉成立剔除")),
]


def _query(request: HttpRequest) -> stats.Query:
    user = staff_user(request)
    policy.require(user, "evaluation.stats")
    today = timezone.localdate()
    this_month = stats.month_start(today)
    first = stats.parse_month(request.GET.get("from"), this_month.replace(month=1))
    last = stats.parse_month(request.GET.get("to"), this_month)
    if last < first:
        first, last = last, first
    group = request.GET.get("group", "department")
    if group not in stats.GROUPS:
        group = "department"
    return stats.Query(group, first, last, stats.scoped_department(user))


def _cells(f: stats.Figures) -> list[Any]:
    data = f.as_dict()
    return [data[key] for key, _label in COLUMNS]


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    query = _query(request)
    rows, total = stats.compute(query)
    trend = stats.trend(query)
    chart = {
        "names": {"events": str(_("办件量")), "good": str(_("好评率")), "bad": str(_("差评率"))},
        "trend": {
            "labels": [f"{f.key:%Y-%m}" for f in trend],
            "events": [f.events for f in trend],
            "good": [f.good_rate for f in trend],
            "bad": [f.bad_rate for f in trend],
        },
        "groups": {
            "labels": [str(f.name) for f in rows[:15]],
            "good": [f.good_rate for f in rows[:15]],
        },
    }
    with_overdue = query.group == "department"
    return render(
        request,
        "evaluation/staff/stats.html",
        {
            "query": query,
            "groups": stats.GROUPS.items(),
            "columns": [label for _k, label in COLUMNS] + ([_("超期差评")] if with_overdue else []),
            "rows": [(f, _cells(f) + ([f.overdue_cases] if with_overdue else [])) for f in rows],
            "total": (total, _cells(total) + ([total.overdue_cases] if with_overdue else [])),
            "chart": chart,
            "params": {
                "group": query.group,
                "from": f"{query.first:%Y-%m}",
                "to": f"{query.last:%Y-%m}",
            },
        },
    )


@login_required
def rankings(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    policy.require(user, "evaluation.stats")
    month = stats.parse_month(request.GET.get("month"), stats.month_start(timezone.localdate()))
    board = stats.rankings(month, stats.scoped_department(user))
    return render(
        request,
        "evaluation/staff/rankings.html",
        {"board": board, "minimum": stats.RANKING_MIN_RATED, "month_value": f"{month:%Y-%m}"},
    )


@login_required
def export(request: HttpRequest) -> HttpResponse:
    query = _query(request)
    rows, total = stats.compute(query)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = str(_("好差评统计"))
    sheet.append([str(_("统计期间")), f"{query.first:%Y-%m} — {query.last:%Y-%m}"])
    header = [str(stats.GROUPS[query.group])] + [str(label) for _k, label in COLUMNS]
    sheet.append(header)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for f in [*rows, total]:
        sheet.append([str(f.name), *_cells(f)])
    buffer = io.BytesIO()
    book.save(buffer)
    audit.record(
        staff_user(request),
        "evaluation.exported",
        object_type="evaluation.stats",
        object_repr=str(_("好差评统计")),
        after={"group": query.group, "from": str(query.first), "to": str(query.last)},
    )
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    name = f"evaluation-{query.group}-{query.first:%Y%m}-{query.last:%Y%m}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
