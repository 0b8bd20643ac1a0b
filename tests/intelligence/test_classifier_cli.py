"""The classifier's command-line contracts: train, list, activate, evaluate, retrain, classify."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from minsheng.intelligence import classifier
from minsheng.intelligence.models import ClassifierVersion
from tests.appeals.factories import CategoryFactory, RoutingRuleFactory
from tests.factories import DepartmentFactory
from tests.intelligence.factories import (
    EXAMPLES,
    PENSION,
    TRAFFIC,
    train_version,
    write_csv,
    write_xlsx,
)

pytestmark = pytest.mark.django_db

TRAIN_ROWS = sum(1 for i in range(len(EXAMPLES)) if i % 3 != 2)
TEST_ROWS = len(EXAMPLES) - TRAIN_ROWS


@pytest.fixture(autouse=True)
def _forget_loaded_model(monkeypatch):
    monkeypatch.setattr(classifier, "_loaded", None)


def run(*args: str, stdin: str | None = None, monkeypatch=None) -> str:
    out = io.StringIO()
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    call_command(*args, stdout=out)
    return out.getvalue()


def test_train_on_the_split_rows_reports_on_the_other_split(tmp_path):
    path = write_csv(tmp_path / "labelled.csv")
    output = run("classifier", "train", str(path), "--split-column", "split", "--split", "train")
    version = ClassifierVersion.objects.get()
    assert version.row_count == TRAIN_ROWS and version.active
    assert version.metrics["rows"] == TEST_ROWS
    assert "split=test 的行" in output and "macro-F1" in output and "混淆矩阵" in output


def test_train_without_a_split_reports_cross_validation(tmp_path):
    path = write_csv(tmp_path / "labelled.csv", with_split=False)
    output = run("classifier", "train", str(path), "--no-activate")
    version = ClassifierVersion.objects.get()
    assert version.row_count == len(EXAMPLES) and not version.active
    assert "交叉验证" in output


def test_train_reads_excel_with_named_columns(tmp_path):
    path = write_xlsx(tmp_path / "labelled.xlsx")
    run(
        "classifier", "train", str(path),
        "--split-column", "分组", "--split", "train",
        "--title-column", "标题", "--body-column", "内容", "--label-column", "类别",
    )  # fmt: skip
    assert ClassifierVersion.objects.get().row_count == TRAIN_ROWS


def test_train_with_a_taxonomy_file(tmp_path):
    data = write_csv(tmp_path / "labelled.csv")
    taxonomy = tmp_path / "taxonomy.csv"
    taxonomy.write_text("level1,level2,level3\n交通运输,公共交通,公交线路\n", encoding="utf-8")
    run("classifier", "train", str(data), "--split-column", "split", "--taxonomy", str(taxonomy))
    model = classifier.active_classifier()[1]
    assert model.lexicon["公交线路"] == (TRAFFIC,)


def test_train_uses_the_built_in_dictionary_unless_told_otherwise(tmp_path):
    data = write_csv(tmp_path / "labelled.csv")
    words = tmp_path / "words.csv"
    words.write_text("level1,topic,keywords\n交通运输,客运,黑车 拉客\n", encoding="utf-8")
    args = ("classifier", "train", str(data), "--split-column", "split")

    run(*args)
    assert classifier.active_classifier()[1].lexicon["欠薪"] == (PENSION,)
    run(*args, "--keywords", str(words))
    lexicon = classifier.active_classifier()[1].lexicon
    assert lexicon["黑车"] == (TRAFFIC,) and "欠薪" not in lexicon
    run(*args, "--no-keywords")
    assert "黑车" not in classifier.active_classifier()[1].lexicon
    with pytest.raises(CommandError, match="文件不存在"):
        run(*args, "--keywords", str(tmp_path / "none.csv"))


def test_train_refuses_a_missing_column_and_a_missing_file(tmp_path):
    path = write_csv(tmp_path / "labelled.csv")
    with pytest.raises(CommandError, match="缺少列"):
        run("classifier", "train", str(path), "--label-column", "类别")
    with pytest.raises(CommandError, match="文件不存在"):
        run("classifier", "train", str(tmp_path / "nothing.csv"))


def test_list_and_activate_roll_back(tmp_path):
    train_version()
    train_version()
    listing = run("classifier", "list")
    assert "v2\t*" in listing and "v1\t\t" in listing
    assert run("classifier", "activate", "1") == "已启用 v1\n"
    assert ClassifierVersion.objects.get(active=True).number == 1
    with pytest.raises(CommandError, match="没有版本 v9"):
        run("classifier", "activate", "9")


def test_evaluate_the_active_version_on_the_test_rows(tmp_path):
    path = write_csv(tmp_path / "labelled.csv")
    with pytest.raises(CommandError, match="还没有启用的分类模型"):
        run("classifier", "evaluate", str(path), "--split-column", "split", "--split", "test")
    train_version()
    output = run("classifier", "evaluate", str(path), "--split-column", "split", "--split", "test")
    assert "当前版本 v1" in output and f"（{TEST_ROWS} 条）" in output


def test_retrain_from_a_file_and_no_corrections(tmp_path):
    path = write_csv(tmp_path / "labelled.csv")
    output = run("classifier", "retrain", str(path), "--split-column", "split")
    assert "纠正记录 0 条" in ClassifierVersion.objects.get().source
    assert "新版本 v1" in output
    ClassifierVersion.objects.all().delete()
    with pytest.raises(CommandError, match="没有可用于训练的数据"):
        run("classifier", "retrain")


def test_classify_jsonl_answers_every_line_and_reports_bad_ones(monkeypatch):
    transport = DepartmentFactory(name="县交通运输局")
    RoutingRuleFactory(category=CategoryFactory(code="jt", name=TRAFFIC), department=transport)
    train_version()
    lines = "\n".join(
        [
            json.dumps({"title": "公交车太挤", "body": "早高峰公交车太挤，希望增加公交班次。"}),
            "{not json",
            json.dumps(["a list"]),
            json.dumps({"title": "", "body": ""}),
            json.dumps({"title": "學校亂收費", "body": "小學要求交補課費。"}),
        ]
    )
    output = run("classify", "--jsonl", stdin=lines + "\n", monkeypatch=monkeypatch)
    answers = [json.loads(line) for line in output.splitlines()]
    assert len(answers) == 5
    assert answers[0]["label"] == TRAFFIC and answers[0]["department"] == "县交通运输局"
    assert 0 < answers[0]["confidence"] <= 1
    assert [sorted(a) for a in answers[1:4]] == [["error", "line"]] * 3
    assert answers[1]["line"] == 2
    assert answers[4]["label"] == "教育文体" and answers[4]["department"] is None


def test_classify_without_a_model_is_a_clear_error(monkeypatch):
    with pytest.raises(CommandError, match="还没有启用的分类模型"):
        run("classify", "--jsonl", stdin="{}\n", monkeypatch=monkeypatch)
