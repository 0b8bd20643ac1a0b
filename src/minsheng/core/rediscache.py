"""Django's Redis cache backend, keeping one client per connection pool, and clearing
only its own keys.

The stock backend builds a new ``redis.Redis`` for every cache call, and redis-py's
constructor registers some 150 response callbacks each time: about 0.3 ms of CPU per
call, several times per API request (rate limit, outbox coalescing). A client object is
thread-safe (each command borrows a connection from the pool), so one per pool will do.
"""

from __future__ import annotations

import re
from itertools import islice
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

CLEAR_BATCH = 500


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}  # by id() of the pool

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]  # private in the stubs
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client

    def count(self, key: str, timeout: int) -> int:
        """Add one to the counter ``key`` (created with ``timeout`` seconds to live) in
        one round trip."""
        pipe = self.get_client(key, write=True).pipeline(transaction=False)
        pipe.set(key, 0, ex=timeout, nx=True)
        pipe.incr(key)
        return int(pipe.execute()[1])

    def clear_matching(self, pattern: str) -> None:
        """Delete the keys matching the glob ``pattern``, a batch at a time."""
        client = self.get_client(write=True)
        keys = client.scan_iter(match=pattern, count=CLEAR_BATCH)
        while batch := list(islice(keys, CLEAR_BATCH)):
            client.unlink(*batch)


class ReusingRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient

    def count(self, key: str, timeout: int) -> int:
        """The rate limiters' counter: ``add`` then ``incr`` would be three round trips
        (Django's ``incr`` checks that the key exists first)."""
        client: ReusingRedisCacheClient = self._cache  # type: ignore[attr-defined]
        return client.count(self.make_and_validate_key(key), timeout)

    def clear(self) -> None:
        """Delete this cache's keys only (``KEY_PREFIX:version:key``, as Django's key
        function makes them). Django's ``clear`` empties the whole Redis database, and the
        task queue (RQ) lives in the same one: a cleared cache would lose every queued
        task."""
        client: ReusingRedisCacheClient = self._cache  # type: ignore[attr-defined]
        prefix = re.sub(r"([*?\[\]\\])", r"\\\1", self.key_prefix)
        client.clear_matching(f"{prefix}:*")
