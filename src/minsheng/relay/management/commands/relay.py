"""``minsheng relay sweep``: the proxy cases' overdue sweep now (the worker runs it every
5 minutes; running it again sends no notice twice)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from minsheng.relay import sweep


class Command(BaseCommand):
    help = "代办帮办的定时任务：sweep（超期提醒经办单位）"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="{sweep}")
        sub.add_parser(
            "sweep", help="立即执行一次超期巡查（工作进程每5分钟自动执行；不会重复提醒）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sent = sweep.sweep()
        self.stdout.write(self.style.SUCCESS(f"代办超期提醒 {sent} 件"))
