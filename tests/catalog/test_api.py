from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_list_is_public_and_filtered(client, matter) -> None:
    response = client.get("/api/v1/catalog/matters")
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 1
    item = data["results"][0]
    assert item["code"] == "GJJ003" and item["matter_type_label"] == "行政给付"
    assert item["windows"] == [
        {"hall": "一号厅", "number": "04", "name": "公积金提取窗口", "label": "一号厅04号窗口"}
    ]
    assert client.get("/api/v1/catalog/matters", {"q": "首付"}).json()["count"] == 1
    assert client.get("/api/v1/catalog/matters", {"q": "结婚"}).json()["count"] == 0
    assert client.get("/api/v1/catalog/matters", {"type": "licensing"}).json()["count"] == 0
    assert (
        client.get("/api/v1/catalog/matters", {"department": "县公积金中心"}).json()["count"] == 1
    )
    assert client.get("/api/v1/catalog/matters", {"high_frequency": "true"}).json()["count"] == 1


def test_bad_filters_use_the_error_shape(client) -> None:
    response = client.get("/api/v1/catalog/matters", {"type": "nonsense"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid"
    assert "type" in response.json()["error"]["fields"]


def test_detail(client, matter) -> None:
    data = client.get("/api/v1/catalog/matters/GJJ003").json()
    assert data["aliases"] == ["买房取公积金", "公积金付首付"]
    assert data["materials"][1] == {
        "name": "结婚证",
        "kind": "copy",
        "kind_label": "复印件",
        "copies": 2,
        "required": False,
        "notes": "提取配偶账户时",
    }
    assert data["steps"] == ["提交申请", "审核放款"]
    assert data["faqs"][0]["question"] == "能提多少？"
    missing = client.get("/api/v1/catalog/matters/NOPE")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_pagination(client, matter, department) -> None:
    from minsheng.catalog.models import ServiceMatter

    for i in range(25):
        ServiceMatter.objects.create(code=f"X{i:02d}", name=f"事项{i}", department=department)
    data = client.get("/api/v1/catalog/matters", {"page_size": 10, "page": 3}).json()
    assert data["count"] == 26 and len(data["results"]) == 6 and data["next"] is None
