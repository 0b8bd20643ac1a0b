"""The relief station in the browser: a donation, an application through village and town
checks and the committee, the payment, and the ledger that still balances."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from minsheng.core.models import Role
from minsheng.relief import ledger
from minsheng.relief.models import Station
from tests.e2e.conftest import TIMEOUT_MS
from tests.e2e.test_appeals_flow import log_in
from tests.factories import UserFactory
from tests.relief.test_relief import id_number, make_station, png, village

pytestmark = pytest.mark.e2e


def test_a_donation_pays_an_application_through_every_step(page: Page) -> None:
    expect.set_options(timeout=TIMEOUT_MS)
    station = make_station()
    village()
    admin = UserFactory(role=Role.ADMIN)

    log_in(page, admin.username)
    page.goto(reverse("relief:staff"))
    donation = page.locator("#donation-form")
    donation.get_by_label("捐赠人").fill("县妇联")
    donation.get_by_label("金额（元）").fill("3000")
    donation.get_by_role("button", name="入账").click()
    expect(page.locator(f"#balance-{station.code}")).to_have_text("3000.00")

    apply = page.locator("#apply-form")
    apply.get_by_label("申请人").fill("王小花")
    apply.get_by_label("身份证号").fill(id_number())
    apply.get_by_label("困难情况").fill("父母外出务工，孩子随祖母生活，祖母患病住院。")
    apply.get_by_label("申请金额（元）").fill("1200")
    apply.get_by_role("button", name="登记申请").click()
    page.get_by_role("button", name="村（社区）已核实", exact=True).click()
    # The town reviews papers: without any, it is told to upload them first.
    page.get_by_role("button", name="乡镇（街道）审核通过", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("请先上传证明材料")
    row = page.locator(f"#applications-{station.code} .attach-form")
    row.get_by_label("证明材料类型").select_option(label="困难证明（低保证、特困证等）")
    row.get_by_label("补充材料").set_input_files(
        files=[{"name": "低保证.png", "mimeType": "image/png", "buffer": png()}]
    )
    row.get_by_role("button", name="上传").click()
    expect(page.locator(f"#applications-{station.code} .documents a")).to_have_text(
        "困难证明（低保证、特困证等）"
    )
    for button in ("乡镇（街道）审核通过", "评审通过", "发放"):
        page.get_by_role("button", name=button, exact=True).click()
    expect(page.locator(f"#applications-{station.code} .state")).to_contain_text("已发放")
    expect(page.locator(f"#balance-{station.code}")).to_have_text("1800.00")
    expect(page.locator(f"#station-{station.code}")).to_contain_text("台账已核对")
    assert ledger.reconcile(Station.objects.get()) == []
    expect.set_options(timeout=5_000)
