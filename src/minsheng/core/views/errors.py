"""Error pages in the site's own layout, in the user's language."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader

from minsheng.core.context_processors import CITIZEN_LAYOUT


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "core/errors/403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "core/errors/404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # No request context: a context processor (or the database behind it) may be what
    # failed. The citizen layout renders from these few values alone.
    context = {"county_name": settings.COUNTY_NAME, "shell_layout": CITIZEN_LAYOUT}
    return HttpResponse(loader.get_template("core/errors/500.html").render(context), status=500)
