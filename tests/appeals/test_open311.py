"""Open311 GeoReport v2 at /open311/v2/, checked against JSON Schemas written from the spec
(tests/appeals/open311_schemas/) and for the spec's XML element names."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import time_machine
from jsonschema import Draft202012Validator

from minsheng.appeals import actions, open311
from minsheng.appeals.models import Appeal, AppealType, Category, Channel, RoutingRule
from minsheng.appeals.states import State
from minsheng.core import tokens
from minsheng.core.models import Division, OutboxMessage, Role
from tests.factories import DepartmentFactory, DivisionFactory, UserFactory

pytestmark = pytest.mark.django_db

SCHEMAS = Path(__file__).parent / "open311_schemas"
BASE = "/open311/v2"
NOW = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)  # Monday 10:00 in Shanghai


def schema(name: str) -> Draft202012Validator:
    document = json.loads((SCHEMAS / f"{name}.json").read_text())
    Draft202012Validator.check_schema(document)
    return Draft202012Validator(document)


def valid(response, name: str, status: int = 200):
    assert response.status_code == status, response.content.decode()
    assert response["Content-Type"] == "application/json; charset=utf-8"
    data = json.loads(response.content)
    schema(name).validate(data)
    return data


def xml_root(response, root: str) -> ET.Element:
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    element = ET.fromstring(response.content)  # noqa: S314 (the server's own answer)
    assert element.tag == root
    return element


@pytest.fixture
def county(db):
    root = DivisionFactory(code="330100", level=Division.Level.COUNTY, name="示范县")
    town = DivisionFactory(code="330101", parent=root, name="城关镇")
    village = DivisionFactory(
        code="330102", parent=town, level=Division.Level.VILLAGE, name="东门村"
    )
    department = DepartmentFactory(name="住建局")
    city = Category.objects.create(code="city", name="市政设施", sort_order=1)
    lamp = Category.objects.create(code="lamp", name="路灯", parent=city, sort_order=1)
    Category.objects.create(code="lamp-pole", name="灯杆倒伏", parent=lamp)
    Category.objects.create(code="lamp-old", name="旧分类", parent=lamp, active=False)
    RoutingRule.objects.create(category=lamp, department=department)
    road = Category.objects.create(code="road", name="道路破损", sort_order=2)
    RoutingRule.objects.create(category=road, department=department, note="道路坑洼、井盖缺失")
    retired = Category.objects.create(code="retired", name="停用分类", active=False)
    RoutingRule.objects.create(category=retired, department=department)
    dispatcher = UserFactory(role=Role.DISPATCHER)
    _token, key = tokens.create_token(dispatcher, "随手拍")
    return {
        "town": town,
        "village": village,
        "department": department,
        "lamp": lamp,
        "road": road,
        "dispatcher": dispatcher,
        "key": key,
    }


def request_data(county, **overrides):
    data = {
        "api_key": county["key"],
        "service_code": "lamp",
        "description": "东门村村口的路灯坏了一个多月，晚上出行不便。",
        "lat": "30.123456789",
        "long": "120.987654321",
        "address_string": "东门村3组12号",
        "address_id": "330102",
        "email": "zhang@example.com",
        "first_name": "三丰",
        "last_name": "张",
        "phone": "+86 138-1234-5678",
        "media_url": "https://img.example.com/lamp.jpg",
        "jurisdiction_id": "example.gov.cn",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def appeal(county, **overrides) -> Appeal:
    data = {
        "title": "路灯不亮",
        "body": "东门村村口的路灯坏了，我叫张三丰。",
        "category_id": county["lamp"].pk,
        "division_id": county["village"].pk,
        "address": "东门村3组12号",
        "citizen_name": "张三丰",
        "citizen_mobile": "13812345678",
    }
    data.update(overrides)
    return actions.submit(actions.AppealInput(**data)).appeal


# ---------------------------------------------------------------- discovery and services


def test_discovery(client, settings):
    settings.SITE_URL = "https://12345.example.gov.cn"

    data = valid(client.get(f"{BASE}/discovery.json"), "discovery")

    (endpoint,) = data["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "https://12345.example.gov.cn/open311/v2"
    assert endpoint["type"] == "test"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    root = xml_root(client.get(f"{BASE}/discovery.xml"), "discovery")
    formats = root.findall("./endpoints/endpoint/formats/format")
    assert [f.text for f in formats] == ["text/xml", "application/json"]
    assert root.findtext("key_service")


def test_services_are_the_routed_active_categories(client, county):
    data = valid(client.get(f"{BASE}/services.json"), "services")

    assert data == [
        {
            "service_code": "lamp",
            "service_name": "路灯",
            "description": "由住建局主办",
            "metadata": False,
            "type": "realtime",
            "keywords": "灯杆倒伏",
            "group": "市政设施",
        },
        {
            "service_code": "road",
            "service_name": "道路破损",
            "description": "道路坑洼、井盖缺失",
            "metadata": False,
            "type": "realtime",
            "keywords": "",
            "group": "",
        },
    ]
    root = xml_root(client.get(f"{BASE}/services.xml"), "services")
    services = root.findall("service")
    assert [s.findtext("service_code") for s in services] == ["lamp", "road"]
    assert services[0].findtext("metadata") == "false"
    assert services[0].findtext("group") == "市政设施"


def test_service_definition(client, county):
    data = valid(client.get(f"{BASE}/services/lamp.json"), "service_definition")
    unknown = client.get(f"{BASE}/services/city.json")  # a category, but not routed
    unknown_xml = client.get(f"{BASE}/services/nope.xml")

    assert data == {"service_code": "lamp", "attributes": []}
    root = xml_root(client.get(f"{BASE}/services/lamp.xml"), "service_definition")
    assert root.findtext("service_code") == "lamp"
    assert list(root.find("attributes")) == []
    assert valid(unknown, "errors", 404)[0]["code"] == 404
    errors = xml_root(unknown_xml, "errors")
    assert unknown_xml.status_code == 404
    assert errors.findtext("error/code") == "404"
    assert "nope" in errors.findtext("error/description")


# ---------------------------------------------------------------- POST requests


def test_post_creates_an_appeal(client, county):
    response = client.post(f"{BASE}/requests.json", request_data(county))

    (result,) = valid(response, "post_response", 201)
    created = Appeal.objects.get()
    assert result["service_request_id"] == created.number
    assert result["account_id"] is None
    assert created.number in result["service_notice"]
    assert "住建局" in result["service_notice"]
    assert created.channel == Channel.OPEN311
    assert created.category == county["lamp"]
    assert created.division == county["village"] and created.town == county["town"]
    assert created.citizen_mobile == "13812345678"
    assert created.citizen_name == "张三丰"
    assert created.anonymous is False
    assert created.entered_by == county["dispatcher"]
    assert created.title == "东门村村口的路灯坏了一个多月，晚上出行不便。"
    assert "https://img.example.com/lamp.jpg" in created.body
    # The position stays with the personal address, six decimals (about 10 cm) at most.
    assert created.address == "东门村3组12号 经纬度 30.123457,120.987654"
    assert OutboxMessage.objects.filter(channel="sms", recipient="13812345678").exists()


def test_post_answers_in_xml(client, county):
    response = client.post(f"{BASE}/requests.xml", request_data(county, phone=None))

    assert response.status_code == 201
    root = xml_root(response, "service_requests")
    number = root.findtext("request/service_request_id")
    assert number == Appeal.objects.get().number
    assert root.find("request/account_id").text is None
    assert Appeal.objects.get().anonymous is True


def test_long_descriptions_get_a_short_title(client, county):
    text = "这条路上的路灯已经坏了很久了，附近的居民晚上出门很不方便，希望尽快修理，谢谢！\n第二行"

    client.post(f"{BASE}/requests.json", request_data(county, description=text))

    title = Appeal.objects.get().title
    assert title == text[:30] + "…"


@pytest.mark.parametrize(
    ("overrides", "status"),
    [
        ({"api_key": None}, 403),
        ({"api_key": "x" * 40}, 403),
        ({"service_code": None}, 400),
        ({"description": " "}, 400),
        ({"service_code": "city"}, 404),
        ({"phone": "0571-8888888"}, 400),
        ({"lat": "north"}, 400),
        ({"lat": "95"}, 400),
        ({"address_id": "999999"}, 400),
        ({"address_id": "330100"}, 400),  # the county itself is not a place in it
        ({"media_url": "javascript:alert(1)"}, 400),
        ({"description": "太短", "media_url": None}, 400),
        ({"description": "长" * 4001}, 400),
    ],
)
def test_post_errors(client, county, overrides, status):
    response = client.post(f"{BASE}/requests.json", request_data(county, **overrides))

    errors = valid(response, "errors", status)
    assert all(error["code"] == status for error in errors)
    assert Appeal.objects.count() == 0


def test_post_reports_every_missing_parameter(client, county):
    data = {"api_key": county["key"]}

    errors = valid(client.post(f"{BASE}/requests.json", data), "errors", 400)

    assert len(errors) == 3
    assert any("service_code" in e["description"] for e in errors)
    assert any("address_string" in e["description"] for e in errors)


def test_action_validation_messages_name_the_open311_parameter(client, county):
    errors = valid(
        client.post(
            f"{BASE}/requests.json", request_data(county, description="太短", media_url=None)
        ),
        "errors",
        400,
    )

    assert errors[0]["description"].startswith("description: ")


def test_post_needs_a_key_that_may_take_in_appeals(client, county):
    _token, key = tokens.create_token(UserFactory(role=Role.LEADER), "大屏")

    response = client.post(f"{BASE}/requests.xml", request_data(county, api_key=key))

    assert response.status_code == 403
    assert xml_root(response, "errors").findtext("error/code") == "403"


def test_post_is_rate_limited_per_key(client, county, settings):
    settings.API_RATE_LIMIT = "2/min"
    start = dt.datetime(2026, 11, 23, 2, 0, 10, tzinfo=dt.UTC)

    with time_machine.travel(start, tick=False):
        codes = [
            client.post(f"{BASE}/requests.json", request_data(county)).status_code for _ in range(3)
        ]
        limited = client.post(f"{BASE}/requests.json", request_data(county))

    assert codes == [201, 201, 429]
    assert valid(limited, "errors", 429)[0]["code"] == 429
    assert limited["Retry-After"] == "50"
    assert Appeal.objects.count() == 2


def test_a_json_body_is_not_a_form(client, county):
    response = client.post(
        f"{BASE}/requests.json", request_data(county), content_type="application/json"
    )

    assert valid(response, "errors", 403)


# ---------------------------------------------------------------- GET requests


def test_requests_carry_no_personal_data(client, county):
    with time_machine.travel(NOW, tick=False):
        client.post(f"{BASE}/requests.json", request_data(county))
        response = client.get(f"{BASE}/requests.json")
    xml = client.get(f"{BASE}/requests.xml", {"start_date": "2026-11-01T00:00:00+08:00"})

    (item,) = valid(response, "requests")
    created = Appeal.objects.get()
    assert item == {
        "service_request_id": created.number,
        "status": "open",
        "status_notes": "已受理",
        "service_name": "路灯",
        "service_code": "lamp",
        "description": None,
        "agency_responsible": None,
        "service_notice": None,
        "requested_datetime": "2026-11-23T10:00:00+08:00",
        "updated_datetime": "2026-11-23T10:00:00+08:00",
        "expected_datetime": None,
        "address": "示范县城关镇",
        "address_id": "330101",
    }
    for text in (response.content.decode(), xml.content.decode()):
        for secret in ("13812345678", "1234", "张三丰", "东门村", "30.12", "120.98", "example"):
            assert secret not in text
    request = xml_root(xml, "service_requests").find("request")
    assert request.findtext("service_request_id") == created.number
    assert request.findtext("address") == "示范县城关镇"
    assert request.find("description").text is None


def closed(county, reply: str = "已更换灯具，路灯恢复照明。", **overrides) -> Appeal:
    """An appeal answered and closed after a satisfied callback."""
    created = appeal(county, **overrides)
    actions.dispatch(created.pk, department_id=county["department"].pk, by=county["dispatcher"])
    handler = UserFactory(role=Role.HANDLER, department=county["department"])
    actions.sign(created.pk, by=handler)
    actions.reply(created.pk, text=reply, by=handler)
    return actions.record_callback(
        created.pk, resolved=True, level="satisfied", by=county["dispatcher"]
    )


def test_text_is_shown_only_as_on_the_public_page(client, county):
    with time_machine.travel(NOW, tick=False):
        published = closed(
            county,
            body="东门村3组12号的路灯坏了，我叫张三丰，电话13812345678。",
            consent_publish=True,
        )
        unconsented = closed(county)
        answered = appeal(county, consent_publish=True)
        actions.dispatch(
            answered.pk, department_id=county["department"].pk, by=county["dispatcher"]
        )

        items = valid(client.get(f"{BASE}/requests.json"), "requests")

    by_id = {item["service_request_id"]: item for item in items}
    shown = by_id[published.number]
    # Scrubbed as on the public page: the address hidden, the name and number masked.
    assert shown["description"] == "***的路灯坏了，我叫张**，电话138****5678。"
    assert shown["status"] == "closed"
    assert shown["status_notes"] == "已更换灯具，路灯恢复照明。"
    assert shown["agency_responsible"] == "住建局"
    assert shown["updated_datetime"] == "2026-11-23T10:00:00+08:00"
    assert by_id[unconsented.number]["description"] is None
    assert by_id[unconsented.number]["status_notes"] == "已办结"
    not_closed = by_id[answered.number]
    assert not_closed["description"] is None
    assert not_closed["status"] == "open"
    assert not_closed["status_notes"] == "已派单"
    assert not_closed["expected_datetime"] is not None
    text = json.dumps(items, ensure_ascii=False)
    for secret in ("13812345678", "张三丰", "东门村", "3组12号"):
        assert secret not in text


def test_status_mapping():
    assert {s for s in State if s in open311.OPEN_STATES} == {
        State.RECEIVED,
        State.DISPATCHED,
        State.RETURNED,
        State.HANDLING,
        State.MERGED,
    }
    assert {State.REPLIED, State.CLOSED, State.REFUSED, State.PROMOTED} == open311.CLOSED_STATES


def test_refusal_notice_is_the_service_notice(client, county):
    refused = appeal(county)
    actions.refuse(refused.pk, rule_code="emergency-110", by=county["dispatcher"])

    (item,) = valid(client.get(f"{BASE}/requests/{refused.number}.json"), "requests")

    assert item["status"] == "closed"
    assert "110" in item["service_notice"]


def test_whistleblowing_reports_are_not_listed(client, county):
    report = appeal(county, appeal_type=AppealType.REPORT)
    appeal(county)

    items = valid(client.get(f"{BASE}/requests.json"), "requests")
    single = client.get(f"{BASE}/requests/{report.number}.json")

    assert report.number not in {item["service_request_id"] for item in items}
    assert len(items) == 1
    assert valid(single, "errors", 404)


def test_request_filters(client, county):
    with time_machine.travel(NOW - dt.timedelta(days=120), tick=False):
        ancient = appeal(county)
    with time_machine.travel(NOW - dt.timedelta(days=20), tick=False):
        older = appeal(county, category_id=county["road"].pk)
    with time_machine.travel(NOW, tick=False):
        newer = appeal(county)
        actions.refuse(newer.pk, rule_code="emergency-110", by=county["dispatcher"])

        def numbers(**query) -> list[str]:
            items = valid(client.get(f"{BASE}/requests.json", query), "requests")
            return [item["service_request_id"] for item in items]

        assert numbers() == [newer.number, older.number]
        assert numbers(service_code="road") == [older.number]
        assert numbers(service_code="road,lamp") == [newer.number, older.number]
        assert numbers(service_code="city") == [newer.number]  # the group's services too
        assert numbers(status="open") == [older.number]
        assert numbers(status="closed") == [newer.number]
        assert numbers(status="open,closed") == [newer.number, older.number]
        assert numbers(start_date="2026-11-20T00:00:00Z") == [newer.number]
        # One end alone: the 90 days before or after it.
        assert numbers(end_date="2026-11-20T00:00:00+08:00") == [older.number]
        assert numbers(start_date="2026-07-20T00:00:00+08:00") == [ancient.number]
        assert numbers(start_date="2026-07-01", end_date="2026-08-01") == [ancient.number]
        ids = f"{ancient.number},{newer.number},YT-00000000-000000"
        # service_request_id overrides every other argument, the date window included.
        assert numbers(service_request_id=ids, status="open") == [newer.number, ancient.number]


@pytest.mark.parametrize(
    "query",
    [
        {"start_date": "yesterday"},
        {"end_date": "2026-13-01T00:00:00Z"},
        {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
        {"start_date": "2026-06-01T00:00:00Z", "end_date": "2026-05-01T00:00:00Z"},
        {"status": "pending"},
    ],
)
def test_request_filter_errors(client, query):
    assert valid(client.get(f"{BASE}/requests.json", query), "errors", 400)


def test_at_most_the_limit_of_requests(client, county, monkeypatch):
    monkeypatch.setattr(open311, "MAX_REQUESTS", 2)
    for _ in range(3):
        appeal(county)

    assert len(valid(client.get(f"{BASE}/requests.json"), "requests")) == 2


def test_request_by_id(client, county):
    created = appeal(county)

    (item,) = valid(client.get(f"{BASE}/requests/{created.number}.json"), "requests")
    xml = client.get(f"{BASE}/requests/{created.number}.xml")
    missing = client.get(f"{BASE}/requests/YT-20000101-000001.json")

    assert item["service_request_id"] == created.number
    root = xml_root(xml, "service_requests")
    assert root.findtext("request/status") == "open"
    assert valid(missing, "errors", 404)[0]["code"] == 404


def test_xml_survives_characters_xml_cannot_carry(client, county):
    created = closed(county, body="路灯坏了\x07\x1b请修理", consent_publish=True)

    root = xml_root(client.get(f"{BASE}/requests/{created.number}.xml"), "service_requests")

    assert root.findtext("request/description") == "路灯坏了请修理"


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("post", "requests.json", {"description": "路灯坏了\x00请修理"}),
        ("get", "requests.json", {"service_request_id": "YT\x00"}),
        ("get", "requests.json", {"service_code": "lamp\x00"}),
        ("get", "requests/YT%00.json", {}),
        ("get", "services/lamp%00.json", {}),
    ],
)
def test_nul_characters_are_refused_not_a_500(client, county, method, path, data):
    if method == "post":
        data = request_data(county, **data)

    response = getattr(client, method)(f"{BASE}/{path}", data)

    assert valid(response, "errors", 400)


def test_unknown_resources_are_404_in_the_requested_format(client):
    as_json = client.get(f"{BASE}/nothing.json")
    as_xml = client.get(f"{BASE}/nothing/here.xml")
    bad_format = client.get(f"{BASE}/services.csv")
    posted = client.post(f"{BASE}/services/lamp/x.json", {"a": "1"})

    assert valid(as_json, "errors", 404)
    assert as_xml.status_code == 404
    assert xml_root(as_xml, "errors").findtext("error/code") == "404"
    assert valid(bad_format, "errors", 404)
    assert valid(posted, "errors", 404)


def test_a_body_too_large_is_a_400(client, county, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = client.post(f"{BASE}/requests.json", request_data(county, description="长" * 2000))

    assert valid(response, "errors", 400)


def test_wrong_method_is_405_with_allow(client, county):
    response = client.delete(f"{BASE}/services.json")
    put = client.put(f"{BASE}/requests.xml")

    assert valid(response, "errors", 405)
    assert response["Allow"] == "GET, HEAD"
    assert put.status_code == 405
    assert put["Allow"] == "GET, HEAD, POST"
    assert xml_root(put, "errors").findtext("error/code") == "405"


def test_an_unexpected_failure_is_a_500_in_the_format(client, county, monkeypatch):
    def broken() -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(open311, "services_queryset", broken)

    response = client.get(f"{BASE}/services.xml")

    assert response.status_code == 500
    assert xml_root(response, "errors").findtext("error/code") == "500"
    assert b"secret" not in response.content


def test_listing_does_not_query_per_request(client, county, django_assert_max_num_queries):
    for consent in (True, False, True, True):
        appeal(county, consent_publish=consent)

    with django_assert_max_num_queries(2):
        items = valid(client.get(f"{BASE}/requests.json"), "requests")

    assert len(items) == 4
