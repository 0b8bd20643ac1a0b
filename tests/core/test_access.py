from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from minsheng.core import audit, context
from minsheng.core.access import can_see_unmasked, view_personal
from minsheng.core.models import AuditEvent, Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_view_personal_records_the_fields_shown():
    head = UserFactory(role=Role.DEPT_HEAD, name="赵六")
    member = UserFactory(role=Role.HANDLER, department=head.department)
    token = context.begin("view-req-0001")
    try:
        shown = view_personal(head, "staff.view", member, fields=["mobile", "name", "mobile"])
    finally:
        context.end(token)

    assert shown is member
    event = AuditEvent.objects.get()
    assert (event.action, event.actor_id, event.role) == ("staff.view", head.pk, "dept_head")
    assert (event.object_type, event.object_id) == ("core.user", str(member.pk))
    assert event.after == {"fields": ["mobile", "name"]}
    assert event.request_id == "view-req-0001"
    assert audit.verify().ok


@pytest.mark.parametrize(
    "viewer",
    [
        lambda member: UserFactory(role=Role.DEPT_HEAD),  # another department
        lambda member: UserFactory(
            role=Role.HANDLER, department=member.department
        ),  # role not allowed
        lambda member: UserFactory(role=Role.SUPERVISOR, is_active=False),
        lambda member: AnonymousUser(),
        lambda member: None,
    ],
    ids=["other-department", "handler", "inactive", "anonymous", "nobody"],
)
def test_view_personal_refused_leaves_no_event(viewer):
    member = UserFactory(role=Role.HANDLER)
    user = viewer(member)

    assert not can_see_unmasked(user, "staff.view", member)
    with pytest.raises(PermissionDenied):
        view_personal(user, "staff.view", member, fields=["mobile"])
    assert not AuditEvent.objects.exists()


def test_can_see_unmasked_follows_the_policy():
    member = UserFactory(role=Role.HANDLER)

    assert can_see_unmasked(UserFactory(role=Role.SUPERVISOR), "staff.view", member)
    assert can_see_unmasked(
        UserFactory(role=Role.DEPT_HEAD, department=member.department), "staff.view", member
    )
    assert not can_see_unmasked(UserFactory(role=Role.LEADER), "staff.manage", member)
    assert not AuditEvent.objects.exists()  # asking is not viewing


@pytest.mark.parametrize("fields", [[], "mobile"])
def test_view_personal_needs_the_field_names(fields):
    supervisor = UserFactory(role=Role.SUPERVISOR)
    with pytest.raises(ValueError, match="fields"):
        view_personal(supervisor, "staff.view", UserFactory(), fields=fields)
    assert not AuditEvent.objects.exists()
