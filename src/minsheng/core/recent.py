"""What one process read lately, kept for a few seconds: the rows every request of a hot
path reads and that change rarely (an API token with its user, a window pad's token).

Each process has its own copy, so a change made through another process is seen here
within ``ttl`` seconds; the process that makes the change calls ``clear()`` at once (and
again on commit). Every caller gets a deep copy: threads must not share model instances.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Recent(Generic[T]):
    def __init__(self, ttl: Callable[[], float], *, max_size: int = 1000) -> None:
        self._ttl = ttl  # read at each call, so that tests and settings can change it
        self._max_size = max_size
        self._items: dict[str, tuple[float, T]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, load: Callable[[], T | None]) -> T | None:
        """The item under ``key``, from memory while it is fresh, else from ``load()``
        (``None`` is not kept: a missing row is looked up again next time)."""
        ttl = self._ttl()
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(key)
        if hit is not None and now - hit[0] < ttl:
            return copy.deepcopy(hit[1])
        found = load()
        if found is not None and ttl > 0:
            with self._lock:
                if len(self._items) >= self._max_size:
                    self._items.clear()
                self._items[key] = (now, found)
            return copy.deepcopy(found)
        return found

    def touch(self, key: str, change: Callable[[T], None]) -> None:
        """Apply ``change`` to the kept item, if any (a timestamp the caller just wrote)."""
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                change(hit[1])

    def clear(self, *_args: object, **_kwargs: object) -> None:
        """Forget everything (usable as a signal receiver or an on_commit callback)."""
        with self._lock:
            self._items.clear()
