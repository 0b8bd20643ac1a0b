"""The fixed-window limiter, on the database cache (SQLite set-ups) and on Redis."""

from __future__ import annotations

import secrets

import pytest
from django.core.cache import caches

from minsheng.core.ratelimit import Limit
from minsheng.core.rediscache import ReusingRedisCache


@pytest.fixture
def redis_cache(redis_url, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "minsheng.core.rediscache.ReusingRedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": f"test-{secrets.token_hex(4)}",
        }
    }
    backend = caches["default"]
    assert isinstance(backend, ReusingRedisCache)
    yield backend
    backend.clear()


def exhaust(limit: Limit, ident: str, times: int) -> list[bool]:
    return [limit.hit(ident) for _ in range(times)]


@pytest.mark.django_db
def test_the_database_cache_allows_the_limit_then_refuses():
    caches["default"].clear()
    limit = Limit("t-db", 3, 60)
    assert exhaust(limit, "1.2.3.4", 5) == [True, True, True, False, False]
    assert limit.exceeded("1.2.3.4") and not limit.exceeded("5.6.7.8")
    assert limit.hit("5.6.7.8")


@pytest.mark.redis
def test_redis_counts_in_one_window_and_the_key_expires(redis_cache):
    limit = Limit("t-redis", 3, 60)
    assert exhaust(limit, "token-1", 5) == [True, True, True, False, False]
    assert limit.exceeded("token-1") and not limit.exceeded("token-2")
    client = redis_cache._cache.get_client(write=True)
    (key,) = client.keys(f"{redis_cache.key_prefix}*t-redis*")
    assert 0 < client.ttl(key) <= 65  # the counter cannot outlive its window


@pytest.mark.redis
def test_redis_backend_reuses_one_client(redis_cache):
    redis_cache.set("a", 1)
    first = redis_cache._cache.get_client(write=True)
    assert redis_cache.get("a") == 1
    assert redis_cache._cache.get_client(write=False) is first


@pytest.mark.redis
def test_clearing_the_redis_cache_leaves_the_task_queue_and_other_prefixes(redis_cache):
    """Django's RedisCache.clear() flushes the whole database, RQ's queue with it."""
    client = redis_cache._cache.get_client(write=True)
    queue_key = f"rq:queue:test-{secrets.token_hex(4)}"
    other_key = f"other-{secrets.token_hex(4)}:1:kept"
    client.rpush(queue_key, "a queued job")
    client.set(other_key, "another site's cache")
    try:
        redis_cache.set_many({f"k{n}": n for n in range(1200)})  # several SCAN batches
        redis_cache.set("old", "v1", version=1)
        redis_cache.set("new", "v2", version=2)
        redis_cache.clear()
        assert client.keys(f"{redis_cache.key_prefix}:*") == []
        assert redis_cache.get("k0") is None and redis_cache.get("new", version=2) is None
        assert client.lrange(queue_key, 0, -1) == [b"a queued job"]
        assert client.get(other_key) == b"another site's cache"
    finally:
        client.delete(queue_key, other_key)


@pytest.mark.redis
def test_clearing_escapes_glob_characters_of_the_prefix(redis_url, settings):
    token = secrets.token_hex(4)
    settings.CACHES = {
        "default": {
            "BACKEND": "minsheng.core.rediscache.ReusingRedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": f"t[{token}]",
        },
        "look-alike": {
            "BACKEND": "minsheng.core.rediscache.ReusingRedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": f"t{token[0]}",
        },
    }
    bracketed, look_alike = caches["default"], caches["look-alike"]
    bracketed.set("a", 1)
    look_alike.set("a", 2)  # "t[abcd]:*" unescaped would match "ta:1:a"
    bracketed.clear()
    assert bracketed.get("a") is None
    assert look_alike.get("a") == 2
    look_alike.delete("a")
