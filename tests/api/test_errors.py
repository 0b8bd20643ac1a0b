from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client, RequestFactory

from minsheng.api import errors
from minsheng.core.models import Role
from tests.api.utils import error_of
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispatcher_client(client):
    client.force_login(UserFactory(role=Role.DISPATCHER))
    return client


@pytest.mark.parametrize(
    "path", ["/api/v1/nope", "/api/v1/staff/1/nope/", "/api/v1/", "/api/v1/me/extra"]
)
def test_unknown_urls_are_json_404(dispatcher_client, path):
    response = dispatcher_client.get(path)

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_unknown_url_is_json_404_for_unsafe_methods_too():
    response = Client(enforce_csrf_checks=True).post("/api/v1/nope", {"a": 1})

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_wrong_method_is_json_405_with_allow(dispatcher_client):
    response = dispatcher_client.delete("/api/v1/me")

    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"
    assert response["Allow"] == "GET"


def test_forbidden_is_json_403(client):
    client.force_login(UserFactory(role=Role.HANDLER))

    response = client.get("/api/v1/staff")

    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"


def test_invalid_query_is_422_with_chinese_field_messages(dispatcher_client):
    response = dispatcher_client.get(
        "/api/v1/divisions", {"page": 0, "page_size": 1000, "level": "planet", "parent": "x"}
    )

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid"
    assert error["fields"] == {
        "page": ["不能小于 1"],
        "page_size": ["不能大于 100"],
        "level": ["可选值：'county', 'town', 'village'"],
        "parent": ["请输入整数"],
    }


def test_unparseable_body_is_400(client):
    head = UserFactory(role=Role.DEPT_HEAD)
    client.force_login(head)

    response = client.patch(
        f"/api/v1/staff/{head.pk}", "{not json", content_type="application/json"
    )

    assert response.status_code == 400
    assert error_of(response)["code"] == "bad_request"


def test_conflict_has_the_error_shape():
    request = RequestFactory().patch("/api/v1/anything")

    response = errors.handle(request, errors.ApiConflict())

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "conflict"
    assert error["message"] == "数据已被他人修改，请刷新后重试"


def test_api_error_carries_fields():
    response = errors.handle(
        RequestFactory().get("/"), errors.ApiError("invalid", "有误", 422, {"name": ("太长",)})
    )

    assert response.status_code == 422
    assert error_of(response)["fields"] == {"name": ["太长"]}


def test_unexpected_exception_is_json_500_without_traceback(dispatcher_client, monkeypatch):
    def broken() -> dict:
        raise RuntimeError("secret internals")

    monkeypatch.setattr("minsheng.api.core.policy.actions", broken)

    response = dispatcher_client.get("/api/v1/me")

    assert response.status_code == 500
    assert error_of(response)["code"] == "server_error"
    assert b"secret internals" not in response.content
    assert b"Traceback" not in response.content


def test_token_clients_are_rate_limited_per_token(client, bearer, settings):
    settings.API_RATE_LIMIT = "2/min"
    user = UserFactory(role=Role.DISPATCHER)
    first, second = bearer(user), bearer(user, "另一个系统")
    start = dt.datetime(2026, 3, 2, 9, 0, 10, tzinfo=dt.UTC)

    with time_machine.travel(start, tick=False):
        assert [client.get("/api/v1/me", headers=first).status_code for _ in range(2)] == [200, 200]
        limited = client.get("/api/v1/me", headers=first)
        other = client.get("/api/v1/me", headers=second)

    assert limited.status_code == 429
    assert error_of(limited)["code"] == "rate_limited"
    assert limited["Retry-After"] == "50"
    assert other.status_code == 200
    with time_machine.travel(start + dt.timedelta(minutes=1), tick=False):
        assert client.get("/api/v1/me", headers=first).status_code == 200


def test_session_calls_are_not_rate_limited(client, settings):
    settings.API_RATE_LIMIT = "1/min"
    client.force_login(UserFactory())

    assert [client.get("/api/v1/me").status_code for _ in range(3)] == [200, 200, 200]


def test_unknown_api_version_is_json_404(client):
    response = client.get("/api/v2/me")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
