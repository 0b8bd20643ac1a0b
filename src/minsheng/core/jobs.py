"""Progress of long jobs (imports, exports, training, big sweeps) for the UI and the terminal.

A command runs ``with jobs.start("import.matters", "导入办事指南", total=n, out=self.stdout)
as progress:`` and calls ``progress.advance()`` per item. A web view that hands the work
to a task first ``create``s the job (so the page can show it queued), passes its id to the
task, and the task opens it with ``track(job_id)``.

The row is written at most every ``WRITE_EVERY`` and only when the shown percentage or
message changed, so a million-item loop costs at most a hundred writes and the pages
that poll the row still see it move. Progress written inside the job's own transaction
is invisible until it commits: run the work in small transactions, not one big one.
"""

from __future__ import annotations

import datetime as dt
from types import TracebackType
from typing import Any, Protocol

from django.utils import timezone

from minsheng.core.models import LongJob, User

Status = LongJob.Status

WRITE_EVERY = dt.timedelta(seconds=0.5)
BAR_WIDTH = 24


class Stream(Protocol):
    def write(self, msg: str, /) -> Any: ...
    def flush(self) -> Any: ...
    def isatty(self) -> bool: ...


def create(kind: str, title: str, *, total: int = 0, started_by: User | None = None) -> LongJob:
    """A queued job, shown to the user before a worker picks it up."""
    return LongJob.objects.create(
        kind=kind, title=title[:200], total=max(total, 0), started_by=started_by
    )


def start(
    kind: str,
    title: str,
    *,
    total: int = 0,
    started_by: User | None = None,
    out: Stream | None = None,
) -> Progress:
    """Create a job and start tracking it at once (a command doing the work itself)."""
    return Progress(create(kind, title, total=total, started_by=started_by), out=out)


def track(job_id: int, *, out: Stream | None = None) -> Progress:
    """Start tracking a job created earlier by ``create`` (the task doing its work)."""
    return Progress(LongJob.objects.get(pk=job_id), out=out)


class ProgressPrinter:
    """Shows a job on the terminal: one line redrawn in place on a TTY, and separate
    lines (as often as the row is written) when the output goes to a log."""

    def __init__(self, out: Stream) -> None:
        self.out = out
        self.tty = out.isatty()

    def line(self, job: LongJob) -> str:
        percent = min(job.percent, 100)
        if job.total:
            filled = BAR_WIDTH * percent // 100
            bar = f"[{'#' * filled}{'-' * (BAR_WIDTH - filled)}]"
            bar += f" {percent:3d}% {job.done:,}/{job.total:,}"
        else:
            bar = f"{job.done:,}"
        message = f" {job.message}" if job.message else ""
        return f"{job.title} {bar}{message}"

    def show(self, job: LongJob) -> None:
        if self.tty:
            self.out.write(f"\r\033[K{self.line(job)}")
        else:
            self.out.write(self.line(job) + "\n")
        self.out.flush()

    def end(self, job: LongJob, seconds: float) -> None:
        mark = "完成" if job.status == Status.DONE else "失败"
        text = f"{self.line(job)} —— {mark}（{seconds:.1f} 秒）"
        self.out.write((f"\r\033[K{text}" if self.tty else text) + "\n")
        self.out.flush()


class Progress:
    """Tracks one running ``LongJob``; a context manager that fails the job on an exception."""

    def __init__(self, job: LongJob, *, out: Stream | None = None) -> None:
        self.job = job
        self.printer = ProgressPrinter(out) if out is not None else None
        self.started = timezone.now()
        self._written_at: dt.datetime | None = None
        self._written: tuple[int, str] = (-1, "")
        job.status = Status.RUNNING
        self._write(force=True)

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.finished:
            return
        if exc is None:
            self.finish()
        elif isinstance(exc, KeyboardInterrupt):
            self.fail("已中断")
        else:
            self.fail(f"{type(exc).__name__}: {exc}")

    @property
    def finished(self) -> bool:
        return self.job.status in {Status.DONE, Status.FAILED}

    def set_total(self, total: int) -> None:
        self.job.total = max(total, 0)
        self._write()

    def advance(self, n: int = 1, *, message: str | None = None) -> None:
        self.job.done += n
        if message is not None:
            self.job.message = message[:500]
        self._write()

    def note(self, message: str) -> None:
        """Say what the job is doing now, without counting progress."""
        self.job.message = message[:500]
        self._write()

    def finish(self, result: Any = None, *, message: str | None = None) -> None:
        """Mark the job done; ``result`` (JSON) is what the page shows or links to."""
        if self.job.total and self.job.done < self.job.total:
            self.job.done = self.job.total
        if message is not None:
            self.job.message = message[:500]
        self.job.result = result
        self._end(Status.DONE)

    def fail(self, message: str) -> None:
        self.job.message = message[:500]
        self._end(Status.FAILED)

    def _end(self, status: str) -> None:
        self.job.status = status
        self.job.finished_at = timezone.now()
        self._write(force=True)
        if self.printer is not None:
            self.printer.end(self.job, (self.job.finished_at - self.started).total_seconds())

    def _write(self, *, force: bool = False) -> None:
        now = timezone.now()
        shown = (self.job.percent if self.job.total else self.job.done, self.job.message)
        if not force:
            recent = self._written_at is not None and now - self._written_at < WRITE_EVERY
            if recent or shown == self._written:
                return
        self.job.save(
            update_fields=[
                "status",
                "total",
                "done",
                "message",
                "result",
                "finished_at",
                "updated_at",
            ]
        )
        self._written_at, self._written = now, shown
        if self.printer is not None and not self.finished:
            self.printer.show(self.job)
