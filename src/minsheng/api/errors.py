"""The API's one error shape: ``{"error": {"code": ..., "message": ..., "fields": {...}}}``.

Clients branch on ``code`` (stable, English, listed below); ``message`` is for people, in
the user's language; ``fields`` maps a field name to its messages when input was refused.
Every failure, from a bad token to an unexpected exception, goes through ``error_response``
so that no client ever sees Django's HTML pages or a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import (
    ObjectDoesNotExist,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

if TYPE_CHECKING:
    from ninja import NinjaAPI

logger = logging.getLogger(__name__)

BAD_REQUEST = "bad_request"
UNAUTHENTICATED = "unauthenticated"
FORBIDDEN = "forbidden"
CSRF_FAILED = "csrf_failed"
NOT_FOUND = "not_found"
METHOD_NOT_ALLOWED = "method_not_allowed"
CONFLICT = "conflict"
TOO_LARGE = "too_large"
INVALID = "invalid"
RATE_LIMITED = "rate_limited"
SERVER_ERROR = "server_error"
REPLY_CHECK = "reply_check"

# The error codes as the OpenAPI document describes them to integrators.
DESCRIPTION = (
    "错误。error.code 取值：bad_request(400) 请求格式不正确；"
    "unauthenticated(401) 未登录或令牌无效；forbidden(403) 无权限；"
    "csrf_failed(403) 会话请求缺少 CSRF 令牌；not_found(404) 不存在或不在本部门范围内；"
    "method_not_allowed(405)；conflict(409) 数据已被他人修改；too_large(413)；"
    "invalid(422) 输入有误，见 error.fields；reply_check(422) 答复检查有提示，"
    "error.fields.text 为提示、error.fields.warnings 为提示代码，修改答复或以 override=true 重发；"
    "rate_limited(429) 请求过于频繁，见 Retry-After；"
    "server_error(500)。"
)

# Field errors that concern the input as a whole rather than one field.
NON_FIELD = "__all__"

Fields = dict[str, list[str]]


class ApiError(Exception):
    """Raise anywhere below an endpoint to answer with this error."""

    def __init__(
        self,
        code: str,
        message: str,
        status: int = 400,
        fields: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.fields: Fields = {name: list(messages) for name, messages in (fields or {}).items()}


class ApiConflict(ApiError):
    """Someone else changed the object first (or it is in a state that forbids the change)."""

    def __init__(
        self, message: str = "", fields: Mapping[str, Iterable[str]] | None = None
    ) -> None:
        super().__init__(CONFLICT, message or _("数据已被他人修改，请刷新后重试"), 409, fields)


def error_response(
    code: str, message: str, status: int, fields: Fields | None = None
) -> JsonResponse:
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    if status == 401:
        response["WWW-Authenticate"] = (
            'Bearer realm="minsheng"'  # RFC 7235: say how to authenticate
        )
    return response


def not_found_response() -> JsonResponse:
    return error_response(NOT_FOUND, _("找不到该资源"), 404)


def method_not_allowed_response(allowed: Iterable[str]) -> JsonResponse:
    allowed = sorted(allowed)
    response = error_response(
        METHOD_NOT_ALLOWED,
        _("不支持该请求方法，可用：%(methods)s") % {"methods": ", ".join(allowed)},
        405,
    )
    response["Allow"] = ", ".join(allowed)
    return response


# Messages for pydantic's error types, in the user's language; anything not listed keeps
# pydantic's own (English) text rather than a vague translation.
def _pydantic_message(error: Mapping[str, Any]) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    simple = {
        "missing": _("此项为必填项"),
        "int_parsing": _("请输入整数"),
        "int_type": _("请输入整数"),
        "int_from_float": _("请输入整数"),
        "float_parsing": _("请输入数字"),
        "float_type": _("请输入数字"),
        "bool_parsing": _("请输入 true 或 false"),
        "bool_type": _("请输入 true 或 false"),
        "string_type": _("请输入文本"),
        "string_pattern_mismatch": _("格式不正确"),
        "date_parsing": _("日期格式不正确，应为 YYYY-MM-DD"),
        "date_from_datetime_parsing": _("日期格式不正确，应为 YYYY-MM-DD"),
        "datetime_parsing": _("时间格式不正确，应为 ISO 8601"),
        "datetime_from_date_parsing": _("时间格式不正确，应为 ISO 8601"),
        "model_type": _("格式不正确，应为 JSON 对象"),
        "model_attributes_type": _("格式不正确，应为 JSON 对象"),
        "dict_type": _("格式不正确，应为 JSON 对象"),
        "list_type": _("格式不正确，应为列表"),
        "extra_forbidden": _("不允许此字段"),
        "json_invalid": _("JSON 格式不正确"),
    }
    if kind in simple:
        return simple[kind]
    bounded = {
        "string_too_long": (_("最多 %(n)s 个字符"), "max_length"),
        "string_too_short": (_("至少 %(n)s 个字符"), "min_length"),
        "greater_than_equal": (_("不能小于 %(n)s"), "ge"),
        "greater_than": (_("必须大于 %(n)s"), "gt"),
        "less_than_equal": (_("不能大于 %(n)s"), "le"),
        "less_than": (_("必须小于 %(n)s"), "lt"),
        "too_long": (_("最多 %(n)s 项"), "max_length"),
        "too_short": (_("至少 %(n)s 项"), "min_length"),
        "enum": (_("可选值：%(n)s"), "expected"),
        "literal_error": (_("可选值：%(n)s"), "expected"),
    }
    if kind in bounded and bounded[kind][1] in ctx:
        template, key = bounded[kind]
        # pydantic lists choices as "'a', 'b' or 'c'"; drop its English "or".
        return template % {"n": str(ctx[key]).replace(" or ", ", ")}
    if kind in {"value_error", "assertion_error"} and "error" in ctx:
        # A validator's own message (already written for people).
        return str(ctx["error"])
    return str(error.get("msg", _("格式不正确")))


_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}


def _field_name(loc: Iterable[Any]) -> str:
    parts = [str(part) for part in loc]
    return ".".join(parts) or NON_FIELD


def fields_from_pydantic(errors: Iterable[Mapping[str, Any]]) -> Fields:
    """``[{"loc": ("body", "mobile"), ...}]`` → ``{"mobile": ["..."]}``; the location
    (body, query, path) is dropped: a field's name is unique within one operation."""
    fields: Fields = {}
    for error in errors:
        loc = tuple(error.get("loc", ()))
        name = _field_name(loc[1:] if loc and loc[0] in _SOURCES else loc)
        fields.setdefault(name, []).append(_pydantic_message(error))
    return fields


def fields_from_django(exc: DjangoValidationError) -> Fields:
    if hasattr(exc, "error_dict"):
        return {name: [str(m) for m in messages] for name, messages in exc.message_dict.items()}
    return {NON_FIELD: [str(m) for m in exc.messages]}


_HTTP_CODES = {
    400: BAD_REQUEST,
    401: UNAUTHENTICATED,
    403: FORBIDDEN,
    404: NOT_FOUND,
    405: METHOD_NOT_ALLOWED,
    409: CONFLICT,
    413: TOO_LARGE,
    422: INVALID,
    429: RATE_LIMITED,
}


def _http_error(exc: HttpError) -> tuple[str, str]:
    """ninja's own HttpErrors carry English text; say it in the user's language."""
    messages = {
        400: _("请求格式不正确（请求体须为有效的 JSON）"),
        401: _("请先登录或提供有效的访问令牌"),
        403: _("没有权限执行此操作"),
        404: _("找不到该资源"),
        429: _("请求过于频繁，请稍后再试"),
    }
    code = _HTTP_CODES.get(exc.status_code, SERVER_ERROR if exc.status_code >= 500 else BAD_REQUEST)
    return code, messages.get(exc.status_code, str(exc))


def handle(request: HttpRequest, exc: Exception) -> HttpResponse:
    """Turn any exception raised under an endpoint into the error shape."""
    if isinstance(exc, ApiError):
        return error_response(exc.code, exc.message, exc.status, exc.fields)
    if isinstance(exc, NinjaValidationError):
        return error_response(
            INVALID, _("提交的数据有误，请按提示修改"), 422, fields_from_pydantic(exc.errors)
        )
    if isinstance(exc, DjangoValidationError):
        return error_response(
            INVALID, _("提交的数据有误，请按提示修改"), 422, fields_from_django(exc)
        )
    if isinstance(exc, Http404 | ObjectDoesNotExist):
        # An action's ``Model.objects.get`` missing (or scoped away) is a 404, not a bug.
        return not_found_response()
    if isinstance(exc, PermissionDenied):
        return error_response(FORBIDDEN, _("没有权限执行此操作"), 403)
    if isinstance(exc, Throttled):
        # ninja adds the Retry-After header itself.
        return error_response(RATE_LIMITED, _("请求过于频繁，请稍后再试"), 429)
    if isinstance(exc, AuthenticationError):
        return error_response(UNAUTHENTICATED, _("请先登录或提供有效的访问令牌"), 401)
    if isinstance(exc, HttpError):
        code, message = _http_error(exc)
        return error_response(code, message, exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        return error_response(TOO_LARGE, _("请求内容过大"), 413)
    if isinstance(exc, SuspiciousOperation):
        return error_response(BAD_REQUEST, _("请求格式不正确"), 400)
    logger.exception("API request failed", exc_info=exc)
    return error_response(SERVER_ERROR, _("服务器内部错误，请稍后再试"), 500)


def install(api: NinjaAPI) -> None:
    """Replace ninja's default handlers (``{"detail": ...}``) by ``handle`` for everything."""
    for exc_class in (Exception, Http404, HttpError, NinjaValidationError):
        # ninja's annotation also allows exception classes, which it never passes.
        api.add_exception_handler(exc_class, handle)  # type: ignore[arg-type]
