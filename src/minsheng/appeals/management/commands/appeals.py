"""``minsheng appeals sweep``: the deadline sweep now (the worker runs it every 5 minutes);
``minsheng appeals close-unrated``: close the replies whose rating window has passed;
``minsheng appeals rollup [--rebuild]``: bring the KPI rollup up to date (or recompute it)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from minsheng.appeals import actions, rollup, sweep
from minsheng.core import jobs


class Command(BaseCommand):
    help = (
        "诉求的定时任务：sweep（即将超期/超期催办、签收超时、督办、逾期未评价办结），"
        "close-unrated，rollup（统计日汇总）"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(
            dest="subcommand", required=True, metavar="{sweep,close-unrated,rollup}"
        )
        sub.add_parser(
            "sweep", help="立即执行一次期限巡查（工作进程每5分钟自动执行；重复执行不会重复提醒）"
        )
        sub.add_parser("close-unrated", help="把超过评价期限仍未评价的已答复诉求办结")
        rollup_parser = sub.add_parser(
            "rollup", help="更新诉求统计日汇总（工作进程每5分钟自动执行）；--rebuild 全部重算"
        )
        rollup_parser.add_argument(
            "--rebuild",
            action="store_true",
            help="按受理日期逐日重算全部汇总（批量导入、恢复备份后，或核对时使用）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "sweep":
            self.sweep()
        elif options["subcommand"] == "rollup":
            self.rollup(rebuild=options["rebuild"])
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

    def rollup(self, *, rebuild: bool) -> None:
        if not rebuild:
            result = rollup.refresh()
            self.stdout.write(self.style.SUCCESS(f"统计日汇总已是最新：{result}"))
            return
        with jobs.start("appeals.kpi_rollup", "重算诉求统计日汇总", out=self.stdout) as progress:

            def report(done: int, total: int) -> None:
                progress.set_total(total)
                progress.advance(done - progress.job.done, message="按受理日期逐日重算")

            result = rollup.rebuild(progress=report)
            progress.finish({"days": result.days, "rows": result.rows}, message=str(result))
        self.stdout.write(self.style.SUCCESS(str(result)))
