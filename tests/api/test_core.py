from __future__ import annotations

import pytest

from minsheng.core.models import AuditEvent, Division, Notification, Role, User
from tests.api.utils import error_of
from tests.factories import (
    DepartmentFactory,
    DivisionFactory,
    HallFactory,
    UserFactory,
    WindowFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_departments():
    """Department A with its head and a handler; department B with its handler."""
    a, b = DepartmentFactory(name="甲局"), DepartmentFactory(name="乙局")
    return {
        "head_a": UserFactory(role=Role.DEPT_HEAD, department=a, mobile="13800000001"),
        "staff_a": UserFactory(
            role=Role.HANDLER, department=a, mobile="13800000002", name="甲办事员"
        ),
        "staff_b": UserFactory(
            role=Role.HANDLER, department=b, mobile="13900000003", name="乙办事员"
        ),
    }


def as_user(client, user):
    client.force_login(user)
    return client


def test_me(client):
    head = UserFactory(role=Role.DEPT_HEAD)

    body = as_user(client, head).get("/api/v1/me").json()

    assert body["role"] == "dept_head"
    assert body["role_display"] == "部门负责人"
    assert body["department"] == {"id": head.department.pk, "name": head.department.name}
    assert "staff.manage" in body["actions"]
    assert "audit.view" not in body["actions"]


def test_divisions_filter_by_parent_and_level(client):
    county = DivisionFactory(code="000001", level=Division.Level.COUNTY, name="示范县")
    town = DivisionFactory(code="000002", parent=county, name="城关镇")
    DivisionFactory(code="000003", parent=town, level=Division.Level.VILLAGE, name="东村")
    api = as_user(client, UserFactory(role=Role.HANDLER))

    children = api.get("/api/v1/divisions", {"parent": county.pk}).json()["results"]
    villages = api.get("/api/v1/divisions", {"level": "village"}).json()["results"]

    assert [d["name"] for d in children] == ["城关镇"]
    assert [d["name"] for d in villages] == ["东村"]


def test_org_chart_is_for_staff_only(client):
    api = as_user(client, UserFactory(role=Role.CITIZEN))

    for path in ("/api/v1/departments", "/api/v1/divisions", "/api/v1/halls"):
        assert api.get(path).status_code == 403


def test_every_staff_role_sees_all_departments(client):
    head = UserFactory(role=Role.DEPT_HEAD)
    other = DepartmentFactory()

    names = {d["name"] for d in as_user(client, head).get("/api/v1/departments").json()["results"]}

    assert {head.department.name, other.name} <= names


def test_halls_and_their_windows(client):
    window = WindowFactory(number="05")
    WindowFactory(hall=window.hall, number="06", active=False)
    api = as_user(client, UserFactory(role=Role.WINDOW_STAFF))

    halls = api.get("/api/v1/halls").json()["results"]
    windows = api.get(f"/api/v1/halls/{window.hall.pk}/windows").json()["results"]

    assert [h["id"] for h in halls] == [window.hall.pk]
    assert [(w["number"], w["department"]["name"]) for w in windows] == [
        ("05", window.department.name)
    ]


def test_windows_of_an_unknown_hall_are_404(client):
    HallFactory()

    response = as_user(client, UserFactory()).get("/api/v1/halls/999999/windows")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_department_head_lists_only_their_department(client, two_departments):
    api = as_user(client, two_departments["head_a"])

    names = {s["name"] for s in api.get("/api/v1/staff").json()["results"]}
    # Asking for department B explicitly does not widen the scope either.
    other = api.get(
        "/api/v1/staff", {"department": two_departments["staff_b"].department_id}
    ).json()

    assert "甲办事员" in names
    assert "乙办事员" not in names
    assert other["count"] == 0


def test_mobiles_are_masked_in_lists_and_details(client, two_departments):
    api = as_user(client, two_departments["head_a"])
    staff = two_departments["staff_a"]

    listed = {s["id"]: s["mobile"] for s in api.get("/api/v1/staff").json()["results"]}
    detail = api.get(f"/api/v1/staff/{staff.pk}").json()

    assert listed[staff.pk] == "138****0002"
    assert detail["mobile"] == "138****0002"
    assert b"13800000002" not in api.get("/api/v1/staff").content


def test_full_mobile_on_request_is_audited(client, two_departments):
    head, staff = two_departments["head_a"], two_departments["staff_a"]

    response = as_user(client, head).post(f"/api/v1/staff/{staff.pk}/mobile")

    assert response.json() == {"id": staff.pk, "mobile": "13800000002"}
    event = AuditEvent.objects.get(action="staff.view", object_id=str(staff.pk))
    assert event.actor_id == head.pk


def test_another_departments_staff_are_404_by_id_guessing(client, two_departments):
    api = as_user(client, two_departments["head_a"])
    foreign = two_departments["staff_b"]
    events = AuditEvent.objects.count()

    responses = [
        api.get(f"/api/v1/staff/{foreign.pk}"),
        api.post(f"/api/v1/staff/{foreign.pk}/mobile"),
        api.patch(
            f"/api/v1/staff/{foreign.pk}",
            {"mobile": "13700000000", "name": "改名"},
            content_type="application/json",
        ),
    ]
    missing = api.get("/api/v1/staff/999999")

    for response in responses:
        assert response.status_code == 404
        assert error_of(response) == error_of(missing)  # indistinguishable from a missing id
    foreign.refresh_from_db()
    assert (foreign.mobile, foreign.name) == ("13900000003", "乙办事员")
    assert AuditEvent.objects.count() == events


def test_department_head_edits_own_staff_through_the_action(client, two_departments, bearer):
    head, staff = two_departments["head_a"], two_departments["staff_a"]

    response = client.patch(
        f"/api/v1/staff/{staff.pk}",
        {"mobile": "13700000009"},
        content_type="application/json",
        headers=bearer(head),
    )

    assert response.status_code == 200
    assert response.json()["mobile"] == "137****0009"
    staff.refresh_from_db()
    assert (staff.mobile, staff.name) == ("13700000009", "甲办事员")
    event = AuditEvent.objects.get(action="staff.updated", object_id=str(staff.pk))
    assert (event.before["mobile"], event.after["mobile"]) == ("13800000002", "13700000009")


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"mobile": "12345"}, {"mobile"}),
        ({"name": ""}, {"name"}),
        ({"name": "名" * 33}, {"name"}),
        ({"name": "新名字", "role": "admin"}, {"role"}),
        ({"name": None}, {"name"}),
        ({}, {"__all__"}),
    ],
)
def test_invalid_edits_are_422_and_change_nothing(client, two_departments, payload, fields):
    head, staff = two_departments["head_a"], two_departments["staff_a"]

    response = as_user(client, head).patch(
        f"/api/v1/staff/{staff.pk}", payload, content_type="application/json"
    )

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid"
    assert set(error["fields"]) == fields
    staff.refresh_from_db()
    assert (staff.mobile, staff.name, staff.role) == ("13800000002", "甲办事员", Role.HANDLER)


def test_invalid_mobile_message_is_the_models(client, two_departments):
    staff = two_departments["staff_a"]

    response = as_user(client, two_departments["head_a"]).patch(
        f"/api/v1/staff/{staff.pk}", {"mobile": "12345678901"}, content_type="application/json"
    )

    assert error_of(response)["fields"] == {"mobile": ["请输入11位手机号码"]}


def test_viewers_who_may_not_manage_get_403(client, two_departments):
    staff = two_departments["staff_a"]
    api = as_user(client, UserFactory(role=Role.DISPATCHER))

    assert api.get(f"/api/v1/staff/{staff.pk}").status_code == 200
    response = api.patch(
        f"/api/v1/staff/{staff.pk}", {"name": "改名"}, content_type="application/json"
    )

    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"
    staff.refresh_from_db()
    assert staff.name == "甲办事员"


def test_citizens_are_not_staff(client, two_departments):
    citizen = UserFactory(role=Role.CITIZEN)
    api = as_user(client, UserFactory(role=Role.ADMIN))

    ids = {s["id"] for s in api.get("/api/v1/staff", {"page_size": 100}).json()["results"]}

    assert citizen.pk not in ids
    assert api.get(f"/api/v1/staff/{citizen.pk}").status_code == 404


def test_staff_filters(client, two_departments):
    api = as_user(client, UserFactory(role=Role.SUPERVISOR))
    staff_b = two_departments["staff_b"]
    User.objects.filter(pk=staff_b.pk).update(is_active=False)

    active_handlers = api.get("/api/v1/staff", {"role": "handler"}).json()["results"]
    inactive = api.get("/api/v1/staff", {"is_active": "false"}).json()["results"]
    found = api.get("/api/v1/staff", {"q": "甲办"}).json()["results"]

    assert [s["name"] for s in active_handlers] == ["甲办事员"]
    assert [s["name"] for s in inactive] == ["乙办事员"]
    assert [s["name"] for s in found] == ["甲办事员"]


def test_notifications_are_ones_own(client):
    me, other = UserFactory(), UserFactory()
    mine = Notification.objects.create(user=me, title="我的")
    Notification.objects.create(user=me, title="已读的", read_at="2026-01-01T00:00:00Z")
    theirs = Notification.objects.create(user=other, title="别人的")
    api = as_user(client, me)

    titles = {n["title"] for n in api.get("/api/v1/notifications").json()["results"]}
    unread = [
        n["title"] for n in api.get("/api/v1/notifications", {"unread": "true"}).json()["results"]
    ]
    read = api.post(f"/api/v1/notifications/{mine.pk}/read")
    foreign = api.post(f"/api/v1/notifications/{theirs.pk}/read")

    assert titles == {"我的", "已读的"}
    assert unread == ["我的"]
    assert read.status_code == 200
    assert read.json()["read_at"] is not None
    assert foreign.status_code == 404
    assert error_of(foreign)["code"] == "not_found"
    theirs.refresh_from_db()
    assert theirs.read_at is None
