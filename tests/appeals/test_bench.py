"""The appeal benchmarks run end to end on a tiny size (their figures are not checked here:
a busy test machine says nothing about throughput)."""

from __future__ import annotations

import os
import uuid

import pytest

from minsheng.appeals import bench
from minsheng.core import bench as registry
from minsheng.core import benchkit


def test_registered():
    assert registry.get("appeals-kpi") is not None
    assert registry.get("appeals-intake") is not None


@pytest.fixture
def scratch():
    problem = benchkit.postgres_reachable()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(problem)
        pytest.skip(problem)
    name = f"minsheng_bench_test_{uuid.uuid4().hex[:12]}"
    yield name
    benchkit.drop_database(name)


def test_kpi_benchmark_tiny(scratch):
    lines: list[str] = []
    results = bench.kpi_benchmark(lines.append, 300, reuse=True, database=scratch)
    assert results["rows"][0] == 300
    assert "workbench_handler_queue_warm_ms" in results
    assert any("已生成 300" in line for line in lines)
    # A second run reuses the dataset instead of generating it again.
    lines.clear()
    again = bench.kpi_benchmark(lines.append, 300, reuse=True, database=scratch)
    assert "generate_seconds" not in again
    assert any("复用" in line for line in lines)


def test_intake_benchmark_tiny(scratch, redis_url):
    problem = benchkit.gunicorn_usable()
    if problem:
        pytest.skip(problem)
    # A Redis database of the benchmark's own (as `minsheng bench` uses 14): its server and
    # `minsheng worker` must not meet the queues other tests run at the same time.
    own_redis = redis_url.rsplit("/", 1)[0] + "/14"
    results = bench.intake_benchmark(
        lambda _line: None,
        requests=50,
        clients=4,
        workers=2,
        database=scratch,
        redis_url=own_redis,
    )
    assert results["submitted"][0] == 50
    assert results["errors"][0] == 0
    # The receipts: all written after the burst, and by the worker during the second run.
    assert results["receipts_written"][0] == 50
    assert results["with_worker_submitted"][0] == 50
    assert results["with_worker_errors"][0] == 0
    assert results["with_worker_drained_s"][0] < 120
    assert results["reference_inserts_per_second"][0] > 0
