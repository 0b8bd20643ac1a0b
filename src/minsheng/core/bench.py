"""Benchmarks run by ``minsheng bench`` (and ``make bench``).

Apps add theirs with ``register`` in a module imported from their ``ready()``. A benchmark
gets the output function for progress and returns its measurements, name → (value, unit).
They run against the configured database, so numbers reflect the real backend.
"""

from __future__ import annotations

import datetime as dt
import random
import resource
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone

Output = Callable[[str], None]
Results = dict[str, tuple[float, str]]


@dataclass(frozen=True)
class Benchmark:
    name: str
    description: str
    run: Callable[..., Results]  # run(out) or, when takes_args, run(out, *args)
    takes_args: bool = False


_benchmarks: dict[str, Benchmark] = {}


def register(
    name: str, description: str
) -> Callable[[Callable[[Output], Results]], Callable[[Output], Results]]:
    def decorator(run: Callable[[Output], Results]) -> Callable[[Output], Results]:
        _benchmarks[name] = Benchmark(name, description, run)
        return run

    return decorator


def register_with_args(
    name: str, description: str
) -> Callable[[Callable[..., Results]], Callable[..., Results]]:
    """A benchmark that takes the words after its name (``minsheng bench guide FILE.tsv``)."""

    def decorator(run: Callable[..., Results]) -> Callable[..., Results]:
        _benchmarks[name] = Benchmark(name, description, run, takes_args=True)
        return run

    return decorator


def available() -> list[Benchmark]:
    return sorted(_benchmarks.values(), key=lambda b: b.name)


def get(name: str) -> Benchmark | None:
    return _benchmarks.get(name)


CALENDAR_SECONDS = 2.0


@register("calendar", "工作日计算：add_working_days 每秒调用次数和内存")
def calendar_throughput(out: Output) -> Results:
    from minsheng.core import calendar

    rng = random.Random(2026)  # noqa: S311 (test data, not security)
    base = timezone.now()
    # Moments spread over two years and 1-30 working days: what deadlines of appeals look like.
    cases = [
        (base + dt.timedelta(minutes=rng.randrange(0, 2 * 365 * 24 * 60)), rng.randrange(1, 31))
        for _ in range(10_000)
    ]
    calendar.clear_cache()
    started = time.perf_counter()
    calendar.add_working_days(base, 1)
    first_call = time.perf_counter() - started

    tracemalloc.start()
    for moment, n in cases[:2000]:
        calendar.add_working_days(moment, n)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    out(f"  计时 {CALENDAR_SECONDS:.0f} 秒…")
    calls = 0
    started = time.perf_counter()
    deadline = started + CALENDAR_SECONDS
    while time.perf_counter() < deadline:
        for moment, n in cases:
            calendar.add_working_days(moment, n)
        calls += len(cases)
    elapsed = time.perf_counter() - started
    return {
        "calls_per_second": (calls / elapsed, "次/秒"),
        "microseconds_per_call": (elapsed / calls * 1e6, "微秒"),
        "first_call_ms": (first_call * 1000, "毫秒（含载入年度数据）"),
        "peak_traced_kib": (peak / 1024, "KiB（2000 次调用期间）"),
        "max_rss_mib": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "MiB（进程）"),
    }
