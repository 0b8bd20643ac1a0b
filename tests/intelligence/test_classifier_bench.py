"""``minsheng bench classifier`` on a tiny copy of the shared files (paths monkeypatched)."""

from __future__ import annotations

import csv
from pathlib import Path

from minsheng.intelligence import bench
from tests.intelligence.factories import EXAMPLES, TAXONOMY, write_csv

KEYS = {
    f"{model}_{dataset}_{metric}"
    for model in ("ours", "baseline", "char_svm")
    for dataset in ("test", "dev")
    for metric in ("accuracy", "macro_f1")
} | {"train_rows", "ms_per_appeal_p50", "ms_per_appeal_p99"}


def shared_copy(root: Path) -> Path:
    (root / "data").mkdir(parents=True)
    (root / "bench").mkdir()
    write_csv(root / "data" / "appeals_labeled.csv")
    with (root / "data" / "appeal_taxonomy.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["level1", "level2", "level3"])
        writer.writerows((level1, name, "") for level1, name in TAXONOMY)
    with (root / "bench" / "appeals_dev.tsv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter="\t")
        writer.writerow(["title", "body", "label"])
        writer.writerows(EXAMPLES[::2])
    return root


def test_the_bench_reports_every_model_on_both_sets(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "shared_dir", lambda: shared_copy(tmp_path / "shared"))
    lines: list[str] = []
    results = bench.classifier_bench(lines.append)
    assert set(results) == KEYS
    assert results["train_rows"][0] == sum(1 for i in range(len(EXAMPLES)) if i % 3 != 2)
    assert results["ours_dev_macro_f1"][1].startswith(("% OK", "% MISSED"))
    assert results["baseline_test_macro_f1"][1] == "% 对照"
    assert 0 < results["ms_per_appeal_p50"][0] <= results["ms_per_appeal_p99"][0]
    assert all(0.0 <= results[k][0] <= 100.0 for k in KEYS if k.endswith(("accuracy", "f1")))


def test_the_bench_skips_when_the_shared_files_are_absent(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "shared_dir", lambda: tmp_path / "nothing")
    lines: list[str] = []
    assert bench.classifier_bench(lines.append) == {}
    assert lines and "跳过" in lines[0]
