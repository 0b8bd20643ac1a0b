"""``minsheng hotissues FILE``: the hot issues (热点问题) of a CSV file of messages.

The file has the columns ``title``, ``body``, ``submitted_at`` (ISO date and time) and
optionally ``id``, ``likes``, ``dislikes`` and ``place``. The window ends at ``--until``
(a date, inclusive) or, without it, at the newest message in the file.
"""

from __future__ import annotations

import csv
import datetime as dt
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from minsheng.core import jobs
from minsheng.intelligence.hotissues import HotReport, Record, find_hot_issues

REQUIRED_COLUMNS = ("title", "body", "submitted_at")


def _count(value: str | None, line: int, column: str) -> int:
    text = (value or "").strip()
    if not text:
        return 0
    try:
        return max(int(float(text)), 0)
    except ValueError:
        raise CommandError(f"第 {line} 行的 {column} 不是数字：{text}") from None


def _when(value: str | None, line: int) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat((value or "").strip()).replace(tzinfo=None)
    except ValueError:
        raise CommandError(f"第 {line} 行的 submitted_at 不是日期时间：{value!r}") from None


def read_records(path: Path) -> list[Record]:
    """The rows of the CSV file as records (times naive, as written in the file)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise CommandError(
                    f"文件缺少列：{'、'.join(missing)}（需要 title、body、submitted_at）"
                )
            records = []
            for line, row in enumerate(reader, start=2):
                records.append(
                    Record(
                        id=(row.get("id") or str(line)).strip(),
                        title=(row.get("title") or "").strip(),
                        body=(row.get("body") or "").strip(),
                        created_at=_when(row.get("submitted_at"), line),
                        place=(row.get("place") or "").strip(),
                        likes=_count(row.get("likes"), line, "likes"),
                        dislikes=_count(row.get("dislikes"), line, "dislikes"),
                    )
                )
    except FileNotFoundError:
        raise CommandError(f"找不到文件：{path}") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CommandError(f"无法读取 {path}：{exc}") from exc
    if not records:
        raise CommandError(f"文件里没有数据行：{path}")
    return records


def _until(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--until 应为日期，如 2019-12-31：{value}") from None
    return dt.datetime.combine(day, dt.time.max)


class Command(BaseCommand):
    help = "热点问题：把一段时间内的诉求按问题和地点归组，按数量、增长和点赞排序。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "file", help="CSV 文件（列：title, body, submitted_at，可选 likes, dislikes）"
        )
        parser.add_argument("--window-days", type=int, default=30, help="时间窗口天数（默认 30）")
        parser.add_argument("--until", help="窗口截止日期（含当天），默认为文件中最新一条的时间")
        parser.add_argument("--top", type=int, default=10, help="显示前几组（默认 10）")

    def handle(self, *args: Any, **options: Any) -> None:
        window_days, top = options["window_days"], options["top"]
        if window_days < 1:
            raise CommandError("--window-days 至少为 1")
        if top < 1:
            raise CommandError("--top 至少为 1")
        until = _until(options["until"])
        started = time.monotonic()
        records = read_records(Path(options["file"]))
        with jobs.start("intelligence.hotissues", "热点问题分析", out=self.stdout) as progress:
            report = find_hot_issues(
                records, until=until, window_days=window_days, top=top, progress=progress
            )
        self.show(report, time.monotonic() - started)

    def show(self, report: HotReport, seconds: float) -> None:
        out = self.stdout.write
        out(
            f"窗口 {report.since:%Y-%m-%d %H:%M} — {report.until:%Y-%m-%d %H:%M}："
            f"{report.records} 条诉求，参与聚类 {report.clustered} 条，用时 {seconds:.1f} 秒"
        )
        if not report.groups:
            out("窗口内没有形成热点的问题组。")
            return
        for rank, group in enumerate(report.groups, 1):
            out("")
            out(f"{rank}. {group.label}")
            out(
                f"   地点：{group.place or '—'}　数量：{group.size}"
                f"（前半段 {group.earlier}，后半段 {group.recent}，增长 {group.growth:.2f}）"
                f"　点赞：{group.likes}　反对：{group.dislikes}　热度：{group.score:.1f}"
            )
            for record in group.representatives:
                out(f"   - [{record.created_at:%Y-%m-%d}] {record.title}")
