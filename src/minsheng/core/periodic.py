"""Periodic jobs run by ``minsheng worker``, and the lease that runs each on one worker only.

Apps register their sweeps when they load (from their ``tasks`` module)::

    periodic.register("appeals.deadlines", sweep_deadlines, every=timedelta(minutes=5))

Every worker looks at every job, but a job runs only after its worker won the job's
``JobLock`` row with one conditional UPDATE: the row must be free (no lease, or a lease
that ran out) and the job due (last started at least ``every`` ago). The database
serialises the competing UPDATEs, so exactly one worker gets the row per period. A
worker that dies mid-job keeps the lease until ``ttl`` runs out; then another takes over.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import overload

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q
from django.utils import timezone

from minsheng.core.models import JobLock

logger = logging.getLogger(__name__)

JobFunction = Callable[[], object]

DEFAULT_TTL = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    fn: JobFunction
    every: dt.timedelta
    # How long a worker may hold the job; must be longer than the job ever runs, or a
    # second worker starts it while the first is still busy.
    ttl: dt.timedelta


@dataclass(frozen=True)
class JobRun:
    job: PeriodicJob
    summary: str
    error: str
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.error


_jobs: dict[str, PeriodicJob] = {}


@overload
def register(
    name: str, fn: None = None, *, every: dt.timedelta, ttl: dt.timedelta | None = None
) -> Callable[[JobFunction], JobFunction]: ...


@overload
def register(
    name: str, fn: JobFunction, *, every: dt.timedelta, ttl: dt.timedelta | None = None
) -> JobFunction: ...


def register(
    name: str,
    fn: JobFunction | None = None,
    *,
    every: dt.timedelta,
    ttl: dt.timedelta | None = None,
) -> JobFunction | Callable[[JobFunction], JobFunction]:
    """Run ``fn`` every ``every`` on one of the workers; also usable as a decorator.
    What ``fn`` returns (if not None) is printed by the worker as the run's summary."""
    if fn is None:

        def decorator(f: JobFunction) -> JobFunction:
            return register(name, f, every=every, ttl=ttl)

        return decorator
    if len(name) > JobLock._meta.get_field("name").max_length:  # type: ignore[operator]
        raise ImproperlyConfigured(f"periodic job name too long: {name!r}")
    if every <= dt.timedelta(0):
        raise ImproperlyConfigured(f"periodic job {name!r}: every must be positive")
    job = PeriodicJob(name, fn, every, ttl or max(DEFAULT_TTL, every))
    existing = _jobs.get(name)
    if existing is not None and existing.fn is not fn:
        raise ImproperlyConfigured(f"periodic job {name!r} registered twice")
    _jobs[name] = job
    return fn


def jobs() -> list[PeriodicJob]:
    return sorted(_jobs.values(), key=lambda job: job.name)


def get(name: str) -> PeriodicJob | None:
    return _jobs.get(name)


def new_owner() -> str:
    """A name for this worker process, unique among the workers sharing the database."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


def _free(now: dt.datetime) -> Q:
    return Q(locked_until__isnull=True) | Q(locked_until__lte=now)


def _due(job: PeriodicJob, now: dt.datetime) -> Q:
    return Q(last_started_at__isnull=True) | Q(last_started_at__lte=now - job.every)


def due_jobs(now: dt.datetime | None = None) -> list[PeriodicJob]:
    """The jobs that look due, read in one query: the cheap check before ``acquire``,
    which decides for real."""
    now = now or timezone.now()
    locks = JobLock.objects.in_bulk([job.name for job in _jobs.values()])
    result = []
    for job in jobs():
        lock = locks.get(job.name)
        if lock is None:
            result.append(job)
            continue
        free = lock.locked_until is None or lock.locked_until <= now
        due = lock.last_started_at is None or lock.last_started_at <= now - job.every
        if free and due:
            result.append(job)
    return result


def acquire(job: PeriodicJob, owner: str, now: dt.datetime | None = None) -> bool:
    """Take the job's lease if it is free and the job is due; True if this worker won."""
    now = now or timezone.now()
    JobLock.objects.bulk_create([JobLock(name=job.name)], ignore_conflicts=True)
    won = JobLock.objects.filter(Q(name=job.name), _free(now), _due(job, now)).update(
        owner=owner, locked_until=now + job.ttl, last_started_at=now
    )
    return won == 1


def release(job: PeriodicJob, owner: str, error: str = "") -> None:
    """Give the lease back and record how the run ended (unless the lease was lost)."""
    released = JobLock.objects.filter(name=job.name, owner=owner).update(
        locked_until=None, last_finished_at=timezone.now(), last_error=error
    )
    if not released:
        logger.warning(
            "periodic job %s outlived its lease (ttl %s); another worker took it", job.name, job.ttl
        )


def run(
    job: PeriodicJob, owner: str, *, started: Callable[[PeriodicJob], None] | None = None
) -> JobRun | None:
    """Run the job if this worker wins its lease; None if it did not."""
    if not acquire(job, owner):
        return None
    if started is not None:
        started(job)
    began = timezone.now()
    summary = error = ""
    try:
        result = job.fn()
        summary = "" if result is None else str(result)
    except Exception:
        logger.exception("periodic job %s failed", job.name)
        error = traceback.format_exc(limit=8)
    except BaseException:
        # Interrupted (a second SIGTERM, Ctrl+C): free the job for the next worker.
        release(job, owner, "interrupted")
        raise
    release(job, owner, error)
    return JobRun(job, summary, error, (timezone.now() - began).total_seconds())
