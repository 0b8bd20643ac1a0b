"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) mapped onto appeals, so that
existing Open311 clients can submit appeals and follow them.

- A *service* is an active category with a routing rule (派单目录); ``service_code`` is the
  category's code. Services have no extra attributes (``metadata`` false).
- A *service request* is an appeal; ``service_request_id`` is its tracking number. Requests
  are created synchronously (``type`` realtime): POST answers with the number at once.
- Reading is public, so it never shows personal data: no name, phone, free address or
  coordinates; the location stops at the town (``address`` is county + town, ``address_id``
  the town's division code). The citizen's text and the reply appear only for appeals the
  public page shows (closed, with the citizen's consent), scrubbed the same way. Whistle-
  blowing reports (举报) are not listed at all.
- Writing needs an ``api_key``: an API token (``minsheng token create``) whose user may take
  in appeals. POSTs are rate-limited per key together with that token's REST API calls.

Formats follow the resource's extension (``.json`` or ``.xml``), errors included; errors are
``[{"code": 400, "description": "..."}]`` (``<errors><error>…``) with HTTP 400 for bad or
missing parameters, 403 for a missing or invalid key, 404 for unknown resources.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.core.validators import URLValidator
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from minsheng.api.auth import TokenRateThrottle
from minsheng.appeals import actions
from minsheng.appeals.errors import AppealError
from minsheng.appeals.models import (
    Appeal,
    AppealType,
    Category,
    Channel,
    Urgency,
)
from minsheng.appeals.states import State
from minsheng.appeals.views.public import PublicAppeal
from minsheng.core import policy, tokens
from minsheng.core.masking import mask_address
from minsheng.core.models import ApiToken, Division

logger = logging.getLogger(__name__)

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this endpoint's definition last changed (the discovery document's changeset).
CHANGESET = "2026-11-23T00:00:00+08:00"
FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
MAX_REQUESTS = 1000
DEFAULT_SPAN = dt.timedelta(days=90)
MAX_DESCRIPTION = 4000
TITLE_LENGTH = 30

# Open311's two statuses. A replied appeal is answered (closed) until a re-handling reopens
# it; a merged one is open while its master is handled; promoted and refused ones are
# finished as appeals (a promoted one goes on as a practical project).
OPEN_STATES = frozenset(
    {State.RECEIVED, State.DISPATCHED, State.RETURNED, State.HANDLING, State.MERGED}
)
CLOSED_STATES = frozenset(State) - OPEN_STATES

# XML element names of list items, after the Spark convention the spec's JSON follows.
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}
# Characters XML 1.0 cannot carry at all (a citizen's text may contain them).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class Open311Error(Exception):
    """Answer with the spec's error list and this HTTP status."""

    def __init__(self, status: int, *descriptions: str) -> None:
        super().__init__(descriptions[0] if descriptions else "")
        self.status = status
        self.descriptions = descriptions


# ---------------------------------------------------------------- rendering


def _xml_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _XML_INVALID.sub("", str(value))


def _xml_element(tag: str, value: Any) -> ET.Element:
    element = ET.Element(tag)
    if isinstance(value, Mapping):
        for key, child in value.items():
            element.append(_xml_element(key, child))
    elif isinstance(value, list):
        for item in value:
            element.append(_xml_element(ITEM_TAGS[tag], item))
    else:
        element.text = _xml_text(value)
    return element


def render(data: Any, fmt: str, root: str, status: int = 200) -> HttpResponse:
    """JSON as is; XML with ``root`` as the document element (lists become its items)."""
    if fmt == "xml":
        body = ET.tostring(_xml_element(root, data), encoding="unicode")
        content = '<?xml version="1.0" encoding="UTF-8"?>\n' + body
    else:
        content = json.dumps(data, ensure_ascii=False)
    return HttpResponse(content.encode(), content_type=FORMATS[fmt], status=status)


def error_response(fmt: str, status: int, descriptions: Iterable[str]) -> HttpResponse:
    errors = [{"code": status, "description": text} for text in descriptions]
    return render(errors, fmt, "errors", status)


View = Callable[..., HttpResponse]


def _refuse_nul(request: HttpRequest, path_values: Mapping[str, Any]) -> None:
    """No text may carry a NUL character: PostgreSQL cannot store or even compare one."""
    values = [*request.GET.values(), *request.POST.values(), *map(str, path_values.values())]
    if any("\x00" in value for value in values):
        raise Open311Error(400, _("参数不能包含空字符（NUL）"))


def endpoint(*methods: str) -> Callable[[View], View]:
    """Allow ``methods`` (HEAD with GET), answer errors in the requested format, and never
    let an exception through as an HTML page."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, fmt: str = "json", **kwargs: Any) -> Any:
            allowed = set(methods) | ({"HEAD"} if "GET" in methods else set())
            if request.method not in allowed:
                response = error_response(
                    fmt,
                    405,
                    [_("不支持该请求方法，可用：%(m)s") % {"m": ", ".join(sorted(allowed))}],
                )
                response["Allow"] = ", ".join(sorted(allowed))
                return response
            try:
                _refuse_nul(request, kwargs)
                return view(request, *args, fmt=fmt, **kwargs)
            except Open311Error as exc:
                response = error_response(fmt, exc.status, exc.descriptions)
                if exc.status == 429:
                    response["Retry-After"] = str(math.ceil(TokenRateThrottle().wait()))
                return response
            except (SuspiciousOperation, MultiPartParserError):
                # A body too large or not parseable as a form: the client's fault.
                return error_response(fmt, 400, [_("请求内容过大或格式不正确")])
            except Exception:
                # A bug, not the client's fault: logged, and still answered in the format
                # the client reads rather than as the site's HTML page.
                logger.exception("Open311 request failed")
                return error_response(fmt, 500, [_("服务器内部错误，请稍后再试")])

        # Other systems post without the site's cookies; the api_key authenticates them.
        return csrf_exempt(wrapped)

    return decorate


def _w3c(moment: dt.datetime | None) -> str | None:
    """``2026-11-22T09:30:00+08:00``: the W3C profile of ISO 8601 the spec asks for."""
    if moment is None:
        return None
    return timezone.localtime(moment).replace(microsecond=0).isoformat()


# ---------------------------------------------------------------- discovery and services


@endpoint("GET")
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    # The configured address, not the Host header: discovery promises a URL that stays.
    url = settings.SITE_URL + reverse("open311:discovery", kwargs={"fmt": fmt})
    data = {
        "changeset": CHANGESET,
        "contact": _("请联系县12345热线（政务服务便民热线）管理员"),
        "key_service": _("api_key 由系统管理员用 minsheng token create 创建，请向县12345热线申请"),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": url.rsplit("/", 1)[0],
                "changeset": CHANGESET,
                "type": "production" if settings.PRODUCTION else "test",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return render(data, fmt, "discovery")


def services_queryset() -> QuerySet[Category]:
    return (
        Category.objects.filter(active=True, routing__isnull=False)
        .select_related("parent", "routing__department")
        .prefetch_related(
            Prefetch(
                "children",
                queryset=Category.objects.filter(active=True),
                to_attr="active_children",
            )
        )
        .order_by("sort_order", "code")
    )


def _service(category: Category) -> dict[str, Any]:
    rule = category.routing
    children = getattr(category, "active_children", [])
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": rule.note or _("由%(dept)s主办") % {"dept": rule.department.name},
        "metadata": False,
        "type": "realtime",
        "keywords": ", ".join(child.name for child in children),
        "group": category.parent.name if category.parent is not None else "",
    }


def _find_service(code: str) -> Category | None:
    return services_queryset().filter(code=code).first()


@endpoint("GET")
def services(request: HttpRequest, fmt: str) -> HttpResponse:
    return render([_service(c) for c in services_queryset()], fmt, "services")


@endpoint("GET")
def service_definition(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    if _find_service(code) is None:
        raise Open311Error(404, _("service_code %(code)s 不存在") % {"code": code})
    # No service asks for extra attributes: the definition exists but lists none.
    return render({"service_code": code, "attributes": []}, fmt, "service_definition")


# ---------------------------------------------------------------- reading requests


def _public_appeals() -> QuerySet[Appeal]:
    return Appeal.objects.exclude(appeal_type=AppealType.REPORT).select_related(
        "category", "lead_department", "town__parent", "division"
    )


def _is_published(appeal: Appeal) -> bool:
    """The public page's rule (``views.public.published``): closed, answered, and the
    citizen agreed to publication. Only then is any free text shown."""
    return appeal.state == State.CLOSED and appeal.consent_publish and bool(appeal.reply)


def service_request(appeal: Appeal) -> dict[str, Any]:
    """One appeal as an Open311 request, without any personal data."""
    status = "open" if appeal.state in OPEN_STATES else "closed"
    description, notes = None, str(State(appeal.state).label)
    if _is_published(appeal):
        # Scrubbed exactly as on the public page: numbers masked, name and address hidden.
        shown = PublicAppeal.of(appeal)
        description, notes = shown.body, shown.reply
    updated = appeal.updated_at
    if status == "closed":
        updated = appeal.closed_at or appeal.replied_at or appeal.updated_at
    category = appeal.category
    town = appeal.town
    return {
        "service_request_id": appeal.number,
        "status": status,
        "status_notes": notes,
        "service_name": category.name if category is not None else None,
        "service_code": category.code if category is not None else None,
        "description": description,
        "agency_responsible": appeal.lead_department.name if appeal.lead_department else None,
        # What the county told the citizen (refusals, referrals): the county's words.
        "service_notice": appeal.outcome_message or None,
        "requested_datetime": _w3c(appeal.received_at),
        "updated_datetime": _w3c(updated),
        "expected_datetime": _w3c(appeal.due_at),
        "address": mask_address(town) or None,
        "address_id": town.code if town is not None else None,
    }


def _csv(request: HttpRequest, name: str) -> list[str]:
    raw = request.GET.get(name, "")
    return [part.strip() for part in raw.split(",") if part.strip()]


def _parse_moment(name: str, value: str) -> dt.datetime:
    try:
        # Well-formed but impossible values (month 13) raise rather than return None.
        moment = parse_datetime(value)
        if moment is None:
            day = parse_date(value)
            if day is not None:
                moment = dt.datetime.combine(day, dt.time.min)
    except ValueError:
        moment = None
    if moment is None:
        raise Open311Error(
            400,
            _("%(name)s 格式不正确，应为 W3C 时间，如 2026-01-01T00:00:00+08:00") % {"name": name},
        )
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _window(request: HttpRequest) -> tuple[dt.datetime, dt.datetime]:
    """The requested_datetime range: at most 90 days, the last 90 by default."""
    raw_start, raw_end = request.GET.get("start_date", ""), request.GET.get("end_date", "")
    start = _parse_moment("start_date", raw_start) if raw_start else None
    end = _parse_moment("end_date", raw_end) if raw_end else None
    if start is None and end is None:
        end = timezone.now()
    if start is None:
        assert end is not None
        start = end - DEFAULT_SPAN
    if end is None:
        end = start + DEFAULT_SPAN
    if end < start:
        raise Open311Error(400, _("end_date 不能早于 start_date"))
    if end - start > DEFAULT_SPAN:
        raise Open311Error(400, _("start_date 到 end_date 不能超过90天"))
    return start, end


@endpoint("GET", "POST")
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return create_request(request, fmt)
    queryset = _public_appeals()
    ids = _csv(request, "service_request_id")
    if ids:
        # The ids override every other argument (the spec's words).
        if len(ids) > MAX_REQUESTS:
            raise Open311Error(400, _("service_request_id 最多 %(n)s 个") % {"n": MAX_REQUESTS})
        queryset = queryset.filter(number__in=ids)
    else:
        start, end = _window(request)
        queryset = queryset.filter(received_at__gte=start, received_at__lte=end)
        codes = _csv(request, "service_code")
        if codes:
            queryset = queryset.filter(
                Q(category__code__in=codes) | Q(category__parent__code__in=codes)
            )
        statuses = set(_csv(request, "status"))
        if statuses - {"open", "closed"}:
            raise Open311Error(400, _("status 只能是 open 或 closed"))
        if statuses == {"open"}:
            queryset = queryset.filter(state__in=OPEN_STATES)
        elif statuses == {"closed"}:
            queryset = queryset.filter(state__in=CLOSED_STATES)
    appeals = queryset.order_by("-received_at", "-pk")[:MAX_REQUESTS]
    return render([service_request(a) for a in appeals], fmt, "service_requests")


@endpoint("GET")
def request_detail(request: HttpRequest, number: str, fmt: str) -> HttpResponse:
    appeal = _public_appeals().filter(number=number).first()
    if appeal is None:
        raise Open311Error(404, _("service_request_id %(id)s 不存在") % {"id": number})
    return render([service_request(appeal)], fmt, "service_requests")


# ---------------------------------------------------------------- creating requests

# Where the actions' field names come from in an Open311 request.
PARAMETERS = {
    "title": "description",
    "body": "description",
    "citizen_mobile": "phone",
    "citizen_name": "last_name",
    "category": "service_code",
    "division": "address_id",
    "address": "address_string",
}


def _mobile(phone: str) -> str:
    """A Chinese mobile number from what a client may send: spaces, dashes, +86 or 0086."""
    digits = re.sub(r"[\s\-()]", "", phone)
    digits = re.sub(r"^(\+86|0086|86)(?=1\d{10}$)", "", digits)
    if not re.fullmatch(r"1[3-9]\d{9}", digits):
        raise Open311Error(400, _("phone 须为11位手机号码"))
    return digits


def _coordinates(latitude: str, longitude: str) -> str:
    try:
        lat, lon = float(latitude), float(longitude)
    except ValueError:
        raise Open311Error(400, _("lat 和 long 须为数字（WGS84）")) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise Open311Error(400, _("lat 和 long 超出范围"))
    return f"{lat:.6f},{lon:.6f}"


def _authenticate(request: HttpRequest) -> ApiToken:
    key = (request.POST.get("api_key") or request.GET.get("api_key") or "").strip()
    if not key:
        raise Open311Error(403, _("缺少 api_key"))
    api_token = tokens.authenticate(key)
    if api_token is None:
        raise Open311Error(403, _("api_key 无效、已吊销或其用户已停用"))
    # Counted with the token's REST API calls: one key, one budget.
    request.api_token = api_token  # type: ignore[attr-defined]
    if not TokenRateThrottle().allow_request(request):
        raise Open311Error(429, _("请求过于频繁，请稍后再试"))
    if not policy.can(api_token.user, "appeal.intake"):
        raise Open311Error(403, _("该 api_key 无权提交诉求"))
    return api_token


def create_request(request: HttpRequest, fmt: str) -> HttpResponse:
    api_token = _authenticate(request)
    data = request.POST
    value = {name: data.get(name, "").strip() for name in data}
    missing = [name for name in ("service_code", "description") if not value.get(name)]
    latitude, longitude = value.get("lat", ""), value.get("long", "")
    has_point = bool(latitude and longitude)
    if not (has_point or value.get("address_string") or value.get("address_id")):
        missing.append("lat/long, address_string or address_id")
    if missing:
        raise Open311Error(400, *(_("缺少参数 %(name)s") % {"name": name} for name in missing))
    description = data.get("description", "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise Open311Error(400, _("description 最多 %(n)s 个字符") % {"n": MAX_DESCRIPTION})
    category = _find_service(value["service_code"])
    if category is None:
        raise Open311Error(404, _("service_code %(code)s 不存在") % {"code": value["service_code"]})
    division_id = None
    if value.get("address_id"):
        division = (
            Division.objects.filter(code=value["address_id"], active=True)
            .exclude(level=Division.Level.COUNTY)
            .first()
        )
        if division is None:
            raise Open311Error(400, _("address_id 应为本县乡镇或村/社区的区划代码"))
        division_id = division.pk
    media_url = value.get("media_url", "")
    if media_url:
        try:
            URLValidator(schemes=["http", "https"])(media_url)
        except ValidationError:
            raise Open311Error(400, _("media_url 不是有效的网址")) from None
    phone = _mobile(value["phone"]) if value.get("phone") else ""
    # The free address stays with the appeal's personal data; coordinates join it there
    # (appeals keep no separate position, and none is ever published).
    place = value.get("address_string", "")
    if has_point:
        place = f"{place} {_('经纬度')} {_coordinates(latitude, longitude)}".strip()
    first_line = description.splitlines()[0].strip()
    title = first_line[:TITLE_LENGTH] + ("…" if len(first_line) > TITLE_LENGTH else "")
    body = description + (f"\n\n{_('图片/附件链接')}：{media_url}" if media_url else "")
    appeal_input = actions.AppealInput(
        title=title,
        body=body,
        appeal_type=AppealType.HELP,
        urgency=Urgency.NORMAL,
        category_id=category.pk,
        division_id=division_id,
        address=place[:200],
        anonymous=not phone,
        citizen_name=(value.get("last_name", "") + value.get("first_name", ""))[:32],
        citizen_mobile=phone,
        channel=Channel.OPEN311,
    )
    try:
        submitted = actions.submit(appeal_input, by=api_token.user)
    except AppealError as exc:
        problems = [
            f"{PARAMETERS.get(name, name)}: {message}"
            for name, messages in exc.fields.items()
            for message in messages
        ]
        raise Open311Error(400, *(problems or [exc.message])) from None
    appeal = submitted.appeal
    days = actions.time_limit(appeal.appeal_type, appeal.urgency)
    notice = _(
        "诉求已受理，编号%(number)s，查询码%(code)s（请转告群众妥善保存）。"
        "将派至%(dept)s办理，一般在%(days)s个工作日内答复。"
    ) % {
        "number": appeal.number,
        "code": submitted.query_code,
        "dept": category.routing.department.name,
        "days": days,
    }
    result = [{"service_request_id": appeal.number, "service_notice": notice, "account_id": None}]
    return render(result, fmt, "service_requests", status=201)


@csrf_exempt
def not_found(request: HttpRequest, rest: str) -> HttpResponse:
    fmt = "xml" if rest.endswith(".xml") else "json"
    return error_response(fmt, 404, [_("找不到该资源")])
