from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from minsheng.core.models import Role
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.e2e


def test_dispatcher_logs_in_navigates_and_logs_out(page: Page, live_server) -> None:
    user = UserFactory(username="e2e-dispatcher", name="刘派单", role=Role.DISPATCHER)

    page.goto(reverse("core:login"))
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    expect(page).to_have_url(re.compile(re.escape(live_server.url) + "/$"))
    logout = page.locator(f"form[action='{reverse('core:logout')}'] [type=submit]")
    expect(logout).to_be_visible()

    # The staff menu shows the organisation to a dispatcher; follow one entry.
    departments = reverse("core:departments")
    page.locator(f"nav a[href='{departments}']").first.click()
    expect(page).to_have_url(live_server.url + departments)
    expect(page.locator("h1")).to_be_visible()

    logout.click()
    expect(page.locator("input[name=username]")).to_be_visible()
    page.goto(departments)
    expect(page).to_have_url(re.compile(re.escape(reverse("core:login"))))
