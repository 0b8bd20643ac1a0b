"""Rate limit of the public guide (pages and API), per client address. A hall's kiosks
share one address, hence the generous default."""

from __future__ import annotations

from django.conf import settings

from minsheng.core.ratelimit import Limit

DEFAULT_LIMIT = 600  # questions per address per window
DEFAULT_WINDOW = 600  # seconds


def _limit() -> Limit:
    # Read on each call so that settings overrides (tests, deployments) take effect.
    return Limit(
        "guide",
        int(getattr(settings, "GUIDE_RATE_LIMIT", DEFAULT_LIMIT)),
        int(getattr(settings, "GUIDE_RATE_WINDOW", DEFAULT_WINDOW)),
    )


def hit(ident: str | None) -> bool:
    """Count one question from this address; False once the limit is used up."""
    return _limit().hit(ident)


def seconds_left() -> int:
    return _limit().seconds_left()
