"""``minsheng catalog import FILE [--valid-only]`` and ``minsheng catalog export FILE``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from minsheng.catalog import exporter, importer


class Command(BaseCommand):
    help = "办事指南：import（从 Excel/CSV 导入，按事项编码新增或更新）、export（导出 Excel/CSV）"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="{import,export}")
        imp = sub.add_parser("import", help="导入 .xlsx 或 .csv；有错误的行时默认不写入任何数据")
        imp.add_argument("file", help="要导入的文件（.xlsx 或 .csv）")
        imp.add_argument(
            "--valid-only", action="store_true", help="有错误时仍导入无误的行，跳过有错误的行"
        )
        exp = sub.add_parser("export", help="导出全部事项（完整格式，可重新导入）")
        exp.add_argument("file", help="输出文件，以 .xlsx 或 .csv 结尾")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "import":
            self.do_import(options["file"], valid_only=options["valid_only"])
        else:
            self.do_export(options["file"])

    def do_import(self, file: str, *, valid_only: bool) -> None:
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件：{file}")
        report = importer.import_file(path, valid_only=valid_only, out=self.stdout)
        for error in report.errors:
            code = f"（{error.code}）" if error.code else ""
            self.stderr.write(f"第 {error.line} 行{code}：" + "；".join(error.messages))
        if report.departments_created:
            self.stdout.write("新建部门：" + "、".join(report.departments_created))
        if report.windows_created:
            self.stdout.write("新建窗口：" + "、".join(report.windows_created))
        if report.fatal or (report.errors and not report.written):
            raise CommandError(report.summary)
        self.stdout.write(self.style.SUCCESS(report.summary))

    def do_export(self, file: str) -> None:
        try:
            count = exporter.export_file(file, out=self.stdout)
        except (ValueError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"已导出 {count} 项到 {file}"))
