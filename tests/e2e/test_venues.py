"""Open school venues in the browser: the school's window staff registers a resident, the
gate lets them in, the staff page and the public page show the live count."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from playwright.sync_api import Page, expect

from minsheng.core.models import Role
from minsheng.venues import actions
from minsheng.venues.models import Resident
from tests.e2e.conftest import TIMEOUT_MS
from tests.e2e.test_appeals_flow import log_in
from tests.factories import UserFactory
from tests.venues.factories import id_number, make_venue

pytestmark = pytest.mark.e2e

EVENING = dt.datetime(2026, 12, 2, 19, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_the_school_registers_a_resident_who_then_enters(page: Page) -> None:
    expect.set_options(timeout=TIMEOUT_MS)
    venue = make_venue(capacity=20, school="县实验中学", name="田径场")
    staff = UserFactory(role=Role.WINDOW_STAFF, department=venue.department)
    number = id_number()

    log_in(page, staff.username)
    page.goto(reverse("venues:staff"))
    page.get_by_role("link", name="登记居民").first.click()
    page.get_by_label("姓名").fill("王大妈")
    page.get_by_label("身份证号").fill(number[:-1] + ("0" if number[-1] != "0" else "1"))
    page.get_by_role("button", name="登记").click()
    expect(page.locator("#register-form")).to_contain_text("校验位不对")  # a typo is caught
    page.get_by_label("身份证号").fill(number)
    page.get_by_role("button", name="登记").click()
    expect(page.locator("#venue-residents")).to_contain_text(Resident.objects.get().id_masked)

    with time_machine.travel(EVENING, tick=False):
        actions.pass_gate(venue.code, direction="in", id_number=number, by=None)
    page.reload()
    expect(page.locator(f"#venue-{venue.code} .venue-inside")).to_have_text("1")
    page.goto(reverse("venues:public"))
    expect(page.locator(f"#venue-{venue.code}")).to_contain_text("县实验中学")
    expect(page.locator("body")).not_to_contain_text("王大妈")
    expect.set_options(timeout=5_000)
