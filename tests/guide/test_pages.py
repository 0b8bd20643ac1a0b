from __future__ import annotations

import re

import pytest
from django.core import signing
from django.urls import reverse

from minsheng.catalog.models import ServiceMatter
from minsheng.guide import views
from minsheng.guide.models import QuestionLog, Synonym

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def _token(html: str) -> str:
    found = re.search(r'name="log" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def test_kiosk_home(client, demo_catalog) -> None:
    response = client.get(reverse("guide:kiosk"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "layout-kiosk" in html and "guide/guide.js" in html
    assert html.count("guide-hf-button") == min(28, ServiceMatter.objects.high_frequency().count())
    assert 'data-idle-seconds="90"' in html
    assert "<script>" not in html and 'style="' not in html  # CSP: no inline code


def test_phone_home(client, demo_catalog) -> None:
    response = client.get(reverse("guide:phone"))
    assert response.status_code == 200
    assert "layout-citizen" in response.content.decode()


def test_ask_match_shows_window_materials_map(client, demo_catalog) -> None:
    response = client.post(
        reverse("guide:ask"), {"q": "身份证丢了怎么补办", "channel": "kiosk"}, **HX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-guide-result="match"' in html
    log = QuestionLog.objects.get()
    matter = ServiceMatter.objects.get(code=log.shown_code)
    assert matter.name in html
    assert "cat-materials" in html  # the catalogue's checklist partial
    assert "cat-map" in html  # "take me there": the hall map partial
    assert "带我去" in html and "data-speak" in html
    assert log.channel == "kiosk" and log.kind == "match"


def test_ask_clarify_then_choose(client, demo_catalog) -> None:
    response = client.post(reverse("guide:ask"), {"q": "公积金提取", "channel": "phone"}, **HX)
    html = response.content.decode()
    assert 'data-guide-result="clarify"' in html, html
    codes = re.findall(r'data-code="([^"]+)"', html)
    assert len(codes) >= 2
    token = _token(html)
    chosen = client.post(
        reverse("guide:show", args=[codes[1]]), {"channel": "phone", "log": token}, **HX
    )
    assert chosen.status_code == 200
    assert 'data-guide-result="match"' in chosen.content.decode()
    assert QuestionLog.objects.get().shown_code == codes[1]


def test_ask_no_match(client, demo_catalog) -> None:
    response = client.post(reverse("guide:ask"), {"q": "今天天气怎么样", "channel": "kiosk"}, **HX)
    html = response.content.decode()
    assert 'data-guide-result="none"' in html
    assert "没有找到" in html and "guide-hf-button" in html and "tel:" in html
    assert QuestionLog.objects.get().kind == "none"


def test_ask_without_javascript_renders_the_page(client, demo_catalog) -> None:
    response = client.post(reverse("guide:ask"), {"q": "结婚登记", "channel": "phone"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "layout-citizen" in html and 'data-guide-result="match"' in html


def test_empty_question(client, demo_catalog) -> None:
    response = client.post(reverse("guide:ask"), {"q": "  ", "channel": "kiosk"}, **HX)
    assert 'data-guide-result="empty"' in response.content.decode()
    assert not QuestionLog.objects.exists()


def test_high_frequency_button(client, demo_catalog) -> None:
    matter = ServiceMatter.objects.high_frequency().first()
    assert matter is not None
    response = client.get(reverse("guide:show", args=[matter.code]) + "?channel=kiosk", **HX)
    assert matter.name in response.content.decode()
    missing = client.get(reverse("guide:show", args=["NOPE"]), **HX)
    assert missing.status_code == 200 and 'data-guide-result="none"' in missing.content.decode()


def test_log_is_scrubbed(client, demo_catalog) -> None:
    client.post(
        reverse("guide:ask"),
        {"q": "我叫张三，电话13712345678，社保卡丢了", "channel": "phone"},
        **HX,
    )
    logged = QuestionLog.objects.get().question
    assert "13712345678" not in logged and "张三" not in logged and "社保卡丢了" in logged


def test_feedback_once(client, demo_catalog) -> None:
    html = client.post(reverse("guide:ask"), {"q": "结婚登记", "channel": "kiosk"}, **HX).content
    token = _token(html.decode())
    done = client.post(reverse("guide:feedback"), {"log": token, "helpful": "0"}, **HX)
    assert "谢谢" in done.content.decode()
    again = client.post(reverse("guide:feedback"), {"log": token, "helpful": "1"}, **HX)
    assert "评价过" in again.content.decode()
    assert QuestionLog.objects.get().feedback == QuestionLog.Feedback.UNHELPFUL
    forged = client.post(reverse("guide:feedback"), {"log": "1:forged", "helpful": "1"}, **HX)
    assert forged.status_code == 200 and "评价过" in forged.content.decode()


def test_rate_limit(client, demo_catalog, settings) -> None:
    settings.GUIDE_RATE_LIMIT = 2
    for _ in range(2):
        assert client.post(reverse("guide:ask"), {"q": "结婚登记"}, **HX).status_code == 200
    limited = client.post(reverse("guide:ask"), {"q": "结婚登记"}, **HX)
    assert limited.status_code == 429 and "太频繁" in limited.content.decode()


# -- staff -----------------------------------------------------------------------------------


def test_report_lists_unanswered_and_unhelpful(client, logged_in, demo_catalog) -> None:
    client.post(reverse("guide:ask"), {"q": "今天天气怎么样"}, **HX)
    html = client.post(reverse("guide:ask"), {"q": "结婚登记"}, **HX).content.decode()
    client.post(reverse("guide:feedback"), {"log": _token(html), "helpful": "0"}, **HX)
    client.post(reverse("guide:ask"), {"q": "离婚登记"}, **HX)  # answered, no feedback
    logged_in("admin")
    response = client.get(reverse("guide:report"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "今天天气怎么样" in page and "结婚登记" in page and "离婚登记" not in page
    assert reverse("guide:synonyms") + "?phrase=" in page
    only_none = client.get(reverse("guide:report") + "?show=none").content.decode()
    assert "今天天气怎么样" in only_none and "结婚登记</td>" not in only_none


def test_report_needs_a_role(client, logged_in, demo_catalog) -> None:
    logged_in("handler")
    assert client.get(reverse("guide:report")).status_code == 403
    client.logout()
    assert client.get(reverse("guide:report")).status_code == 302


def test_admin_adds_a_synonym(client, logged_in, demo_catalog) -> None:
    _client, user = logged_in("admin")
    form = client.get(reverse("guide:synonyms") + "?phrase=撸串店")
    assert 'value="撸串店"' in form.content.decode()
    response = client.post(
        reverse("guide:synonyms"), {"phrase": "撸串店", "official": "食品经营许可", "note": ""}
    )
    assert response.status_code == 302
    syn = Synonym.objects.get(phrase="撸串店")
    from minsheng.core.models import AuditEvent

    assert AuditEvent.objects.filter(action="guide.synonym_added", actor=user).exists()
    bad = client.post(reverse("guide:synonyms"), {"phrase": "撸", "official": "x"})
    assert bad.status_code == 200 and "至少两个字" in bad.content.decode()
    client.post(reverse("guide:synonym_toggle", args=[syn.pk]), {"active": "0"})
    syn.refresh_from_db()
    assert not syn.active


def test_synonyms_page_is_admin_only(client, logged_in, demo_catalog) -> None:
    logged_in("supervisor")
    assert client.get(reverse("guide:synonyms")).status_code == 403


def test_log_token_roundtrip() -> None:
    assert views._log_id(signing.dumps(7, salt=views.SALT)) == 7
    assert views._log_id("garbage") is None
