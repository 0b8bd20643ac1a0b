"""The ORM side: the index over imported matters, its cache, the command and the benchmark."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from minsheng.catalog.models import ServiceMatter
from minsheng.guide import index as guide_index
from minsheng.guide.models import QuestionLog, Synonym

pytestmark = pytest.mark.django_db


def test_seeded_synonyms_exist() -> None:
    assert Synonym.objects.filter(phrase="开饭馆").exists()
    assert Synonym.objects.count() > 300


def test_index_over_imported_catalogue(imported: Path) -> None:
    index = guide_index.get_index()
    assert len(index.documents) == ServiceMatter.objects.count() == 85
    answer = index.search("身分证丢了怎么补")
    assert answer.results[0].code == "M042"
    doc = index.find("M042")
    assert doc is not None and "C厅3号窗口" in doc.window


def test_index_rebuilt_when_synonyms_change(imported: Path) -> None:
    first = guide_index.get_index()
    assert first.search("撸串").kind == "none"
    Synonym.objects.create(phrase="撸串", official="食品经营许可 餐饮")
    # The on-commit hook does not run inside the test's transaction; the DB signature
    # (count/updated_at) is what other processes see, checked every few seconds.
    guide_index._state.checked_at = float("-inf")
    second = guide_index.get_index()
    assert second is not first
    assert second.search("想开个撸串店").results[0].code == "M008"
    assert guide_index.get_index() is second  # cached while nothing changes


def test_index_rebuilt_when_a_matter_changes(imported: Path) -> None:
    first = guide_index.get_index()
    ServiceMatter.objects.filter(code="M085").update(active=False)
    matter = ServiceMatter.objects.get(code="M084")
    matter.name = "农业机械购置补贴申领"
    matter.save()
    guide_index._state.checked_at = float("-inf")
    second = guide_index.get_index()
    assert second is not first
    assert second.find("M084") is not None and second.find("M084").name == "农业机械购置补贴申领"


def test_jsonl_command(imported: Path) -> None:
    out = io.StringIO()
    questions = "公基金怎么提取\n\nyyzz补办\n我們想去領結婚證\n"
    import sys

    old = sys.stdin
    sys.stdin = io.StringIO(questions)
    try:
        call_command("guide", "ask", "--jsonl", stdout=out)
    finally:
        sys.stdin = old
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [x["question"] for x in lines] == ["公基金怎么提取", "yyzz补办", "我們想去領結婚證"]
    for line in lines:
        assert len(line["results"]) >= 3
        assert set(line["results"][0]) == {"code", "name", "score"}
        scores = [r["score"] for r in line["results"]]
        assert scores == sorted(scores, reverse=True)
    assert lines[0]["results"][0]["code"] in {"M012", "M013", "M014", "M015"}
    assert lines[1]["results"][0]["code"] == "M007"
    assert lines[2]["results"][0]["code"] == "M055"
    assert not QuestionLog.objects.exists()  # the command does not log


def test_command_with_csv_catalogue(shared_catalog: Path) -> None:
    out = io.StringIO()
    call_command("guide", "ask", "--catalog", str(shared_catalog), "社保卡补办", stdout=out)
    assert "M020" in out.getvalue().splitlines()[1]


def test_bench_command(imported: Path, tmp_path: Path) -> None:
    tsv = tmp_path / "q.tsv"
    tsv.write_text("question\tcode\n社保卡补办\tM020\n公积金代款买房\tM016\n", encoding="utf-8")
    out = io.StringIO()
    call_command("bench", "guide", str(tsv), stdout=out)
    text = out.getvalue()
    assert "top1_accuracy" in text and "latency_p95_ms" in text and "100.0 %" in text


def test_dev_set_targets(imported: Path) -> None:
    dev = Path(imported).parent / "guide_dev.tsv"
    if not dev.exists():
        pytest.skip("no dev set")
    import csv

    index = guide_index.get_index()
    rows = list(csv.DictReader(dev.open(encoding="utf-8"), delimiter="\t"))
    top1 = sum(index.search(r["question"]).results[0].code == r["code"] for r in rows)
    top3 = sum(r["code"] in [x.code for x in index.search(r["question"]).results[:3]] for r in rows)
    assert top1 / len(rows) >= 0.95
    assert top3 / len(rows) >= 0.99
