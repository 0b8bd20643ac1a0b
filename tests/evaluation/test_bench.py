"""The 好差评 benchmarks run end to end on a tiny size (their figures are not checked here:
a busy test machine says nothing about latency)."""

from __future__ import annotations

import os
import uuid

import pytest

from minsheng.core import bench as registry
from minsheng.core import benchkit
from minsheng.evaluation import bench


def test_registered() -> None:
    assert registry.get("evaluation-stats") is not None
    assert registry.get("evaluation-pad") is not None


@pytest.fixture
def scratch():  # type: ignore[no-untyped-def]
    problem = benchkit.postgres_reachable()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(problem)
        pytest.skip(problem)
    name = f"minsheng_bench_test_{uuid.uuid4().hex[:12]}"
    yield name
    benchkit.drop_database(name)


def test_stats_benchmark_tiny(scratch: str) -> None:
    lines: list[str] = []
    results = bench.stats_benchmark(lines.append, 2000, reuse=True, database=scratch)
    assert results["ratings"][0] >= 2000
    assert "year_by_staff_warm_ms" in results and "rankings_warm_ms" in results
    assert "rollup_seconds" in results
    lines.clear()
    again = bench.stats_benchmark(lines.append, 2000, reuse=True, database=scratch)
    assert "generated_seconds" not in again
    assert any("复用" in line for line in lines)


def test_pad_benchmark_tiny(scratch: str) -> None:
    problem = benchkit.gunicorn_usable()
    if problem:
        pytest.skip(problem)
    results = bench.pad_benchmark(
        lambda _line: None, pads=3, count=2, interval=0.05, workers=2, database=scratch
    )
    assert results["submitted"][0] == 6
    assert results["errors"][0] == 0
