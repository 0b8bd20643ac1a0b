"""Import the catalogue from Excel or CSV: validate every row, then write all or nothing.

Validation reads the database (departments, halls, windows) but writes nothing. When any
row has an error, nothing is written unless the caller asked for ``valid_only``; then the
valid rows are written in one transaction and the bad ones reported. Matters are upserted by
code; only the columns present in the file are changed, so importing the plain layout
(which has no steps or FAQs) keeps the steps and FAQs an admin wrote.

Progress: the validation pass advances the job row by row (outside any transaction, so the
UI sees it move); the write pass is one transaction and shows up when it commits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils.translation import gettext as _
from pypinyin import Style, lazy_pinyin

from minsheng.catalog import actions, tabular
from minsheng.catalog.models import (
    FAQ,
    Audience,
    HallMap,
    MapItem,
    Material,
    MatterType,
    ServiceMatter,
    Step,
)
from minsheng.catalog.tabular import FaqSpec, LayoutError, MaterialSpec
from minsheng.core import audit, jobs
from minsheng.core.jobs import Stream
from minsheng.core.models import Department, Hall, Window

MAX_ERRORS_SHOWN = 500

TEXT_LIMITS = {
    "code": 32,
    "name": 128,
    "short_name": 64,
    "fee": 255,
    "hall_location": 128,
    "opening_hours": 128,
    "consult_phone": 32,
    "complaint_phone": 32,
    "online_url": 200,
}
# Plain text columns and the model field each one fills.
TEXT_FIELDS = {
    "name": "name",
    "short_name": "short_name",
    "aliases": "aliases",
    "conditions": "conditions",
    "legal_basis": "legal_basis",
    "fee": "fee",
    "hall_location": "location",
    "opening_hours": "opening_hours",
    "consult_phone": "consult_phone",
    "complaint_phone": "complaint_phone",
    "online_url": "online_url",
}
DAYS_FIELDS = {"statutory_days": "statutory_days", "time_limit_days": "promised_days"}
BOOL_FIELDS = {"online": "online", "high_frequency": "high_frequency", "active": "active"}
INT_FIELDS = {"visits_required": "visits_required", "hf_order": "hf_order"}
DAYS = re.compile(r"^(\d+)\s*(?:个)?(?:工作日|天|日)?$")


@dataclass
class RowError:
    line: int
    code: str
    messages: list[str]


@dataclass
class ParsedRow:
    line: int
    code: str
    fields: dict[str, Any] = field(default_factory=dict)
    department: str | None = None  # a name; None when the column is absent
    hall: str | None = None
    windows: list[tuple[str, str]] | None = None
    materials: list[MaterialSpec] | None = None
    steps: list[str] | None = None
    faqs: list[FaqSpec] | None = None


@dataclass
class ImportReport:
    filename: str
    total_rows: int = 0
    valid_rows: int = 0
    created: int = 0
    updated: int = 0
    written: bool = False
    departments_created: list[str] = field(default_factory=list)
    windows_created: list[str] = field(default_factory=list)
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
                "共 %(rows)d 行，%(bad)d 行有错误，未写入任何数据。"
                "请改正后重新导入，或选择“只导入无误的行”。"
            ) % {"rows": self.total_rows, "bad": len(self.errors)}
        if self.errors:
            return _(
                "共 %(rows)d 行，新增 %(created)d 项，更新 %(updated)d 项，"
                "跳过有错误的 %(bad)d 行。"
            ) % {
                "rows": self.total_rows,
                "created": self.created,
                "updated": self.updated,
                "bad": len(self.errors),
            }
        return _("共 %(rows)d 行，新增 %(created)d 项，更新 %(updated)d 项。") % {
            "rows": self.total_rows,
            "created": self.created,
            "updated": self.updated,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "total_rows": self.total_rows,
            "valid_rows": self.valid_rows,
            "created": self.created,
            "updated": self.updated,
            "written": self.written,
            "departments_created": self.departments_created,
            "windows_created": self.windows_created,
            "fatal": self.fatal,
            "summary": self.summary,
            "errors": [
                {"line": e.line, "code": e.code, "messages": e.messages}
                for e in self.errors[:MAX_ERRORS_SHOWN]
            ],
        }


# --- lookups shared with the demo ----------------------------------------------------------


def find_department(name: str) -> Department | None:
    """A department by its name or short name, also without or with the county's name
    in front ("县市场监督管理局" finds "某县市场监督管理局")."""
    name = name.strip()
    county = settings.COUNTY_NAME
    candidates = {name}
    if name.startswith("县"):
        candidates.add(county + name[1:])
    if name.startswith(county):
        candidates.add("县" + name[len(county) :])
    else:
        candidates.add(county + name)
    for dept in Department.objects.filter(name__in=candidates):
        return dept
    return Department.objects.filter(short_name__in=candidates).order_by("pk").first()


def find_hall(token: str) -> Hall | None:
    token = token.strip()
    code = token[:-1] if token.endswith("厅") else token
    return (
        Hall.objects.filter(code__in={token, code}).first()
        or Hall.objects.filter(name=token).first()
    )


def find_window(hall: Hall, number: str) -> Window | None:
    window = Window.objects.filter(hall=hall, number=number).first()
    if window is None and number.isdigit():
        for candidate in Window.objects.filter(hall=hall):
            if candidate.number.isdigit() and int(candidate.number) == int(number):
                return candidate
    return window


def department_code(name: str) -> str:
    initials = "".join(lazy_pinyin(name, style=Style.FIRST_LETTER))
    base = re.sub(r"[^a-z0-9]", "", initials.lower())[:24] or "dept"
    code, n = base, 1
    while Department.objects.filter(code=code).exists():
        n += 1
        code = f"{base}-{n}"
    return code


# --- validation ------------------------------------------------------------------------------


def _days(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if text in {"即办", "即时办结", "当场办结"}:
        return 0
    match = DAYS.match(text)
    if not match:
        raise ValueError(_("“%(value)s”不是工作日数，请填整数（即办填 0）") % {"value": text})
    return int(match[1])


def _int(text: str) -> int:
    text = text.strip()
    if not text.isdigit():
        raise ValueError(_("“%(value)s”应为非负整数") % {"value": text})
    return int(text)


def parse_row(line: int, cells: dict[str, str], seen: set[str]) -> tuple[ParsedRow, list[str]]:
    errors: list[str] = []
    code = cells.get("code", "").strip()
    row = ParsedRow(line=line, code=code)
    if not code:
        errors.append(_("事项编码不能为空"))
    elif len(code) > TEXT_LIMITS["code"] or re.search(r"\s", code):
        errors.append(_("事项编码不能超过32个字符，也不能含空格"))
    elif code in seen:
        errors.append(_("事项编码“%(code)s”在文件中重复") % {"code": code})
    if "name" in cells and not cells["name"].strip():
        errors.append(_("事项名称不能为空"))
    for key, model_field in TEXT_FIELDS.items():
        if key not in cells:
            continue
        value = cells[key].strip()
        limit = TEXT_LIMITS.get(key)
        if limit and len(value) > limit:
            errors.append(
                _("%(column)s不能超过%(limit)d个字符")
                % {"column": tabular.LABELS[key], "limit": limit}
            )
            continue
        row.fields[model_field] = value
    if row.fields.get("online_url"):
        try:
            URLValidator()(row.fields["online_url"])
        except ValidationError:
            errors.append(_("网上办理地址不是有效的网址"))
    if "department" in cells:
        row.department = cells["department"].strip()
        if not row.department:
            errors.append(_("实施部门不能为空"))
        elif len(row.department) > 64:
            errors.append(_("实施部门名称不能超过64个字符"))
    if "type" in cells:
        value = cells["type"].strip()
        if value in tabular.TYPE_BY_LABEL:
            row.fields["matter_type"] = tabular.TYPE_BY_LABEL[value]
        elif value in MatterType.values:
            row.fields["matter_type"] = value
        elif value:
            allowed = "、".join(str(label) for label in MatterType.labels)
            errors.append(
                _("事项类型“%(value)s”不对，应为：%(allowed)s")
                % {"value": value, "allowed": allowed}
            )
    if "audience" in cells and cells["audience"].strip():
        value = cells["audience"].strip()
        audience = tabular.AUDIENCE_BY_LABEL.get(value, value)
        if audience in Audience.values:
            row.fields["audience"] = audience
        else:
            errors.append(_("服务对象“%(value)s”不对") % {"value": value})
    for key, model_field in DAYS_FIELDS.items():
        if key in cells:
            try:
                row.fields[model_field] = _days(cells[key])
            except ValueError as exc:
                errors.append(f"{tabular.LABELS[key]}：{exc}")
    for key, model_field in INT_FIELDS.items():
        if key in cells and cells[key].strip():
            try:
                row.fields[model_field] = _int(cells[key])
            except ValueError as exc:
                errors.append(f"{tabular.LABELS[key]}：{exc}")
    for key, model_field in BOOL_FIELDS.items():
        if key in cells and cells[key].strip():
            try:
                row.fields[model_field] = tabular.parse_bool(cells[key])
            except ValueError as exc:
                errors.append(f"{tabular.LABELS[key]}：{exc}")
    if "materials" in cells:
        row.materials = tabular.parse_materials(cells["materials"])
        for m in row.materials:
            if len(m.name) > 255 or len(m.notes) > 255:
                errors.append(
                    _("材料“%(name)s”的名称或备注超过255个字符") % {"name": m.name[:20] + "…"}
                )
            if m.copies < 1 or m.copies > 99:
                errors.append(_("材料“%(name)s”的份数应在1到99之间") % {"name": m.name})
    if "steps" in cells:
        row.steps = tabular.parse_steps(cells["steps"])
        if any(len(s) > 500 for s in row.steps):
            errors.append(_("办理流程的每一步不能超过500个字符"))
    if "faqs" in cells:
        try:
            row.faqs = tabular.parse_faqs(cells["faqs"])
        except ValueError as exc:
            errors.append(_("常见问题：%(problem)s") % {"problem": exc})
        else:
            if any(len(f.question) > 255 for f in row.faqs):
                errors.append(_("常见问题的问题不能超过255个字符"))
    if "hall" in cells:
        row.hall = cells["hall"].strip()
    if "window" in cells:
        try:
            row.windows = tabular.parse_window_tokens(cells["window"])
        except ValueError as exc:
            errors.append(str(exc))
        else:
            if any(not hall for hall, _n in row.windows) and not row.hall:
                errors.append(_("窗口须注明所在大厅，例如“A厅4号窗口”"))
            if any(len(n) > 16 for _h, n in row.windows):
                errors.append(_("窗口号不能超过16个字符"))
    return row, errors


def _check_against_database(row: ParsedRow, existing_codes: set[str]) -> list[str]:
    errors: list[str] = []
    if row.code not in existing_codes:
        if row.department is None:
            errors.append(_("新事项必须填写实施部门"))
        if "name" not in row.fields:
            errors.append(_("新事项必须填写事项名称"))
    return errors


def validate(
    keys: list[str | None], rows: list[list[str]], progress: jobs.Progress | None = None
) -> tuple[list[ParsedRow], list[RowError], int]:
    parsed: list[ParsedRow] = []
    errors: list[RowError] = []
    seen: set[str] = set()
    total = 0
    # One query for all codes instead of one per row.
    existing_codes = set(ServiceMatter.objects.values_list("code", flat=True))
    for index, raw in enumerate(rows):
        line = index + 2  # the header is line 1
        cells = {
            key: (raw[i] if i < len(raw) else "") for i, key in enumerate(keys) if key is not None
        }
        if not any(v.strip() for v in cells.values()):
            if progress:
                progress.advance()
            continue
        total += 1
        row, row_errors = parse_row(line, cells, seen)
        if not row_errors:
            row_errors = _check_against_database(row, existing_codes)
        if row.code:
            seen.add(row.code)
        if row_errors:
            errors.append(RowError(line, row.code, row_errors))
        else:
            parsed.append(row)
        if progress:
            progress.advance(message=_("校验第 %(line)d 行") % {"line": line})
    return parsed, errors, total


# --- writing ---------------------------------------------------------------------------------


class _Resolver:
    """Departments, halls and windows matched by name, created once when missing."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        self.departments: dict[str, Department] = {}
        self.halls: dict[str, Hall] = {}
        self.windows: dict[tuple[int, str], Window] = {}

    def department(self, name: str) -> Department:
        if name not in self.departments:
            dept = find_department(name)
            if dept is None:
                dept = Department.objects.create(code=department_code(name), name=name)
                self.report.departments_created.append(name)
            self.departments[name] = dept
        return self.departments[name]

    def hall(self, token: str) -> Hall:
        if token not in self.halls:
            hall = find_hall(token)
            if hall is None:
                code = (token[:-1] if token.endswith("厅") else token)[:16]
                hall = Hall.objects.create(
                    code=code, name=token if token.endswith("厅") else f"{token}厅"
                )
            self.halls[token] = hall
        return self.halls[token]

    def window(self, hall: Hall, number: str, department: Department) -> Window:
        key = (hall.pk, number)
        if key in self.windows:
            return self.windows[key]
        window = find_window(hall, number)
        if window is None:
            window = Window.objects.create(
                hall=hall,
                number=number,
                name=f"{department.label}窗口"[:64],
                department=department,
            )
            self.report.windows_created.append(str(window))
            place_on_map(window)
        self.windows[key] = window
        return window


def place_on_map(window: Window) -> MapItem | None:
    """Draw a new window in the first free cell of its hall's map (back wall first), so
    that "take me there" works at once; the admin can move it later."""
    hall_map = HallMap.objects.filter(hall=window.hall).first()
    if hall_map is None:
        return None
    taken = {(hall_map.entrance_row, hall_map.entrance_col)}
    for item in hall_map.items.all():
        for r in range(item.row, item.row + item.height):
            for c in range(item.col, item.col + item.width):
                taken.add((r, c))
    for r in range(hall_map.rows):
        for c in range(hall_map.cols):
            if (r, c) not in taken:
                return MapItem.objects.create(
                    hall_map=hall_map, kind=MapItem.Kind.WINDOW, window=window, row=r, col=c
                )
    return None


def _write_row(row: ParsedRow, resolver: _Resolver) -> bool:
    """Upsert one matter; True when it was created."""
    matter = ServiceMatter.objects.select_for_update().filter(code=row.code).first()
    created = matter is None
    if matter is None:
        matter = ServiceMatter(code=row.code)
    for name, value in row.fields.items():
        setattr(matter, name, value)
    if row.department is not None:
        matter.department = resolver.department(row.department)
    if row.hall is not None:
        matter.hall = resolver.hall(row.hall) if row.hall else None
    matter.save()
    if row.windows is not None:
        windows = []
        for hall_token, number in row.windows:
            hall = resolver.hall(hall_token) if hall_token else matter.hall
            assert hall is not None  # validated: a window without a hall needs the hall column
            windows.append(resolver.window(hall, number, matter.department))
        matter.windows.set(windows)
    if row.materials is not None:
        matter.materials.all().delete()
        Material.objects.bulk_create(
            Material(
                matter=matter,
                name=m.name,
                kind=m.kind,
                copies=m.copies,
                required=m.required,
                notes=m.notes,
                order=i,
            )
            for i, m in enumerate(row.materials, start=1)
        )
    if row.steps is not None:
        matter.steps.all().delete()
        Step.objects.bulk_create(
            Step(matter=matter, order=i, text=text) for i, text in enumerate(row.steps, start=1)
        )
    if row.faqs is not None:
        matter.faqs.all().delete()
        FAQ.objects.bulk_create(
            FAQ(matter=matter, question=f.question, answer=f.answer, order=i)
            for i, f in enumerate(row.faqs, start=1)
        )
    return created


@transaction.atomic
def write(user: Any, rows: list[ParsedRow], report: ImportReport) -> None:
    resolver = _Resolver(report)
    codes: list[str] = []
    for row in rows:
        if _write_row(row, resolver):
            report.created += 1
        else:
            report.updated += 1
        codes.append(row.code)
    report.written = True
    audit.record(
        user,
        "catalog.imported",
        object_type="catalog.servicematter",
        object_repr=f"导入 {report.filename}"[:200],
        after={
            "filename": report.filename,
            "rows": report.total_rows,
            "created": report.created,
            "updated": report.updated,
            "skipped_lines": [e.line for e in report.errors],
            "codes": codes[:1000],
            "departments_created": report.departments_created,
            "windows_created": report.windows_created,
        },
    )


def import_file(
    path: Path | str,
    *,
    user: Any = None,
    data: bytes | None = None,
    valid_only: bool = False,
    out: Stream | None = None,
    job_id: int | None = None,
) -> ImportReport:
    """Validate and (if clean, or ``valid_only``) write a catalogue file.

    ``user`` is None for the command line (the system acts); a person must hold
    ``catalog.import``. Pass ``data`` for an uploaded file (``path`` then only names it).
    """
    if user is not None:
        actions.require(user, "catalog.import")
    report = ImportReport(filename=Path(str(path)).name)
    progress = (
        jobs.track(job_id, out=out)
        if job_id is not None
        else jobs.start(
            "catalog.import",
            f"导入办事指南 {report.filename}",
            started_by=user if user is not None and user.is_authenticated else None,
            out=out,
        )
    )
    with progress:
        try:
            keys, rows = tabular.read_table(path, data)
        except LayoutError as exc:
            report.fatal = str(exc)
            progress.job.result = report.as_dict()
            progress.fail(report.summary)
            return report
        progress.set_total(len(rows))
        parsed, errors, total = validate(keys, rows, progress)
        report.total_rows, report.valid_rows, report.errors = total, len(parsed), errors
        if errors and not valid_only:
            progress.finish(report.as_dict(), message=report.summary)
            return report
        progress.note(_("正在写入…"))
        write(user if user is not None and user.is_authenticated else None, parsed, report)
        progress.finish(report.as_dict(), message=report.summary)
    return report
