"""The leaders' overview in the browser: the county figures with their charts drawn."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from minsheng.core.models import Role
from tests.community.test_overview import services
from tests.e2e.conftest import TIMEOUT_MS
from tests.e2e.test_appeals_flow import log_in
from tests.factories import UserFactory

pytestmark = pytest.mark.e2e


def test_the_leader_sees_every_service_with_its_chart(page: Page) -> None:
    expect.set_options(timeout=TIMEOUT_MS)
    services()
    leader = UserFactory(role=Role.LEADER)
    log_in(page, leader.username)
    page.get_by_role("link", name="社区服务概览").first.click()
    for section in ("centres", "relay", "canteens", "venues", "relief"):
        expect(page.locator(f"#{section} [data-chart] canvas")).to_have_count(1)
    expect(page.locator("#canteens")).to_contain_text("今日就餐")
    expect.set_options(timeout=5_000)
