"""The smart guide in a real browser: kiosk and phone, ask → clarify → answer → map."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from minsheng.core import demo
from minsheng.guide import index as guide_index
from minsheng.guide.models import QuestionLog, Synonym
from minsheng.guide.seed_synonyms import SEED_SYNONYMS

pytestmark = pytest.mark.e2e


@pytest.fixture
def guide_data(transactional_db) -> None:
    """The demo hall, maps and catalogue, and the seeded synonyms (the flush between
    transactional tests removes the data migration's rows)."""
    ctx = demo.DemoContext(out=lambda _line: None)
    for step in demo.steps():
        if step.name in {"core", "catalog"}:
            step.build(ctx)
    if not Synonym.objects.exists():
        Synonym.objects.bulk_create(
            [Synonym(phrase=a, official=b) for a, b in dict(SEED_SYNONYMS).items()]
        )
    guide_index.clear_cache()
    # Build the index now (the live server runs in this process): the first question
    # should not wait for jieba's dictionary on a loaded machine.
    guide_index.get_index()


def test_kiosk_ask_clarify_answer_and_map(page: Page, guide_data) -> None:
    page.goto(reverse("guide:kiosk"))
    expect(page.locator("h1")).to_contain_text("您要办什么事")
    expect(page.locator(".guide-hf-button").first).to_be_visible()

    # A family question: the kiosk asks which one, with buttons.
    page.fill("input[name=q]", "公积金提取")
    page.click("button.guide-go")
    expect(page.locator("[data-guide-result=clarify]")).to_be_visible()
    choices = page.locator("button.guide-choice")
    assert choices.count() >= 2
    chosen = choices.nth(1).inner_text()
    choices.nth(1).click()

    # The answer: the matter, its window, the materials and the hall map ("take me there").
    answer = page.locator("[data-guide-result=match]")
    expect(answer).to_be_visible()
    expect(answer.locator(".guide-matter-name")).to_have_text(chosen)
    expect(answer.locator(".guide-window")).to_be_visible()
    expect(answer.locator(".cat-materials")).to_be_visible()
    expect(answer.locator("details.guide-map .cat-map svg")).to_be_visible()

    # Feedback goes into the log.
    answer_box = page.locator("#guide-answer")
    answer_box.locator("button[name=helpful][value='1']").click()
    expect(page.locator(".guide-feedback-done")).to_contain_text("谢谢")
    log = QuestionLog.objects.get()
    assert log.kind == "clarify" and log.feedback == "helpful" and log.channel == "kiosk"

    # A high-frequency button answers directly.
    page.locator(".guide-hf-button").first.click()
    expect(page.locator("[data-guide-result=match] .guide-matter-name")).to_be_visible()


def test_kiosk_no_match_and_traditional(page: Page, guide_data) -> None:
    page.goto(reverse("guide:kiosk"))
    page.fill("input[name=q]", "今天天气怎么样")
    page.press("input[name=q]", "Enter")
    expect(page.locator("[data-guide-result=none]")).to_contain_text("没有找到")
    page.fill("input[name=q]", "身份證丟了怎麼補辦")
    page.press("input[name=q]", "Enter")
    expect(page.locator("[data-guide-result=match] .guide-matter-name")).to_contain_text("身份证")


def test_kiosk_idle_reset(page: Page, guide_data) -> None:
    # Each kiosk may set its idle time in its start URL; 2 seconds for the test.
    page.goto(reverse("guide:kiosk") + "?idle=2")
    page.fill("input[name=q]", "结婚登记")
    page.click("button.guide-go")
    expect(page.locator("[data-guide-result=match]")).to_be_visible()
    # Nobody touches it: the answer and the question go, the home screen stays.
    expect(page.locator("[data-guide-result]")).to_have_count(0, timeout=10_000)
    expect(page.locator("input[name=q]")).to_have_value("")
    expect(page.locator(".guide-hf-button").first).to_be_visible()


def test_phone_page(page: Page, guide_data) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(reverse("guide:phone"))
    page.fill("input[name=q]", "社保卡丢了")
    page.click("button.guide-go")
    answer = page.locator("#guide-answer [data-guide-result]")
    expect(answer).to_be_visible()
    if answer.get_attribute("data-guide-result") == "clarify":
        page.locator("button.guide-choice").first.click()
    matter = page.locator("[data-guide-result=match]")
    expect(matter.locator(".guide-matter-name")).to_contain_text("社会保障卡")
    # On the phone the map is behind "带我去".
    page.locator("details.guide-map summary").click()
    expect(matter.locator(".cat-map svg")).to_be_visible()
