"""Department scoping on the staff pages: department A's head cannot read or change
department B's people, not even by guessing URLs; forbidden actions change nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from minsheng.core import actions
from minsheng.core.models import AuditEvent, Notification, Role, User
from tests.factories import PASSWORD, DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    a, b = DepartmentFactory(name="甲局"), DepartmentFactory(name="乙局")
    return {
        "a": a,
        "b": b,
        "head_a": UserFactory(role=Role.DEPT_HEAD, department=a, name="甲负责人"),
        "handler_a": UserFactory(role=Role.HANDLER, department=a, name="甲承办人"),
        "handler_b": UserFactory(
            role=Role.HANDLER, department=b, name="乙承办人", mobile="13900001111"
        ),
    }


def snapshot(user: User) -> tuple:
    user.refresh_from_db()
    return (
        user.name,
        user.role,
        user.department_id,
        user.is_active,
        user.password,
        user.must_change_password,
    )


def test_head_sees_only_own_department_in_the_list(client, org):
    client.force_login(org["head_a"])
    names = {u.name for u in client.get(reverse("core:staff")).context["page"].object_list}
    assert names == {"甲负责人", "甲承办人"}


@pytest.mark.parametrize(
    ("name", "method", "data"),
    [
        ("core:staff_detail", "get", None),
        ("core:staff_edit", "get", None),
        ("core:staff_edit", "post", {"username": "hijack", "name": "改名", "role": "dept_head"}),
        ("core:staff_active", "get", None),
        ("core:staff_active", "post", {}),
        (
            "core:staff_password",
            "post",
            {"password1": "Hijacked-Pass-2026", "password2": "Hijacked-Pass-2026"},
        ),
        ("core:staff_mobile", "post", {}),
    ],
)
def test_another_departments_staff_is_404_by_url_guessing_and_unchanged(
    client, org, name, method, data
):
    target = org["handler_b"]
    before = snapshot(target)
    events = AuditEvent.objects.count()
    client.force_login(org["head_a"])
    url = reverse(name, args=[target.pk])
    response = client.post(url, data) if method == "post" else client.get(url)
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()
    assert "13900001111" not in response.content.decode()
    assert snapshot(target) == before
    assert AuditEvent.objects.count() == events


def test_unknown_ids_look_the_same_as_other_departments(client, org):
    client.force_login(org["head_a"])
    assert client.get(reverse("core:staff_detail", args=[999999])).status_code == 404


def test_head_manages_own_department(client, org):
    client.force_login(org["head_a"])
    target = org["handler_a"]
    response = client.post(
        reverse("core:staff_edit", args=[target.pk]),
        {
            "username": target.username,
            "name": "新名字",
            "role": "window_staff",
            "department": org["a"].pk,
        },
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.name, target.role) == ("新名字", "window_staff")
    event = AuditEvent.objects.get(action="staff.updated")
    assert event.before["name"] == "甲承办人"
    assert event.after["name"] == "新名字"


def test_handler_cannot_see_the_staff_directory(client, org):
    client.force_login(org["handler_a"])
    assert client.get(reverse("core:staff")).status_code == 403
    assert client.get(reverse("core:staff_detail", args=[org["handler_a"].pk])).status_code == 403


def test_read_only_roles_see_everyone_but_change_nothing(client, org):
    leader = UserFactory(role=Role.LEADER)
    client.force_login(leader)
    target = org["handler_b"]
    detail = client.get(reverse("core:staff_detail", args=[target.pk]))
    assert detail.status_code == 200
    assert reverse("core:staff_edit", args=[target.pk]) not in detail.content.decode()
    before = snapshot(target)
    assert client.post(reverse("core:staff_active", args=[target.pk])).status_code == 403
    assert client.post(reverse("core:staff_create"), {"username": "x"}).status_code == 403
    assert snapshot(target) == before


def test_head_cannot_touch_a_higher_role_filed_under_their_department(client, org):
    leader = UserFactory(role=Role.LEADER, department=org["a"])
    before = snapshot(leader)
    client.force_login(org["head_a"])
    assert client.get(reverse("core:staff_detail", args=[leader.pk])).status_code == 200
    assert client.post(reverse("core:staff_active", args=[leader.pk])).status_code == 403
    assert snapshot(leader) == before


def test_head_cannot_create_in_another_department_or_grant_higher_roles(client, org):
    client.force_login(org["head_a"])
    base = {
        "username": "newbie",
        "name": "新人",
        "password1": "Initial-Pass-2026",
        "password2": "Initial-Pass-2026",
    }
    response = client.post(
        reverse("core:staff_create"), {**base, "role": "handler", "department": org["b"].pk}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["department"]
    response = client.post(
        reverse("core:staff_create"), {**base, "role": "leader", "department": org["a"].pk}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["role"]
    assert not User.objects.filter(username="newbie").exists()

    # The action itself refuses too, whatever a form or API call sends.
    data = actions.StaffData(username="newbie", name="新人", role="handler", department=org["b"])
    with pytest.raises(ValidationError) as caught:
        actions.create_staff(data, "Initial-Pass-2026", by=org["head_a"])
    assert "department" in caught.value.message_dict
    data = actions.StaffData(username="newbie", name="新人", role="admin", department=org["a"])
    with pytest.raises(ValidationError) as caught:
        actions.create_staff(data, "Initial-Pass-2026", by=org["head_a"])
    assert "role" in caught.value.message_dict
    assert not User.objects.filter(username="newbie").exists()


def test_head_creates_in_own_department(client, org):
    client.force_login(org["head_a"])
    response = client.post(
        reverse("core:staff_create"),
        {
            "username": "newbie",
            "name": "新人",
            "role": "handler",
            "department": org["a"].pk,
            "mobile": "13712345678",
            "password1": "Initial-Pass-2026",
            "password2": "Initial-Pass-2026",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="newbie")
    assert (user.department, user.role, user.must_change_password) == (org["a"], "handler", True)
    assert user.check_password("Initial-Pass-2026")
    event = AuditEvent.objects.get(action="staff.created")
    assert event.actor_id == org["head_a"].pk
    assert "password" not in event.after


def test_actions_refuse_other_departments_directly(org):
    with pytest.raises(PermissionDenied):
        actions.set_staff_active(org["handler_b"].pk, False, by=org["head_a"])
    with pytest.raises(PermissionDenied):
        actions.reset_password(org["handler_b"].pk, "Hijacked-Pass-2026", by=org["head_a"])
    org["handler_b"].refresh_from_db()
    assert org["handler_b"].is_active
    assert org["handler_b"].check_password(PASSWORD)


def test_notifications_of_other_users_are_404(client, org):
    theirs = Notification.objects.create(user=org["handler_b"], title="乙的消息")
    client.force_login(org["head_a"])
    assert "乙的消息" not in client.get(reverse("core:notifications")).content.decode()
    assert client.post(reverse("core:notification_read", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None
