from __future__ import annotations

import logging
import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation

from minsheng.core import context

Handler = Callable[[HttpRequest], HttpResponse]
_REQUEST_ID = re.compile(r"^[A-Za-z0-9\-]{8,36}$")


class RequestContextMiddleware:
    """Give every request an id (kept from a trusted proxy's X-Request-ID) for logs and audit."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else None
        token = context.begin(request_id, request.META.get("REMOTE_ADDR"))
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = context.current_request_id()
            return response
        finally:
            context.end(token)


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = context.current_request_id() or "-"
        return True


LANGUAGE_COOKIE = "minsheng_lang"
LARGE_FONT_COOKIE = "minsheng_large"


class LanguageMiddleware:
    """Pick the language from the user's choice (cookie), else zh-hans.

    Chinese is the default for everyone; the browser's Accept-Language is not used because
    many phones in the county report English while their users read Chinese.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self.codes = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        lang = request.COOKIES.get(LANGUAGE_COOKIE, "")
        if lang not in self.codes:
            lang = settings.LANGUAGE_CODE
        translation.activate(lang)
        request.LANGUAGE_CODE = lang
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", lang)
        return response


class PasswordChangeRequiredMiddleware:
    """Send users whose password must change to the change page before anything else."""

    # Preferences (language, large font) stay usable: the change page must be readable.
    allowed_prefixes = ("/static/", "/media/", "/prefs/", "/api/")

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            settings.FORCE_PASSWORD_CHANGE
            and user is not None
            and user.is_authenticated
            and getattr(user, "must_change_password", False)
            and not request.path.startswith(self.allowed_prefixes)
        ):
            allowed = {reverse("core:password_change"), reverse("core:logout")}
            if request.path not in allowed:
                return redirect("core:password_change")
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), geolocation=(self), microphone=(self)"
        )
        return response
