"""Staff login: throttling of failures, audit of every outcome, forced password change."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.hashers import identify_hasher
from django.test import override_settings
from django.urls import reverse

import minsheng.settings as project_settings
from minsheng.core.models import AuditEvent
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/login/"
NEW_PASSWORD = "Quite-New-Secret-2026"


def attempt(client, username: str, password: str, ip: str = "10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def actions_logged() -> list[str]:
    return list(AuditEvent.objects.order_by("id").values_list("action", flat=True))


@pytest.fixture
def start():
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=False) as traveller:
        yield traveller


def test_successful_login_redirects_home_and_is_audited(client, start):
    user = UserFactory(username="wang")
    response = attempt(client, "wang", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("core:home")
    assert client.get("/").context["user"] == user
    event = AuditEvent.objects.get(action="login.succeeded")
    assert event.actor_id == user.pk


def test_passwords_are_hashed_with_argon2(settings):
    # The test suite swaps in a fast hasher; put the project's own list back.
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    user = UserFactory()
    assert identify_hasher(user.password).algorithm == "argon2"


def test_wrong_password_gives_a_clear_message_and_is_audited(client, start):
    UserFactory(username="wang")
    response = attempt(client, "wang", "wrong")
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()
    event = AuditEvent.objects.get(action="login.failed")
    assert event.object_repr == "wang"
    assert event.actor_id is None


@override_settings(LOGIN_FAILURE_LIMIT=3, LOGIN_FAILURE_WINDOW_SECONDS=600)
def test_failures_lock_the_username_until_the_window_passes(client, start):
    UserFactory(username="wang")
    for _ in range(2):
        assert "用户名或密码不正确" in attempt(client, "wang", "wrong").content.decode()
    response = attempt(client, "wang", "wrong")
    assert "登录失败次数过多，请 10 分钟后再试" in response.content.decode()
    assert actions_logged() == ["login.failed"] * 3 + ["login.locked"]

    # Locked: the right password is refused too, from another address as well.
    start.shift(dt.timedelta(minutes=4, seconds=30))
    response = attempt(client, "wang", PASSWORD, ip="10.0.0.2")
    assert response.status_code == 200
    assert "请 6 分钟后再试" in response.content.decode()
    assert "_auth_user_id" not in client.session

    start.shift(dt.timedelta(minutes=5, seconds=31))
    response = attempt(client, "wang", PASSWORD, ip="10.0.0.2")
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


@override_settings(LOGIN_FAILURE_LIMIT=3, LOGIN_FAILURE_WINDOW_SECONDS=600)
def test_failures_from_one_address_lock_that_address_for_every_username(client, start):
    UserFactory(username="li")
    for name in ("a1", "a2", "a3"):
        attempt(client, name, "guess", ip="10.9.9.9")
    response = attempt(client, "li", PASSWORD, ip="10.9.9.9")
    assert "登录失败次数过多" in response.content.decode()
    # Another address is not affected.
    assert attempt(client, "li", PASSWORD, ip="10.9.9.10").status_code == 302


@override_settings(LOGIN_FAILURE_LIMIT=3, LOGIN_FAILURE_WINDOW_SECONDS=600)
def test_a_successful_login_resets_the_username_count(client, start):
    UserFactory(username="wang")
    attempt(client, "wang", "wrong", ip="10.0.0.1")
    attempt(client, "wang", "wrong", ip="10.0.0.2")
    assert attempt(client, "wang", PASSWORD, ip="10.0.0.3").status_code == 302
    client.post("/logout/")
    attempt(client, "wang", "wrong", ip="10.0.0.4")
    attempt(client, "wang", "wrong", ip="10.0.0.5")
    assert attempt(client, "wang", PASSWORD, ip="10.0.0.6").status_code == 302


def test_inactive_account_cannot_log_in(client, start):
    UserFactory(username="gone", is_active=False)
    response = attempt(client, "gone", PASSWORD)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_logout_ends_the_session(client):
    client.force_login(UserFactory())
    response = client.post("/logout/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


@override_settings(FORCE_PASSWORD_CHANGE=True)
def test_production_forces_initial_accounts_to_change_their_password(client):
    user = UserFactory(must_change_password=True)
    client.force_login(user)
    for path in ("/", "/notifications/", "/org/departments/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"] == reverse("core:password_change")
    page = client.get(reverse("core:password_change"))
    assert "这是初始密码" in page.content.decode()
    # The language and large-font switches still work, so the change page can be read.
    response = client.post(reverse("core:set_large_font"), {"large": "1", "next": "/password/"})
    assert response["Location"] == "/password/"

    response = client.post(
        reverse("core:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.must_change_password
    assert user.check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(action="password.changed")
    assert event.before == {"must_change_password": True}
    assert event.after == {"must_change_password": False}
    # Still logged in (the session hash was updated) and free to go on.
    assert client.get("/").status_code == 200


@override_settings(FORCE_PASSWORD_CHANGE=False)
def test_development_lets_demo_accounts_in_as_printed(client):
    client.force_login(UserFactory(must_change_password=True))
    assert client.get("/").status_code == 200


@override_settings(FORCE_PASSWORD_CHANGE=True)
def test_invalid_new_password_is_rejected_with_field_errors_and_nothing_changes(client):
    user = UserFactory(must_change_password=True)
    client.force_login(user)
    response = client.post(
        reverse("core:password_change"),
        {"old_password": PASSWORD, "new_password1": "123", "new_password2": "123"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["new_password2"]
    user.refresh_from_db()
    assert user.must_change_password
    assert user.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(action="password.changed").exists()


def test_login_page_renders_the_form(client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert 'name="username"' in response.content.decode()
    assert 'name="password"' in response.content.decode()
