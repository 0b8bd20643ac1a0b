"""``minsheng replycheck FILE``: the reply check over a CSV file of appeals and their replies.

The file has the columns ``title``, ``body`` and ``reply`` (``id`` is shown when present).
Prints the distribution of each score (percentiles and a text histogram), the share of
replies with each warning, and the best and worst replies as examples.
"""

from __future__ import annotations

import csv
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from minsheng.core import jobs
from minsheng.intelligence.replycheck import ReplyCheck, check_reply

REQUIRED_COLUMNS = ("title", "body", "reply")
SCORES = ("relevance", "completeness", "politeness", "length", "overall")
SCORE_NAMES = {
    "relevance": "相关性",
    "completeness": "完整性",
    "politeness": "礼貌",
    "length": "篇幅",
    "overall": "总分",
}
PERCENTILES = (10, 25, 50, 75, 90)
HISTOGRAM_BINS = 10
BAR_WIDTH = 40
TITLE_CHARS = 30
REPLY_CHARS = 120


@dataclass(frozen=True)
class Row:
    id: str
    title: str
    body: str
    reply: str


def read_rows(path: Path, limit: int | None) -> list[Row]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise CommandError(f"文件缺少列：{'、'.join(missing)}（需要 title、body、reply）")
            rows: list[Row] = []
            for line, row in enumerate(reader, start=2):
                if limit is not None and len(rows) >= limit:
                    break
                rows.append(
                    Row(
                        id=(row.get("id") or str(line)).strip(),
                        title=(row.get("title") or "").strip(),
                        body=(row.get("body") or "").strip(),
                        reply=(row.get("reply") or "").strip(),
                    )
                )
    except FileNotFoundError:
        raise CommandError(f"找不到文件：{path}") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CommandError(f"无法读取 {path}：{exc}") from exc
    if not rows:
        raise CommandError(f"文件里没有数据行：{path}")
    return rows


def percentile(values: list[float], p: int) -> float:
    """The p-th percentile, interpolated between the two nearest values."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * p / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def histogram(values: list[float]) -> list[str]:
    """One line per tenth of [0, 1]: the range, a bar and the count."""
    counts = [0] * HISTOGRAM_BINS
    for value in values:
        counts[min(int(value * HISTOGRAM_BINS), HISTOGRAM_BINS - 1)] += 1
    most = max(counts) or 1
    lines = []
    for i, count in enumerate(counts):
        bar = "█" * round(BAR_WIDTH * count / most)
        low, high = i / HISTOGRAM_BINS, (i + 1) / HISTOGRAM_BINS
        lines.append(f"  {low:.1f}–{high:.1f} {bar:<{BAR_WIDTH}} {count}")
    return lines


def _short(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[:chars] + "…"


class Command(BaseCommand):
    help = "答复质量检查：统计一批诉求答复的相关性、完整性、礼貌、篇幅得分和提示。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "file",
            nargs="?",
            default="../shared/data/appeals_with_replies.csv",
            help="CSV 文件（列：title, body, reply），默认 ../shared/data/appeals_with_replies.csv",
        )
        parser.add_argument("--limit", type=int, help="只检查前 N 行")
        parser.add_argument(
            "--examples", type=int, default=3, help="好、差答复各显示几例（默认 3）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        limit, examples = options["limit"], options["examples"]
        if limit is not None and limit < 1:
            raise CommandError("--limit 至少为 1")
        if examples < 0:
            raise CommandError("--examples 不能为负数")
        rows = read_rows(Path(options["file"]), limit)
        checks: list[ReplyCheck] = []
        with jobs.start(
            "intelligence.replycheck", "答复质量检查", total=len(rows), out=self.stdout
        ) as progress:
            for row in rows:
                checks.append(check_reply(row.title, row.body, row.reply))
                progress.advance()
        self.show_scores(checks)
        self.show_warnings(checks)
        if examples:
            self.show_examples(rows, checks, examples)

    def show_scores(self, checks: list[ReplyCheck]) -> None:
        out = self.stdout.write
        ok = sum(check.ok for check in checks)
        out(f"\n共检查 {len(checks)} 条答复，合格（ok）{ok} 条，占 {ok / len(checks):.1%}")
        for name in SCORES:
            values = [getattr(check, name) for check in checks]
            cuts = "  ".join(f"P{p}={percentile(values, p):.2f}" for p in PERCENTILES)
            out(f"\n{SCORE_NAMES[name]}（{name}）：均值 {statistics.fmean(values):.2f}  {cuts}")
            for line in histogram(values):
                out(line)

    def show_warnings(self, checks: list[ReplyCheck]) -> None:
        out = self.stdout.write
        counts: dict[str, int] = {}
        messages: dict[str, str] = {}
        for check in checks:
            for warning in check.warnings:
                counts[warning.code] = counts.get(warning.code, 0) + 1
                messages.setdefault(warning.code, warning.message)
        out("\n各项提示所占比例：")
        if not counts:
            out("  （没有提示）")
        for code, count in sorted(counts.items(), key=lambda item: -item[1]):
            share = count / len(checks)
            out(f"  {code:<13} {count:>6} 条 {share:6.1%}  {_short(messages[code], 40)}")

    def show_examples(self, rows: list[Row], checks: list[ReplyCheck], k: int) -> None:
        ranked = sorted(zip(rows, checks, strict=True), key=lambda pair: pair[1].overall)
        # Replies that are too short are obvious and counted above; the worst of the others
        # show what else the check catches (templates, answers to another question...).
        answers = [pair for pair in ranked if "too_short" not in pair[1].codes] or ranked
        for heading, chosen in (
            ("较好的答复", ranked[::-1][:k]),
            ("较差的答复（不含过短的）", answers[:k]),
        ):
            self.stdout.write(f"\n{heading}：")
            for row, check in chosen:
                scores = " ".join(f"{SCORE_NAMES[n]}{getattr(check, n):.2f}" for n in SCORES)
                self.stdout.write(f"  [{row.id}] {_short(row.title, TITLE_CHARS)}  {scores}")
                self.stdout.write(f"    答复：{_short(row.reply, REPLY_CHARS)}")
                if check.codes:
                    self.stdout.write(f"    提示：{'、'.join(check.codes)}")
