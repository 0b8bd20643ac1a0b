"""An opinion taken down at a centre is an appeal (channel 邻里中心, the village as its
place) made by the appeals' own intake, in the same transaction as the link to the centre."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from minsheng.appeals.models import Appeal, AppealType, Channel
from minsheng.appeals.states import State
from minsheng.centres import actions
from minsheng.centres.models import Opinion, Status
from minsheng.core.models import AuditEvent, Role
from tests.centres.factories import make_centre
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def record(centre, by, **fields):
    values = {
        "kind": Opinion.Kind.SUGGESTION,
        "title": "建议延长路灯开灯时间",
        "body": "冬天天黑得早，主路路灯七点就关了，老人出门不安全。",
        "citizen_name": "王秀英",
        "citizen_mobile": "13912345678",
    } | fields
    return actions.record_opinion(centre.pk, **values, by=by)


def test_an_opinion_becomes_an_appeal_from_the_centre_of_its_village():
    centre = make_centre()
    worker = UserFactory(role=Role.HANDLER, department=centre.department)
    recorded = record(centre, worker)
    appeal = recorded.opinion.appeal
    assert recorded.query_code and not recorded.replayed
    assert appeal.channel == Channel.CENTRE and appeal.get_channel_display() == "邻里中心"
    assert appeal.division == centre.village and appeal.town == centre.village.parent
    assert appeal.appeal_type == AppealType.SUGGESTION and appeal.state == State.RECEIVED
    assert appeal.entered_by == worker and appeal.citizen_name == "王秀英"
    assert recorded.opinion.centre == centre and recorded.opinion.recorded_by == worker
    assert centre.opinions.get().appeal == appeal
    actions_written = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"appeal.received", "centre.opinion_recorded"} <= actions_written

    opinion = record(centre, worker, kind=Opinion.Kind.OPINION, anonymous=True, citizen_mobile="")
    assert opinion.opinion.appeal.appeal_type == AppealType.HELP
    assert opinion.opinion.appeal.anonymous and opinion.opinion.appeal.citizen_name == ""


def test_a_refused_opinion_writes_neither_the_appeal_nor_the_link():
    centre = make_centre()
    worker = UserFactory(role=Role.WINDOW_STAFF, department=centre.department)
    with pytest.raises(actions.CentreError, match="请填写手机号，或选择匿名反映") as error:
        record(centre, worker, citizen_mobile="")
    assert error.value.field == "citizen_mobile"
    with pytest.raises(actions.CentreError, match="至少5个字") as error:
        record(centre, worker, body="路灯")
    assert error.value.field == "body"
    with pytest.raises(actions.CentreError, match="请选择意见或建议"):
        record(centre, worker, kind="praise")
    with pytest.raises(actions.CentreError, match="尚未建成"):
        record(make_centre(status=Status.BUILDING, name="新河村"), None)
    with pytest.raises(PermissionDenied):
        record(centre, UserFactory(role=Role.HANDLER))  # another town's handler
    with pytest.raises(PermissionDenied):
        record(centre, UserFactory(role=Role.LEADER))
    assert not Appeal.objects.exists() and not Opinion.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="appeal.").exists()


def test_a_resent_opinion_form_makes_one_appeal():
    centre = make_centre()
    worker = UserFactory(role=Role.HANDLER, department=centre.department)
    first = record(centre, worker, idempotency_key="k" * 24)
    again = record(centre, worker, idempotency_key="k" * 24)
    assert again.replayed and again.query_code is None and again.opinion == first.opinion
    assert Appeal.objects.count() == 1 and Opinion.objects.count() == 1


def test_the_page_shows_the_new_appeals_number_linked_to_its_staff_page():
    centre = make_centre()
    admin = UserFactory(role=Role.ADMIN)
    client = Client()
    assert client.login(username=admin.username, password=PASSWORD)
    response = client.post(
        reverse("centres:act", args=[centre.code, "opinion"]),
        {
            "opinion-kind": "opinion",
            "opinion-title": "村东头垃圾清运不及时",
            "opinion-body": "垃圾箱满了三四天才清运，希望增加次数。",
            "opinion-anonymous": "on",
            "opinion-idempotency_key": "x" * 24,
        },
    )
    assert response.status_code == 201
    appeal = Appeal.objects.get()
    html = response.content.decode()
    assert appeal.number in html and reverse("appeals:detail", args=[appeal.pk]) in html
    assert "查询码" in html
    detail = client.get(reverse("appeals:detail", args=[appeal.pk])).content.decode()
    assert "村东头垃圾清运不及时" in detail and "邻里中心" in detail

    # The town's handler sees the number; the appeal's page only once it is theirs.
    handler = UserFactory(role=Role.HANDLER, department=centre.department)
    assert client.login(username=handler.username, password=PASSWORD)
    page = client.get(reverse("centres:centre", args=[centre.code])).content.decode()
    assert appeal.number in page and reverse("appeals:detail", args=[appeal.pk]) not in page
    Appeal.objects.filter(pk=appeal.pk).update(lead_department=centre.department)
    page = client.get(reverse("centres:centre", args=[centre.code])).content.decode()
    assert reverse("appeals:detail", args=[appeal.pk]) in page


def test_a_refused_opinion_on_the_page_keeps_the_form_with_the_reason():
    centre = make_centre()
    handler = UserFactory(role=Role.HANDLER, department=centre.department)
    client = Client()
    assert client.login(username=handler.username, password=PASSWORD)
    response = client.post(
        reverse("centres:act", args=[centre.code, "opinion"]),
        {
            "opinion-kind": "opinion",
            "opinion-title": "垃圾清运",
            "opinion-body": "垃圾箱满了三四天才清运。",
            "opinion-citizen_name": "王秀英",
            "opinion-idempotency_key": "y" * 24,
        },
    )
    html = response.content.decode()
    assert response.status_code == 400 and "请填写手机号，或选择匿名反映" in html
    assert 'value="王秀英"' in html and not Appeal.objects.exists()
