from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from minsheng.core import tokens
from minsheng.core.models import ApiToken, AuditEvent, Notification, Role
from tests.api.utils import error_of
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_no_credentials_is_401(client):
    response = client.get("/api/v1/me")

    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthenticated"


def test_valid_token_authenticates_as_its_user(client, bearer):
    user = UserFactory(role=Role.DISPATCHER)

    response = client.get("/api/v1/me", headers=bearer(user))

    assert response.status_code == 200
    assert response.json()["username"] == user.username


def test_key_is_stored_only_as_a_hash():
    user = UserFactory()

    token, key = tokens.create_token(user, "热线系统")

    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.key_hash == tokens.hash_key(key) != key
    assert stored.prefix == key[:8]
    assert key not in str(ApiToken.objects.values().get(pk=token.pk))


@pytest.mark.parametrize(
    "header",
    ["Bearer wrong", "Bearer " + "x" * tokens.KEY_LENGTH, "Token abc", "Bearer"],
)
def test_wrong_token_is_401(client, header):
    response = client.get("/api/v1/me", headers={"Authorization": header})

    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthenticated"


def test_wrong_token_is_refused_even_with_a_session(client):
    client.force_login(UserFactory())

    response = client.get(
        "/api/v1/me", headers={"Authorization": "Bearer " + "x" * tokens.KEY_LENGTH}
    )

    assert response.status_code == 401


def test_revoked_token_is_401(client):
    user = UserFactory()
    token, key = tokens.create_token(user, "热线系统")
    tokens.revoke_token(token.pk)

    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"})

    assert response.status_code == 401


def test_token_of_deactivated_user_is_401(client, bearer):
    user = UserFactory()
    headers = bearer(user)
    user.is_active = False
    user.save()

    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_last_used_at_is_written_at_most_once_a_minute(client):
    user = UserFactory()
    token, key = tokens.create_token(user, "热线系统")
    headers = {"Authorization": f"Bearer {key}"}
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)

    with time_machine.travel(start, tick=False):
        client.get("/api/v1/me", headers=headers)
    token.refresh_from_db()
    assert token.last_used_at == start

    with time_machine.travel(start + dt.timedelta(seconds=59), tick=False):
        client.get("/api/v1/me", headers=headers)
    token.refresh_from_db()
    assert token.last_used_at == start

    with time_machine.travel(start + dt.timedelta(seconds=61), tick=False):
        client.get("/api/v1/me", headers=headers)
    token.refresh_from_db()
    assert token.last_used_at == start + dt.timedelta(seconds=61)


def test_session_authenticates_the_sites_own_calls(client):
    user = UserFactory()
    client.force_login(user)

    response = client.get("/api/v1/me")

    assert response.status_code == 200
    assert response.json()["id"] == user.pk


def test_session_needs_csrf_for_unsafe_methods():
    user = UserFactory()
    notification = Notification.objects.create(user=user, title="提醒")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    url = f"/api/v1/notifications/{notification.pk}/read"

    refused = client.post(url)

    assert refused.status_code == 403
    assert error_of(refused)["code"] == "csrf_failed"
    notification.refresh_from_db()
    assert notification.read_at is None

    client.get(
        "/api/v1/docs"
    )  # the docs page hands Swagger UI the CSRF token (and sets the cookie)
    accepted = client.post(url, headers={"X-CSRFToken": client.cookies["csrftoken"].value})

    assert accepted.status_code == 200
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_token_calls_need_no_csrf(bearer):
    user = UserFactory()
    notification = Notification.objects.create(user=user, title="提醒")
    client = Client(enforce_csrf_checks=True)

    response = client.post(f"/api/v1/notifications/{notification.pk}/read", headers=bearer(user))

    assert response.status_code == 200


def test_anonymous_unsafe_call_hears_log_in_not_csrf():
    response = Client(enforce_csrf_checks=True).post("/api/v1/notifications/1/read")

    assert response.status_code == 401


def test_creating_and_revoking_tokens_is_audited():
    user = UserFactory()

    token, _key = tokens.create_token(user, "热线系统")
    tokens.revoke_token(token.pk)
    tokens.revoke_token(token.pk)  # twice changes nothing

    actions = list(
        AuditEvent.objects.filter(object_id=str(token.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["api_token.created", "api_token.revoked"]


def test_only_admins_manage_tokens_through_the_site():
    admin = UserFactory(role=Role.ADMIN)
    head = UserFactory(role=Role.DEPT_HEAD)

    token, _key = tokens.create_token(head, "部门系统", by=admin)
    with pytest.raises(PermissionDenied):
        tokens.create_token(head, "部门系统", by=head)
    with pytest.raises(PermissionDenied):
        tokens.revoke_token(token.pk, by=head)
    assert ApiToken.objects.count() == 1


@pytest.mark.parametrize(("name", "field"), [("  ", "name"), ("名" * 65, "name")])
def test_token_name_is_validated(name, field):
    with pytest.raises(ValidationError) as error:
        tokens.create_token(UserFactory(), name)

    assert field in error.value.message_dict
    assert ApiToken.objects.count() == 0


def test_no_token_for_a_deactivated_user():
    user = UserFactory(is_active=False)

    with pytest.raises(ValidationError):
        tokens.create_token(user, "热线系统")


def test_a_token_is_read_once_per_process_within_the_cache_time(client, bearer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    headers = bearer(UserFactory(role=Role.DISPATCHER))
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert not [q for q in queries.captured_queries if "core_apitoken" in q["sql"]]


def test_a_revoke_in_another_process_applies_when_the_cache_time_ends(client, settings):
    user = UserFactory()
    token, key = tokens.create_token(user, "热线系统")
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    # As another process would: the row changes, this process's copy does not hear of it.
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=dt.datetime.now(dt.UTC))
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    settings.API_TOKEN_CACHE_SECONDS = 0
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_requests_do_not_share_the_cached_user(client, bearer):
    user = UserFactory(role=Role.DISPATCHER)
    key = bearer(user)["Authorization"].removeprefix("Bearer ")
    first = tokens.authenticate(key)
    assert first is not None
    first.user.name = "changed by one request"
    second = tokens.authenticate(key)
    assert second is not None and second.user.name == user.name


def test_a_revoke_in_this_process_applies_at_once(client):
    user = UserFactory()
    token, key = tokens.create_token(user, "热线系统")
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    tokens.revoke_token(token.pk)
    assert client.get("/api/v1/me", headers=headers).status_code == 401
