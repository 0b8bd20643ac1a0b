"""The citizen's appeal pages in English and Traditional Chinese, and a complete English
catalogue for the appeals app (Simplified Chinese is the source language)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse

from minsheng.appeals.models import AppealType
from minsheng.core.models import Division
from tests.factories import DivisionFactory

pytestmark = pytest.mark.django_db  # the rate limits live in the database cache

SUBMIT = reverse("appeals:submit")


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def choose(client, language: str) -> None:
    response = client.post(reverse("core:set_language"), {"language": language, "next": SUBMIT})
    assert response.status_code == 302


def test_the_english_submit_page_is_in_english(client):
    town = DivisionFactory(name="城关镇", level=Division.Level.TOWN)
    choose(client, "en")
    response = client.get(SUBMIT)
    html = response.content.decode()
    assert response.status_code == 200 and '<html lang="en"' in html
    for text in (
        "Report a problem",
        "What is the problem",
        "Where is it",
        "How to contact you",
        "Appeal type",
        "Request for help",
        "Urgency",
        "Town/subdistrict",
        "Village/community",
        "Report anonymously (without your name)",
        "Mobile number",
        "I agree that the reply may be published",
        "call 119, 110, 120 or 122",
        "Already reported? Track progress",
        ">Submit<",
    ):
        assert text in html, text
    for source in ("我要反映", "反映什么问题", "诉求类型", "求助", "手机号码", "提交"):
        assert source not in html, source
    # Data stays as entered: the town is a place name, not a message.
    assert town.name in html


def test_english_errors_on_the_submit_form(client):
    choose(client, "en")
    form_key = client.get(SUBMIT).context["form"].initial["form_key"]
    response = client.post(
        SUBMIT,
        {"appeal_type": AppealType.HELP, "urgency": "normal", "form_key": form_key},
    )
    html = response.content.decode()
    assert response.status_code == 200
    for text in (
        "Please correct the items marked below and submit again.",
        "Enter a title",
        "Describe the problem you are reporting",
    ):
        assert text in html, text


def test_the_traditional_chinese_track_page(client):
    choose(client, "zh-hant")
    html = client.get(reverse("appeals:track")).content.decode()
    assert "查詢辦理進度" in html and "查询办理进度" not in html


def _entries(po: Path) -> list[str]:
    return po.read_text(encoding="utf-8").split("\n\n")


def test_every_appeals_message_has_an_english_translation():
    po = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"
    missing = []
    for entry in _entries(po):
        if not re.search(r"^#: .*\bappeals/", entry, re.M):
            continue
        fuzzy = re.search(r"^#,.*\bfuzzy\b", entry, re.M)
        empty = re.search(r'^msgstr(\[\d\])? ""$', entry, re.M)
        if fuzzy or empty:
            missing.append(re.search(r'^msgid "(.*)"$', entry, re.M).group(1))  # type: ignore[union-attr]
    assert not missing, missing
