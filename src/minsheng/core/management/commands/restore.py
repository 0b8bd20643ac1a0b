"""``minsheng restore DIR``: restore a backup made by ``minsheng backup``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from minsheng.core import backups


class Command(BaseCommand):
    help = "恢复 minsheng backup 生成的备份目录（数据库和上传文件），并核对每张表的行数。"

    # The target database is usually empty: checks that query it would fail before restoring.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", type=Path, help="备份目录（含 manifest.json）")
        parser.add_argument(
            "--replace", action="store_true", help="目标数据库不是空的时，覆盖其中的数据"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            backups.restore(options["source"], self.stdout.write, replace=options["replace"])
        except backups.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS("恢复完成。"))
