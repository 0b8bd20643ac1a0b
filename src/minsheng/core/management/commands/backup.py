"""``minsheng backup``: a consistent copy of the database plus the uploaded files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from minsheng.core import backups


class Command(BaseCommand):
    help = "备份数据库（SQLite 在线备份或 pg_dump 自定义格式）和上传文件，写入一个新的备份目录。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            type=Path,
            default=None,
            help="备份存放的目录，默认 var/backups/（每次备份在其中新建 minsheng-时间 子目录）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        root: Path = options["output"] or Path(settings.VAR_DIR) / "backups"
        try:
            target = backups.create(root, self.stdout.write)
        except backups.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"备份完成：{target}"))
