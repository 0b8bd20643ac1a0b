from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.urls import reverse

from minsheng.core import jobs
from minsheng.core.models import JobLock, LongJob, Role
from tests.factories import UserFactory

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
Status = LongJob.Status


class Terminal(StringIO):
    def isatty(self) -> bool:
        return True


def stored(job: LongJob) -> LongJob:
    return LongJob.objects.get(pk=job.pk)


@pytest.mark.django_db
def test_progress_is_written_at_most_twice_a_second():
    with time_machine.travel(START, tick=False) as clock:
        progress = jobs.start("import.matters", "导入办事指南", total=10)
        assert (stored(progress.job).status, stored(progress.job).done) == (Status.RUNNING, 0)
        progress.advance(3)
        assert stored(progress.job).done == 0  # too soon after the last write
        clock.shift(dt.timedelta(seconds=0.6))
        progress.advance(message="第 4 条")
        row = stored(progress.job)
        assert (row.done, row.message, row.percent) == (4, "第 4 条", 40)


@pytest.mark.django_db
def test_progress_is_not_rewritten_while_the_percentage_stands_still():
    with time_machine.travel(START, tick=False) as clock:
        progress = jobs.start("export", "导出", total=1000)
        for _ in range(9):
            clock.shift(dt.timedelta(seconds=1))
            progress.advance()
        assert stored(progress.job).done == 0  # still 0 %
        clock.shift(dt.timedelta(seconds=1))
        progress.advance()
        assert stored(progress.job).done == 10  # 1 %


@pytest.mark.django_db
def test_finish_records_the_result_and_prints_lines_to_a_log():
    out = StringIO()
    with (
        time_machine.travel(START, tick=False) as clock,
        jobs.start("import.matters", "导入办事指南", total=4, out=out) as progress,
    ):
        for n in range(3):
            clock.shift(dt.timedelta(seconds=1))
            progress.advance(message=f"第 {n + 1} 条")
        progress.finish({"created": 3, "skipped": 1}, message="导入完成")
    row = stored(progress.job)
    assert (row.status, row.done, row.total, row.message) == (Status.DONE, 4, 4, "导入完成")
    assert row.result == {"created": 3, "skipped": 1}
    assert row.finished_at == START + dt.timedelta(seconds=3)
    lines = out.getvalue().splitlines()
    assert lines[0] == f"导入办事指南 [{'-' * 24}]   0% 0/4"
    assert lines[1] == f"导入办事指南 [{'#' * 6}{'-' * 18}]  25% 1/4 第 1 条"
    assert lines[-1] == f"导入办事指南 [{'#' * 24}] 100% 4/4 导入完成 —— 完成（3.0 秒）"
    assert "\r" not in out.getvalue()


@pytest.mark.django_db
def test_on_a_terminal_the_line_is_redrawn():
    out = Terminal()
    with jobs.start("sweep", "扫描", out=out) as progress:
        progress.advance(5)
    assert out.getvalue().count("\r") >= 2 and out.getvalue().endswith("\n")
    assert stored(progress.job).status == Status.DONE  # leaving the block finishes it


@pytest.mark.django_db
def test_an_exception_fails_the_job_and_goes_on():
    with (
        pytest.raises(ValueError, match="第 3 行"),
        jobs.start("import", "导入", total=5) as progress,
    ):
        progress.advance(2)
        raise ValueError("第 3 行格式不对")
    row = stored(progress.job)
    assert (row.status, row.message) == (Status.FAILED, "ValueError: 第 3 行格式不对")
    assert row.finished_at is not None


@pytest.mark.django_db
def test_a_job_created_by_the_web_is_tracked_by_the_task():
    user = UserFactory()
    job = jobs.create("export.appeals", "导出诉求", started_by=user)
    assert (job.status, job.started_by) == (Status.QUEUED, user)
    progress = jobs.track(job.pk)
    progress.set_total(2)
    progress.advance(2)
    progress.fail("磁盘已满")
    row = stored(job)
    assert (row.status, row.total, row.message) == (Status.FAILED, 2, "磁盘已满")


@pytest.mark.django_db
def test_admin_lists_jobs_and_locks_read_only(client):
    jobs.start("import", "导入办事指南", total=3).finish()
    JobLock.objects.create(name="outbox.deliver", owner="vm:1:abc", last_error="Traceback …")
    client.force_login(UserFactory(role=Role.ADMIN, is_staff=True))
    page = client.get(reverse("admin:core_longjob_changelist")).content.decode()
    assert "导入办事指南" in page and "100% (3/3)" in page
    page = client.get(reverse("admin:core_joblock_changelist")).content.decode()
    assert "outbox.deliver" in page and "0:00:15" in page
    assert client.get(reverse("admin:core_joblock_add")).status_code == 403

    client.force_login(UserFactory(role=Role.HANDLER, is_staff=True))
    assert client.get(reverse("admin:core_longjob_changelist")).status_code == 403
