"""The leaders' KPI dashboard (诉求办理统计) and its Excel/CSV export (the 台账).

A department's roles see their own department's figures only; everyone else with
``appeal.kpi`` sees the whole county.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from minsheng.appeals import kpis
from minsheng.appeals.models import KpiRollupState
from minsheng.core import audit, policy
from minsheng.core.models import User

ACTION = "appeal.kpi"
# Table columns after the name: (field or rate key, is a rate).
COLUMNS: tuple[tuple[str, bool], ...] = (
    ("received", False),
    ("sign_rate", True),
    ("ontime_rate", True),
    ("resolve_rate", True),
    ("satisfaction_rate", True),
    ("return_rate", True),
    ("rehandle_rate", True),
    ("extension_rate", True),
    ("avg_days", False),
    ("p90_days", False),
    ("overdue_open", False),
)
# The counts behind the rates, for the export (auditors recompute the rates from them).
COUNT_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("dispatched", gettext_lazy("已派单")),
    ("signed_on_time", gettext_lazy("按时签收")),
    ("due", gettext_lazy("应办结")),
    ("replied_on_time", gettext_lazy("按期答复")),
    ("replied", gettext_lazy("答复过")),
    ("rated", gettext_lazy("已评价")),
    ("resolved", gettext_lazy("已解决")),
    ("satisfied", gettext_lazy("满意及基本满意")),
    ("returned", gettext_lazy("退单")),
    ("returned_away", gettext_lazy("退单后改派他处")),
    ("rehandled", gettext_lazy("重办")),
    ("extended", gettext_lazy("延期")),
)


@dataclass(frozen=True)
class Query:
    """What the user asked for: the period, the grouping, the department scope."""

    period: kpis.Period
    group: str
    department_id: int | None
    error: str = ""

    def params(self) -> dict[str, str]:
        params = {"period": self.period.key, "group": self.group}
        if self.period.key == "custom":
            params["start"] = f"{self.period.first_day:%Y-%m-%d}"
            params["end"] = f"{self.period.last_day:%Y-%m-%d}"
        return params


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _query(request: HttpRequest) -> Query:
    user = request.user
    assert isinstance(user, User)  # login_required ran first
    policy.require(user, ACTION)
    group = request.GET.get("group", "department")
    if group not in kpis.GROUPS:
        group = "department"
    key = request.GET.get("period", "month")
    error = ""
    try:
        period = kpis.period(
            key, first=_date(request.GET.get("start")), last=_date(request.GET.get("end"))
        )
    except kpis.PeriodError as exc:
        error = str(exc)
        period = kpis.period("month")
    return Query(
        period=period,
        group=group,
        department_id=user.department_id if user.is_department_scoped else None,
        error=error,
    )


def _cell(row: kpis.KpiRow, key: str, is_rate: bool) -> Any:
    return row.rates.get(key) if is_rate else getattr(row, key)


def _header(key: str) -> str:
    label = str(kpis.LABELS[key])
    return f"{label}(%)" if key in kpis.RATE_KEYS else label


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    query = _query(request)
    if query.error:
        messages.error(request, query.error)
    start, end = query.period.start, query.period.end
    rows = kpis.compute(start, end, query.group, department_id=query.department_id)
    by_department = (
        rows
        if query.group == "department"
        else kpis.compute(start, end, "department", department_id=query.department_id)
    )
    total = kpis.compute(start, end, None, department_id=query.department_id)[0]
    points = kpis.trend(start, end, department_id=query.department_id)
    # Departments with dispatched appeals only: the rest (未派单) have no satisfaction or
    # deadline to show.
    departments = [r for r in by_department if r.key is not None][:20]
    chart_data = {
        "trend": {
            "labels": [p.label for p in points],
            "received": [p.received for p in points],
            "replied": [p.replied for p in points],
            "satisfaction": [p.satisfaction_rate for p in points],
        },
        "departments": {
            "labels": [r.name for r in departments],
            "satisfaction": [r.rates["satisfaction_rate"] for r in departments],
            "overdue": [r.overdue_open for r in departments],
            "ontime": [r.rates["ontime_rate"] for r in departments],
        },
        "names": {
            "received": _("受理量"),
            "replied": _("已答复"),
            "satisfaction": _("满意率(%)"),
            "overdue": _("超期未办"),
            "ontime": _("按期办结率(%)"),
        },
    }
    columns = [
        {
            "key": key,
            "rate": rate,
            "label": kpis.LABELS[key],
            "help": kpis.DEFINITIONS[key],
        }
        for key, rate in COLUMNS
    ]
    table = [
        {"row": row, "cells": [_cell(row, key, rate) for key, rate in COLUMNS]} for row in rows
    ]
    params = query.params()
    return render(
        request,
        "appeals/kpi/dashboard.html",
        {
            "query": query,
            "params": params,
            "periods": list(kpis.PERIODS.items()),
            "groups": list(kpis.GROUPS.items()),
            "group_label": kpis.GROUPS[query.group],
            "columns": columns,
            "table": table,
            "total": total,
            "total_cells": [_cell(total, key, rate) for key, rate in COLUMNS],
            "strip": [
                {
                    "key": key,
                    "label": kpis.LABELS[key],
                    "help": kpis.DEFINITIONS[key],
                    "value": total.received if key == "received" else total.rates[key],
                    "rate": key != "received",
                }
                for key in (
                    "received",
                    "sign_rate",
                    "ontime_rate",
                    "resolve_rate",
                    "satisfaction_rate",
                )
            ],
            "points": points,
            "chart_data": chart_data,
            "definitions": [(kpis.LABELS[key], text) for key, text in kpis.DEFINITIONS.items()],
            "scoped": query.department_id is not None,
            "rollup": KpiRollupState.objects.first(),
            # This week's hot issues (intelligence app), for those who may see them.
            "show_hot": isinstance(request.user, User)
            and policy.can(request.user, "intelligence.hot"),
        },
    )


def _export_rows(query: Query) -> tuple[list[str], list[list[Any]]]:
    rows = kpis.compute(
        query.period.start, query.period.end, query.group, department_id=query.department_id
    )
    total = kpis.compute(
        query.period.start, query.period.end, None, department_id=query.department_id
    )[0]
    header = [str(kpis.GROUPS[query.group])]
    header += [_header(key) for key, _rate in COLUMNS]
    header += [str(label) for _key, label in COUNT_COLUMNS]
    body = []
    for row in [*rows, total]:
        line: list[Any] = [row.name]
        line += [_cell(row, key, rate) for key, rate in COLUMNS]
        line += [getattr(row, key) for key, _label in COUNT_COLUMNS]
        body.append(line)
    return header, body


def _filename(query: Query, extension: str) -> str:
    return (
        f"appeal-kpi-{query.group}-{query.period.first_day:%Y%m%d}-"
        f"{query.period.last_day:%Y%m%d}.{extension}"
    )


@login_required
def export(request: HttpRequest) -> HttpResponse:
    """The dashboard's table as Excel (default) or CSV (``?format=csv``)."""
    query = _query(request)
    fmt = "csv" if request.GET.get("format") == "csv" else "xlsx"
    header, body = _export_rows(query)
    audit.record(
        request.user,
        "appeal.kpi_exported",
        after={**query.params(), "format": fmt, "department": query.department_id},
    )
    if fmt == "csv":
        buffer = io.StringIO()
        # The BOM lets Excel on Windows read the Chinese as UTF-8.
        buffer.write("\ufeff")
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows(["" if v is None else v for v in line] for line in body)
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            _workbook(query, header, body),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="{_filename(query, fmt)}"'
    return response


def _workbook(query: Query, header: list[str], body: list[list[Any]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("诉求办理统计")
    sheet.append(
        [
            _("统计期间：%(period)s（按受理时间），导出时间：%(now)s")
            % {
                "period": query.period.label,
                "now": f"{timezone.localtime():%Y-%m-%d %H:%M}",
            }
        ]
    )
    sheet.append(header)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for line in body:
        sheet.append(line)
    sheet[sheet.max_row][0].font = Font(bold=True)  # the total row
    sheet.freeze_panes = "B3"
    sheet.column_dimensions["A"].width = 24
    notes = book.create_sheet(_("指标口径"))
    notes.append([_("指标"), _("口径")])
    for key, text in kpis.DEFINITIONS.items():
        notes.append([str(kpis.LABELS[key]), str(text)])
    notes.column_dimensions["A"].width = 16
    notes.column_dimensions["B"].width = 80
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
