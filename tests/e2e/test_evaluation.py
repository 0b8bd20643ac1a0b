"""好差评 in a real browser: the window pad (with its offline queue), the back-to-back kiosk
and the phone page of the signed link."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from minsheng.evaluation import actions
from minsheng.evaluation.models import Case, Rating, RatingChannel
from tests.evaluation.factories import event_at, make_hall, pad_for

pytestmark = pytest.mark.e2e


def _queued(page: Page, n: int) -> None:
    expect(page.locator("#pad")).to_have_attribute("data-queued", str(n))


def test_the_window_pad_rates_through_a_dropped_network_without_duplicates(page: Page) -> None:
    hall = make_hall()
    _pad, token = pad_for(hall)
    event = actions.start_event(by=hall.clerk, matter_id=hall.matter.pk)
    page.goto(reverse("evaluation:pad", args=[hall.window.pk]) + f"#token={token}")
    pad = page.locator("#pad")
    expect(pad).to_have_attribute("data-event", str(event.pk))
    expect(page.locator("#pad-name")).to_have_text("李晓燕")
    expect(page.locator("#pad-no")).to_have_text("S0001")
    # The token left the address bar for localStorage.
    assert "token" not in page.url

    page.context.set_offline(True)
    page.locator("[data-level='5']").click()
    expect(page.locator("#pad-thanks")).to_be_visible()
    _queued(page, 1)
    expect(page.locator("#pad-status")).to_contain_text("网络已断开")
    assert not Rating.objects.exists()
    item = page.evaluate(
        f"JSON.parse(localStorage.getItem('minsheng.pad.queue.{hall.window.pk}'))[0]"
    )
    # It resets itself for the next citizen.
    expect(page.locator("#pad-levels")).to_be_visible()

    page.context.set_offline(False)
    _queued(page, 0)
    rating = Rating.objects.get()
    assert rating.event == event and rating.level == 5 and rating.channel == RatingChannel.PAD
    assert str(rating.client_uuid) == item["uuid"]

    # The answer got lost and the pad sends the same rating again: still one rating.
    page.evaluate(
        "([key, item]) => { localStorage.setItem(key, JSON.stringify([item]));"
        " window.dispatchEvent(new Event('online')); }",
        [f"minsheng.pad.queue.{hall.window.pk}", item],
    )
    _queued(page, 0)
    assert Rating.objects.count() == 1

    # A bad rating asks for reasons first.
    second = actions.start_event(by=hall.clerk)
    expect(pad).to_have_attribute("data-event", str(second.pk), timeout=10_000)
    page.locator("[data-level='1']").click()
    expect(page.locator("#pad-reasons")).to_be_visible()
    page.locator("#pad-submit").click()
    expect(page.locator("#pad-reason-hint")).to_be_visible()
    page.locator("input[name=reason][value=waiting]").check()
    page.locator("#pad-comment").fill("等了很久")
    page.locator("#pad-submit").click()
    expect(page.locator("#pad-thanks")).to_be_visible()
    _queued(page, 0)
    bad = Rating.objects.get(event=second)
    assert bad.level == 1 and bad.reasons == ["waiting"] and bad.comment == "等了很久"
    assert Case.objects.filter(rating=bad).exists()


def test_an_unbound_pad_says_so(page: Page) -> None:
    hall = make_hall()
    page.goto(reverse("evaluation:pad", args=[hall.window.pk]))
    expect(page.locator("#pad-unbound")).to_be_visible()


def test_the_back_to_back_kiosk(page: Page) -> None:
    hall = make_hall()
    event = event_at(hall)
    page.goto(reverse("evaluation:kiosk"))
    page.get_by_text("社保窗口").click()
    page.get_by_text("李晓燕").click()
    page.get_by_label("满意", exact=True).check()
    page.get_by_role("button", name="提交评价").click()
    expect(page.locator("#rated")).to_contain_text("感谢您的评价")
    rating = Rating.objects.get()
    assert rating.event == event and rating.level == 4 and rating.channel == RatingChannel.KIOSK
    # Nothing left to rate for her today: the kiosk says so instead of inventing an event.
    page.goto(reverse("evaluation:kiosk_rate", args=[hall.clerk.pk]))
    expect(page.get_by_text("没有待评价的办件")).to_be_visible()


def test_the_phone_page_of_the_signed_link(page: Page) -> None:
    hall = make_hall()
    event = event_at(hall)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(reverse("evaluation:rate", args=[actions.link_token(event)]))
    expect(page.get_by_text(event.number)).to_be_visible()
    page.get_by_label("不满意", exact=True).check()
    page.get_by_label("多次跑动").check()
    for name in ("办事效率", "办事指南准确度", "办事便捷度", "服务态度"):
        page.get_by_label(name, exact=True).select_option("2")
    page.get_by_label("意见建议").fill("材料要求前后不一致")
    page.get_by_role("button", name="提交评价").click()
    expect(page.locator("#rated")).to_be_visible()
    rating = Rating.objects.get()
    assert rating.channel == RatingChannel.LINK and rating.reasons == ["visits"]
    assert rating.indicators == {"efficiency": 2, "guide": 2, "convenience": 2, "attitude": 2}
    assert Case.objects.filter(rating=rating).exists()
    page.reload()
    expect(page.get_by_text("已经评价过了")).to_be_visible()
