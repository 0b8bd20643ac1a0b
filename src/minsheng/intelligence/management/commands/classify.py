"""``minsheng classify --jsonl``: classify appeals read as JSON lines on stdin.

Each input line ``{"title": ..., "body": ...}`` gives one output line
``{"label": ..., "confidence": ..., "department": ...}`` (the department's name, or null
when the county has no category or routing rule for the label). A line that cannot be
read gives ``{"error": ...}`` on its own output line, and the next lines go on.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "诉求分类：从标准输入逐行读取 JSON（title、body），逐行输出分类、置信度和主办部门"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--jsonl", action="store_true", help="输入输出均为 JSON Lines")

    def handle(self, *args: Any, **options: Any) -> None:
        from minsheng.intelligence.classifier import active_classifier

        if not options["jsonl"]:
            raise CommandError('请使用 --jsonl：每行一个 JSON 对象 {"title": ..., "body": ...}')
        loaded = active_classifier()
        if loaded is None:
            raise CommandError("还没有启用的分类模型：请先运行 minsheng classifier train FILE")
        model = loaded[1]
        departments: dict[str, str | None] = {}
        for number, line in enumerate(sys.stdin, start=1):
            if not line.strip():
                continue
            answer = self._classify(model, line, number, departments)
            self.stdout.write(json.dumps(answer, ensure_ascii=False))
            self.stdout.flush()

    def _classify(
        self, model: Any, line: str, number: int, departments: dict[str, str | None]
    ) -> dict[str, Any]:
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            return {"error": f"第 {number} 行不是合法的 JSON：{exc.msg}", "line": number}
        if not isinstance(item, dict):
            return {"error": f"第 {number} 行应为 JSON 对象", "line": number}
        title, body = item.get("title") or "", item.get("body") or ""
        if not isinstance(title, str) or not isinstance(body, str):
            return {"error": f"第 {number} 行的 title 和 body 应为字符串", "line": number}
        if not (title.strip() or body.strip()):
            return {"error": f"第 {number} 行缺少 title 和 body", "line": number}
        label, confidence = model.rank(title, body, 1)[0]
        if label not in departments:
            departments[label] = _department_name(label)
        return {
            "label": label,
            "confidence": round(confidence, 4),
            "department": departments[label],
        }


def _department_name(label: str) -> str | None:
    from minsheng.core.models import Department
    from minsheng.intelligence.classifier import route_label

    _category_id, department_id = route_label(label)
    if department_id is None:
        return None
    return Department.objects.filter(pk=department_id).values_list("name", flat=True).first()
