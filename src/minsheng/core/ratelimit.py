"""Fixed-window request counters in the shared cache (Redis in production), so that limits
hold across processes: one round trip to Redis per request, cheap enough for hot paths.

Windows are aligned to the epoch, so "seconds left" needs no state from the counting call.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core.cache import cache, caches
from django.utils import timezone

from minsheng.core.rediscache import ReusingRedisCache


@dataclass(frozen=True)
class Limit:
    name: str
    limit: int
    window: int  # seconds

    def _key(self, ident: str) -> str:
        bucket = int(timezone.now().timestamp()) // self.window
        # Hashed: identifiers may be addresses or tokens, which do not belong in cache keys.
        digest = hashlib.sha256(ident.encode()).hexdigest()[:24]
        return f"rate:{self.name}:{digest}:{bucket}"

    def exceeded(self, ident: str | None) -> bool:
        """Whether the limit is already used up (without counting this request)."""
        if not ident:
            return False
        return int(cache.get(self._key(ident), 0)) >= self.limit

    def hit(self, ident: str | None) -> bool:
        """Count one request; False when the limit is exceeded. No identifier, no limit."""
        if not ident:
            return True
        key = self._key(ident)
        backend = caches["default"]
        if isinstance(backend, ReusingRedisCache):
            return backend.count(key, self.window + 5) <= self.limit
        cache.add(key, 0, timeout=self.window + 5)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=self.window + 5)
            count = 1
        return count <= self.limit

    def seconds_left(self) -> int:
        """Seconds until the current window ends."""
        return self.window - int(timezone.now().timestamp()) % self.window
