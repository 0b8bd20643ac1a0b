"""``minsheng guide ask``: ask the guide from the terminal.

``minsheng guide ask --jsonl`` reads one question per line on stdin and prints one JSON
object per line: ``{"question": ..., "results": [{"code", "name", "score"}, ...]}``, best
first (up to 5). ``--catalog FILE.csv`` searches that CSV instead of the database.
Questions asked here are not logged.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from minsheng.guide.engine import Index, Synonym


def build_index(catalog: str | None) -> Index:
    if catalog:
        from minsheng.guide.csvload import load_csv
        from minsheng.guide.seed_synonyms import SEED_SYNONYMS

        try:
            documents = load_csv(catalog)
        except (OSError, KeyError, UnicodeDecodeError) as exc:
            raise CommandError(f"无法读取事项目录 {catalog}：{exc}") from exc
        from minsheng.guide.models import Synonym as SynonymRow

        rows = list(SynonymRow.objects.filter(active=True).values_list("phrase", "official"))
        return Index(documents, [Synonym(a, b) for a, b in (rows or SEED_SYNONYMS)])
    from minsheng.guide.index import get_index

    index = get_index()
    if not index.documents:
        raise CommandError(
            "事项目录是空的：先导入，例如 minsheng catalog import catalog.csv，或用 --catalog 文件"
        )
    return index


class Command(BaseCommand):
    help = "智能导服：ask --jsonl 从标准输入逐行读取问题，逐行输出 JSON 结果。"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="sub", required=True)
        ask = sub.add_parser("ask", help="提问（参数或标准输入）")
        ask.add_argument("question", nargs="*", help="问题；不给时从标准输入逐行读取")
        ask.add_argument("--jsonl", action="store_true", help="每行输出一个 JSON 对象")
        ask.add_argument("--catalog", help="用这个 CSV 事项目录代替数据库")
        ask.add_argument("--limit", type=int, default=5, help="每个问题最多返回几个事项")
        ask.add_argument("--explain", action="store_true", help="同时输出匹配依据")

    def handle(self, *args: Any, **options: Any) -> None:
        index = build_index(options["catalog"])
        questions: list[str] = [" ".join(options["question"])] if options["question"] else sys.stdin  # type: ignore[assignment]
        limit = max(1, options["limit"])
        for line in questions:
            question = line.rstrip("\n")
            if not question.strip():
                continue
            answer = index.search(question, limit=limit)
            results: list[dict[str, Any]] = []
            for r in answer.results:
                item: dict[str, Any] = {"code": r.code, "name": r.name, "score": r.score}
                if options["explain"]:
                    item["why"] = r.explanation()
                results.append(item)
            if options["jsonl"]:
                record = {"question": question, "results": results}
                if options["explain"]:
                    record["kind"] = answer.kind
                self.stdout.write(json.dumps(record, ensure_ascii=False))
            else:
                self.stdout.write(f"{question}  [{answer.kind}]")
                for i, item in enumerate(results, 1):
                    why = f"  {item['why']}" if "why" in item else ""
                    self.stdout.write(
                        f"  {i}. {item['code']} {item['name']} {item['score']:.2f}{why}"
                    )
            self.stdout.flush()
