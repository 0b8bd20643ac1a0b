"""Failed staff logins, counted per username and per client address in the cache.

After ``LOGIN_FAILURE_LIMIT`` failures within ``LOGIN_FAILURE_WINDOW_SECONDS`` for either the
username or the address, further attempts are refused (even with the right password) until
the oldest counted failure leaves the window. Timestamps live in the cached value and are
compared with ``timezone.now()``: cache expiry only cleans up, so the lock behaves the same
on the database cache and on Redis (and under ``time_machine`` in tests).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone


@dataclass(frozen=True)
class LoginLock:
    seconds_left: int

    @property
    def minutes_left(self) -> int:
        return max(1, math.ceil(self.seconds_left / 60))


def _key(kind: str, value: str) -> str:
    # Hash so that any username (spaces, very long, non-ASCII) makes a valid cache key.
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]
    return f"login-fail:{kind}:{digest}"


def _keys(username: str, ip: str | None) -> list[str]:
    keys = [_key("user", username)]
    if ip:
        keys.append(_key("ip", ip))
    return keys


def _recent(key: str, now: float) -> list[float]:
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    return [t for t in cache.get(key, []) if now - t < window]


def lock_for(username: str, ip: str | None) -> LoginLock | None:
    """The lock in force for this username or address, if any."""
    now = timezone.now().timestamp()
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    limit = settings.LOGIN_FAILURE_LIMIT
    seconds_left = 0.0
    for key in _keys(username, ip):
        failures = _recent(key, now)
        if len(failures) >= limit:
            # Unlocked when enough old failures leave the window to fall below the limit.
            release = failures[-limit] + window
            seconds_left = max(seconds_left, release - now)
    return LoginLock(math.ceil(seconds_left)) if seconds_left > 0 else None


def record_failure(username: str, ip: str | None) -> LoginLock | None:
    """Count one failure; returns the lock if this failure started one."""
    now = timezone.now().timestamp()
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    for key in _keys(username, ip):
        failures = _recent(key, now)
        failures.append(now)
        cache.set(key, failures[-settings.LOGIN_FAILURE_LIMIT :], timeout=window)
    return lock_for(username, ip)


def reset(username: str) -> None:
    """Forget the username's failures after a successful login.

    The address's count is kept: otherwise anyone with one valid account could clear the
    lock on their address between guesses at other accounts.
    """
    cache.delete(_key("user", username))
