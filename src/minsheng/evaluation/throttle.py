"""Rate limits of the public 好差评 pages, per client address (a hall shares one)."""

from __future__ import annotations

from minsheng.core.ratelimit import Limit

# The back-to-back kiosk and the phone page.
KIOSK_RATE = Limit("eval-kiosk", 300, 3600)
LINK_RATE = Limit("eval-link", 60, 3600)
# Bad or expired links: someone trying to guess them.
LINK_FAILURES = Limit("eval-link-bad", 30, 3600)
