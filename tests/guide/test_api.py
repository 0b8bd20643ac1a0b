from __future__ import annotations

import json

import pytest

from minsheng.guide.models import QuestionLog

pytestmark = pytest.mark.django_db
URL = "/api/v1/guide/ask"


def post(client, body: object):
    return client.post(URL, json.dumps(body), content_type="application/json")


def test_ask_without_token(client, imported) -> None:
    response = post(client, {"question": "身份證丟了怎麼補辦"})
    assert response.status_code == 200
    data = response.json()
    assert data["kind"] == "match"
    assert data["results"][0]["code"] == "M042"
    assert data["results"][0]["window"] == "C厅3号窗口"
    assert data["results"][0]["matches"]
    assert data["log_id"] == QuestionLog.objects.get().pk
    assert QuestionLog.objects.get().channel == "api"


def test_clarify(client, imported) -> None:
    data = post(client, {"question": "公积金提取"}).json()
    assert data["kind"] == "clarify"
    assert set(data["clarify"]) <= {"M012", "M013", "M014", "M015"} and len(data["clarify"]) >= 2
    assert "哪一项" in data["clarify_question"]


def test_no_match(client, imported) -> None:
    data = post(client, {"question": "今天天气怎么样"}).json()
    assert data["kind"] == "none" and "没有找到" in data["message"]


def test_invalid_input(client, imported) -> None:
    response = post(client, {"question": ""})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid"
    assert post(client, {}).status_code == 422


def test_rate_limited(client, imported, settings) -> None:
    settings.GUIDE_RATE_LIMIT = 1
    assert post(client, {"question": "结婚登记"}).status_code == 200
    response = post(client, {"question": "结婚登记"})
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert "Retry-After" in response
