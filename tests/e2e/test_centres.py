"""The neighbourhood centre in the browser: the town's handler (like the demo's `centre`
login) records a villager's opinion (it becomes an appeal), a matter handled on the spot,
and a mediated dispute with its agreement, then the follow-up visit."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from minsheng.appeals.models import Appeal
from minsheng.centres.models import Dispute
from minsheng.core.models import Role
from tests.centres.factories import make_centre, make_town
from tests.e2e.conftest import TIMEOUT_MS
from tests.e2e.test_appeals_flow import log_in
from tests.factories import UserFactory

pytestmark = pytest.mark.e2e


def test_the_centre_worker_records_an_opinion_a_matter_and_a_dispute(page: Page) -> None:
    expect.set_options(timeout=TIMEOUT_MS)
    town, department = make_town("石桥镇")
    centre = make_centre(town, name="石桥村")
    worker = UserFactory(role=Role.HANDLER, department=department, name="黄丽萍")

    log_in(page, worker.username)
    page.goto(reverse("centres:index"))
    page.get_by_role("link", name=centre.name).click()

    opinion = page.locator("#opinion-form")
    opinion.get_by_label("标题").fill("建议延长路灯开灯时间")
    opinion.get_by_label("内容").fill("冬天天黑得早，主路路灯七点就关了，老人出门不安全。")
    opinion.get_by_role("button", name="登记意见建议").click()
    expect(page.locator("#opinion-form")).to_contain_text("请填写手机号，或选择匿名反映")
    page.locator("#opinion-form").get_by_label("匿名反映").check()
    page.locator("#opinion-form").get_by_role("button", name="登记意见建议").click()
    appeal = Appeal.objects.get()
    expect(page.locator("#recorded-opinion")).to_contain_text(appeal.number)
    expect(page.locator("#recorded-opinion")).to_contain_text("邻里中心")
    expect(page.locator("#opinions")).to_contain_text("建议延长路灯开灯时间")

    matter = page.locator("#matter-form")
    matter.get_by_label("事项类型").select_option(label="代缴代办")
    matter.get_by_label("办事群众").fill("张三丰")
    matter.get_by_label("手机号（选填）").fill("13812345678")
    matter.get_by_label("办理事项").fill("代缴城乡居民医保")
    matter.get_by_role("button", name="登记事项").click()
    expect(page.locator("#matters")).to_contain_text("张**")
    expect(page.locator("#matters")).to_contain_text("138****5678")
    expect(page.locator("#matters")).not_to_contain_text("张三丰")

    dispute = page.locator("#dispute-form")
    dispute.get_by_label("当事人").fill("王大山、李小河")
    dispute.get_by_label("纠纷类型").select_option(label="宅基地/土地")
    dispute.get_by_label("纠纷情况").fill("宅基地边界不清，一方新建围墙占用了通道。")
    dispute.get_by_label("调解协议书（选填）").set_input_files(
        files=[
            {
                "name": "调解协议书.pdf",
                "mimeType": "application/pdf",
                "buffer": b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
            }
        ]
    )
    dispute.get_by_role("button", name="登记调解").click()
    expect(page.locator(".messages")).to_contain_text("调解记录已登记")
    case = Dispute.objects.get()
    visit = page.locator(f"#visit-{case.pk}")
    expect(visit).to_contain_text("王**、李**")
    expect(page.locator(f"#dispute-{case.pk}")).to_contain_text("查看")  # the agreement

    visit.get_by_label("回访情况").fill("围墙已后退，双方已按协议履行")
    visit.get_by_role("button", name="登记回访").click()
    expect(page.locator(".messages")).to_contain_text("回访已登记")
    expect(page.locator(f"#dispute-{case.pk} .visit")).to_contain_text("已回访")
    expect(page.locator("#visits")).to_contain_text("没有待回访的调解")
    expect.set_options(timeout=5_000)
