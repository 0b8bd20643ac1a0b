"""The reply form of the staff appeal page runs the reply check before anything is sent."""

from __future__ import annotations

import pytest
from django.urls import reverse

from minsheng.appeals.models import Appeal
from minsheng.appeals.states import State
from minsheng.core.models import AuditEvent, OutboxMessage
from tests.appeals.factories import Cast, appeal_in, make_cast

pytestmark = pytest.mark.django_db

TITLE = "幸福小区门口路灯不亮"
CLEAN = (
    "王先生您好！感谢您反映幸福小区门口路灯不亮的问题。经城管站现场核实，门口三盏路灯"
    "因线路老化损坏。我站已安排电工更换线路和灯具，将于6月20日前全部恢复照明。"
    "如有疑问，请联系城管站李工，联系电话0731-84561234。感谢您对我们工作的支持！"
)
TEMPLATE = (
    "您好！您反映的问题已收悉，我们高度重视，已转交相关部门认真研究，"
    "会依法依规妥善处理。感谢您对我们工作的关心和支持！"
)


@pytest.fixture
def cast() -> Cast:
    return make_cast()


@pytest.fixture
def appeal(cast: Cast) -> Appeal:
    return appeal_in(State.HANDLING, cast, title=TITLE)


def post_reply(client, appeal: Appeal, text: str, **extra: str):
    url = reverse("appeals:act", args=[appeal.pk, "reply"])
    return client.post(url, {"version": appeal.version, "text": text, **extra})


def replied_audit(appeal: Appeal) -> AuditEvent:
    return AuditEvent.objects.filter(action="appeal.replied", object_id=str(appeal.pk)).get()


def test_a_fresh_form_has_no_override_box(client, cast, appeal):
    client.force_login(cast.handler)
    page = client.get(reverse("appeals:detail", args=[appeal.pk])).content.decode()
    assert 'id="action-reply"' in page
    assert 'type="hidden" name="override"' in page
    assert 'type="checkbox" name="override"' not in page


def test_warnings_are_shown_and_nothing_is_sent(client, cast, appeal):
    client.force_login(cast.handler)
    response = post_reply(client, appeal, TEMPLATE)
    assert response.status_code == 400
    page = response.content.decode()
    assert "答复与诉求内容关联度低" in page
    assert "未提供联系人或联系电话" in page
    assert 'type="checkbox" name="override"' in page and "仍然发送" in page
    assert TEMPLATE in page  # the handler's text is kept for editing
    fresh = Appeal.objects.get(pk=appeal.pk)
    assert fresh.state == State.HANDLING and fresh.reply == ""
    assert not OutboxMessage.objects.filter(kind="appeal.replied").exists()
    assert not AuditEvent.objects.filter(action="appeal.replied").exists()


def test_override_sends_and_the_audit_keeps_the_overridden_warnings(client, cast, appeal):
    client.force_login(cast.handler)
    assert post_reply(client, appeal, TEMPLATE).status_code == 400
    response = post_reply(client, appeal, TEMPLATE, override="on")
    assert response.status_code == 302
    fresh = Appeal.objects.get(pk=appeal.pk)
    assert fresh.state == State.REPLIED and fresh.reply == TEMPLATE
    assert OutboxMessage.objects.filter(kind="appeal.replied").exists()
    check = replied_audit(appeal).after["reply_check"]
    assert "irrelevant" in check["overridden"] and "no_contact" in check["overridden"]
    assert check["overridden"] == check["warnings"]
    assert 0 <= check["relevance"] < 0.3


def test_a_clean_reply_is_sent_directly(client, cast, appeal):
    client.force_login(cast.handler)
    response = post_reply(client, appeal, CLEAN)
    assert response.status_code == 302
    fresh = Appeal.objects.get(pk=appeal.pk)
    assert fresh.state == State.REPLIED and fresh.reply == CLEAN
    check = replied_audit(appeal).after["reply_check"]
    assert check["warnings"] == [] and check["overridden"] == []
    assert check["overall"] >= 0.6


def test_a_reply_that_may_not_be_sent_is_refused_before_any_check(client, cast):
    dispatched = appeal_in(State.DISPATCHED, cast, title=TITLE)
    client.force_login(cast.handler)
    response = post_reply(client, dispatched, TEMPLATE)
    assert response.status_code == 409
    assert "答复与诉求内容关联度低" not in response.content.decode()
    assert Appeal.objects.get(pk=dispatched.pk).state == State.DISPATCHED


def test_a_reply_under_ten_characters_is_a_form_error_first(client, cast, appeal):
    client.force_login(cast.handler)
    response = post_reply(client, appeal, "已处理")
    assert response.status_code == 400
    page = response.content.decode()
    assert "答复内容至少10个字" in page and "答复与诉求内容关联度低" not in page
