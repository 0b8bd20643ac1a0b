"""``minsheng bench guide FILE.tsv [synthetic[=N]] [catalog=FILE.csv]``.

Reads ``question<TAB>code`` rows and prints top-1 / top-3 accuracy and the latency
percentiles of one question (one process, one core: the engine is single-threaded).
The catalogue is the database's (import ``../shared/bench/catalog.csv`` first) or the CSV
given with ``catalog=``. ``synthetic`` grows it to 5,000 matters (or N) for the speed
target; accuracy is then still counted against the real codes. Targets: top-1 ≥ 95%,
top-3 ≥ 99%; p95 < 20 ms on the real catalogue, < 50 ms on 5,000 matters.
"""

from __future__ import annotations

import csv
import statistics
import time
from pathlib import Path

from minsheng.core.bench import Output, Results, register_with_args

DEFAULT_SYNTHETIC = 5000


def _percentile(sorted_values: list[float], share: float) -> float:
    if not sorted_values:
        return 0.0
    rank = max(0, min(len(sorted_values) - 1, round(share * len(sorted_values) + 0.5) - 1))
    return sorted_values[rank]


@register_with_args("guide", "智能导服：问题集的首选/前三准确率和每问延迟（参数：问题集.tsv）")
def guide_accuracy(out: Output, *args: str) -> Results:
    from minsheng.guide.csvload import load_csv, synthetic
    from minsheng.guide.engine import Document, Index, Synonym
    from minsheng.guide.models import Synonym as SynonymRow
    from minsheng.guide.seed_synonyms import SEED_SYNONYMS

    files = [a for a in args if "=" not in a and a != "synthetic"]
    options = dict(a.split("=", 1) for a in args if "=" in a)
    size = DEFAULT_SYNTHETIC if "synthetic" in args else int(options.get("synthetic", 0))
    if not files:
        out("  用法：minsheng bench guide 问题集.tsv [synthetic[=5000]] [catalog=目录.csv]")
        return {}
    path = Path(files[0])
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = [
            (r["question"], r["code"].strip())
            for r in csv.DictReader(fh, delimiter="\t")
            if r.get("question")
        ]
    documents: list[Document]
    if "catalog" in options:
        documents = load_csv(options["catalog"])
    else:
        from minsheng.guide.index import load_documents

        documents = load_documents()
    if not documents:
        out("  事项目录是空的：先 minsheng catalog import ../shared/bench/catalog.csv")
        return {}
    synonyms = [
        Synonym(a, b)
        for a, b in SynonymRow.objects.filter(active=True).values_list("phrase", "official")
    ] or [Synonym(a, b) for a, b in SEED_SYNONYMS]
    if size:
        documents = synthetic(documents, size)
    out(f"  {len(rows)} 个问题，{len(documents)} 个事项，{len(synonyms)} 条同义词；建索引…")
    started = time.perf_counter()
    index = Index(documents, synonyms)
    build = time.perf_counter() - started
    index.search("预热")  # first-call costs (pinyin tables) are not a question's latency
    top1 = top3 = 0
    latencies: list[float] = []
    cpu: list[float] = []  # this thread's CPU time: the latency on a core of its own
    misses: list[str] = []
    for question, code in rows:
        t0, c0 = time.perf_counter(), time.thread_time()
        answer = index.search(question)
        cpu.append((time.thread_time() - c0) * 1000)
        latencies.append((time.perf_counter() - t0) * 1000)
        codes = [r.code for r in answer.results]
        top1 += bool(codes) and codes[0] == code
        top3 += code in codes[:3]
        if not codes or codes[0] != code:
            misses.append(f"    {question} → 期望 {code}，得到 {', '.join(codes[:3]) or '无'}")
    if misses and not size:
        out(f"  首选未命中 {len(misses)} 个：")
        for line in misses[:20]:
            out(line)
    latencies.sort()
    cpu.sort()
    n = max(1, len(rows))
    p95 = _percentile(latencies, 0.95)
    cpu95 = _percentile(cpu, 0.95)
    target = 50.0 if len(documents) > 1000 else 20.0
    acc1, acc3 = 100 * top1 / n, 100 * top3 / n
    speed = (
        f"p95 {p95:.1f} ms，CPU 时间 p95 {cpu95:.1f} ms（目标 < {target:.0f} ms）"
        f"{'' if min(p95, cpu95) < target else ' MISSED'}"
        f"{'（机器繁忙：以 CPU 时间计）' if p95 >= target > cpu95 else ''}"
    )
    if size:
        # Synthetic matters copy the real ones' wording, so accuracy means little here.
        out(f"  合成目录只测速度：{speed}；top-1 {acc1:.1f}%，top-3 {acc3:.1f}%（仅供参考）")
    else:
        out(
            f"  top-1 {acc1:.1f}%（目标 ≥ 95%）{'' if acc1 >= 95 else ' MISSED'}；"
            f"top-3 {acc3:.1f}%（目标 ≥ 99%）{'' if acc3 >= 99 else ' MISSED'}；{speed}"
        )
    return {
        "questions": (float(len(rows)), "个"),
        "matters": (float(len(documents)), "个"),
        "top1_accuracy": (acc1, "%"),
        "top3_accuracy": (acc3, "%"),
        "latency_p50_ms": (statistics.median(latencies) if latencies else 0.0, "毫秒"),
        "latency_p95_ms": (p95, "毫秒"),
        "latency_p99_ms": (_percentile(latencies, 0.99), "毫秒"),
        "cpu_p50_ms": (statistics.median(cpu) if cpu else 0.0, "毫秒（本线程 CPU 时间）"),
        "cpu_p95_ms": (cpu95, "毫秒（本线程 CPU 时间）"),
        "cpu_p99_ms": (_percentile(cpu, 0.99), "毫秒（本线程 CPU 时间）"),
        "index_build_s": (build, "秒"),
    }
