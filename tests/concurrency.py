"""Running actions at the same moment from several threads, for the race tests."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections


def at_once(
    calls: Sequence[Callable[[], Any]], *, expected: tuple[type[Exception], ...] = ()
) -> list[Any]:
    """Run each call in a thread of its own, all released together, and return what each
    returned or the ``expected`` exception it raised, in the order of ``calls``. Any other
    exception is raised here once every thread has finished.

    Each thread closes its database connections at the end: ``close_old_connections()``
    would keep them for ``CONN_MAX_AGE``, and PostgreSQL could not drop the test database.
    """
    start = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    unexpected: list[BaseException] = []

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            start.wait()
            results[index] = call()
        except expected as error:
            results[index] = error
        except BaseException as error:
            unexpected.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if unexpected:
        raise unexpected[0]
    return results
