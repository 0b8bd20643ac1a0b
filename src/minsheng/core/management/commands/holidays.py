"""``minsheng holidays import FILE`` loads the yearly notice; ``minsheng holidays show YEAR``
lists what the calendar knows about a year."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from minsheng.core import calendar, holidays_csv


class Command(BaseCommand):
    help = "导入国务院办公厅节假日安排（import）或查看某年的节假日（show）"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="{import,show}")
        load = sub.add_parser(
            "import", help="从 CSV 文件（列：date,kind,name）导入节假日；有错误时不写入任何数据"
        )
        load.add_argument("file", type=Path, help="CSV 文件路径")
        load.add_argument("--dry-run", action="store_true", help="只校验并显示将做的修改，不写入")
        load.add_argument("--source", default="", help="通知文号，如“国办发明电〔2026〕7号”")
        show = sub.add_parser("show", help="列出某年的放假和调休上班日期，以及该年是否已知")
        show.add_argument("year", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "import":
            self.load(options["file"], dry_run=options["dry_run"], source=options["source"])
        else:
            self.show(options["year"])

    def load(self, path: Path, *, dry_run: bool, source: str) -> None:
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"无法读取文件 {path}：{error.strerror or error}") from None
        self.stderr.write(f"读取 {path} …", style_func=str)
        try:
            rows = holidays_csv.parse(data)
        except holidays_csv.HolidayCsvError as error:
            for message in error.errors:
                self.stderr.write(message)
            raise CommandError(f"文件有 {len(error.errors)} 处错误，未写入任何数据") from None
        self.stderr.write(f"{len(rows)} 行数据校验通过", style_func=str)

        def progress(done: int, total: int) -> None:
            if done % 50 == 0 or done == total:
                self.stderr.write(f"已写入 {done}/{total}", style_func=str)

        result = holidays_csv.import_holidays(
            rows, by=None, source=source, dry_run=dry_run, progress=progress
        )
        self.stdout.write(self.style.SUCCESS(result.summary()))
        if not dry_run and result.created + result.updated:
            self.stdout.write("已通知各模块重新计算涉及这些年份的暂定期限")

    def show(self, year: int) -> None:
        if not 1 <= year <= 9999:
            raise CommandError("年份应在 1–9999 之间")
        summary = calendar.describe_year(year)
        if summary.in_package and summary.imported_count:
            state = (
                f"已知（chinesecalendar 软件包，另有 {summary.imported_count} 条导入的安排优先）"
            )
        elif summary.in_package:
            state = "已知（chinesecalendar 软件包）"
        elif summary.known:
            state = f"已知（导入的节假日安排，{summary.imported_count} 条）"
        else:
            state = "未知：按周一至周五计算，涉及该年的期限标为“暂定”；请导入当年的节假日安排通知"
        self.stdout.write(f"{year} 年：{state}")
        for day in summary.special_days:
            kind = "上班" if day.working else "放假"
            origin = "（导入）" if day.imported and summary.in_package else ""
            self.stdout.write(f"{day.date} {day.weekday_name} {kind} {day.name}{origin}".rstrip())
        self.stdout.write(f"全年工作日 {summary.working_days} 天")
