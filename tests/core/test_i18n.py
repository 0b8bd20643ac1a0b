"""Languages: Simplified Chinese by default, Traditional Chinese and English by choice."""

from __future__ import annotations

import pytest
from django.urls import reverse

from minsheng.core.models import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def choose(client, language: str, next_url: str = "/") -> None:
    response = client.post(reverse("core:set_language"), {"language": language, "next": next_url})
    assert response.status_code == 302
    assert response["Location"] == next_url


def test_simplified_chinese_is_the_default_whatever_the_browser_says(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    html = response.content.decode()
    assert '<html lang="zh-hans"' in html
    assert "工作人员登录" in html
    assert response["Content-Language"] == "zh-hans"


def test_traditional_chinese(client):
    choose(client, "zh-hant")
    assert client.cookies["minsheng_lang"].value == "zh-hant"
    response = client.get("/")
    html = response.content.decode()
    assert '<html lang="zh-hant"' in html
    assert "工作人員登錄" in html
    assert "工作人员登录" not in html
    assert response["Content-Language"] == "zh-hant"


def test_english(client):
    choose(client, "en", "/login/")
    html = client.get("/login/").content.decode()
    assert '<html lang="en"' in html
    assert "Staff login" in html
    assert "工作人员登录" not in html


def test_english_messages_reach_forms_and_the_staff_shell(client):
    choose(client, "en")
    UserFactory(username="wang")
    html = client.post("/login/", {"username": "wang", "password": "wrong"}).content.decode()
    assert "Wrong username or password." in html
    client.force_login(UserFactory(role=Role.DEPT_HEAD))
    html = client.get("/").content.decode()
    for text in ("Workbench", "Department head", "Unread messages", "Staff", "Log out"):
        assert text in html


def test_the_switcher_works_without_javascript(client):
    html = client.get("/").content.decode()
    assert f'action="{reverse("core:set_language")}"' in html
    for code, name in (("zh-hans", "简体中文"), ("zh-hant", "繁體中文"), ("en", "English")):
        assert f'name="language" value="{code}"' in html
        assert name in html


def test_unknown_language_and_foreign_redirects_are_ignored(client):
    response = client.post(
        reverse("core:set_language"), {"language": "xx", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"
    assert "minsheng_lang" not in response.cookies
    assert '<html lang="zh-hans"' in client.get("/").content.decode()


def test_switching_needs_a_post(client):
    assert client.get(reverse("core:set_language")).status_code == 405
