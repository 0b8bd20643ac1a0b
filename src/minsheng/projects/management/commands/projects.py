"""``minsheng projects sweep``: the ledger sweep now (the worker runs it hourly);
``minsheng projects import-plan FILE --user NAME [--keep-valid]`` and
``minsheng projects export-plan FILE [--batch 2026-1]``: the 配档表 workbook."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from minsheng.core import jobs
from minsheng.core.models import User
from minsheng.projects import plan_io, sweep
from minsheng.projects.models import Project


class Command(BaseCommand):
    help = (
        "实事项目：sweep（报送期、逾期未报催报、自动督办、台账状态），"
        "import-plan / export-plan（配档表）"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(
            dest="subcommand", required=True, metavar="{sweep,import-plan,export-plan}"
        )
        sub.add_parser(
            "sweep", help="立即执行一次台账巡查（工作进程每小时自动执行；重复执行不会重复督办）"
        )
        imp = sub.add_parser("import-plan", help="导入配档表（.xlsx）：项目、量化指标、月度节点")
        imp.add_argument("file")
        imp.add_argument("--user", required=True, help="以该督查员的身份导入（用户名）")
        imp.add_argument("--keep-valid", action="store_true", help="有错误时仍导入无误的项目")
        exp = sub.add_parser("export-plan", help="导出配档表（.xlsx）")
        exp.add_argument("file")
        exp.add_argument("--batch", help="只导出该批次，如 2026-1")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "sweep":
            self.sweep()
        elif options["subcommand"] == "import-plan":
            self.import_plan(options["file"], options["user"], options["keep_valid"])
        else:
            self.export_plan(options["file"], options["batch"])

    def sweep(self) -> None:
        with jobs.start("projects.sweep", "实事项目台账巡查", out=self.stdout) as progress:

            def report(done: int, total: int) -> None:
                if progress.job.total != total:
                    progress.set_total(total)
                progress.advance(done - progress.job.done)

            result = sweep.sweep(progress=report)
            progress.finish({"counts": vars(result)}, message=str(result))
        self.stdout.write(self.style.SUCCESS(str(result)))

    def import_plan(self, file: str, username: str, keep_valid: bool) -> None:
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"文件不存在：{file}")
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"用户不存在或已停用：{username}")
        job = jobs.create(plan_io.JOB_KIND, f"导入配档表 {path.name}", started_by=user)
        try:
            result = plan_io.import_plan_job(job.pk, path, user, keep_valid, out=self.stdout)
        except PermissionDenied:
            raise CommandError(f"{username} 无权导入配档表（需督查室或管理员）") from None
        for error in result.errors:
            self.stderr.write(str(error))
        if not result.written:
            raise CommandError(result.summary)
        self.stdout.write(self.style.SUCCESS(result.summary))

    def export_plan(self, file: str, batch: str | None) -> None:
        projects = Project.objects.all()
        if batch:
            try:
                year, number = plan_io.parse_batch(batch)
            except ValueError as error:
                raise CommandError(str(error)) from None
            projects = projects.filter(batch__year=year, batch__number=number)
        Path(file).write_bytes(plan_io.export_plan(projects))
        self.stdout.write(self.style.SUCCESS(f"已导出 {projects.count()} 个项目到 {file}"))
