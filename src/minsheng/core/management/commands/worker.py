"""``minsheng worker``: runs queued tasks and the periodic jobs, until SIGTERM or Ctrl+C.

Each round first runs the periodic jobs that are due and whose lease this worker wins
(see ``core.periodic``), then the queued tasks:

* database backend (the default): django-tasks-db's own ``Worker`` in batch mode, so tasks
  are claimed and recorded exactly as ``db_worker`` does;
* Redis backend (REDIS_URL set): an RQ ``SimpleWorker`` in burst mode, with RQ's scheduler
  pass for deferred tasks. Tasks run in this process, one at a time, as with the database.

A round runs at most ``TASKS_PER_ROUND`` tasks, so a long queue cannot hold the periodic
jobs back; when a round found nothing to do the worker waits ``--interval`` seconds.
The first SIGTERM or Ctrl+C lets the current task or job finish and then stops; a second
one stops at once (the job's lease then runs out by itself).
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any, Protocol

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, close_old_connections
from django.utils import timezone
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, TaskResult, TaskResultStatus, task_backends
from django_tasks.backends.base import BaseTaskBackend
from django_tasks.signals import task_finished

from minsheng.core import periodic

TASKS_PER_ROUND = 50
# After the database or Redis failed, try again after this long rather than every round.
ERROR_PAUSE = 5.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

# Errors of the stores the worker reads, after which it waits and tries again.
OUTAGES: tuple[type[Exception], ...] = (DatabaseError,)
try:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    OUTAGES += (RedisConnectionError, RedisTimeoutError)
except ImportError:  # the redis extra is not installed
    pass


SignalHandler = Callable[[int, FrameType | None], None]


class TaskRunner(Protocol):
    label: str

    def run(self, limit: int | None) -> None: ...
    def stop(self) -> None: ...


class DatabaseTasks:
    """Runs ready tasks of the database backend with django-tasks-db's worker."""

    def __init__(self, backend: BaseTaskBackend, worker_id: str) -> None:
        self.label = f"数据库（{backend.alias}）"
        self.backend = backend
        self.worker_id = worker_id[:64]
        self.current: Any = None

    def run(self, limit: int | None) -> None:
        from django_tasks_db.management.commands.db_worker import Worker

        self.current = Worker(
            queue_names=sorted(self.backend.queues),
            interval=0,
            batch=True,  # return as soon as no task is ready
            backend_name=self.backend.alias,
            startup_delay=False,
            max_tasks=limit,
            worker_id=self.worker_id,
            excluded_queue_names=[],
        )
        try:
            self.current.run()
        finally:
            self.current = None

    def stop(self) -> None:
        # The worker checks this flag between tasks; the running task finishes.
        if self.current is not None:
            self.current.running = False


class RQTasks:
    """Runs tasks queued in Redis with an RQ worker in burst mode."""

    def __init__(self, backend: BaseTaskBackend, verbosity: int, on_signal: SignalHandler) -> None:
        from django_rq.queues import get_queues
        from django_tasks_rq.backend import Job
        from rq import SimpleWorker
        from rq.job import Job as BaseJob
        from rq.queue import Queue

        runner = self

        class BurstWorker(SimpleWorker):
            def request_stop(self, signum: int, frame: FrameType | None) -> None:
                # RQ points SIGINT and SIGTERM here while it works. Handle them as the
                # command does, instead of RQ's StopRequested, which escapes uncaught
                # when the signal comes while RQ starts up or tears down.
                on_signal(signum, frame)

            def dequeue_job_and_maintain_ttl(
                self, timeout: int | None, max_idle_time: int | None = None
            ) -> tuple[BaseJob, Queue] | None:
                if runner.stopping:
                    return None  # so the burst ends after the current task
                return super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)

        self.label = f"Redis（{backend.alias}）"
        self.stopping = False
        self.log_level = "INFO" if verbosity >= 2 else "WARNING"
        # One worker object for every round: RQ's registry maintenance then runs every
        # ten minutes, not every round.
        queues = get_queues(*sorted(backend.queues), job_class=Job)
        self.worker = BurstWorker(
            queues, connection=queues[0].connection, job_class=Job, queue_class=type(queues[0])
        )

    def run(self, limit: int | None) -> None:
        self.worker.work(
            burst=True, with_scheduler=True, max_jobs=limit, logging_level=self.log_level
        )

    def stop(self) -> None:
        self.stopping = True


def task_runner(
    backend: BaseTaskBackend, worker_id: str, verbosity: int, on_signal: SignalHandler
) -> TaskRunner | None:
    from django_tasks_db.backend import DatabaseBackend

    if isinstance(backend, DatabaseBackend):
        return DatabaseTasks(backend, worker_id)
    try:
        from django_tasks_rq.backend import RQBackend
    except ImportError:  # the redis extra is not installed
        return None
    if isinstance(backend, RQBackend):
        return RQTasks(backend, verbosity, on_signal)
    return None


class Command(BaseCommand):
    help = "运行排队的后台任务和周期作业（截止期扫描、消息发送等）；SIGTERM 或 Ctrl+C 平稳退出"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once",
            action="store_true",
            help="只运行一轮：到期的周期作业和所有排队的任务，然后退出",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            metavar="S",
            help="空闲时每隔多少秒查看一次（默认 1）",
        )

    def handle(
        self, *args: Any, once: bool, interval: float, verbosity: int, **options: Any
    ) -> None:
        if not 0 <= interval <= 3600:
            raise CommandError("--interval 必须在 0 到 3600 秒之间")
        self.verbosity = verbosity
        # django-tasks-db announces each batch's start and end; at one batch a second
        # that drowns the lines about tasks (logged by django_tasks) and jobs.
        logging.getLogger("django_tasks_db").setLevel(
            logging.INFO if verbosity >= 2 else logging.WARNING
        )
        self.owner = periodic.new_owner()
        self.stopping = False
        self.wake = threading.Event()
        self.finished: list[TaskResult[Any]] = []
        backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]
        self.runner = task_runner(backend, self.owner, verbosity, self.on_signal)
        names = "、".join(job.name for job in periodic.jobs()) or "无"
        tasks = (
            self.runner.label if self.runner else f"{type(backend).__name__}（不由 worker 运行）"
        )
        self.say(f"worker {self.owner} 启动：任务队列 {tasks}；周期作业 {names}")

        previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
        task_finished.connect(self.task_finished)
        self.install_signals()
        try:
            while not self.stopping:
                busy = self.round(limit=None if once else TASKS_PER_ROUND)
                if once:
                    break
                if not busy and not self.stopping:
                    self.wake.wait(interval)
        finally:
            task_finished.disconnect(self.task_finished)
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        self.say(f"worker {self.owner} 已停止")

    def round(self, limit: int | None) -> bool:
        """One pass over the periodic jobs and the queue; True if it found work."""
        close_old_connections()
        busy = False
        try:
            for job in periodic.due_jobs():
                if self.stopping:
                    return busy
                run = periodic.run(job, self.owner, started=self.job_started)
                busy = busy or run is not None
                if run is not None:
                    self.job_finished(run)
            if self.runner is not None and not self.stopping:
                self.finished.clear()
                self.runner.run(limit)
                self.install_signals()
                busy = busy or bool(self.finished)
                self.tasks_finished()
        except OUTAGES as exc:
            if limit is None:  # --once: report the outage to whoever ran it
                raise
            # The database or Redis is away: say so and try again later rather than die;
            # nothing is lost, the queue and the outbox wait in their stores.
            self.say(
                self.style.ERROR(f"出错，{ERROR_PAUSE:.0f} 秒后重试：{type(exc).__name__}: {exc}"),
                level=0,
            )
            self.wake.wait(ERROR_PAUSE)
        finally:
            close_old_connections()
        return busy

    # Output ----------------------------------------------------------------------------

    def say(self, text: str, *, level: int = 1) -> None:
        if self.verbosity >= level:
            self.stdout.write(f"{timezone.localtime():%H:%M:%S} {text}")

    def job_started(self, job: periodic.PeriodicJob) -> None:
        self.say(f"周期作业 {job.name} 开始", level=2)

    def job_finished(self, run: periodic.JobRun) -> None:
        if not run.ok:
            last_line = run.error.strip().splitlines()[-1]
            self.say(self.style.ERROR(f"周期作业 {run.job.name} 出错：{last_line}"), level=0)
        elif run.summary:
            self.say(f"周期作业 {run.job.name}：{run.summary}（{run.seconds:.1f} 秒）")
        else:
            self.say(f"周期作业 {run.job.name} 完成（{run.seconds:.1f} 秒）", level=2)

    def task_finished(self, sender: Any, task_result: TaskResult[Any], **kwargs: Any) -> None:
        self.finished.append(task_result)

    def tasks_finished(self) -> None:
        if not self.finished:
            return
        failed = sum(1 for result in self.finished if result.status == TaskResultStatus.FAILED)
        text = f"运行了 {len(self.finished)} 个任务"
        if failed:
            self.say(self.style.WARNING(f"{text}，其中 {failed} 个失败"))
        else:
            self.say(text)

    # Signals ---------------------------------------------------------------------------

    def install_signals(self) -> None:
        """(Re)take SIGINT and SIGTERM; RQ's worker points them at its own method while it
        works (which in turn calls ``on_signal``)."""
        for signum in STOP_SIGNALS:
            signal.signal(signum, self.on_signal)

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.stopping:
            for each in STOP_SIGNALS:
                signal.signal(each, signal.SIG_DFL)
            self.say(f"再次收到 {signal.strsignal(signum)}，立即退出", level=0)
            raise SystemExit(1)
        self.stopping = True
        self.say(
            f"收到 {signal.strsignal(signum)}：当前的任务完成后退出（再按一次 Ctrl+C 立即退出）",
            level=0,
        )
        if self.runner is not None:
            self.runner.stop()
        self.wake.set()
