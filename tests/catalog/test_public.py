"""The public 办事指南 pages (citizen layout)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from minsheng.catalog.models import ServiceMatter

pytestmark = pytest.mark.django_db


def test_list_shows_high_frequency_and_all(client, matter) -> None:
    response = client.get(reverse("catalog:list"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "常办事项" in body and "买房提取" in body
    assert reverse("catalog:detail", args=["GJJ003"]) in body


@pytest.mark.parametrize(
    "query",
    [{"q": "公积金"}, {"q": "付首付"}, {"q": "公积金中心"}, {"type": "payment"}, {"q": "gjj003"}],
)
def test_search_finds_the_matter(client, matter, query) -> None:
    body = client.get(reverse("catalog:list"), query).content.decode()
    assert "购买自住住房提取住房公积金" in body
    assert "常办事项" not in body


def test_search_by_department_and_nothing_found(client, matter, department) -> None:
    body = client.get(reverse("catalog:list"), {"department": department.pk}).content.decode()
    assert "购买自住住房提取住房公积金" in body
    body = client.get(reverse("catalog:list"), {"q": "火星签证"}).content.decode()
    assert "没有找到相关事项" in body
    # A bad filter value is ignored, never a 500.
    assert client.get(reverse("catalog:list"), {"department": "x", "type": "y"}).status_code == 200


def test_detail_has_every_element_and_the_map(client, matter, hall_map) -> None:
    response = client.get(reverse("catalog:detail", args=["GJJ003"]))
    body = response.content.decode()
    assert response.status_code == 200
    for text in [
        "购买自住住房提取住房公积金",
        "示范县住房公积金管理中心",
        "一号厅04号窗口",
        "政务服务中心一号厅",
        "工作日",  # the hall's opening hours
        "3 个工作日",
        "5 个工作日",
        "不收费",
        "在本县购买自住住房",
        "居民身份证",
        "原件和复印件",
        "视情况提供",
        "提取配偶账户时",
        "提交申请",
        "《住房公积金管理条例》",
        "能提多少？",
        "0000-12329",
        "0000-12345",
        "最多跑 1 次",
        "https://example.org/gjj",
        "<svg",
        "cat-on",
        "到高亮的04号窗口",
    ]:
        assert text in body, text
    assert 'style="' not in body
    assert "<script>" not in body


def test_detail_without_map_and_inactive(client, matter) -> None:
    body = client.get(reverse("catalog:detail", args=["GJJ003"])).content.decode()
    assert "<svg" not in body
    ServiceMatter.objects.filter(pk=matter.pk).update(active=False)
    assert client.get(reverse("catalog:detail", args=["GJJ003"])).status_code == 404
    assert client.get(reverse("catalog:detail", args=["NOPE"])).status_code == 404


def test_home_page_has_the_tile(client) -> None:
    body = client.get(reverse("core:home")).content.decode()
    assert reverse("catalog:list") in body


def test_partials_render_alone(matter, hall_map) -> None:
    from django.template import Context, Template

    html = Template("{% load catalog %}{% matter_materials m %}{% matter_map m %}").render(
        Context({"m": matter})
    )
    assert "cat-materials" in html and "cat-map" in html and "结婚证" in html
