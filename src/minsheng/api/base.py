"""``MinshengAPI``: ninja's API with the site's error shape on every response.

ninja answers some things outside its exception handlers — an unknown method on a known
path (plain-text 405), the API root (Django's HTML 404) — and Django answers unknown paths
with its HTML 404 page. The URL patterns are wrapped here so that every answer below
``/api/v1/`` is JSON in the one shape of ``errors.py``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotAllowed
from django.urls import URLPattern, URLResolver, path
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import ValidationError, ValidationErrorContext
from ninja.openapi.schema import OpenAPISchema

from minsheng.api import errors
from minsheng.api.schemas import ErrorOut

View = Callable[..., HttpResponseBase]


def _json_errors(view: View) -> View:
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            return errors.not_found_response()
        if isinstance(response, HttpResponseNotAllowed):
            return errors.method_not_allowed_response(
                m.strip() for m in response["Allow"].split(",")
            )
        return response

    return wrapped


@csrf_exempt
def unknown_path(request: HttpRequest, rest: str) -> HttpResponse:
    return errors.not_found_response()


class MinshengAPI(NinjaAPI):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        errors.install(self)

    @property
    def urls(self) -> tuple[list[URLResolver | URLPattern], str, str]:
        patterns, app_name, namespace = super().urls
        wrapped: list[URLResolver | URLPattern] = [
            URLPattern(p.pattern, _json_errors(p.callback), p.default_args, p.name)
            if isinstance(p, URLPattern)
            else p
            for p in patterns
        ]
        # Last, so that it only catches what nothing above matched.
        wrapped.append(path("<path:rest>", unknown_path, name="unknown-path"))
        return wrapped, app_name, namespace

    def validation_error_from_error_contexts(
        self, error_contexts: list[ValidationErrorContext[Any]]
    ) -> ValidationError:
        """As ninja's, but a body read into one schema reports ``mobile``, not
        ``payload.mobile``: clients know the fields they sent, not our argument names."""
        error = super().validation_error_from_error_contexts(error_contexts)
        single = {
            getattr(c.model, "__read_from_single_attr__", None)
            for c in error_contexts
            if c.model.__ninja_param_source__ == "body"
        } - {None}
        for item in error.errors:
            loc = tuple(item["loc"])
            if len(loc) >= 2 and loc[0] == "body" and loc[1] in single:
                item["loc"] = (loc[0], *loc[2:])
        return error

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        """Document the error shape once, as every operation's ``default`` response."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        components = schema.setdefault("components", {})
        error_schema = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas = components.setdefault("schemas", {})
        schemas.update(error_schema.pop("$defs", {}))
        schemas["Error"] = error_schema
        default = {
            "description": errors.DESCRIPTION,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                operation.setdefault("responses", {}).setdefault("default", default)
        return schema
