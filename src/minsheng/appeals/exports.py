"""Excel (the 台账) and CSV exports of the staff appeal lists.

One function per table, each built from the same queryset as its page
(``views.staff_queries``), so an export never holds more than the page shows the user.
Personal data (name, mobile, address below the town) is masked unless the user's role may
see it (``appeal.view_personal``); every export is recorded in the audit trail, with whether
it carried personal data.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse, QueryDict
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from minsheng.appeals.forms_staff import WorkbenchFilterForm
from minsheng.appeals.models import Appeal, ExtensionRequest, Rating, ReturnRecord, Supervision
from minsheng.appeals.views import staff_queries as queries
from minsheng.core import audit, calendar, masking, policy
from minsheng.core.models import User

# Beyond this an export asks for narrower filters: a 台账 is read by people, and a
# workbook of a million rows would tie up a web process for minutes.
EXPORT_LIMIT = 50_000
XLSX = "xlsx"
CSV = "csv"
FORMATS = (XLSX, CSV)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Excel, LibreOffice and WPS read a cell starting with these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

DEADLINE_LABELS = {"overdue": "已超期", "due_soon": "即将超期", "ok": "正常", "": ""}


@dataclass(frozen=True)
class Column:
    header: str
    width: int
    value: Callable[[Any], Any]


@dataclass
class Table:
    name: str  # file and sheet name
    columns: Sequence[Column]
    rows: Iterable[Any]
    personal: bool
    truncated: bool = False
    count: int = 0

    def values(self) -> Iterable[list[Any]]:
        for row in self.rows:
            self.count += 1
            yield [column.value(row) for column in self.columns]


def _local(value: dt.datetime | None) -> dt.datetime | None:
    return timezone.localtime(value).replace(tzinfo=None) if value is not None else None


def _limited(queryset: QuerySet[Any]) -> tuple[list[Any], bool]:
    rows = list(queryset[: EXPORT_LIMIT + 1])
    return rows[:EXPORT_LIMIT], len(rows) > EXPORT_LIMIT


def personal_allowed(user: User) -> bool:
    """Whether exports for ``user`` carry names, mobiles and addresses unmasked."""
    return policy.can(user, "appeal.view_personal")


def _appeal_columns(personal: bool, get: Callable[[Any], Appeal]) -> list[Column]:
    """The columns every appeal table starts with; ``get`` finds the appeal in a row."""

    def name(row: Any) -> str:
        appeal = get(row)
        if appeal.anonymous:
            return _("匿名")
        return appeal.citizen_name if personal else masking.mask_name(appeal.citizen_name)

    def mobile(row: Any) -> str:
        value = get(row).citizen_mobile
        return value if personal else masking.mask_mobile(value)

    def place(row: Any) -> str:
        appeal = get(row)
        if not personal:
            return masking.mask_address(appeal.division)
        parts = [str(appeal.division) if appeal.division else "", appeal.address]
        return " ".join(p for p in parts if p)

    return [
        Column(_("编号"), 22, lambda r: get(r).number),
        Column(_("标题"), 36, lambda r: get(r).title),
        Column(_("类型"), 8, lambda r: get(r).get_appeal_type_display()),
        Column(_("紧急程度"), 8, lambda r: get(r).get_urgency_display()),
        Column(_("分类"), 14, lambda r: str(get(r).category or "")),
        Column(_("渠道"), 12, lambda r: get(r).get_channel_display()),
        Column(_("状态"), 10, lambda r: get(r).get_state_display()),
        Column(_("乡镇"), 12, lambda r: str(get(r).town or "")),
        Column(_("主办部门"), 18, lambda r: str(get(r).lead_department or "")),
        Column(_("受理时间"), 17, lambda r: _local(get(r).received_at)),
        Column(_("办理期限"), 17, lambda r: _local(get(r).due_at)),
        Column(_("时限状态"), 10, lambda r: DEADLINE_LABELS[queries.deadline_status(get(r))]),
        Column(_("群众姓名"), 10, name),
        Column(_("联系电话"), 14, mobile),
        Column(_("地点"), 30 if personal else 16, place),
    ]


def _itself(row: Appeal) -> Appeal:
    return row


def _of_row(row: ExtensionRequest | ReturnRecord | Supervision) -> Appeal:
    return row.appeal


def _appeal_table(name: str, user: User, queryset: QuerySet[Appeal], *extra: Column) -> Table:
    personal = personal_allowed(user)
    rows, truncated = _limited(queryset)
    columns = [*_appeal_columns(personal, _itself), *extra]
    return Table(name, columns, rows, personal, truncated)


# ---------------------------------------------------------------- one function per table


def workbench(user: User, filters: dict[str, Any]) -> Table:
    return _appeal_table(
        _("诉求台账"),
        user,
        queries.workbench(user, filters),
        Column(_("期限待定"), 8, lambda a: _("是") if a.due_provisional else ""),
        Column(_("答复时间"), 17, lambda a: _local(a.replied_at)),
        Column(_("办结时间"), 17, lambda a: _local(a.closed_at)),
        Column(_("满意度"), 10, lambda a: a.satisfaction and _satisfaction(a.satisfaction)),
    )


def _satisfaction(level: str) -> str:
    return str(Rating.Level(level).label) if level in Rating.Level.values else level


def new_appeals(user: User) -> Table:
    return _appeal_table(_("待派单诉求"), user, queries.new_appeals(user))


def returned_appeals(user: User) -> Table:
    def last_return(appeal: Appeal) -> ReturnRecord | None:
        records = list(appeal.returns.all())
        return records[0] if records else None

    def field(getter: Callable[[ReturnRecord], Any]) -> Callable[[Appeal], Any]:
        def value(appeal: Appeal) -> Any:
            record = last_return(appeal)
            return getter(record) if record is not None else ""

        return value

    return _appeal_table(
        _("退单待改派诉求"),
        user,
        queries.returned_appeals(user),
        Column(_("退单部门"), 18, field(lambda r: str(r.department))),
        Column(_("退单时间"), 17, field(lambda r: _local(r.returned_at))),
        Column(_("退单理由"), 40, field(lambda r: r.reason)),
        Column(_("有争议"), 8, field(lambda r: _("是") if r.disputed else "")),
        Column(_("退单次数"), 8, lambda a: a.return_count),
    )


def unsigned_appeals(user: User) -> Table:
    now = timezone.now()
    return _appeal_table(
        _("待签收诉求"),
        user,
        queries.unsigned_appeals(user),
        Column(_("派单时间"), 17, lambda a: _local(a.dispatched_at)),
        Column(_("签收期限"), 17, lambda a: _local(a.sign_due_at)),
        Column(
            _("签收超时"), 8, lambda a: _("是") if a.sign_due_at and a.sign_due_at < now else ""
        ),
    )


def unsatisfied_appeals(user: User) -> Table:
    def comment(appeal: Appeal) -> str:
        rating = queries.current_rating(appeal)
        return rating.comment if rating is not None else ""

    return _appeal_table(
        _("不满意待研判诉求"),
        user,
        queries.unsatisfied_appeals(user),
        Column(_("答复时间"), 17, lambda a: _local(a.replied_at)),
        Column(_("群众意见"), 40, comment),
        Column(_("重办次数"), 8, lambda a: a.rehandle_count),
    )


def overdue_appeals(user: User) -> Table:
    now = timezone.now()

    def late_days(appeal: Appeal) -> int:
        return calendar.working_days_between(appeal.due_at, now) if appeal.due_at else 0

    return _appeal_table(
        _("超期诉求"),
        user,
        queries.overdue_appeals(user),
        Column(_("超期(工作日)"), 10, late_days),
        Column(_("延期次数"), 8, lambda a: a.extension_count),
    )


def overdue_by_department(user: User) -> Table:
    return Table(
        _("超期诉求按部门统计"),
        [
            Column(_("主办部门"), 24, lambda r: r["department"]),
            Column(_("超期件数"), 10, lambda r: r["count"]),
        ],
        queries.overdue_by_department(user),
        personal=False,
    )


def rehandled_appeals(user: User) -> Table:
    return _appeal_table(
        _("重办诉求"),
        user,
        queries.rehandled_appeals(user),
        Column(_("重办次数"), 8, lambda a: a.rehandle_count),
    )


def _related_table(
    name: str, user: User, queryset: QuerySet[Any], extra: Sequence[Column]
) -> Table:
    personal = personal_allowed(user)
    rows, truncated = _limited(queryset)
    columns = [*_appeal_columns(personal, _of_row), *extra]
    return Table(name, columns, rows, personal, truncated)


def pending_extensions(user: User) -> Table:
    return _related_table(
        _("待审批延期申请"),
        user,
        queries.pending_extensions(user).select_related(
            "appeal__lead_department", "appeal__category", "appeal__town", "appeal__division"
        ),
        [
            Column(_("申请部门"), 18, lambda e: str(e.department)),
            Column(_("申请时间"), 17, lambda e: _local(e.requested_at)),
            Column(_("延期工作日"), 10, lambda e: e.days),
            Column(_("延期理由"), 40, lambda e: e.reason),
        ],
    )


def open_supervisions(user: User) -> Table:
    return _related_table(
        _("督办中诉求"),
        user,
        queries.open_supervisions(user).select_related(
            "appeal__lead_department", "appeal__category", "appeal__town", "appeal__division"
        ),
        [
            Column(_("督办原因"), 12, lambda s: s.get_reason_display()),
            Column(_("督办时间"), 17, lambda s: _local(s.raised_at)),
            Column(_("被督办部门"), 18, lambda s: str(s.department or "")),
            Column(_("督办意见"), 40, lambda s: s.note),
        ],
    )


def disputed_returns(user: User) -> Table:
    return _related_table(
        _("有争议的退单"),
        user,
        queries.disputed_returns(user).select_related(
            "appeal__lead_department", "appeal__category", "appeal__town", "appeal__division"
        ),
        [
            Column(_("退单部门"), 18, lambda r: str(r.department)),
            Column(_("退单时间"), 17, lambda r: _local(r.returned_at)),
            Column(_("退单理由"), 40, lambda r: r.reason),
            Column(_("争议说明"), 40, lambda r: r.dispute_note),
        ],
    )


@dataclass(frozen=True)
class Export:
    build: Callable[[User, QueryDict], Table]
    action: str  # the policy action the page behind the table requires


def _workbench_from_query(user: User, params: QueryDict) -> Table:
    form = WorkbenchFilterForm(params)
    return workbench(user, form.cleaned_data if form.is_valid() else {})


def _plain(build: Callable[[User], Table]) -> Callable[[User, QueryDict], Table]:
    return lambda user, params: build(user)


# The tables the pages offer for export, by the slug in the export URL.
TABLES: dict[str, Export] = {
    "workbench": Export(_workbench_from_query, "appeal.view"),
    "new": Export(_plain(new_appeals), "appeal.dispatch"),
    "returned": Export(_plain(returned_appeals), "appeal.dispatch"),
    "unsigned": Export(_plain(unsigned_appeals), "appeal.dispatch"),
    "unsatisfied": Export(_plain(unsatisfied_appeals), "appeal.callback"),
    "extensions": Export(_plain(pending_extensions), "appeal.decide_extension"),
    "overdue": Export(_plain(overdue_appeals), "appeal.view"),
    "overdue_by_department": Export(_plain(overdue_by_department), "appeal.view"),
    "supervisions": Export(_plain(open_supervisions), "appeal.view"),
    "rehandled": Export(_plain(rehandled_appeals), "appeal.view"),
    "disputed": Export(_plain(disputed_returns), "appeal.view"),
}


# ---------------------------------------------------------------- writing the files


def _text(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        # A citizen's text must never run as a formula in the reader's spreadsheet.
        return "'" + value
    return value


def to_xlsx(table: Table) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(table.name[:31])
    sheet.freeze_panes = "A2"
    for index, column in enumerate(table.columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    header_font = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    header = []
    for column in table.columns:
        cell = WriteOnlyCell(sheet, value=column.header)
        cell.font = header_font
        cell.fill = header_fill
        cell.alignment = Alignment(horizontal="center", vertical="center")
        header.append(cell)
    sheet.append(header)
    for values in table.values():
        row = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
            elif isinstance(value, dt.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            row.append(cell)
        sheet.append(row)
    if table.truncated:
        sheet.append([_("仅导出前%(n)s条，请缩小筛选范围后分批导出") % {"n": EXPORT_LIMIT}])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def to_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.header for c in table.columns])
    for values in table.values():
        writer.writerow(
            [
                v.strftime("%Y-%m-%d %H:%M") if isinstance(v, dt.datetime) else _text(v)
                for v in values
            ]
        )
    if table.truncated:
        writer.writerow([_("仅导出前%(n)s条，请缩小筛选范围后分批导出") % {"n": EXPORT_LIMIT}])
    # The byte order mark tells Excel the file is UTF-8; without it Chinese shows garbled.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def response(user: User, slug: str, fmt: str, params: QueryDict) -> HttpResponse:
    """The export file of table ``slug``; the caller has checked ``TABLES[slug].action``."""
    table = TABLES[slug].build(user, params)
    content = to_xlsx(table) if fmt == XLSX else to_csv(table)
    audit.record(
        user,
        "appeal.exported",
        object_type=Appeal._meta.label_lower,
        object_repr=table.name,
        after={
            "table": slug,
            "format": fmt,
            "rows": table.count,
            "personal": table.personal,
            "filters": {k: v for k, v in params.items() if k != "page"},
        },
    )
    filename = f"{table.name}-{timezone.localdate():%Y%m%d}.{fmt}"
    result = HttpResponse(
        content, content_type=XLSX_TYPE if fmt == XLSX else "text/csv; charset=utf-8"
    )
    result["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    return result
