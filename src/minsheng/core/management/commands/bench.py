"""``minsheng bench [NAME ...]``: list the benchmarks, or run the named ones."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from minsheng.core import bench


class Command(BaseCommand):
    help = "性能基准：不带参数时列出可用的基准；给出名称（或 --all）时运行它们。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("names", nargs="*", help="要运行的基准名称")
        parser.add_argument("--all", action="store_true", help="运行全部基准")

    def handle(self, *args: Any, **options: Any) -> None:
        names: list[str] = options["names"]
        if options["all"]:
            names = [b.name for b in bench.available()]
        if not names:
            self.stdout.write("可用的基准（minsheng bench 名称 …）：")
            for b in bench.available():
                self.stdout.write(f"  {b.name:<16} {b.description}")
            return
        # Words after a benchmark that takes arguments are its arguments.
        runs: list[tuple[str, list[str]]] = []
        for word in names:
            previous = bench.get(runs[-1][0]) if runs else None
            if previous is not None and previous.takes_args and bench.get(word) is None:
                runs[-1][1].append(word)
            else:
                runs.append((word, []))
        unknown = [n for n, _args in runs if bench.get(n) is None]
        if unknown:
            raise CommandError(f"没有这个基准：{', '.join(unknown)}（不带参数运行可列出全部）")
        for name, arguments in runs:
            benchmark = bench.get(name)
            assert benchmark is not None
            self.stdout.write(
                self.style.MIGRATE_HEADING(f"{benchmark.name}: {benchmark.description}")
            )
            results = (
                benchmark.run(self.stdout.write, *arguments)
                if benchmark.takes_args
                else benchmark.run(self.stdout.write)
            )
            for key, (value, unit) in results.items():
                self.stdout.write(f"  {key:<24} {value:>14,.1f} {unit}")
