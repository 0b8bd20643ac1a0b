from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from minsheng.core import bench


def test_without_names_lists_the_benchmarks() -> None:
    out = io.StringIO()
    call_command("bench", stdout=out)
    assert "calendar" in out.getvalue()


def test_unknown_benchmark_is_refused_by_name() -> None:
    with pytest.raises(CommandError, match="nope"):
        call_command("bench", "calendar", "nope", stdout=io.StringIO())


@pytest.mark.django_db
def test_calendar_benchmark_reports_throughput_and_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench, "CALENDAR_SECONDS", 0.05)
    out = io.StringIO()
    call_command("bench", "calendar", stdout=out)
    text = out.getvalue()
    for key in ("calls_per_second", "microseconds_per_call", "peak_traced_kib", "max_rss_mib"):
        assert key in text
    rate = next(line for line in text.splitlines() if "calls_per_second" in line).split()[1]
    assert float(rate.replace(",", "")) > 0


@pytest.mark.django_db
def test_apps_can_register_benchmarks(monkeypatch: pytest.MonkeyPatch) -> None:
    # Only the calendar and this test's benchmark: the real appeal benchmarks take minutes.
    monkeypatch.setattr(bench, "_benchmarks", {"calendar": bench._benchmarks["calendar"]})
    monkeypatch.setattr(bench, "CALENDAR_SECONDS", 0.05)

    @bench.register("appeals.intake", "受理")
    def intake(out: bench.Output) -> bench.Results:
        out("  running")
        return {"appeals_per_second": (1234.5, "件/秒")}

    out = io.StringIO()
    call_command("bench", "--all", stdout=out)
    assert "appeals_per_second" in out.getvalue()
    assert "1,234.5 件/秒" in out.getvalue()
    assert "calls_per_second" in out.getvalue()  # --all ran calendar too
