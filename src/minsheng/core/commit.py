"""Work that runs once when the current transaction commits."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)


def on_commit_once(func: Callable[[], None]) -> None:
    """``transaction.on_commit(func)`` unless ``func`` is queued already: a transaction
    that writes a thousand rows runs the follow-up (send, seal, publish) once."""
    connection = transaction.get_connection()
    if not any(queued is func for _sids, queued, _robust in connection.run_on_commit):
        transaction.on_commit(func)


def queue_once(flag: str, enqueue: Callable[[], object], *, seconds: int = 10) -> None:
    """Call ``enqueue`` (which queues a task) unless the task it queued last is still
    waiting. Under load thousands of commits a minute would otherwise each queue a task of
    their own, when one task does the work of all: ``flag`` is set in the cache while a task
    waits, the task calls ``task_started(flag)`` before it looks for work (so a commit after
    that queues the next one), and the timeout lets a task lost with a dead worker be
    replaced. Run it after the commit; a failure is logged, not raised, because the work is
    committed and a periodic job does it anyway."""
    try:
        if not cache.add(flag, 1, timeout=seconds):
            return
        enqueue()
    except Exception:
        cache.delete(flag)
        logger.warning(
            "could not queue the task of %s; the periodic job will do it", flag, exc_info=True
        )


def task_started(flag: str) -> None:
    """Called by a task queued through ``queue_once`` before it looks for work."""
    cache.delete(flag)
