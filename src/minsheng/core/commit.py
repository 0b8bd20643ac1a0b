"""Work that runs once when the current transaction commits."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction


def on_commit_once(func: Callable[[], None]) -> None:
    """``transaction.on_commit(func)`` unless ``func`` is queued already: a transaction
    that writes a thousand rows runs the follow-up (send, seal, publish) once."""
    connection = transaction.get_connection()
    if not any(queued is func for _sids, queued, _robust in connection.run_on_commit):
        transaction.on_commit(func)
