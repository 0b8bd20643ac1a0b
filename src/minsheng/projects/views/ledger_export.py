"""The ledger (督查台账) as an Excel workbook: one sheet of projects, one of their milestones.

Built from the ledger page's own queryset, so it never holds more than the page shows the
user; the contact's phone is masked unless the user may see it (``projects.contact``), and
every export is recorded in the audit trail with its filters, row count and whether it
carried personal data (as the appeals' exports are).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from minsheng.core import audit, masking, policy
from minsheng.core.models import User
from minsheng.projects.ledger import milestone_status
from minsheng.projects.models import Milestone, Project
from minsheng.projects.states import LADDER, MilestoneStatus

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Beyond this an export asks for narrower filters (see appeals.exports.EXPORT_LIMIT).
EXPORT_LIMIT = 20_000

Column = tuple[str, int, Callable[[Any], Any]]


def _sheet(workbook: Workbook, title: str, columns: list[Column], rows: Iterable[Any]) -> int:
    sheet: WriteOnlyWorksheet = workbook.create_sheet(title)
    sheet.freeze_panes = "A2"
    for index, (_header, width, _value) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    header = []
    for name, _width, _value in columns:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(horizontal="center", vertical="center")
        header.append(cell)
    sheet.append(header)
    count = 0
    for item in rows:
        count += 1
        cells = []
        for _name, _width, value in columns:
            cell = WriteOnlyCell(sheet, value=value(item))
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
            elif isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
            cells.append(cell)
        sheet.append(cells)
    return count


def _current_step(project: Project) -> str:
    escalations = getattr(project, "open_escalations", [])
    top = max(escalations, key=lambda e: LADDER[e.step], default=None)
    return str(top.get_step_display()) if top is not None else ""


def build(
    user: User, projects: QuerySet[Project], today: dt.date, filters: dict[str, str]
) -> bytes:
    personal = policy.can(user, "projects.contact")
    rows = list(projects.prefetch_related("co_units")[: EXPORT_LIMIT + 1])
    truncated = len(rows) > EXPORT_LIMIT
    rows = rows[:EXPORT_LIMIT]

    def phone(p: Project) -> str:
        return p.contact_phone if personal else masking.mask_mobile(p.contact_phone)

    def contact(p: Project) -> str:
        return p.contact_name if personal else masking.mask_name(p.contact_name)

    project_columns: list[Column] = [
        (_("项目编号"), 12, lambda p: p.code),
        (_("批次"), 28, lambda p: str(p.batch)),
        (_("项目名称"), 40, lambda p: p.title),
        (_("类别"), 10, lambda p: str(p.category)),
        (_("牵头单位"), 18, lambda p: str(p.lead_unit)),
        (_("配合单位"), 24, lambda p: "、".join(str(u) for u in p.co_units.all())),
        (_("责任领导"), 10, lambda p: p.leader_name),
        (_("联系人"), 10, contact),
        (_("联系电话"), 14, phone),
        (_("完成时限"), 12, lambda p: p.deadline),
        (_("完成进度(%)"), 10, lambda p: p.percent_complete),
        (_("台账状态"), 10, lambda p: str(p.get_status_display())),
        (_("滞后节点数"), 10, lambda p: len(getattr(p, "late_milestones", []))),
        (_("逾期未报(期)"), 10, lambda p: len(getattr(p, "missing_dues", []))),
        (_("当前督办措施"), 12, _current_step),
    ]
    labels = dict(MilestoneStatus.choices)
    milestones = (
        Milestone.objects.filter(project__in=[p.pk for p in rows])
        .select_related("project__lead_unit", "target")
        .order_by("project__code", "month", "order", "pk")
    )
    milestone_columns: list[Column] = [
        (_("项目编号"), 12, lambda m: m.project.code),
        (_("项目名称"), 36, lambda m: m.project.title),
        (_("牵头单位"), 18, lambda m: str(m.project.lead_unit)),
        (_("月份"), 10, lambda m: f"{m.month:%Y-%m}"),
        (_("节点任务"), 40, lambda m: m.title),
        (_("完成期限"), 12, lambda m: m.due),
        (_("状态"), 8, lambda m: str(labels[milestone_status(m, today)])),
        (_("完成时间"), 12, lambda m: timezone.localtime(m.done_at).date() if m.done_at else ""),
    ]
    workbook = Workbook(write_only=True)
    count = _sheet(workbook, _("督查台账"), project_columns, rows)
    if truncated:
        note = workbook.create_sheet(_("说明"))
        note.append([_("仅导出前%(n)s个项目，请缩小筛选范围后分批导出") % {"n": EXPORT_LIMIT}])
    _sheet(workbook, _("计划节点"), milestone_columns, milestones.iterator())
    out = io.BytesIO()
    workbook.save(out)
    audit.record(
        user,
        "projects.exported",
        object_type=Project._meta.label_lower,
        object_repr=_("督查台账"),
        after={"table": "ledger", "rows": count, "personal": personal, "filters": filters},
    )
    return out.getvalue()
