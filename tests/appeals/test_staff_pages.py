"""The staff appeal pages: workbench, appeal page and its action forms, intake, boards."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from minsheng.appeals import actions
from minsheng.appeals.models import (
    Appeal,
    Category,
    Channel,
    ExtensionRequest,
    Rating,
    RoutingRule,
    Supervision,
)
from minsheng.appeals.states import State
from minsheng.core.models import AuditEvent, Role
from tests.factories import DepartmentFactory, DivisionFactory, UserFactory

pytestmark = pytest.mark.django_db


def submit(title: str = "路灯不亮", body: str = "村口路灯坏了一个月了，晚上出行很不方便", **kw):
    data = {"citizen_mobile": "13812341234", "citizen_name": "张三丰", **kw}
    return actions.submit(actions.AppealInput(title=title, body=body, **data)).appeal


def png_upload(name: str = "现场.png") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def act_url(appeal: Appeal, name: str) -> str:
    return reverse("appeals:act", args=[appeal.pk, name])


@pytest.fixture
def dept():
    return DepartmentFactory(name="县住建局")


@pytest.fixture
def dispatcher():
    return UserFactory(role=Role.DISPATCHER)


@pytest.fixture
def handler(dept):
    return UserFactory(role=Role.HANDLER, department=dept)


def test_workbench_lists_the_departments_queue_by_deadline_with_badges(client, dept, handler):
    dispatcher = UserFactory(role=Role.DISPATCHER)
    with time_machine.travel(dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)):
        late = submit(title="早来的投诉", appeal_type="consult")
        actions.dispatch(late.pk, department_id=dept.pk, by=dispatcher)
    fresh = submit(title="新来的建议", appeal_type="suggestion")
    actions.dispatch(fresh.pk, department_id=dept.pk, by=dispatcher)
    not_mine = submit(title="别人的")
    client.force_login(handler)
    response = client.get(reverse("appeals:workbench"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index(late.number) < html.index(fresh.number)  # the overdue one first
    assert not_mine.number not in html
    assert "deadline-overdue" in html and "deadline-ok" in html
    # Filters: overdue only.
    response = client.get(reverse("appeals:workbench"), {"overdue": "on"})
    assert late.number in response.content.decode()
    assert fresh.number not in response.content.decode()


def test_workbench_filters_and_bad_dates(client, dispatcher):
    urgent = submit(title="燃气泄漏", urgency="urgent", appeal_type="report")
    normal = submit(title="咨询社保", appeal_type="consult")
    client.force_login(dispatcher)
    html = client.get(reverse("appeals:workbench"), {"urgency": "urgent"}).content.decode()
    assert urgent.number in html and normal.number not in html
    html = client.get(reverse("appeals:workbench"), {"appeal_type": "consult"}).content.decode()
    assert normal.number in html and urgent.number not in html
    response = client.get(
        reverse("appeals:workbench"), {"received_from": "2026-12-01", "received_to": "2026-11-01"}
    )
    assert response.status_code == 200
    assert "结束日期不能早于开始日期" in response.content.decode()


def test_the_whole_loop_through_the_page(client, dept, dispatcher, handler):
    """dispatch → sign → note with a file → extension → approve → reply → callback."""
    category = Category.objects.create(code="road", name="道路照明")
    RoutingRule.objects.create(category=category, department=dept)
    appeal = submit(category_id=category.pk)

    client.force_login(dispatcher)
    page = client.get(reverse("appeals:detail", args=[appeal.pk])).content.decode()
    assert f'<option value="{dept.pk}" selected>' in page  # the catalogue's suggestion
    response = client.post(
        act_url(appeal, "dispatch"), {"version": appeal.version, "department": dept.pk}
    )
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert appeal.state == State.DISPATCHED and appeal.lead_department == dept

    client.force_login(handler)
    assert client.post(act_url(appeal, "sign"), {"version": appeal.version}).status_code == 302
    appeal.refresh_from_db()
    assert appeal.state == State.HANDLING

    response = client.post(
        act_url(appeal, "note"), {"text": "已到现场查看", "uploads": [png_upload()]}
    )
    assert response.status_code == 302
    note = appeal.events.get(kind="note")
    assert note.attachments.count() == 1

    response = client.post(act_url(appeal, "extension"), {"days": 3, "reason": "需要采购灯具"})
    assert response.status_code == 302
    extension = ExtensionRequest.objects.get(appeal=appeal)

    client.force_login(dispatcher)
    old_due = Appeal.objects.get(pk=appeal.pk).due_at
    response = client.post(
        act_url(appeal, "decide_extension"), {"extension": extension.pk, "approve": "1"}
    )
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert appeal.due_at > old_due and appeal.extension_count == 1

    client.force_login(handler)
    response = client.post(
        act_url(appeal, "reply"),
        # The reply check's warnings (no contact, no date) are read and overridden here;
        # tests/appeals/test_reply_check_form.py covers the check itself.
        {
            "version": appeal.version,
            "text": "已更换灯具，路灯恢复照明，感谢反映。",
            "override": "on",
        },
    )
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert appeal.state == State.REPLIED

    client.force_login(dispatcher)
    response = client.post(
        act_url(appeal, "callback"),
        {"version": appeal.version, "resolved": "1", "level": "satisfied", "comment": "很好"},
    )
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert appeal.state == State.CLOSED
    assert appeal.ratings.get().source == Rating.Source.CALLBACK


def test_stale_version_is_a_conflict_and_changes_nothing(client, dept, dispatcher, handler):
    appeal = submit()
    actions.dispatch(appeal.pk, department_id=dept.pk, by=dispatcher)
    appeal.refresh_from_db()
    stale = appeal.version
    other = DepartmentFactory()
    actions.dispatch(appeal.pk, department_id=other.pk, by=dispatcher, expected_version=stale)
    actions.dispatch(appeal.pk, department_id=dept.pk, by=dispatcher)  # back, newer version
    appeal.refresh_from_db()
    events = appeal.events.count()

    client.force_login(handler)
    response = client.post(act_url(appeal, "sign"), {"version": stale})
    assert response.status_code == 409
    assert "该诉求刚刚已被他人处理" in response.content.decode()
    response = client.post(act_url(appeal, "sign"), {"version": stale}, HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    assert response["HX-Retarget"] == "#appeal-alert"
    assert "该诉求刚刚已被他人处理" in response.content.decode()
    fresh = Appeal.objects.get(pk=appeal.pk)
    assert fresh.state == State.DISPATCHED and fresh.version == appeal.version
    assert fresh.events.count() == events


def test_bad_input_shows_the_form_again(client, dept, dispatcher, handler):
    appeal = submit()
    actions.dispatch(appeal.pk, department_id=dept.pk, by=dispatcher)
    actions.sign(appeal.pk, by=handler)
    appeal.refresh_from_db()
    client.force_login(handler)
    response = client.post(act_url(appeal, "reply"), {"version": appeal.version, "text": "好"})
    assert response.status_code == 400
    assert "答复内容至少10个字" in response.content.decode()
    assert Appeal.objects.get(pk=appeal.pk).state == State.HANDLING
    response = client.post(act_url(appeal, "extension"), {"days": 99, "reason": "需要很久很久"})
    assert response.status_code == 400
    assert "延期天数应在1到" in response.content.decode()
    assert not ExtensionRequest.objects.exists()


def test_forms_follow_role_and_state(client, dept, dispatcher, handler):
    appeal = submit()
    client.force_login(dispatcher)
    page = client.get(reverse("appeals:detail", args=[appeal.pk])).content.decode()
    assert 'id="action-dispatch"' in page and 'id="action-refuse"' in page
    assert 'id="action-sign"' not in page and 'id="action-reply"' not in page
    actions.dispatch(appeal.pk, department_id=dept.pk, by=dispatcher)

    page = client.get(reverse("appeals:detail", args=[appeal.pk])).content.decode()
    assert "改派" in page and 'id="action-refuse"' not in page

    client.force_login(handler)
    page = client.get(reverse("appeals:detail", args=[appeal.pk])).content.decode()
    assert 'id="action-sign"' in page and 'id="action-return"' in page
    assert 'id="action-dispatch"' not in page and 'id="action-reply"' not in page
    # A form the state does not allow is refused by the action as well.
    appeal.refresh_from_db()
    response = client.post(
        act_url(appeal, "reply"), {"version": appeal.version, "text": "已经处理完毕了，谢谢。"}
    )
    assert response.status_code == 409
    assert Appeal.objects.get(pk=appeal.pk).state == State.DISPATCHED


def test_return_dispute_and_redispatch(client, dept, dispatcher, handler):
    appeal = submit()
    actions.dispatch(appeal.pk, department_id=dept.pk, by=dispatcher)
    appeal.refresh_from_db()
    client.force_login(handler)
    response = client.post(
        act_url(appeal, "return"), {"version": appeal.version, "reason": "不属于本局职责"}
    )
    # The department no longer sees it: back to the workbench.
    assert response.status_code == 302 and response["Location"] == reverse("appeals:workbench")
    client.force_login(dispatcher)
    board = client.get(reverse("appeals:dispatch_board")).content.decode()
    assert appeal.number in board and "不属于本局职责" in board
    record = appeal.returns.get()
    response = client.post(
        act_url(appeal, "dispute"),
        {"record": record.pk, "note": "路灯归住建局管", "next": reverse("appeals:dispatch_board")},
    )
    assert response["Location"] == reverse("appeals:dispatch_board")
    record.refresh_from_db()
    assert record.disputed
    html = client.get(reverse("appeals:supervision_board")).content.decode()
    assert "路灯归住建局管" in html


def test_refuse_promote_merge_supervise_review(client, dept, dispatcher, handler):
    refused = submit(title="家里着火了")
    client.force_login(dispatcher)
    client.post(act_url(refused, "refuse"), {"version": refused.version, "rule": "emergency-119"})
    assert Appeal.objects.get(pk=refused.pk).state == State.REFUSED

    master = submit(title="小区停水")
    duplicate = submit(title="小区又停水")
    response = client.post(act_url(master, "merge"), {"numbers": f"{duplicate.number}"})
    assert response.status_code == 302
    assert Appeal.objects.get(pk=duplicate.pk).merged_into_id == master.pk
    response = client.post(act_url(master, "merge"), {"numbers": "YT-20990101-000001"})
    assert response.status_code == 400 and "找不到诉求" in response.content.decode()

    promoted = submit(title="修一条路")
    client.post(
        act_url(promoted, "promote"), {"version": promoted.version, "reason": "需要立项统筹建设"}
    )
    assert Appeal.objects.get(pk=promoted.pk).state == State.PROMOTED

    supervisor = UserFactory(role=Role.SUPERVISOR)
    client.force_login(supervisor)
    client.post(act_url(master, "supervise"), {"note": "请尽快办理"})
    assert Supervision.objects.filter(appeal=master, resolved_at__isnull=True).exists()

    # An unsatisfied link rating waits for the dispatcher's review on the board.
    rated = submit(title="垃圾没人收")
    actions.dispatch(rated.pk, department_id=dept.pk, by=dispatcher)
    actions.sign(rated.pk, by=handler)
    actions.reply(rated.pk, text="已安排环卫每日清运垃圾。", by=handler)
    rated.refresh_from_db()
    actions.rate(actions.rating_token(rated), resolved=False, level="unsatisfied", comment="没人来")
    client.force_login(dispatcher)
    assert rated.number in client.get(reverse("appeals:dispatch_board")).content.decode()
    client.post(act_url(rated, "review"), {"handler_at_fault": "1", "note": "确未清运"})
    rated.refresh_from_db()
    assert rated.state == State.HANDLING and rated.rehandle_count == 1
    assert rated.number in client.get(reverse("appeals:supervision_board")).content.decode()


def test_contact_is_masked_and_unmasking_is_audited(client, dept, dispatcher, handler):
    town = DivisionFactory(name="城关镇")
    village = DivisionFactory(name="东关村", level="village", parent=town)
    appeal = submit(division_id=village.pk, address="东关村3组12号")
    actions.dispatch(appeal.pk, department_id=dept.pk, by=dispatcher)
    client.force_login(handler)
    page = client.get(reverse("appeals:detail", args=[appeal.pk])).content.decode()
    assert "138****1234" in page and "张**" in page
    assert "13812341234" not in page and "东关村3组12号" not in page
    assert "显示完整信息" in page
    before = AuditEvent.objects.filter(action="appeal.view_personal").count()
    response = client.post(reverse("appeals:contact", args=[appeal.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert "13812341234" in html and "张三丰" in html and "东关村3组12号" in html
    event = AuditEvent.objects.filter(action="appeal.view_personal").latest("seq")
    assert AuditEvent.objects.filter(action="appeal.view_personal").count() == before + 1
    assert event.actor_id == handler.pk and event.object_id == str(appeal.pk)

    leader = UserFactory(role=Role.LEADER)
    client.force_login(leader)
    page = client.get(reverse("appeals:detail", args=[appeal.pk])).content.decode()
    assert "显示完整信息" not in page
    assert client.post(reverse("appeals:contact", args=[appeal.pk])).status_code == 403


def test_attachment_download_goes_through_the_permission_check(client, dept, dispatcher):
    appeal = submit()
    client.force_login(dispatcher)
    client.post(act_url(appeal, "note"), {"text": "补充材料", "uploads": [png_upload()]})
    item = appeal.attachments.get()
    url = reverse("appeals:attachment", args=[appeal.pk, item.pk])
    assert url in client.get(reverse("appeals:detail", args=[appeal.pk])).content.decode()
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert AuditEvent.objects.filter(action="appeal.attachment_opened").exists()
    # The same attachment through another appeal's URL is not found.
    other = submit(title="别的诉求")
    assert client.get(reverse("appeals:attachment", args=[other.pk, item.pk])).status_code == 404


def test_staff_intake_shows_number_and_code_once(client, dispatcher):
    client.force_login(dispatcher)
    page = client.get(reverse("appeals:intake"))
    key = page.context["form"].initial["idempotency_key"]
    data = {
        "channel": Channel.HOTLINE,
        "title": "噪音扰民",
        "body": "楼下饭店夜间施工噪音很大",
        "appeal_type": "complaint",
        "urgency": "normal",
        "citizen_name": "李四",
        "citizen_mobile": "13900001111",
        "idempotency_key": key,
    }
    response = client.post(reverse("appeals:intake"), data)
    assert response.status_code == 201
    appeal = Appeal.objects.get()
    assert appeal.channel == Channel.HOTLINE and appeal.entered_by == dispatcher
    html = response.content.decode()
    assert appeal.number in html and response.context["query_code"] in html
    # Sent twice (a double click, a reload): still one appeal, and no new code.
    again = client.post(reverse("appeals:intake"), data)
    assert again.status_code == 200 and again.context["query_code"] is None
    assert Appeal.objects.count() == 1
    bad = client.post(
        reverse("appeals:intake"), {**data, "idempotency_key": "k2", "citizen_mobile": "123"}
    )
    assert bad.status_code == 400 and "请输入11位手机号码" in bad.content.decode()
    assert Appeal.objects.count() == 1


def test_intake_needs_the_right(client):
    leader = UserFactory(role=Role.LEADER)
    client.force_login(leader)
    assert client.get(reverse("appeals:intake")).status_code == 403
    citizen = UserFactory(role=Role.CITIZEN)
    client.force_login(citizen)
    assert client.get(reverse("appeals:workbench")).status_code == 403


def test_bulk_sign_reports_each_conflict(client, dept, dispatcher, handler):
    first, second = submit(title="一"), submit(title="二")
    for appeal in (first, second):
        actions.dispatch(appeal.pk, department_id=dept.pk, by=dispatcher)
        appeal.refresh_from_db()
    stale = second.version
    actions.dispatch(second.pk, department_id=dept.pk, by=dispatcher)  # changed meanwhile
    client.force_login(handler)
    response = client.post(
        reverse("appeals:bulk"),
        {"action": "sign", "items": [f"{first.pk}-{first.version}", f"{second.pk}-{stale}"]},
        follow=True,
    )
    messages = [str(m) for m in response.context["messages"]]
    assert "已签收1件" in messages
    assert any(second.number in m and "该诉求刚刚已被他人处理" in m for m in messages)
    assert Appeal.objects.get(pk=first.pk).state == State.HANDLING
    assert Appeal.objects.get(pk=second.pk).state == State.DISPATCHED


def test_bulk_dispatch(client, dept, dispatcher):
    first, second = submit(title="一"), submit(title="二")
    client.force_login(dispatcher)
    response = client.post(
        reverse("appeals:bulk"),
        {
            "action": "dispatch",
            "department": dept.pk,
            "items": [f"{first.pk}-{first.version}", f"{second.pk}-{second.version}"],
        },
    )
    assert response.status_code == 302
    assert set(Appeal.objects.values_list("state", flat=True)) == {State.DISPATCHED}
    response = client.post(
        reverse("appeals:bulk"), {"action": "dispatch", "items": [f"{first.pk}-0"]}, follow=True
    )
    assert "请选择主办部门" in [str(m) for m in response.context["messages"]]


def test_boards(client, dept, dispatcher, handler):
    category = Category.objects.create(code="water", name="供水")
    RoutingRule.objects.create(category=category, department=dept)
    new = submit(title="停水了", category_id=category.pk)
    with time_machine.travel(dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)):
        late = submit(title="超期的诉求", appeal_type="consult")
        actions.dispatch(late.pk, department_id=dept.pk, by=dispatcher)
    client.force_login(dispatcher)
    response = client.get(reverse("appeals:dispatch_board"))
    html = response.content.decode()
    assert new.number in html and late.number in html
    assert f'<option value="{dept.pk}" selected>' in html
    client.force_login(UserFactory(role=Role.SUPERVISOR))
    response = client.get(reverse("appeals:supervision_board"))
    assert response.context["by_department"] == [
        {"department_id": dept.pk, "department": dept.name, "count": 1}
    ]
    assert late.number in response.content.decode()
    client.force_login(handler)
    assert client.get(reverse("appeals:dispatch_board")).status_code == 403


def test_menu_and_admin(client, dispatcher):
    client.force_login(dispatcher)
    html = client.get(reverse("appeals:workbench")).content.decode()
    assert reverse("appeals:dispatch_board") in html and reverse("appeals:intake") in html
    admin = UserFactory(role=Role.ADMIN, is_staff=True)
    client.force_login(admin)
    for name in ("category", "routingrule", "timelimit", "refusalrule", "appealsettings"):
        assert client.get(reverse(f"admin:appeals_{name}_changelist")).status_code == 200
    appeal = submit()
    response = client.get(reverse("admin:appeals_appeal_change", args=[appeal.pk]))
    assert response.status_code == 200
    assert "138****1234" in response.content.decode()
    assert "13812341234" not in response.content.decode()
    response = client.post(
        reverse("admin:appeals_timelimit_change", args=[1]),
        {"appeal_type": "consult", "urgency": "normal", "working_days": 4},
    )
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="appeal.config_changed").exists()
    # The dispatcher has no admin.
    client.force_login(dispatcher)
    assert client.get(reverse("admin:appeals_timelimit_changelist")).status_code == 302


def test_the_page_renders_in_every_state(client, dept, dispatcher, handler):
    received = submit(title="受理")
    merged = submit(title="合并")
    actions.merge(received.pk, [merged.pk], by=dispatcher)
    closed = submit(title="办结")
    actions.dispatch(closed.pk, department_id=dept.pk, by=dispatcher)
    actions.sign(closed.pk, by=handler)
    actions.reply(closed.pk, text="已经处理完毕，谢谢您的反映。", by=handler)
    closed.refresh_from_db()
    actions.rate(actions.rating_token(closed), resolved=True, level="satisfied")
    seen = set()
    for user in (dispatcher, handler, UserFactory(role=Role.SUPERVISOR)):
        client.force_login(user)
        for appeal in Appeal.objects.all():
            response = client.get(reverse("appeals:detail", args=[appeal.pk]))
            if response.status_code == 200:
                seen.add(appeal.state)
            else:
                assert response.status_code == 404 and user == handler
    assert seen == {State.RECEIVED, State.MERGED, State.CLOSED}
