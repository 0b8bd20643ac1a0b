"""The citizen form's "以下问题已有群众反映": state, day and town of similar appeals, and
nothing personal of the citizens who reported them."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from minsheng.appeals import actions
from minsheng.appeals.models import Appeal
from minsheng.appeals.views import citizen
from minsheng.core.models import Division
from minsheng.core.ratelimit import Limit
from tests.appeals.factories import CategoryFactory
from tests.factories import DivisionFactory

pytestmark = pytest.mark.django_db

SIMILAR = reverse("appeals:similar")
QUERY = {"title": "村口路灯不亮", "body": "村口的路灯坏了，晚上漆黑，老人走路摔倒。"}


@pytest.fixture
def town():
    return DivisionFactory(name="城关镇", level=Division.Level.TOWN)


@pytest.fixture
def village(town):
    return DivisionFactory(name="杏花村", level=Division.Level.VILLAGE, parent=town)


def report(title: str, body: str, division: Division, **fields) -> Appeal:
    data = actions.AppealInput(title=title, body=body, division_id=division.pk, **fields)
    return actions.submit(data).appeal


def fragment(client, **params) -> str:
    response = client.get(SIMILAR, {**QUERY, **params})
    assert response.status_code == 200
    return response.content.decode()


def test_a_consented_title_is_shown_scrubbed_with_state_day_and_town(client, town, village):
    appeal = report(
        "王秀兰：杏花村村口路灯不亮，电话13912345678",
        "我是王秀兰，住幸福路8号，村口路灯坏了，晚上漆黑，老人走路摔倒。",
        village,
        citizen_name="王秀兰",
        citizen_mobile="13912345678",
        address="幸福路8号",
        consent_publish=True,
    )

    html = fragment(client, town=town.pk, village=village.pk)

    assert "以下问题已有群众反映" in html
    assert "村口路灯不亮" in html and "已受理" in html and "城关镇" in html
    assert timezone.localdate(appeal.received_at).isoformat() in html
    for personal in ["王秀兰", "13912345678", "杏花村", "幸福路8号", "我是", appeal.number]:
        assert personal not in html


def test_without_consent_only_town_category_and_state_are_shown(client, town, village):
    category = CategoryFactory(name="路灯照明")
    report(
        "村口路灯不亮",
        "我是赵大海，村口路灯坏了，晚上漆黑，老人走路摔倒。",
        village,
        citizen_name="赵大海",
        citizen_mobile="13800001111",
        category_id=category.pk,
    )

    html = fragment(client, town=town.pk)

    assert "城关镇 · 路灯照明 · 已受理" in html
    for private in ["村口路灯不亮", "赵大海", "13800001111", "杏花村", "漆黑"]:
        assert private not in html


def test_nothing_similar_or_too_little_typed_shows_nothing(client, town, village):
    report("垃圾桶满了没人清运", "村委会旁边的垃圾桶满了，臭味很大。", village, anonymous=True)
    assert "已有群众反映" not in fragment(client, town=town.pk)
    report("村口路灯不亮", "村口路灯坏了，晚上漆黑，老人摔倒。", village, anonymous=True)
    assert "已有群众反映" not in fragment(client, title="路灯", body="")
    assert "已有群众反映" in fragment(client, town="abc", village="²")  # junk ids are ignored


def test_at_most_three_are_shown(client, town, village):
    for _ in range(5):
        report("村口路灯不亮", "村口路灯坏了，晚上漆黑，老人摔倒。", village, anonymous=True)
    assert fragment(client, town=town.pk).count('class="notification"') == 3


def test_the_look_up_is_rate_limited(client, monkeypatch, village):
    monkeypatch.setattr(citizen, "SIMILAR_PER_IP", Limit("appeals-similar-test", 2, 600))
    assert client.get(SIMILAR, QUERY).status_code == 200
    assert client.get(SIMILAR, QUERY).status_code == 200
    assert client.get(SIMILAR, QUERY).status_code == 429


def test_the_form_asks_htmx_for_the_fragment_with_the_problem_and_place_only(client):
    html = client.get(reverse("appeals:submit")).content.decode()
    assert f'hx-get="{SIMILAR}"' in html
    assert 'hx-include="#id_title, #id_body, #id_town, #id_village"' in html
    # Without JavaScript it is an empty block and the form posts as before.
    assert 'method="post"' in html and 'id="similar-appeals"' in html
    for field in ["title", "body", "town", "village"]:
        assert f'id="id_{field}"' in html
