"""``minsheng appeals sweep``: the deadline sweep now (the worker runs it every 5 minutes);
``minsheng appeals close-unrated``: close the replies whose rating window has passed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from minsheng.appeals import actions, sweep
from minsheng.core import jobs


class Command(BaseCommand):
    help = (
        "诉求的定时任务：sweep（即将超期/超期催办、签收超时、督办、逾期未评价办结），close-unrated"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(
            dest="subcommand", required=True, metavar="{sweep,close-unrated}"
        )
        sub.add_parser(
            "sweep", help="立即执行一次期限巡查（工作进程每5分钟自动执行；重复执行不会重复提醒）"
        )
        sub.add_parser("close-unrated", help="把超过评价期限仍未评价的已答复诉求办结")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "sweep":
            self.sweep()
        else:
            self.close_unrated()

    def sweep(self) -> None:
        with jobs.start(
            "appeals.sweep", "诉求期限巡查", total=len(sweep.LABELS), out=self.stdout
        ) as progress:

            def report(done: int, total: int, label: str) -> None:
                progress.job.done = done
                progress.note(f"正在处理：{label}" if label else "")

            result = sweep.sweep(progress=report)
            progress.finish({"counts": vars(result)}, message=str(result))
        self.stdout.write(self.style.SUCCESS(str(result)))

    def close_unrated(self) -> None:
        closed = actions.close_unrated()
        self.stdout.write(self.style.SUCCESS(f"已办结 {closed} 件逾期未评价的诉求"))
