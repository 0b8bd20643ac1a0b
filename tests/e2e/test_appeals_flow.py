"""The appeal's closed loop in a real browser: a citizen reports from the phone form (with the
htmx town → village picker), tracks it with number + code, a dispatcher dispatches it, a
handler of that department signs and replies, and the citizen rates it from the SMS link
until the tracking page shows it closed. A handler of another department never sees it."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.urls import reverse
from playwright.sync_api import Page, expect

from minsheng.appeals.models import Appeal
from minsheng.appeals.states import State
from minsheng.core.models import Division, OutboxMessage, Role
from tests.e2e.conftest import TIMEOUT_MS
from tests.factories import PASSWORD, DepartmentFactory, DivisionFactory, UserFactory

pytestmark = pytest.mark.e2e

REPLY = "已安排电工更换村口路灯，现已恢复照明，感谢您的反映。"


@pytest.fixture(autouse=True)
def _fresh_cache(settings, tmp_path):
    # Submission and tracking limits live in the cache: start each test from zero.
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    # expect() waits 5 s by default, whatever the context's timeout: on a loaded machine a
    # form post and its redirect can take longer.
    expect.set_options(timeout=TIMEOUT_MS)
    yield
    expect.set_options(timeout=5_000)
    cache.clear()


def log_in(page: Page, username: str) -> None:
    page.context.clear_cookies()
    page.goto(reverse("core:login"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    expect(page.locator(f"form[action='{reverse('core:logout')}']")).to_be_attached()


def act(page: Page, name: str) -> None:
    """Open the action card ``name`` on the staff appeal page (sign is open already)."""
    card = page.locator(f"#action-{name}")
    if card.get_attribute("open") is None:
        card.locator("summary").click()


def test_citizen_to_closed_loop_in_the_browser(page: Page, live_server) -> None:
    town = DivisionFactory(name="城关镇", level=Division.Level.TOWN)
    village = DivisionFactory(name="杏花村", level=Division.Level.VILLAGE, parent=town)
    other_town = DivisionFactory(name="河口镇", level=Division.Level.TOWN)
    DivisionFactory(name="柳树村", level=Division.Level.VILLAGE, parent=other_town)
    roads = DepartmentFactory(name="县住建局")
    other = DepartmentFactory(name="县教育局")
    dispatcher = UserFactory(username="e2e-dispatch", role=Role.DISPATCHER)
    handler = UserFactory(username="e2e-handler", role=Role.HANDLER, department=roads)
    stranger = UserFactory(username="e2e-stranger", role=Role.HANDLER, department=other)

    # -- the citizen reports from the phone ------------------------------------------------
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(reverse("appeals:submit"))
    page.fill("#id_title", "村口路灯不亮")
    page.fill("#id_body", "杏花村村口的路灯坏了一个多月，晚上出行很不方便，希望尽快修好。")
    page.select_option("#id_town", str(town.pk))
    # htmx swaps in the chosen town's villages only (the other town's village disappears).
    villages = page.locator("#id_village option")
    expect(villages).to_have_count(2)
    expect(page.locator("#id_village")).not_to_contain_text("柳树村")
    page.select_option("#id_village", label="杏花村")
    page.fill("#id_address", "村委会门口")
    page.fill("#id_citizen_name", "王小明")
    page.fill("#id_citizen_mobile", "13912345678")
    page.get_by_role("button", name="提交").click()

    expect(page.locator("h1")).to_contain_text("提交成功")
    number = page.locator("#appeal-number").input_value()
    code = page.locator("#query-code").input_value()
    assert re.fullmatch(r"[A-Z]+-\d{8}-\d{6}", number) and len(code) >= 6
    appeal = Appeal.objects.get(number=number)
    assert appeal.division_id == village.pk and appeal.state == State.RECEIVED

    # -- ... and tracks it with number + code from a fresh browser session -------------------
    page.context.clear_cookies()
    page.goto(reverse("appeals:track"))
    page.fill("input[name=number]", number.lower())
    page.fill("input[name=code]", code)
    page.locator("form.form button[type=submit]").click()
    expect(page).to_have_url(live_server.url + reverse("appeals:status", args=[number]))
    expect(page.locator(".status")).to_have_text(str(State.RECEIVED.label))
    expect(page.locator("main")).to_contain_text("139****5678")

    # -- the dispatcher sends it to the roads department -------------------------------------
    detail = reverse("appeals:detail", args=[appeal.pk])
    log_in(page, dispatcher.username)
    page.goto(detail)
    act(page, "dispatch")
    page.select_option("#dispatch_department", str(roads.pk))
    page.locator("#action-dispatch button[type=submit]").click()
    expect(page.locator(".status").first).to_have_text(str(State.DISPATCHED.label))

    # -- a handler of another department cannot even see it ----------------------------------
    log_in(page, stranger.username)
    response = page.goto(detail)
    assert response is not None and response.status == 404

    # -- the roads handler signs and replies --------------------------------------------------
    log_in(page, handler.username)
    page.goto(detail)
    page.locator("#action-sign button[type=submit]").click()
    expect(page.locator(".status").first).to_have_text(str(State.HANDLING.label))
    act(page, "reply")
    # A template answer first: the reply check holds it back with its warnings.
    page.fill("#reply_text", "您反映的问题已转交相关部门处理。")
    page.locator("#action-reply button[type=submit]").click()
    expect(page.locator("#action-reply")).to_contain_text("仍然发送")
    expect(page.locator(".status").first).to_have_text(str(State.HANDLING.label))
    page.fill("#reply_text", REPLY)
    page.locator("#reply_override").check()
    page.locator("#action-reply button[type=submit]").click()
    expect(page.locator(".status").first).to_have_text(str(State.REPLIED.label))

    # -- the citizen rates from the SMS link ----------------------------------------------------
    sms = OutboxMessage.objects.get(kind="appeal.replied", recipient="13912345678")
    match = re.search(r"/appeals/rate/[^/\s]+/", sms.body)
    assert match, sms.body
    page.context.clear_cookies()
    page.goto(match.group(0))
    expect(page.locator("main")).to_contain_text(REPLY)
    page.get_by_label("已解决").check()
    page.get_by_label("满意", exact=True).check()
    page.get_by_role("button", name="提交评价").click()
    expect(page.locator("main")).to_contain_text("已办结")

    # -- ... and sees it closed when tracking it again -----------------------------------------
    page.goto(reverse("appeals:track"))
    page.fill("input[name=number]", number)
    page.fill("input[name=code]", code)
    page.locator("form.form button[type=submit]").click()
    expect(page.locator(".status")).to_have_text(str(State.CLOSED.label))
    expect(page.locator("main")).to_contain_text(REPLY)
    assert Appeal.objects.get(pk=appeal.pk).state == State.CLOSED
