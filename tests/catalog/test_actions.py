from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from minsheng.catalog import actions
from minsheng.catalog.models import ServiceMatter
from minsheng.core.models import AuditEvent, Role

pytestmark = pytest.mark.django_db


def test_set_high_frequency_replaces_the_buttons(matter, department, make_user) -> None:
    other = ServiceMatter.objects.create(code="X1", name="结婚登记", department=department)
    admin = make_user(role=Role.ADMIN)
    actions.set_high_frequency(admin, ["X1", "GJJ003"])
    assert list(ServiceMatter.objects.high_frequency()) == [other, matter]
    event = AuditEvent.objects.get(action="catalog.high_frequency_set")
    assert event.before == {"codes": ["GJJ003"]} and event.after == {"codes": ["X1", "GJJ003"]}
    with pytest.raises(PermissionDenied):
        actions.set_high_frequency(make_user(role=Role.DISPATCHER), [])


def test_save_and_delete_are_audited(matter, make_user) -> None:
    admin = make_user(role=Role.ADMIN)
    before = actions.snapshot(matter)
    matter.fee = "10元"
    actions.save_matter(admin, matter, before=before)
    event = AuditEvent.objects.get(action="catalog.matter_changed")
    assert event.before["fee"] == "不收费" and event.after["fee"] == "10元"
    with pytest.raises(PermissionDenied):
        actions.delete_matter(make_user(role=Role.LEADER), matter)
    actions.delete_matter(admin, matter)
    assert not ServiceMatter.objects.exists()
    assert AuditEvent.objects.filter(action="catalog.matter_deleted").exists()


def test_superuser_without_the_admin_role_may_edit(matter, make_user) -> None:
    root = make_user(role=Role.CITIZEN, is_superuser=True, is_staff=True)
    actions.save_matter(root, matter)
    assert AuditEvent.objects.filter(action="catalog.matter_changed").exists()
