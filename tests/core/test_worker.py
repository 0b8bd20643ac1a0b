from __future__ import annotations

import datetime as dt
import os
import signal
import threading
import uuid
from dataclasses import dataclass
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections
from django.test import override_settings
from django.utils import timezone
from django_tasks import TaskResultStatus, task
from django_tasks_db.models import DBTaskResult

from minsheng.core import periodic
from minsheng.core.models import JobLock, LongJob

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@task()
def leave_a_mark(marker: str) -> str:
    """Proves a task ran: the row it writes is what the test looks for."""
    LongJob.objects.create(kind="test.mark", title=marker)
    return marker


@task()
def ask_worker_to_stop() -> None:
    LongJob.objects.create(kind="test.mark", title="stopper")
    os.kill(os.getpid(), signal.SIGTERM)


@pytest.fixture
def registry(monkeypatch):
    """An empty periodic-job registry for the test, the real one restored afterwards."""
    monkeypatch.setattr(periodic, "_jobs", {})
    return periodic


def marks() -> list[str]:
    return sorted(LongJob.objects.filter(kind="test.mark").values_list("title", flat=True))


# Registry ------------------------------------------------------------------------------


def test_register_as_call_or_decorator(registry):
    def sweep() -> None:
        return None

    registry.register("a.sweep", sweep, every=dt.timedelta(minutes=5))

    @registry.register("b.sweep", every=dt.timedelta(hours=1), ttl=dt.timedelta(hours=2))
    def other() -> None:
        return None

    assert [job.name for job in registry.jobs()] == ["a.sweep", "b.sweep"]
    assert registry.get("a.sweep").ttl == periodic.DEFAULT_TTL
    assert registry.get("b.sweep").ttl == dt.timedelta(hours=2)
    registry.register("a.sweep", sweep, every=dt.timedelta(minutes=5))  # re-import: fine
    with pytest.raises(ImproperlyConfigured):
        registry.register("a.sweep", other, every=dt.timedelta(minutes=5))
    with pytest.raises(ImproperlyConfigured):
        registry.register("c.sweep", sweep, every=dt.timedelta(0))


def test_the_outbox_sweep_is_registered():
    job = periodic.get("outbox.deliver")
    assert job is not None and job.every <= dt.timedelta(minutes=1)


# The lease -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_lease_lets_one_worker_run_a_job_per_period(registry):
    registry.register("t.job", lambda: None, every=dt.timedelta(minutes=10))
    job = registry.get("t.job")
    with time_machine.travel(START, tick=False) as clock:
        assert registry.acquire(job, "a")
        assert not registry.acquire(job, "b")  # held
        registry.release(job, "a")
        assert not registry.acquire(job, "b")  # free, but ran this period
        assert registry.due_jobs() == []
        clock.shift(dt.timedelta(minutes=10))
        assert registry.due_jobs() == [job]
        assert registry.acquire(job, "b")
    lock = JobLock.objects.get(name="t.job")
    assert (lock.owner, lock.last_started_at) == ("b", START + dt.timedelta(minutes=10))


@pytest.mark.django_db
def test_a_dead_workers_lease_runs_out(registry):
    registry.register(
        "t.job", lambda: None, every=dt.timedelta(minutes=1), ttl=dt.timedelta(minutes=5)
    )
    job = registry.get("t.job")
    with time_machine.travel(START, tick=False) as clock:
        assert registry.acquire(job, "dead")
        clock.shift(dt.timedelta(minutes=4))
        assert not registry.acquire(job, "b")  # due again, but the lease still holds
        clock.shift(dt.timedelta(minutes=1, seconds=1))
        assert registry.acquire(job, "b")
        registry.release(job, "dead", "late")  # the dead worker wakes: changes nothing
        lock = JobLock.objects.get(name="t.job")
        assert (lock.owner, lock.last_error, lock.last_finished_at) == ("b", "", None)
        assert lock.locked_until == timezone.now() + job.ttl


@pytest.mark.django_db
def test_run_records_success_and_failure(registry):
    outcomes = iter(["已处理 3 条", ZeroDivisionError("boom")])

    def flaky() -> str:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    registry.register("t.flaky", flaky, every=dt.timedelta(minutes=1))
    job = registry.get("t.flaky")
    with time_machine.travel(START, tick=False) as clock:
        first = registry.run(job, "a")
        assert first is not None and first.ok and first.summary == "已处理 3 条"
        assert registry.run(job, "a") is None  # not due
        clock.shift(dt.timedelta(minutes=1))
        second = registry.run(job, "a")
    assert second is not None and not second.ok and "ZeroDivisionError: boom" in second.error
    lock = JobLock.objects.get(name="t.flaky")
    assert "ZeroDivisionError" in lock.last_error
    assert lock.locked_until is None and lock.last_finished_at is not None


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_a_job_run_it_once(registry):
    entered: list[str] = []
    someone_entered, one_returned, release = threading.Event(), threading.Event(), threading.Event()

    def slow_job() -> None:
        entered.append(threading.current_thread().name)
        someone_entered.set()
        release.wait(timeout=30)  # hold the lease until the other worker has tried

    registry.register("t.slow", slow_job, every=dt.timedelta(seconds=1))
    job = registry.get("t.slow")
    barrier = threading.Barrier(2)
    results: dict[str, periodic.JobRun | None] = {}

    def worker() -> None:
        name = threading.current_thread().name
        try:
            barrier.wait()
            results[name] = registry.run(job, name)
        finally:
            one_returned.set()
            connections.close_all()

    threads = [threading.Thread(target=worker, name=name) for name in ("w1", "w2")]
    for thread in threads:
        thread.start()
    assert someone_entered.wait(timeout=30)
    assert one_returned.wait(timeout=30)  # the loser gives up without waiting
    release.set()
    for thread in threads:
        thread.join()
    assert len(entered) == 1
    winner = entered[0]
    assert results[winner] is not None and results[winner].ok
    assert [name for name, run in results.items() if run is None] == [
        {"w1": "w2", "w2": "w1"}[winner]
    ]
    assert JobLock.objects.get(name="t.slow").owner == winner


# The worker command ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@override_settings(TASKS=DB_TASKS)
def test_worker_once_runs_queued_tasks_and_due_jobs(registry):
    registry.register("t.sweep", lambda: "扫描了 1 项", every=dt.timedelta(hours=1))
    first = leave_a_mark.enqueue("first")
    leave_a_mark.enqueue("second")
    out = StringIO()
    call_command("worker", "--once", stdout=out)
    assert marks() == ["first", "second"]
    assert DBTaskResult.objects.get(id=first.id).status == TaskResultStatus.SUCCESSFUL
    text = out.getvalue()
    assert "周期作业 t.sweep：扫描了 1 项" in text
    assert "运行了 2 个任务" in text and "已停止" in text
    assert JobLock.objects.get(name="t.sweep").last_finished_at is not None

    out = StringIO()
    call_command("worker", "--once", stdout=out)  # the job is not due, no task is queued
    assert "t.sweep：" not in out.getvalue() and "运行了" not in out.getvalue()


@pytest.mark.django_db(transaction=True)
@override_settings(TASKS=DB_TASKS)
def test_sigterm_lets_the_current_task_finish_then_stops(registry):
    ask_worker_to_stop.enqueue()
    ask_worker_to_stop.enqueue()
    previous = signal.getsignal(signal.SIGTERM)
    out = StringIO()
    call_command("worker", "--interval", "0", stdout=out)  # returns only because of SIGTERM
    assert marks() == ["stopper"]
    statuses = sorted(DBTaskResult.objects.values_list("status", flat=True))
    assert statuses == [TaskResultStatus.READY, TaskResultStatus.SUCCESSFUL]
    assert "当前的任务完成后退出" in out.getvalue()
    assert signal.getsignal(signal.SIGTERM) is previous


class WorkerKeptRunning(BaseException):
    """Raised by a test job run a second time, so a broken stop fails instead of hanging."""


@pytest.mark.django_db(transaction=True)
@override_settings(TASKS=DB_TASKS)
def test_sigterm_during_a_periodic_job_stops_after_it(registry):
    calls: list[int] = []

    def job() -> str:
        calls.append(1)
        if len(calls) > 1:
            raise WorkerKeptRunning
        os.kill(os.getpid(), signal.SIGTERM)
        return "做完了"

    registry.register("t.stopper", job, every=dt.timedelta(milliseconds=1))
    leave_a_mark.enqueue("not run")
    out = StringIO()
    call_command("worker", "--interval", "0", stdout=out)
    assert calls == [1]
    assert "周期作业 t.stopper：做完了" in out.getvalue()
    assert marks() == []  # the queue waits for the next worker
    assert JobLock.objects.get(name="t.stopper").locked_until is None


@pytest.mark.django_db(transaction=True)
@override_settings(TASKS=DB_TASKS)
def test_a_second_signal_stops_at_once_and_frees_the_job(registry):
    def job() -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGTERM)
        raise WorkerKeptRunning

    registry.register("t.stuck", job, every=dt.timedelta(hours=1))
    with pytest.raises(SystemExit):
        call_command("worker", "--interval", "0", stdout=StringIO())
    lock = JobLock.objects.get(name="t.stuck")
    assert (lock.locked_until, lock.last_error) == (None, "interrupted")


def test_worker_rejects_a_bad_interval():
    with pytest.raises(CommandError):
        call_command("worker", "--once", "--interval", "-1")


@dataclass
class RedisQueue:
    client: Any
    name: str

    @property
    def length(self) -> int:
        return self.client.llen(f"rq:queue:{self.name}")


@pytest.fixture
def redis_queue(redis_url):
    """A queue of its own in the test Redis, for the test's duration. Its own name keeps
    parallel test runs (pytest -n, a second checkout) from taking each other's jobs."""
    import redis

    client = redis.Redis.from_url(redis_url, socket_connect_timeout=1)
    name = f"minsheng-test-{uuid.uuid4().hex[:12]}"
    settings = {
        "TASKS": {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": [name]}},
        # django-tasks-rq reads results through the connection of the queue named "default".
        "RQ_QUEUES": {name: {"URL": redis_url}, "default": {"URL": redis_url}},
    }
    with override_settings(**settings):
        yield RedisQueue(client, name)
    for key in client.scan_iter("rq:job:*"):
        if client.hget(key, "origin") == name.encode():
            client.delete(key, key.replace(b"rq:job:", b"rq:results:"))
    for key in client.scan_iter(f"rq:*{name}*"):
        client.delete(key)
    client.srem("rq:queues", f"rq:queue:{name}")


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_worker_runs_tasks_queued_in_redis(registry, redis_queue):
    result = leave_a_mark.using(queue_name=redis_queue.name).enqueue("via redis")
    assert redis_queue.length == 1
    assert marks() == []
    out = StringIO()
    call_command("worker", "--once", stdout=out)
    assert marks() == ["via redis"]
    finished = leave_a_mark.get_backend().get_result(result.id)
    assert finished.status == TaskResultStatus.SUCCESSFUL
    assert finished.return_value == "via redis"
    assert "Redis" in out.getvalue() and "运行了 1 个任务" in out.getvalue()
    assert redis_queue.length == 0


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_sigterm_stops_the_redis_worker_after_the_current_task(registry, redis_queue):
    for _ in range(2):
        ask_worker_to_stop.using(queue_name=redis_queue.name).enqueue()
    previous = signal.getsignal(signal.SIGTERM)
    out = StringIO()
    call_command("worker", "--interval", "0", stdout=out)  # returns only because of SIGTERM
    assert marks() == ["stopper"]
    assert redis_queue.length == 1  # left for the next worker
    assert "当前的任务完成后退出" in out.getvalue()
    assert signal.getsignal(signal.SIGTERM) is previous
