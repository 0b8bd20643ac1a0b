"""The happiness canteen in the browser: the town's handler registers an eligible diner,
checks in today's meal once, and sees it in the month's statement."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from minsheng.core.models import Role
from tests.canteens.test_canteens import make_canteen, number
from tests.e2e.conftest import TIMEOUT_MS
from tests.e2e.test_appeals_flow import log_in
from tests.factories import DepartmentFactory, UserFactory

pytestmark = pytest.mark.e2e


def test_the_handler_registers_a_diner_and_checks_in_a_meal(page: Page) -> None:
    expect.set_options(timeout=TIMEOUT_MS)
    department = DepartmentFactory()
    canteen = make_canteen(department)
    handler = UserFactory(role=Role.HANDLER, department=department)
    today = timezone.localdate()

    log_in(page, handler.username)
    page.goto(reverse("canteens:index"))
    page.get_by_role("link", name=canteen.name).click()
    form = page.locator("#diner-form")
    form.get_by_label("姓名").fill("张奶奶")
    form.get_by_label("身份证号").fill(number(dt.date(today.year - 40, 1, 1)))
    form.get_by_role("button", name="登记").click()
    expect(page.locator("#diner-form")).to_contain_text("需年满 70 周岁")  # too young
    page.locator("#diner-form").get_by_label("身份证号").fill(
        number(dt.date(today.year - 80, 1, 1))
    )
    page.locator("#diner-form").get_by_role("button", name="登记").click()
    today_list = page.locator("#today")
    expect(today_list).to_contain_text("张奶奶")
    today_list.get_by_role("button", name="登记就餐").click()
    expect(page.locator("#today")).to_contain_text("已就餐")
    expect(page.locator("#statement")).to_contain_text("15.50")  # 5.00 + 10.50
    expect.set_options(timeout=5_000)
