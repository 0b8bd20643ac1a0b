"""Who is calling: another system with a Bearer token, or the site's own pages with the
session cookie (then unsafe methods need the CSRF token, as for any form).

Both are set on the whole API (see ``urls.py``), so an endpoint is closed unless it says
``auth=None``. Token clients are also rate-limited per token (``API_RATE_LIMIT``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import APIKeyCookie, HttpBearer
from ninja.throttling import BaseThrottle
from ninja.utils import check_csrf

from minsheng.api.errors import CSRF_FAILED, UNAUTHENTICATED, ApiError
from minsheng.core import tokens
from minsheng.core.models import User
from minsheng.core.ratelimit import Limit

if TYPE_CHECKING:
    from minsheng.core.models import ApiToken


class TokenAuth(HttpBearer):
    """``Authorization: Bearer <key>``. A wrong or revoked key is refused outright rather
    than falling back to the session, so that a misconfigured system hears about it."""

    def authenticate(self, request: HttpRequest, token: str) -> User:
        api_token = tokens.authenticate(token.strip())
        if api_token is None:
            raise ApiError(UNAUTHENTICATED, _("访问令牌无效、已吊销或其用户已停用"), 401)
        request.api_token = api_token  # type: ignore[attr-defined]
        # Code below the endpoint reads request.user, whichever way the caller came in.
        request.user = api_token.user
        return api_token.user


class SessionAuth(APIKeyCookie):
    """The logged-in user of the site itself (htmx and the site's scripts)."""

    param_name = settings.SESSION_COOKIE_NAME

    def __call__(self, request: HttpRequest) -> User | None:
        user = self.authenticate(request, None)
        if user is None:
            return None
        # Checked only for a logged-in user: an anonymous caller should hear "log in",
        # not "CSRF". Safe methods pass the check unconditionally.
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request) is not None:
            raise ApiError(CSRF_FAILED, _("CSRF 校验失败，请刷新页面后重试"), 403)
        return user

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = request.user
        return user if isinstance(user, User) and user.is_authenticated else None


_PERIODS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
}


@lru_cache(maxsize=8)
def parse_rate(rate: str) -> tuple[int, int]:
    """``"600/min"`` → (600, 60): requests allowed per period of seconds."""
    try:
        count, period = rate.split("/")
        return int(count), _PERIODS[period.strip().lower()]
    except (ValueError, KeyError):
        raise ImproperlyConfigured(f"API_RATE_LIMIT {rate!r} is not like '600/min'") from None


class TokenRateThrottle(BaseThrottle):
    """A fixed-window counter per token in the shared cache, so that it holds across
    processes. The site's own session calls are not limited here: they come from people
    clicking, and logins have their own limits."""

    def allow_request(self, request: HttpRequest) -> bool:
        api_token: ApiToken | None = getattr(request, "api_token", None)
        if api_token is None:
            return True
        return _token_limit().hit(str(api_token.pk))

    def wait(self) -> float:
        """Seconds until the current window ends (one instance serves every thread)."""
        return float(_token_limit().seconds_left())


def _token_limit() -> Limit:
    limit, period = parse_rate(settings.API_RATE_LIMIT)
    return Limit("api-token", limit, period)
