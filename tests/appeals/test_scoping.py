"""A department sees its own appeals only: every staff URL of another department's appeal is
a 404 that changes nothing, and no list or export ever carries another department's appeal."""

from __future__ import annotations

import pytest
from django.urls import reverse

from minsheng.appeals import actions, exports
from minsheng.appeals.models import Appeal
from minsheng.appeals.views.staff_actions import ACTIONS
from minsheng.core.models import AuditEvent, Role
from tests.appeals.test_staff_pages import png_upload, submit
from tests.factories import DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_departments():
    dept_a, dept_b = DepartmentFactory(name="甲局"), DepartmentFactory(name="乙局")
    dispatcher = UserFactory(role=Role.DISPATCHER)
    mine = submit(title="甲局的诉求")
    theirs = submit(title="乙局的诉求", body="乙局辖区内的问题需要处理")
    actions.dispatch(mine.pk, department_id=dept_a.pk, by=dispatcher)
    actions.dispatch(theirs.pk, department_id=dept_b.pk, by=dispatcher)
    actions.add_note(theirs.pk, text="现场照片", files=[], by=dispatcher)
    return dept_a, dept_b, dispatcher, mine, theirs


def _state(appeal: Appeal) -> tuple:
    fresh = Appeal.objects.get(pk=appeal.pk)
    return (
        fresh.state,
        fresh.version,
        fresh.lead_department_id,
        fresh.events.count(),
        fresh.attachments.count(),
        fresh.extensions.count(),
        fresh.returns.count(),
    )


@pytest.mark.parametrize("role", [Role.HANDLER, Role.DEPT_HEAD])
def test_another_departments_appeal_is_404_everywhere(client, two_departments, role):
    dept_a, _dept_b, dispatcher, mine, theirs = two_departments
    from minsheng.appeals.attachments import clean

    actions.add_note(theirs.pk, text="材料", files=[clean(png_upload())], by=dispatcher)
    attachment = theirs.attachments.get()
    user = UserFactory(role=role, department=dept_a)
    client.force_login(user)
    before = _state(theirs)
    audit_before = AuditEvent.objects.count()

    assert client.get(reverse("appeals:detail", args=[mine.pk])).status_code == 200
    assert client.get(reverse("appeals:detail", args=[theirs.pk])).status_code == 404
    url = reverse("appeals:attachment", args=[theirs.pk, attachment.pk])
    assert client.get(url).status_code == 404
    url = reverse("appeals:attachment", args=[mine.pk, attachment.pk])
    assert client.get(url).status_code == 404
    assert client.post(reverse("appeals:contact", args=[theirs.pk])).status_code == 404
    payload = {
        "version": theirs.version + 1,
        "department": dept_a.pk,
        "text": "这是一段足够长的答复内容。",
        "reason": "不是我们的事情",
        "days": 2,
        "extension": 1,
        "approve": "1",
        "resolved": "1",
        "level": "satisfied",
        "handler_at_fault": "1",
        "numbers": mine.number,
        "record": 1,
        "rule": "emergency-110",
    }
    theirs.refresh_from_db()
    payload["version"] = theirs.version
    for name in ACTIONS:
        response = client.post(reverse("appeals:act", args=[theirs.pk, name]), payload)
        assert response.status_code == 404, name
    # Bulk with a guessed id reports it as not found.
    response = client.post(
        reverse("appeals:bulk"),
        {"action": "sign", "items": [f"{theirs.pk}-{theirs.version}"]},
        follow=True,
    )
    assert "有一件诉求不存在或无权处理" in [str(m) for m in response.context["messages"]]

    assert _state(theirs) == before
    assert AuditEvent.objects.count() == audit_before


def test_lists_and_exports_never_hold_another_departments_appeals(client, two_departments):
    dept_a, _dept_b, _dispatcher, mine, theirs = two_departments
    handler = UserFactory(role=Role.HANDLER, department=dept_a)
    client.force_login(handler)
    html = client.get(reverse("appeals:workbench"), {"state": "all"}).content.decode()
    assert mine.number in html and theirs.number not in html
    html = client.get(reverse("appeals:workbench"), {"q": "乙局"}).content.decode()
    assert theirs.number not in html
    html = client.get(reverse("appeals:supervision_board")).content.decode()
    assert theirs.number not in html
    for table, spec in exports.TABLES.items():
        for fmt in exports.FORMATS:
            response = client.get(reverse("appeals:export", args=[table, fmt]), {"state": "all"})
            if spec.action in {"appeal.view"}:
                assert response.status_code == 200, table
                assert theirs.number.encode() not in response.content
                if table == "workbench" and fmt == "csv":
                    assert mine.number.encode() in response.content
            else:
                assert response.status_code == 403, table


def test_co_department_sees_but_cannot_sign(client, two_departments):
    dept_a, dept_b, dispatcher, _mine, theirs = two_departments
    theirs.refresh_from_db()
    actions.dispatch(
        theirs.pk, department_id=dept_b.pk, co_department_ids=[dept_a.pk], by=dispatcher
    )
    theirs.refresh_from_db()
    handler = UserFactory(role=Role.HANDLER, department=dept_a)
    client.force_login(handler)
    page = client.get(reverse("appeals:detail", args=[theirs.pk])).content.decode()
    assert 'id="action-note"' in page and 'id="action-sign"' not in page
    response = client.post(
        reverse("appeals:act", args=[theirs.pk, "sign"]), {"version": theirs.version}
    )
    assert response.status_code == 403
    assert Appeal.objects.get(pk=theirs.pk).state == theirs.state
