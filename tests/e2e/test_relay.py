"""The proxy service in the browser: a village proxy worker opens a case with its materials
and hands it to the town, the town signs and hands it to the county department, the county
signs and completes it, and the case shows done."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from minsheng.relay.models import RelayCase
from tests.e2e.conftest import TIMEOUT_MS
from tests.e2e.test_appeals_flow import log_in
from tests.relay.helpers import make_world

pytestmark = pytest.mark.e2e


def test_a_case_relayed_from_the_village_to_the_county_and_done(page: Page) -> None:
    expect.set_options(timeout=TIMEOUT_MS)
    world = make_world()

    log_in(page, world.proxy.username)
    page.goto(reverse("relay:index"))
    page.get_by_role("link", name="受理代办").click()
    form = page.locator("#case-form")
    form.locator("#id_matter").select_option(label="个体工商户设立登记")
    expect(form.locator("#material-list")).to_contain_text("经营场所使用证明")  # htmx
    form.get_by_label("居民身份证").check()
    form.get_by_label("经营场所使用证明").check()
    form.get_by_label("群众姓名").fill("王秀英")
    form.get_by_label("手机号").fill("1380013800")  # one digit short
    form.locator("#id_village").select_option(label=f"{world.town.name} {world.village.name}")
    form.get_by_role("button", name="受理").click()
    expect(page.locator("#case-form")).to_contain_text("请输入11位手机号码")
    form = page.locator("#case-form")
    form.get_by_label("手机号").fill("13800138000")
    expect(form.get_by_label("居民身份证")).to_be_checked()  # kept from the first try
    form.get_by_role("button", name="受理").click()
    expect(page.locator("#case-state")).to_have_text("收件中")
    case = RelayCase.objects.get()
    page.get_by_role("button", name="移交乡镇（街道）").click()
    expect(page.locator("#case-state")).to_have_text("已移交乡镇，待签收")

    detail = reverse("relay:detail", args=[case.number])
    log_in(page, world.town_handler.username)
    page.goto(detail)
    page.get_by_role("button", name="签收").click()
    expect(page.locator("#case-state")).to_have_text("乡镇审核中")
    page.get_by_role("button", name=f"移交{world.county.label}").click()
    expect(page.locator("#case-state")).to_have_text("已移交县级部门，待签收")

    log_in(page, world.county_staff.username)
    page.goto(detail)
    page.get_by_role("button", name="签收").click()
    expect(page.locator("#case-state")).to_have_text("县级部门办理中")
    page.get_by_label("办理结果").fill("已核发营业执照")
    page.get_by_role("button", name="办结").click()
    expect(page.locator("#case-state")).to_have_text("已办结，待交付")
    expect(page.locator("#case-result")).to_have_text("已核发营业执照")
    expect(page.locator("#relay-timeline")).to_contain_text("结果回传")
    expect.set_options(timeout=5_000)
