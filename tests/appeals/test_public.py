"""The public page of answered appeals: only what citizens agreed to, never personal data."""

from __future__ import annotations

import pytest
from django.urls import reverse

from minsheng.appeals import actions
from minsheng.appeals.models import Appeal, Category, Rating
from minsheng.appeals.views import public
from minsheng.appeals.views.public import scrub
from minsheng.core.models import Division, Role
from tests.factories import DepartmentFactory, DivisionFactory, UserFactory

LIST = reverse("appeals:public")

BODY = (
    "我叫王小明，住在杏花村幸福路8号，电话13912345678，身份证370602199001011234。"
    "村口路灯坏了一个月，晚上看不见路。"
)
PERSONAL = ["王小明", "13912345678", "370602199001011234", "杏花村", "幸福路8号"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("电话13912345678", "电话139****5678"),
        ("电话 139 1234 5678。", "电话 139****5678。"),
        ("手机139-1234-5678", "手机139****5678"),
        ("+86 13912345678", "139****5678"),
        ("身份证37060219900101123X号", "身份证370602********123X号"),
        ("身份证37060219900101123x", "身份证370602********123X"),
        ("老身份证370602900101123", "老身份证370602******123"),
        # Not personal: tracking numbers, dates, landlines, longer digit strings.
        ("编号YT-20261122-000123", "编号YT-20261122-000123"),
        ("2026年3月5日", "2026年3月5日"),
        ("请拨打0535-6212345", "请拨打0535-6212345"),
        ("订单12345678901234567890", "订单12345678901234567890"),
        ("12345热线", "12345热线"),
    ],
)
def test_scrub_masks_numbers(text, expected):
    assert scrub(text) == expected


def test_scrub_hides_known_strings_longest_first():
    text = "家住杏花村幸福路8号，杏花村村委不管"
    assert scrub(text, ["杏花村", "杏花村幸福路8号", "", "王"]) == "家住***，***村委不管"


@pytest.fixture
def county(db):
    town = DivisionFactory(name="城关镇", level=Division.Level.TOWN)
    village = DivisionFactory(name="杏花村", level=Division.Level.VILLAGE, parent=town)
    department = DepartmentFactory(name="住建局")
    return {
        "town": town,
        "village": village,
        "department": department,
        "category": Category.objects.create(code="L", name="市政设施"),
        "dispatcher": UserFactory(role=Role.DISPATCHER),
        "handler": UserFactory(role=Role.HANDLER, department=department),
    }


def make(county, *, title, consent=True, close=True, anonymous=False, body=BODY) -> Appeal:
    appeal = actions.submit(
        actions.AppealInput(
            title=title,
            body=body,
            category_id=county["category"].pk,
            division_id=county["village"].pk,
            address="幸福路8号",
            anonymous=anonymous,
            citizen_name="王小明",
            citizen_mobile="13912345678",
            consent_publish=consent,
        )
    ).appeal
    actions.dispatch(appeal.pk, department_id=county["department"].pk, by=county["dispatcher"])
    actions.sign(appeal.pk, by=county["handler"])
    actions.reply(
        appeal.pk,
        text="经核实，已于3月6日更换路灯。王小明反映的问题已解决，联系电话13912345678已回访。",
        by=county["handler"],
    )
    if close:
        actions.rate(
            actions.rating_token(Appeal.objects.get(pk=appeal.pk)),
            resolved=True,
            level=Rating.Level.SATISFIED,
        )
    return Appeal.objects.get(pk=appeal.pk)


def test_only_consented_closed_appeals_are_public(client, county):
    shown = make(county, title="村口路灯不亮")
    make(county, title="不同意公开的诉求", consent=False)
    make(county, title="尚未办结的诉求", close=False)
    actions.submit(
        actions.AppealInput(
            title="刚受理的诉求", body="还没有答复的诉求", anonymous=True, consent_publish=True
        )
    )
    page = client.get(LIST).content.decode()
    assert "村口路灯不亮" in page
    for title in ("不同意公开的诉求", "尚未办结的诉求", "刚受理的诉求"):
        assert title not in page
    for value in PERSONAL:
        assert value not in page

    detail = client.get(reverse("appeals:public_detail", args=[shown.number]))
    html = detail.content.decode()
    assert detail.status_code == 200
    assert "城关镇" in html and "住建局" in html and "市政设施" in html
    assert "已于3月6日更换路灯" in html and "晚上看不见路" in html
    assert "139****5678" in html and "王**" in html and "370602********1234" in html
    for value in PERSONAL:
        assert value not in html


def test_unpublished_detail_is_404(client, county):
    hidden = make(county, title="不同意公开的诉求", consent=False)
    open_one = make(county, title="尚未办结的诉求", close=False)
    for appeal in (hidden, open_one):
        url = reverse("appeals:public_detail", args=[appeal.number])
        assert client.get(url).status_code == 404
    assert client.get(reverse("appeals:public_detail", args=["YT-nothing"])).status_code == 404


def test_search_finds_words_but_not_hidden_personal_data(client, county):
    make(county, title="村口路灯不亮")
    make(county, title="垃圾清运不及时", body="小区垃圾三天没人清运，气味很大，请尽快处理。")
    found = client.get(LIST, {"q": "看不见路"})
    titles = [item.title for item in found.context["items"]]
    assert titles == ["村口路灯不亮"]
    # The name, number and village are in the raw text but must not be findable.
    for value in ("王小明", "13912345678", "杏花村", "幸福路"):
        response = client.get(LIST, {"q": value})
        assert response.context["items"] == [], value
        assert "村口路灯不亮" not in response.content.decode()


def test_public_list_is_paginated(client, county, monkeypatch):
    monkeypatch.setattr(public, "PAGE_SIZE", 2)
    for n in range(3):
        make(county, title=f"公开诉求{n}")
    first = client.get(LIST)
    assert len(first.context["items"]) == 2 and first.context["page"].has_next()
    second = client.get(LIST, {"page": 2})
    assert len(second.context["items"]) == 1
