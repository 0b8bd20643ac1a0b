"""Excel import and export of practical projects with their plans (配档表).

One workbook, three sheets the county offices fill in, plus 填表说明 (how to fill it in) and
选项 (the lists behind the drop-downs):

- 项目: one row per project (batch, code, title, category, lead and co-operating units,
  leader, contact, measures, budget, source, deadline);
- 量化指标: one row per quantitative target (project code, name, unit, planned value);
- 配档表: one row per milestone (project code, month, task, expected state, the plan's
  cumulative percentage, a target and its cumulative value, due date).

Columns are found by their header text, so their order does not matter. The import checks
every row of every sheet against the database before it writes anything, and reports each
problem with its sheet, row and column in Chinese. With any error it writes nothing unless
``keep_valid``: then each project whose own row and all of whose target and milestone rows
are valid is written, with its plan, and all of them in one transaction. Writes go through
``projects.actions`` (create_batch, create_project / update_project, set_plan, link_appeal),
so a row the actions would refuse is caught here first with a clearer message.

The export writes the same layout, so exporting, importing the file into an empty
database and exporting again gives the same cells.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils import translation
from django.utils.translation import gettext as _

from minsheng.appeals.models import Appeal
from minsheng.appeals.states import State as AppealState
from minsheng.catalog.importer import find_department
from minsheng.core import audit, jobs, policy
from minsheng.core.models import Department, User
from minsheng.core.models.org import mobile_validator
from minsheng.projects import actions, ledger
from minsheng.projects.errors import ProjectError
from minsheng.projects.models import (
    Batch,
    Milestone,
    Project,
    ProjectCategory,
    ProjectSource,
    ReportValue,
)
from minsheng.projects.states import OPEN_STATES, ProjectState

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATA_DIR = Path(__file__).resolve().parent / "data"
TEMPLATE_PATH = DATA_DIR / "plan-template.xlsx"
SAMPLE_PATH = DATA_DIR / "plan-sample.xlsx"
MAX_ERRORS_SHOWN = 500
JOB_KIND = "projects.plan_import"
MAX_BUDGET = Decimal("1e10")  # Project.budget: 12 digits, 2 decimals
MAX_VALUE = Decimal("1e12")  # Target.planned / Milestone.target_value: 14 digits, 2 decimals

HELP_SHEET = "填表说明"
OPTIONS_SHEET = "选项"
DATE_FORMAT = "yyyy-mm-dd"
MONTH_FORMAT = 'yyyy"年"m"月"'
TEMPLATE_ROWS = 300  # rows pre-formatted (text codes, dates) in the blank template


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int
    help: str
    required: bool = False
    kind: str = "text"  # text, code, date, month, number
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sheet:
    name: str
    columns: tuple[Column, ...]

    def label(self, key: str) -> str:
        return next(c.label for c in self.columns if c.key == key)


PROJECTS = Sheet(
    "项目",
    (
        Column("batch", "批次", 14, "如“2026年第一批”或“2026-1”；系统中没有的批次会新建", True),
        Column(
            "code",
            "项目编号",
            12,
            "年度-批次-序号，如“2026-1-03”；编号已存在的项目按本表更新",
            True,
            "code",
            ("编号",),
        ),
        Column("title", "项目名称", 30, "2至200字", True, aliases=("名称",)),
        Column("category", "类别", 10, "从下拉列表选择（见“选项”表）", True),
        Column("lead_unit", "牵头单位", 20, "填部门全称或简称，须是系统中已有的单位", True),
        Column("co_units", "配合单位", 24, "可填多个，用顿号“、”分隔"),
        Column("leader_name", "责任领导", 10, "不超过32字"),
        Column("contact_name", "联系人", 10, "不超过32字"),
        Column("contact_phone", "联系电话", 13, "11位手机号码", kind="code"),
        Column("measures", "具体措施", 40, "可换行"),
        Column("budget", "预算(万元)", 11, "数字，最多两位小数；可不填", kind="number"),
        Column("source", "项目来源", 12, "部门申报、网上征集、线下征集或群众诉求转办"),
        Column("source_appeals", "来源诉求编号", 16, "已转为实事项目的诉求编号，多个用顿号分隔"),
        Column("deadline", "完成时限", 12, "日期，如 2026-06-30", True, "date"),
    ),
)
TARGETS = Sheet(
    "量化指标",
    (
        Column("project", "项目编号", 12, "须是“项目”表中的编号", True, "code"),
        Column("name", "指标名称", 24, "如“铺设管网”，同一项目内不重复，不超过64字", True),
        Column("unit", "计量单位", 10, "如“公里”“人”，不超过16字", True),
        Column("planned", "目标值", 10, "数字，最多两位小数", True, "number"),
    ),
)
MILESTONES = Sheet(
    "配档表",
    (
        Column("project", "项目编号", 12, "须是“项目”表中的编号", True, "code"),
        Column(
            "month", "月份", 10, "如“2026年3月”或“2026-03”，在批次年度至完成时限之间", True, "month"
        ),
        Column("title", "节点任务", 30, "这个月要完成的事，不超过200字", True),
        Column("expected", "预期形象进度", 30, "可不填"),
        Column(
            "planned_percent",
            "计划累计进度(%)",
            14,
            "0到100的整数，逐月不减；可不填",
            kind="number",
        ),
        Column("target", "对应指标", 16, "“量化指标”表中本项目的指标名称；可不填"),
        Column(
            "target_value",
            "指标累计值",
            12,
            "到本月累计应达到的数值；填了须同时填对应指标",
            kind="number",
        ),
        Column("due", "完成期限", 12, "日期；不填为该月最后一个工作日", kind="date"),
    ),
)
SHEETS = (PROJECTS, TARGETS, MILESTONES)


class LayoutError(ValueError):
    """The file cannot be read as a plan workbook at all (not a row problem)."""


# --- results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    sheet: str
    row: int  # the Excel row number (the header is row 1)
    column: str  # the header text, or "" for the row as a whole
    message: str

    def __str__(self) -> str:
        if self.column:
            return _("「%(sheet)s」表第%(row)d行「%(column)s」：%(message)s") % {
                "sheet": self.sheet,
                "row": self.row,
                "column": self.column,
                "message": self.message,
            }
        return _("「%(sheet)s」表第%(row)d行：%(message)s") % {
            "sheet": self.sheet,
            "row": self.row,
            "message": self.message,
        }


@dataclass
class ImportResult:
    filename: str = ""
    projects: int = 0  # project rows read
    valid: int = 0  # projects that could be written
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    batches_created: list[str] = field(default_factory=list)
    written: bool = False
    errors: list[RowError] = field(default_factory=list)
    fatal: str = ""

    @property
    def ok(self) -> bool:
        return not self.fatal and not self.errors

    @property
    def summary(self) -> str:
        if self.fatal:
            return _("无法导入：%(reason)s") % {"reason": self.fatal}
        if self.errors and not self.written:
            return _(
                "共 %(rows)d 个项目，发现 %(bad)d 处错误，未写入任何数据。"
                "请改正后重新导入，或选择“只导入无误的项目”。"
            ) % {"rows": self.projects, "bad": len(self.errors)}
        done = _("共 %(rows)d 个项目，新增 %(created)d 个，更新 %(updated)d 个") % {
            "rows": self.projects,
            "created": len(self.created),
            "updated": len(self.updated),
        }
        if self.errors:
            done += _("，跳过有错误的 %(skipped)d 个（%(bad)d 处错误）") % {
                "skipped": self.projects - self.valid,
                "bad": len(self.errors),
            }
        return done + "。"

    def as_dict(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "projects": self.projects,
            "valid": self.valid,
            "created": self.created,
            "updated": self.updated,
            "batches_created": self.batches_created,
            "written": self.written,
            "fatal": self.fatal,
            "ok": self.ok,
            "summary": self.summary,
            "errors": [
                {
                    "sheet": e.sheet,
                    "row": e.row,
                    "column": e.column,
                    "message": e.message,
                    "text": str(e),
                }
                for e in self.errors[:MAX_ERRORS_SHOWN]
            ],
        }


# --- cells ------------------------------------------------------------------------------------

CN_DIGITS = "〇一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 21 → 二十一 (batch numbers stay below a hundred)."""
    if n < 10:
        return CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return (CN_DIGITS[tens] if tens > 1 else "") + "十" + (CN_DIGITS[ones] if ones else "")


def parse_chinese_number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    text = text.replace("两", "二").replace("零", "〇")
    if not text or any(ch not in CN_DIGITS + "十" for ch in text):
        return None
    if "十" not in text:
        return int("".join(str(CN_DIGITS.index(ch)) for ch in text))
    tens, _sep, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1:
        return None
    return (CN_DIGITS.index(tens) if tens else 1) * 10 + (CN_DIGITS.index(ones) if ones else 0)


def batch_label(year: int, number: int) -> str:
    return f"{year}年第{chinese_number(number)}批"


def default_batch_title(year: int, number: int) -> str:
    return f"{batch_label(year, number)}我为群众办实事项目"


BATCH_PATTERNS = (
    re.compile(r"^(\d{4})\s*[-－/.]\s*(\d{1,2})$"),
    re.compile(r"^(\d{4})\s*年(?:度)?\s*第?\s*([0-9〇零一二两三四五六七八九十]{1,3})\s*批"),
)
MONTH_PATTERN = re.compile(r"^(\d{4})\s*(?:[-－/.]|年)\s*(\d{1,2})\s*月?$")
DATE_PATTERN = re.compile(
    r"^(\d{4})\s*(?:[-－/.]|年)\s*(\d{1,2})\s*(?:[-－/.]|月)\s*(\d{1,2})\s*日?$"
)
SPLIT = re.compile(r"[、,，;；\n]+")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return str(value).strip()


def parse_batch(value: object) -> tuple[int, int]:
    text = _text(value)
    for pattern in BATCH_PATTERNS:
        match = pattern.match(text)
        if match:
            number = parse_chinese_number(match[2])
            if number is not None and 1 <= number <= 99 and 2000 <= int(match[1]) <= 2100:
                return int(match[1]), number
    raise ValueError(_("“%(value)s”不是批次，应写成“2026年第一批”或“2026-1”") % {"value": text})


def parse_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    match = DATE_PATTERN.match(text)
    if match:
        try:
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            pass
    raise ValueError(_("“%(value)s”不是有效日期，应写成“2026-06-30”") % {"value": text})


def parse_month(value: object) -> dt.date:
    if isinstance(value, dt.date):
        return ledger.month_start(value if not isinstance(value, dt.datetime) else value.date())
    text = _text(value)
    match = MONTH_PATTERN.match(text)
    if match and 1 <= int(match[2]) <= 12:
        return dt.date(int(match[1]), int(match[2]), 1)
    try:
        return ledger.month_start(parse_date(text))
    except ValueError:
        raise ValueError(
            _("“%(value)s”不是月份，应写成“2026年3月”或“2026-03”") % {"value": text}
        ) from None


def parse_decimal(value: object, *, limit: Decimal = MAX_VALUE) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(_("应填数字"))
    text = _text(value).replace(",", "").replace("，", "")
    try:
        number = Decimal(str(value) if isinstance(value, int | float) else text)
    except (InvalidOperation, ValueError):
        raise ValueError(_("“%(value)s”不是数字") % {"value": text}) from None
    if not number.is_finite() or number < 0:
        raise ValueError(_("应为不小于0的数字"))
    if number >= limit:
        raise ValueError(_("数值过大"))
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise ValueError(_("最多保留两位小数"))
    return number.quantize(Decimal("0.01"))


def parse_percent(value: object) -> int:
    text = _text(value).rstrip("%％").strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(_("“%(value)s”应为0到100的整数") % {"value": _text(value)}) from None
    if number != number.to_integral_value() or not 0 <= number <= 100:
        raise ValueError(_("“%(value)s”应为0到100的整数") % {"value": _text(value)})
    return int(number)


def split_names(value: object) -> list[str]:
    return [name.strip() for name in SPLIT.split(_text(value)) if name.strip()]


def number_cell(value: Decimal | None) -> int | float | None:
    """A Decimal as Excel shows it: 14.5 stays 14.5, 20000.00 becomes 20000."""
    if value is None:
        return None
    if value == value.to_integral_value():
        return int(value)
    return float(value)


# --- reading --------------------------------------------------------------------------------


@dataclass
class Table:
    sheet: Sheet
    keys: list[str | None]  # per column index
    rows: list[tuple[int, dict[str, object]]]  # (Excel row number, key → raw cell value)


def _open(file: bytes | str | Path | IO[bytes]) -> tuple[str, bytes]:
    if isinstance(file, bytes):
        return "", file
    if isinstance(file, str | Path):
        return Path(file).name, Path(file).read_bytes()
    name = Path(str(getattr(file, "name", "") or "")).name
    if hasattr(file, "seek"):
        file.seek(0)
    return name, file.read()


def read_tables(raw: bytes) -> dict[str, Table]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        raise LayoutError(_("无法读取 Excel 文件，请确认是 .xlsx 格式（不支持 .xls）")) from exc
    try:
        names = workbook.sheetnames
        missing = [s.name for s in SHEETS if s.name not in names]
        if missing:
            raise LayoutError(
                _("缺少工作表：%(missing)s（文件中有：%(found)s）。请使用配档表模板。")
                % {"missing": "、".join(missing), "found": "、".join(names) or _("无")}
            )
        return {sheet.name: _read_sheet(workbook[sheet.name], sheet) for sheet in SHEETS}
    finally:
        workbook.close()


def _read_sheet(worksheet: Any, sheet: Sheet) -> Table:
    by_label: dict[str, str] = {}
    for column in sheet.columns:
        by_label[column.label] = column.key
        for alias in column.aliases:
            by_label[alias] = column.key
    rows = worksheet.iter_rows(values_only=True)
    header = next(rows, None) or ()
    keys = [
        by_label.get(_text(cell).replace(" ", "").replace("（", "(").replace("）", ")"))
        for cell in header
    ]
    missing = [c.label for c in sheet.columns if c.required and c.key not in keys]
    if missing:
        raise LayoutError(
            _("「%(sheet)s」表第1行缺少必需的列：%(columns)s")
            % {"sheet": sheet.name, "columns": "、".join(missing)}
        )
    table = Table(sheet, keys, [])
    for number, values in enumerate(rows, start=2):
        cells = {
            key: values[i] if i < len(values) else None
            for i, key in enumerate(keys)
            if key is not None
        }
        if any(_text(v) for v in cells.values()):
            table.rows.append((number, cells))
    return table


# --- validation ------------------------------------------------------------------------------


@dataclass
class _Project:
    row: int
    code: str
    batch: tuple[int, int] | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    appeals: list[Appeal] = field(default_factory=list)
    existing: Project | None = None
    ok: bool = True
    targets: list[actions.TargetIn] = field(default_factory=list)
    target_names: set[str] = field(default_factory=set)  # also those of rows with errors
    milestones: list[tuple[int, actions.MilestoneIn]] = field(default_factory=list)
    points: list[_Point] = field(default_factory=list)  # every milestone row with a month


@dataclass(frozen=True)
class _Point:
    row: int
    month: dt.date
    percent: int | None
    target: str | None
    value: Decimal | None


class _Checker:
    """Collects the errors of one sheet's row; ``cell`` parses a column or records why not."""

    def __init__(self, errors: list[RowError], sheet: Sheet, row: int) -> None:
        self.errors, self.sheet, self.row = errors, sheet, row
        self.failed = False

    def add(self, key: str | None, message: str) -> None:
        self.failed = True
        column = self.sheet.label(key) if key else ""
        self.errors.append(RowError(self.sheet.name, self.row, column, message))

    def cell(self, cells: dict[str, object], key: str, parse: Callable[[object], Any]) -> Any:
        value = cells.get(key)
        if not _text(value):
            column = next(c for c in self.sheet.columns if c.key == key)
            if column.required:
                self.add(key, _("不能为空"))
            return None
        try:
            return parse(value)
        except ValueError as exc:
            self.add(key, str(exc))
            return None

    def text(self, cells: dict[str, object], key: str, limit: int, minimum: int = 0) -> str:
        value = _text(cells.get(key))
        if not value and minimum:
            self.add(key, _("不能为空"))
        elif len(value) < minimum:
            self.add(key, _("至少%(n)d个字") % {"n": minimum})
        elif len(value) > limit:
            self.add(key, _("不能超过%(n)d个字") % {"n": limit})
        return value


class _Validator:
    def __init__(self, tables: dict[str, Table], progress: jobs.Progress | None) -> None:
        self.tables = tables
        self.progress = progress
        self.errors: list[RowError] = []
        self.projects: dict[str, _Project] = {}
        self.categories = {c.name: c for c in ProjectCategory.objects.all()}
        self.sources = {str(label): value for value, label in ProjectSource.choices}
        self.units: dict[str, Department | None] = {}

    def _advance(self, sheet: Sheet, row: int) -> None:
        if self.progress is not None:
            self.progress.advance(
                message=_("校验「%(sheet)s」表第 %(row)d 行") % {"sheet": sheet.name, "row": row}
            )

    def unit(self, name: str) -> Department | None:
        if name not in self.units:
            dept = find_department(name)
            self.units[name] = dept if dept is not None and dept.active else None
        return self.units[name]

    def run(self) -> None:
        self.check_projects()
        self.check_targets()
        self.check_milestones()

    # 项目 ------------------------------------------------------------------------------------

    def check_projects(self) -> None:
        table = self.tables[PROJECTS.name]
        rows_by_code: dict[str, list[int]] = defaultdict(list)
        for number, cells in table.rows:
            code = _text(cells.get("code"))
            if code:
                rows_by_code[code].append(number)
        existing = {
            p.code: p
            for p in Project.objects.filter(code__in=list(rows_by_code)).select_related("batch")
        }
        for number, cells in table.rows:
            check = _Checker(self.errors, PROJECTS, number)
            project = self.check_project(check, cells, rows_by_code, existing)
            project.ok = not check.failed
            # Every row of a duplicated code has an error, so the first one kept here is not
            # written either: its target and milestone rows could belong to any of them.
            if project.code:
                self.projects.setdefault(project.code, project)
            self._advance(PROJECTS, number)

    def check_project(
        self,
        check: _Checker,
        cells: dict[str, object],
        rows_by_code: dict[str, list[int]],
        existing: dict[str, Project],
    ) -> _Project:
        number = check.row
        code = _text(cells.get("code"))
        project = _Project(number, code)
        project.batch = check.cell(cells, "batch", parse_batch)
        if isinstance(cells.get("code"), dt.datetime):
            check.add("code", _("被Excel识别成了日期，请把该列设为文本格式后重新填写"))
        elif not code:
            check.add("code", _("不能为空"))
        elif len(code) > 16 or re.search(r"\s", code):
            check.add("code", _("不能超过16个字符，也不能含空格"))
        elif len(rows_by_code[code]) > 1:
            others = "、".join(str(n) for n in rows_by_code[code] if n != number)
            check.add(
                "code", _("编号“%(code)s”与第%(rows)s行重复") % {"code": code, "rows": others}
            )
        elif project.batch is not None:
            prefix = f"{project.batch[0]}-{project.batch[1]}-"
            if not code.startswith(prefix):
                check.add(
                    "code",
                    _("编号应以“%(prefix)s”开头（年度-批次-序号）") % {"prefix": prefix},
                )
        project.existing = existing.get(code)
        if project.existing is not None:
            current = project.existing
            if (
                project.batch is not None
                and (current.batch.year, current.batch.number) != project.batch
            ):
                check.add(
                    "batch",
                    _("项目%(code)s已属于“%(batch)s”，不能改到其他批次")
                    % {"code": code, "batch": current.batch.title},
                )
            if current.state not in {ProjectState.DRAFT, *OPEN_STATES}:
                check.add(
                    "code",
                    _("项目%(code)s当前为“%(state)s”，不能再修改")
                    % {"code": code, "state": current.get_state_display()},
                )

        fields = project.fields
        fields["title"] = check.text(cells, "title", 200, minimum=2)
        category_name = _text(cells.get("category"))
        category = self.categories.get(category_name)
        if not category_name:
            check.add("category", _("不能为空"))
        elif category is None or not category.active:
            allowed = "、".join(c.name for c in self.categories.values() if c.active)
            check.add(
                "category",
                _("没有“%(value)s”这个类别，应为：%(allowed)s")
                % {"value": category_name, "allowed": allowed},
            )
        fields["category"] = category

        lead_name = _text(cells.get("lead_unit"))
        lead = self.unit(lead_name) if lead_name else None
        if not lead_name:
            check.add("lead_unit", _("不能为空"))
        elif lead is None:
            check.add("lead_unit", _("系统中没有“%(name)s”这个单位") % {"name": lead_name})
        fields["lead_unit"] = lead
        co_units: list[Department] = []
        for name in split_names(cells.get("co_units")):
            unit = self.unit(name)
            if unit is None:
                check.add("co_units", _("系统中没有“%(name)s”这个单位") % {"name": name})
            elif lead is not None and unit.pk == lead.pk:
                check.add("co_units", _("“%(name)s”已是牵头单位") % {"name": name})
            elif unit not in co_units:
                co_units.append(unit)
        fields["co_units"] = co_units

        fields["leader_name"] = check.text(cells, "leader_name", 32)
        fields["contact_name"] = check.text(cells, "contact_name", 32)
        phone = _text(cells.get("contact_phone"))
        if phone:
            try:
                mobile_validator(phone)
            except ValidationError:
                check.add("contact_phone", _("“%(value)s”不是11位手机号码") % {"value": phone})
        fields["contact_phone"] = phone
        fields["measures"] = check.text(cells, "measures", 10_000)
        fields["budget"] = check.cell(cells, "budget", lambda v: parse_decimal(v, limit=MAX_BUDGET))
        source_text = _text(cells.get("source"))
        if not source_text:
            fields["source"] = ProjectSource.DEPARTMENT
        elif source_text in self.sources or source_text in ProjectSource.values:
            fields["source"] = self.sources.get(source_text, source_text)
        else:
            check.add(
                "source",
                _("“%(value)s”不对，应为：%(allowed)s")
                % {"value": source_text, "allowed": "、".join(self.sources)},
            )
        appeal_numbers = split_names(cells.get("source_appeals"))
        if appeal_numbers:
            found = {a.number: a for a in Appeal.objects.filter(number__in=appeal_numbers)}
            for appeal_number in appeal_numbers:
                appeal = found.get(appeal_number)
                if appeal is None:
                    check.add(
                        "source_appeals",
                        _("没有编号为“%(n)s”的诉求") % {"n": appeal_number},
                    )
                elif appeal.state != AppealState.PROMOTED:
                    check.add(
                        "source_appeals",
                        _("诉求%(n)s还没有转为实事项目") % {"n": appeal_number},
                    )
                elif appeal not in project.appeals:
                    project.appeals.append(appeal)
        deadline = check.cell(cells, "deadline", parse_date)
        if deadline is not None and project.batch is not None and deadline.year < project.batch[0]:
            check.add("deadline", _("完成时限早于批次年度"))
            deadline = None
        fields["deadline"] = deadline
        return project

    # 量化指标 ------------------------------------------------------------------------------

    def _owner(self, check: _Checker, cells: dict[str, object]) -> _Project | None:
        code = _text(cells.get("project"))
        if not code:
            check.add("project", _("不能为空"))
            return None
        project = self.projects.get(code)
        if project is None:
            check.add("project", _("“项目”表中没有编号为“%(code)s”的项目") % {"code": code})
        return project

    def check_targets(self) -> None:
        for number, cells in self.tables[TARGETS.name].rows:
            check = _Checker(self.errors, TARGETS, number)
            project = self._owner(check, cells)
            name = check.text(cells, "name", 64, minimum=1)
            unit = check.text(cells, "unit", 16, minimum=1)
            planned = check.cell(cells, "planned", parse_decimal)
            if project is not None and name:
                if name in project.target_names:
                    check.add("name", _("本项目已有指标“%(name)s”") % {"name": name})
                project.target_names.add(name)
            if project is not None:
                if check.failed:
                    project.ok = False
                else:
                    project.targets.append(actions.TargetIn(name=name, unit=unit, planned=planned))
            self._advance(TARGETS, number)
        self._check_targets_in_use()

    def _check_targets_in_use(self) -> None:
        """set_plan keeps targets by name and refuses to drop one that has reported values."""
        updated = {p.existing.pk: p for p in self.projects.values() if p.existing is not None}
        if not updated:
            return
        used = ReportValue.objects.filter(target__project_id__in=list(updated)).values_list(
            "target__project_id", "target__name"
        )
        for project_id, name in used.distinct():
            project = updated[project_id]
            if name not in project.target_names:
                project.ok = False
                self.errors.append(
                    RowError(
                        PROJECTS.name,
                        project.row,
                        PROJECTS.label("code"),
                        _("指标“%(name)s”已有报送数据，“量化指标”表中不能删去") % {"name": name},
                    )
                )

    # 配档表 --------------------------------------------------------------------------------

    def check_milestones(self) -> None:
        for number, cells in self.tables[MILESTONES.name].rows:
            check = _Checker(self.errors, MILESTONES, number)
            project = self._owner(check, cells)
            month = check.cell(cells, "month", parse_month)
            title = check.text(cells, "title", 200, minimum=1)
            expected = check.text(cells, "expected", 10_000)
            percent = check.cell(cells, "planned_percent", parse_percent)
            target = _text(cells.get("target")) or None
            value = check.cell(cells, "target_value", parse_decimal)
            due = check.cell(cells, "due", parse_date)
            if value is not None and target is None:
                check.add("target", _("填了指标累计值，须同时填对应指标"))
            if project is not None and month is not None:
                project.points.append(_Point(number, month, percent, target, value))
            if project is not None:
                self._check_milestone_against(check, project, month, title, target, due)
                if check.failed:
                    project.ok = False
                else:
                    project.milestones.append(
                        (
                            number,
                            actions.MilestoneIn(
                                month=month,
                                title=title,
                                expected=expected,
                                due=due,
                                target=target,
                                target_value=value,
                                planned_percent=percent,
                            ),
                        )
                    )
            self._advance(MILESTONES, number)
        for project in self.projects.values():
            self._check_plan_order(project)

    def _check_milestone_against(
        self,
        check: _Checker,
        project: _Project,
        month: dt.date | None,
        title: str,
        target: str | None,
        due: dt.date | None,
    ) -> None:
        deadline = project.fields.get("deadline")
        if month is not None and project.batch is not None and deadline is not None:
            first = dt.date(project.batch[0], 1, 1)
            if not first <= month <= deadline:
                check.add(
                    "month",
                    _("%(month)s不在项目实施期内（%(start)s至%(end)s）")
                    % {
                        "month": f"{month.year}年{month.month}月",
                        "start": f"{first.year}年{first.month}月",
                        "end": f"{deadline.year}年{deadline.month}月",
                    },
                )
        if month is not None and due is not None and due < month:
            check.add("due", _("完成期限早于所在月份"))
        elif due is not None and deadline is not None and due > deadline:
            check.add("due", _("完成期限晚于项目完成时限"))
        if target is not None and target not in project.target_names:
            check.add(
                "target",
                _("“量化指标”表中本项目没有“%(name)s”这个指标") % {"name": target},
            )
        if (
            month is not None
            and title
            and any(m.month == month and m.title == title for _n, m in project.milestones)
        ):
            check.add("title", _("同一月份已有节点“%(title)s”") % {"title": title})

    def _check_plan_order(self, project: _Project) -> None:
        """The plan's cumulative percentage and target values may not fall month by month
        (checked on every row whose month could be read, valid or not)."""
        last_percent: int | None = None
        last_value: dict[str, Decimal] = {}
        for point in sorted(project.points, key=lambda p: (p.month, p.row)):
            check = _Checker(self.errors, MILESTONES, point.row)
            if point.percent is not None:
                if last_percent is not None and point.percent < last_percent:
                    check.add(
                        "planned_percent",
                        _("计划累计进度不能比前一个月份的%(p)d%%少") % {"p": last_percent},
                    )
                last_percent = point.percent
            if point.target is not None and point.value is not None:
                before = last_value.get(point.target)
                if before is not None and point.value < before:
                    check.add("target_value", _("累计值不能比之前月份的少"))
                last_value[point.target] = point.value
            if check.failed:
                project.ok = False


# --- import -----------------------------------------------------------------------------------


def import_plan(
    file: bytes | str | Path | IO[bytes],
    by: User,
    keep_valid: bool = False,
    progress: jobs.Progress | None = None,
) -> ImportResult:
    """Check the workbook and write it (see the module's docstring).

    ``by`` needs ``projects.manage`` (PermissionDenied otherwise). ``progress`` advances
    row by row while the rows are checked; the write is one transaction.
    """
    policy.require(by, "projects.manage")
    filename, raw = _open(file)
    result = ImportResult(filename=filename)
    try:
        tables = read_tables(raw)
    except LayoutError as exc:
        result.fatal = str(exc)
        return result
    if progress is not None:
        progress.set_total(sum(len(t.rows) for t in tables.values()))
    validator = _Validator(tables, progress)
    validator.run()
    result.errors = sorted(
        validator.errors,
        key=lambda e: ([s.name for s in SHEETS].index(e.sheet), e.row),
    )
    result.projects = len(tables[PROJECTS.name].rows)
    writable = [p for p in validator.projects.values() if p.ok and p.code]
    result.valid = len(writable)
    if not writable and not result.errors:
        result.fatal = _("“项目”表中没有项目")
        return result
    if (result.errors and not keep_valid) or not writable:
        return result
    if progress is not None:
        progress.note(_("正在写入 %(n)d 个项目…") % {"n": len(writable)})
    try:
        _write(writable, by, result)
    except (ProjectError, PermissionDenied) as exc:
        # Checked above, so this is a race (someone changed a project meanwhile): nothing
        # was written, and the person can simply import again.
        result.created, result.updated, result.batches_created = [], [], []
        result.fatal = str(getattr(exc, "message", "") or _("没有导入权限"))
    return result


def import_plan_job(
    job_id: int,
    file: bytes | str | Path | IO[bytes],
    by: User,
    keep_valid: bool = False,
    out: jobs.Stream | None = None,
) -> ImportResult:
    """``import_plan`` under a job created with ``jobs.create(JOB_KIND, ...)`` (by a view,
    before it runs this itself or hands it to a task): the job shows the progress, ends
    with the result's ``as_dict()`` and fails when the file could not be read at all."""
    with jobs.track(job_id, out=out) as progress:
        result = import_plan(file, by, keep_valid=keep_valid, progress=progress)
        if result.fatal:
            progress.job.result = result.as_dict()
            progress.fail(result.summary)
        else:
            progress.finish(result.as_dict(), message=result.summary)
    return result


@transaction.atomic
def _write(projects: Sequence[_Project], by: User, result: ImportResult) -> None:
    batches: dict[tuple[int, int], Batch] = {}
    for project in projects:
        assert project.batch is not None  # a project without a batch is not ok
        batch = batches.get(project.batch)
        if batch is None:
            year, number = project.batch
            batch = Batch.objects.filter(year=year, number=number).first()
            if batch is None:
                batch = actions.create_batch(
                    by=by, year=year, number=number, title=default_batch_title(year, number)
                )
                result.batches_created.append(batch.title)
            batches[project.batch] = batch
        if project.existing is not None:
            current = Project.objects.get(pk=project.existing.pk)
            saved = actions.update_project(
                current.pk, by=by, expected_version=current.version, **project.fields
            )
            result.updated.append(project.code)
        else:
            saved = actions.create_project(by=by, batch=batch, code=project.code, **project.fields)
            result.created.append(project.code)
        actions.set_plan(
            saved.pk,
            by=by,
            targets=project.targets,
            milestones=[
                m for _n, m in sorted(project.milestones, key=lambda i: (i[1].month, i[0]))
            ],
        )
        linked = set(saved.source_appeals.values_list("pk", flat=True))
        for appeal in project.appeals:
            if appeal.pk not in linked:
                actions.link_appeal(saved.pk, appeal.pk, by=by)
    result.written = True
    audit.record(
        by,
        "projects.plan.imported",
        object_type="projects.project",
        object_repr=f"导入配档表 {result.filename}"[:200],
        after={
            "filename": result.filename,
            "created": result.created,
            "updated": result.updated,
            "batches_created": result.batches_created,
            "skipped_rows": [(e.sheet, e.row) for e in result.errors][:1000],
        },
    )


# --- export -----------------------------------------------------------------------------------


def export_filename(batch: Batch | None = None) -> str:
    return f"{batch.title if batch else '实事项目'}配档表.xlsx"


def _project_row(project: Project) -> list[object]:
    return [
        batch_label(project.batch.year, project.batch.number),
        project.code,
        project.title,
        project.category.name,
        project.lead_unit.name,
        "、".join(unit.name for unit in project.co_units.all()),
        project.leader_name,
        project.contact_name,
        project.contact_phone,
        project.measures,
        number_cell(project.budget),
        project.get_source_display(),
        "、".join(a.number for a in project.source_appeals.all()),
        project.deadline,
    ]


def _plan_rows(project: Project) -> tuple[list[list[object]], list[list[object]]]:
    targets: list[list[object]] = [
        [project.code, t.name, t.unit, number_cell(t.planned)] for t in project.targets.all()
    ]
    milestones: list[list[object]] = [
        [
            project.code,
            m.month,
            m.title,
            m.expected,
            m.planned_percent,
            m.target.name if m.target is not None else None,
            number_cell(m.target_value),
            m.due,
        ]
        for m in project.milestones.all()
    ]
    return targets, milestones


def export_plan(queryset: QuerySet[Project]) -> bytes:
    """The projects of ``queryset`` with their plans, in the import layout. The caller checks
    the right and scopes the queryset (the file holds the contact persons' phones)."""
    projects = (
        queryset.select_related("batch", "category", "lead_unit")
        .prefetch_related(
            "co_units",
            "source_appeals",
            "targets",
            Prefetch("milestones", queryset=Milestone.objects.select_related("target")),
        )
        .order_by("batch__year", "batch__number", "code")
    )
    rows: dict[str, list[list[object]]] = {s.name: [] for s in SHEETS}
    for project in projects:
        rows[PROJECTS.name].append(_project_row(project))
        targets, milestones = _plan_rows(project)
        rows[TARGETS.name] += targets
        rows[MILESTONES.name] += milestones
    return build_workbook(rows, _current_categories(), _current_units())


def export_template(*, with_units: bool = True) -> bytes:
    """A blank workbook with the county's categories (and units) as drop-down lists."""
    return build_workbook({}, _current_categories(), _current_units() if with_units else [])


def _current_categories() -> list[str]:
    return list(ProjectCategory.objects.filter(active=True).values_list("name", flat=True))


def _current_units() -> list[str]:
    return list(Department.objects.filter(active=True).values_list("name", flat=True))


# The file format is Chinese whatever the UI language (like the catalogue's, see
# catalog.tabular): headers, lists and instructions are read back by the import.
@translation.override("zh-hans")
def build_workbook(
    rows: dict[str, list[list[object]]], categories: Sequence[str], units: Sequence[str]
) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    workbook.remove(workbook.active)
    bold = Font(bold=True)
    required_fill = PatternFill("solid", fgColor="FCE4D6")
    optional_fill = PatternFill("solid", fgColor="EDEDED")
    wrap = Alignment(wrap_text=True, vertical="top")
    formats = {"code": "@", "date": DATE_FORMAT, "month": MONTH_FORMAT}
    sources = [str(label) for label in ProjectSource.labels]
    options: list[tuple[str, Sequence[str]]] = [
        ("category", categories),
        ("source", sources),
        ("lead_unit", units),
    ]
    option_ranges: dict[str, str] = {}
    for index, (key, values) in enumerate(options, start=1):
        if values:
            letter = get_column_letter(index)
            option_ranges[key] = f"'{OPTIONS_SHEET}'!${letter}$2:${letter}${len(values) + 1}"

    for sheet in SHEETS:
        worksheet = workbook.create_sheet(sheet.name)
        worksheet.freeze_panes = "A2" if sheet is not PROJECTS else "C2"
        data = rows.get(sheet.name, [])
        last_row = max(len(data) + 1, TEMPLATE_ROWS)
        for col, column in enumerate(sheet.columns, start=1):
            letter = get_column_letter(col)
            worksheet.column_dimensions[letter].width = column.width
            head = worksheet.cell(row=1, column=col, value=column.label)
            head.font = bold
            head.fill = required_fill if column.required else optional_fill
            head.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            number_format = formats.get(column.kind)
            if number_format:
                # Pre-formatted, so that Excel keeps "2026-1-03" as text and shows dates alike.
                for row in range(2, last_row + 1):
                    worksheet.cell(row=row, column=col).number_format = number_format
            key = "lead_unit" if column.key == "co_units" else column.key
            if key in option_ranges and column.key != "co_units":
                validation = DataValidation(
                    type="list",
                    # Without a leading "=", as Excel itself writes a range in the file.
                    formula1=option_ranges[key],
                    allow_blank=not column.required,
                    showErrorMessage=column.key != "lead_unit",
                    errorTitle=_("请从列表中选择"),
                    error=column.help,
                )
                validation.add(f"{letter}2:{letter}{last_row}")
                worksheet.add_data_validation(validation)
        for r, row_values in enumerate(data, start=2):
            for c, value in enumerate(row_values, start=1):
                cell = worksheet.cell(row=r, column=c, value=value)
                if isinstance(value, str) and "\n" in value:
                    cell.alignment = wrap

    help_sheet = workbook.create_sheet(HELP_SHEET)
    help_sheet.column_dimensions["A"].width = 12
    help_sheet.column_dimensions["B"].width = 18
    help_sheet.column_dimensions["C"].width = 8
    help_sheet.column_dimensions["D"].width = 70
    for line in _help_lines():
        help_sheet.append(line)
    for cell in help_sheet[1]:
        cell.font = bold

    option_sheet = workbook.create_sheet(OPTIONS_SHEET)
    for index, (key, values) in enumerate(options, start=1):
        label = PROJECTS.label(key)
        option_sheet.cell(row=1, column=index, value=label).font = bold
        option_sheet.column_dimensions[get_column_letter(index)].width = 24
        for r, value in enumerate(values, start=2):
            option_sheet.cell(row=r, column=index, value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _help_lines() -> Iterable[list[str]]:
    yield [_("工作表"), _("列"), _("必填"), _("填写要求")]
    for sheet in SHEETS:
        for column in sheet.columns:
            yield [sheet.name, column.label, _("是") if column.required else "", column.help]
    yield []
    yield [
        _("说明"),
        "",
        "",
        _(
            "每个项目在“项目”表填一行；它的量化指标和每月节点分别填在“量化指标”和“配档表”，"
            "用项目编号对应。导入时逐行检查，有错误时不写入任何数据，并列出出错的表、行和列；"
            "也可以选择只导入无误的项目（某个项目的任何一行有错，该项目整体跳过）。"
        ),
    ]


# --- the shipped template and sample ---------------------------------------------------------

# The sample: projects like those of a county's first batch, led by the demo county's units.
# fmt: off
SAMPLE_PROJECTS: list[list[object]] = [
    [
        "2026年第一批", "2026-1-01", "设立困难妇女儿童救助基金", "社会保障", "县民政局",
        "县教育局", "王建国", "李海燕", "13800000001",
        "设立100万元专项救助基金，对因病、因灾致困的妇女儿童实施临时救助；\n建立救助对象动态台账。",
        100, "网上征集", "", dt.date(2026, 6, 30),
    ],
    [
        "2026年第一批", "2026-1-02", "村级便民服务中心标准化建设", "乡村振兴", "县民政局",
        "城关镇、石桥镇", "王建国", "赵文博", "13800000002",
        "按“六有”标准改造村级便民服务中心，统一标识、统一服务事项清单。",
        240, "部门申报", "", dt.date(2026, 9, 30),
    ],
    [
        "2026年第一批", "2026-1-03", "城乡供水管网互联互通工程", "城乡建设", "县住建局",
        "县自然资源局、县生态环境分局", "陈志强", "周丽娟", "13800000003",
        "铺设14.5公里供水主管网，连通城区水厂和北部水厂，实现双水源互备。",
        1850.5, "线下征集", "", dt.date(2026, 11, 30),
    ],
    [
        "2026年第一批", "2026-1-04", "残疾人意外伤害保险全覆盖", "社会保障", "县民政局",
        "县医保局", "王建国", "孙桂兰", "13800000004",
        "为全县2万名持证残疾人统一购买意外伤害保险，由财政全额代缴保费。",
        60, "部门申报", "", dt.date(2026, 5, 31),
    ],
]
SAMPLE_TARGETS: list[list[object]] = [
    ["2026-1-01", "救助困难妇女儿童", "人", 20],
    ["2026-1-02", "完成标准化改造的便民服务中心", "个", 12],
    ["2026-1-03", "铺设供水主管网", "公里", 14.5],
    ["2026-1-03", "连通水厂", "座", 2],
    ["2026-1-04", "参保残疾人", "人", 20000],
]
SAMPLE_MILESTONES: list[list[object]] = [
    ["2026-1-01", dt.date(2026, 3, 1), "制定救助基金管理办法", "办法印发", 20, None, None, None],
    ["2026-1-01", dt.date(2026, 4, 1), "摸底确定救助对象", "完成全县摸排", 40, None, None, None],
    ["2026-1-01", dt.date(2026, 5, 1), "发放首批救助金", "", 70, "救助困难妇女儿童", 10, None],
    ["2026-1-01", dt.date(2026, 6, 1), "完成全部救助", "", 100, "救助困难妇女儿童", 20, None],
    ["2026-1-02", dt.date(2026, 4, 1), "制定改造标准和清单", "", 15, None, None, None],
    ["2026-1-02", dt.date(2026, 6, 1), "完成首批改造", "", 50,
     "完成标准化改造的便民服务中心", 6, None],
    ["2026-1-02", dt.date(2026, 9, 1), "全部改造完成并验收", "", 100,
     "完成标准化改造的便民服务中心", 12, dt.date(2026, 9, 25)],
    ["2026-1-03", dt.date(2026, 3, 1), "完成施工图设计和招标", "", 10, None, None, None],
    ["2026-1-03", dt.date(2026, 6, 1), "铺设东段管网", "东段完工", 40, "铺设供水主管网", 6, None],
    ["2026-1-03", dt.date(2026, 9, 1), "铺设西段管网", "", 80, "铺设供水主管网", 14.5, None],
    ["2026-1-03", dt.date(2026, 11, 1), "两座水厂连通试运行", "", 100, "连通水厂", 2, None],
    ["2026-1-04", dt.date(2026, 3, 1), "核对持证残疾人名单", "", 30, None, None, None],
    ["2026-1-04", dt.date(2026, 4, 1), "完成投保", "", 80, "参保残疾人", 20000, None],
    ["2026-1-04", dt.date(2026, 5, 1), "发放保险告知书", "", 100, None, None, None],
]
# fmt: on


def build_template() -> bytes:
    return export_template(with_units=False)


def build_sample() -> bytes:
    return build_workbook(
        {
            PROJECTS.name: SAMPLE_PROJECTS,
            TARGETS.name: SAMPLE_TARGETS,
            MILESTONES.name: SAMPLE_MILESTONES,
        },
        _current_categories(),
        [],
    )


def write_data_files(directory: Path = DATA_DIR) -> list[Path]:
    """Regenerate the shipped template and sample (needs the default categories in the
    database): ``minsheng shell -c "from minsheng.projects import plan_io;
    plan_io.write_data_files()"`` on a freshly migrated database."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for path, data in ((TEMPLATE_PATH, build_template()), (SAMPLE_PATH, build_sample())):
        target = directory / path.name
        target.write_bytes(data)
        written.append(target)
    return written
