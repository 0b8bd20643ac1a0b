"""Importing the State Council's yearly holiday notice from CSV.

The file has the columns ``date,kind,name`` (a header row is optional; Chinese headers
日期,类型,名称 work too). ``kind`` is ``holiday`` or ``workday``, or in Chinese 放假/休 and
班/上班. Every row is checked first; if any is wrong nothing is written and every error is
reported with its line number. Importing the same file again changes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction

from minsheng.core import audit, calendar, policy
from minsheng.core.models.calendar import HolidayDay

if TYPE_CHECKING:
    from minsheng.core.policy import AnyUser

MAX_BYTES = 256 * 1024  # a year's notice is a few dozen rows
MAX_ROWS = 2000
FIRST_YEAR, LAST_YEAR = 2000, 2099
NAME_MAX = HolidayDay._meta.get_field("name").max_length or 32

KIND_WORDS = {
    "holiday": HolidayDay.Kind.HOLIDAY,
    "放假": HolidayDay.Kind.HOLIDAY,
    "休": HolidayDay.Kind.HOLIDAY,
    "休息": HolidayDay.Kind.HOLIDAY,
    "workday": HolidayDay.Kind.WORKDAY,
    "班": HolidayDay.Kind.WORKDAY,
    "上班": HolidayDay.Kind.WORKDAY,
    "补班": HolidayDay.Kind.WORKDAY,
    "调休上班": HolidayDay.Kind.WORKDAY,
}
HEADER_WORDS = {
    "date": "date",
    "日期": "date",
    "kind": "kind",
    "类型": "kind",
    "name": "name",
    "名称": "name",
    "节日": "name",
}
DATE_PATTERN = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


class HolidayCsvError(ValueError):
    """The file cannot be imported; ``errors`` are messages in Chinese, one per problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class HolidayRow:
    line: int
    date: dt.date
    kind: str
    name: str


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int
    years: tuple[int, ...]
    dry_run: bool

    def summary(self) -> str:
        years = "、".join(f"{y}年" for y in self.years)
        text = f"{years}：新增 {self.created} 条，更新 {self.updated} 条，未变 {self.unchanged} 条"
        return f"（试运行，未写入）{text}" if self.dry_run else text


def _decode(data: bytes) -> str:
    # Excel on Chinese Windows saves CSV as GBK; elsewhere UTF-8, often with a BOM.
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise HolidayCsvError(["文件编码无法识别，请另存为 UTF-8 或 GBK 编码的 CSV 文件"]) from None


def _parse_date(text: str) -> dt.date | None:
    match = DATE_PATTERN.match(text)
    if match is None:
        return None
    try:
        return dt.date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def _header(cells: list[str], line: int) -> list[str] | None:
    """The column order named by a header row, or None if ``cells`` is data."""
    words = [cell.strip().lower() for cell in cells]
    if not words or words[0] not in HEADER_WORDS:
        return None
    columns = [HEADER_WORDS.get(word, "") for word in words]
    unknown = [cell for cell, column in zip(cells, columns, strict=True) if not column]
    if unknown or len(set(columns)) != len(columns) or not {"date", "kind"} <= set(columns):
        raise HolidayCsvError(
            [f"第{line}行：表头应为 date,kind,name（或 日期,类型,名称），现为“{','.join(cells)}”"]
        )
    return columns


def _row(cells: list[str], columns: list[str], line: int, errors: list[str]) -> HolidayRow | None:
    if len(cells) > len(columns):
        errors.append(f"第{line}行：列数过多，应为 {len(columns)} 列（{','.join(columns)}）")
        return None
    values = dict(zip(columns, cells, strict=False))
    date_text = values.get("date", "")
    kind_text = values.get("kind", "")
    name = values.get("name", "")
    ok = True
    day = _parse_date(date_text)
    if day is None:
        errors.append(f"第{line}行：日期“{date_text}”无效，应写成 2027-01-01 这样的格式")
        ok = False
    elif not FIRST_YEAR <= day.year <= LAST_YEAR:
        errors.append(f"第{line}行：年份 {day.year} 超出范围（{FIRST_YEAR}–{LAST_YEAR}）")
        ok = False
    kind = KIND_WORDS.get(kind_text.lower())
    if kind is None:
        errors.append(
            f"第{line}行：类型“{kind_text}”无法识别，应为 holiday（放假/休）或 workday（班/上班）"
        )
        ok = False
    if len(name) > NAME_MAX:
        errors.append(f"第{line}行：名称“{name}”超过 {NAME_MAX} 个字")
        ok = False
    if not ok or day is None or kind is None:
        return None
    return HolidayRow(line=line, date=day, kind=kind, name=name)


def parse(data: bytes) -> list[HolidayRow]:
    """Read and check every row; raise HolidayCsvError listing all problems."""
    if len(data) > MAX_BYTES:
        raise HolidayCsvError([f"文件过大（超过 {MAX_BYTES // 1024} KB），请检查是否选错了文件"])
    reader = csv.reader(io.StringIO(_decode(data)))
    columns: list[str] | None = None
    rows: list[HolidayRow] = []
    errors: list[str] = []
    seen: dict[dt.date, int] = {}
    for raw in reader:
        cells = [cell.strip() for cell in raw]
        while cells and not cells[-1]:  # spreadsheet programs pad rows with empty cells
            cells.pop()
        if not cells:
            continue
        line = reader.line_num
        if columns is None:
            columns = _header(cells, line)
            if columns is not None:
                continue
            columns = ["date", "kind", "name"]
        row = _row(cells, columns, line, errors)
        if row is None:
            continue
        if row.date in seen:
            errors.append(f"第{line}行：日期 {row.date} 与第{seen[row.date]}行重复")
            continue
        seen[row.date] = line
        rows.append(row)
        if len(rows) > MAX_ROWS:
            raise HolidayCsvError([f"行数过多（超过 {MAX_ROWS} 行），请检查是否选错了文件"])
    if errors:
        raise HolidayCsvError(errors)
    if not rows:
        raise HolidayCsvError(["文件中没有数据行"])
    return rows


@transaction.atomic
def import_holidays(
    rows: list[HolidayRow],
    *,
    by: AnyUser | None,
    source: str = "",
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Write ``rows`` to the HolidayDay table (``by=None``: the command line).

    Entries for dates already in the table are updated; other entries are left alone. After
    the commit the apps recompute their provisional deadlines for the imported years.
    """
    if by is not None:
        policy.require(by, "holiday.manage")
    source = source.strip()
    existing = {
        day.date: day
        for day in HolidayDay.objects.select_for_update().filter(
            date__in=[row.date for row in rows]
        )
    }
    to_create: list[HolidayDay] = []
    to_update: list[HolidayDay] = []
    for row in rows:
        day = existing.get(row.date)
        if day is None:
            to_create.append(HolidayDay(date=row.date, kind=row.kind, name=row.name, source=source))
            continue
        wanted = (row.kind, row.name, source or day.source)
        if (day.kind, day.name, day.source) != wanted:
            day.kind, day.name, day.source = wanted
            to_update.append(day)
    years = tuple(sorted({row.date.year for row in rows}))
    result = ImportResult(
        created=len(to_create),
        updated=len(to_update),
        unchanged=len(rows) - len(to_create) - len(to_update),
        years=years,
        dry_run=dry_run,
    )
    if dry_run:
        return result
    changes = to_create + to_update
    # One save per row so that the post_save signals clear the calendar cache.
    for done, day in enumerate(changes, start=1):
        day.save()
        if progress is not None:
            progress(done, len(changes))
    if changes:
        audit.record(
            by,
            "holiday.imported",
            object_type=HolidayDay._meta.label_lower,
            object_repr=result.summary(),
            after={
                "years": list(years),
                "created": result.created,
                "updated": result.updated,
                "source": source,
            },
        )
        calendar.schedule_provisional_recompute(years)
    return result
