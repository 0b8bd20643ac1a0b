"""Appeal intelligence in the dispatcher's browser: the classifier's suggestion with its
department and confidence, the dispatch form preselected, a similar appeal flagged, and
dispatching elsewhere recorded as a correction."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from minsheng.appeals.models import Appeal, Category, RoutingRule
from minsheng.appeals.states import State
from minsheng.core.models import Role
from minsheng.intelligence.models import RoutingCorrection
from tests.appeals.factories import submit
from tests.e2e.conftest import TIMEOUT_MS
from tests.e2e.test_appeals_flow import act, log_in
from tests.factories import DepartmentFactory, UserFactory
from tests.intelligence.factories import PENSION, SCHOOL, TRAFFIC, train_version

pytestmark = pytest.mark.e2e


def test_the_dispatcher_routes_with_the_suggestions(page: Page) -> None:
    expect.set_options(timeout=TIMEOUT_MS)
    transport = DepartmentFactory(name="县交通运输局")
    education = DepartmentFactory(name="县教育局")
    labour = DepartmentFactory(name="县人社局")
    for i, (label, department) in enumerate(
        [(TRAFFIC, transport), (SCHOOL, education), (PENSION, labour)]
    ):
        category = Category.objects.create(code=f"c{i}", name=label)
        RoutingRule.objects.create(category=category, department=department)
    train_version()
    dispatcher = UserFactory(role=Role.DISPATCHER)
    first = submit("公交车不按站停车")
    appeal = submit("公交车不按站停车")

    log_in(page, dispatcher.username)
    page.goto(reverse("appeals:detail", args=[appeal.pk]))
    advice = page.locator("#dispatch-advice")
    expect(advice).to_contain_text(TRAFFIC)
    expect(advice).to_contain_text("县交通运输局")
    expect(advice).to_contain_text(first.number)  # reported before: a similar appeal
    act(page, "dispatch")
    department = page.locator("#action-dispatch select[name=department]")
    expect(department).to_have_value(str(transport.pk))

    # The dispatcher knows better this time: the choice is kept as a correction.
    department.select_option(str(education.pk))
    page.locator("#action-dispatch button[type=submit]").click()
    expect(page.locator(".status").first).to_have_text(str(State.DISPATCHED.label))
    expect(page.locator("#dispatch-advice")).to_have_count(1)  # 改派 is still possible
    assert Appeal.objects.get(pk=appeal.pk).lead_department == education
    correction = RoutingCorrection.objects.get()
    assert correction.suggested_label == TRAFFIC and correction.chosen_department == education
    expect.set_options(timeout=5_000)


def test_the_leader_sees_this_weeks_hot_issues_on_the_dashboard(page: Page) -> None:
    expect.set_options(timeout=TIMEOUT_MS)
    for _ in range(3):
        submit("丽发新城搅拌站夜间噪音扰民")
    leader = UserFactory(role=Role.LEADER)

    log_in(page, leader.username)
    page.goto(reverse("appeals:kpi"))
    panel = page.locator("#hot-panel")
    expect(panel).to_contain_text("近 7 天热点问题")  # filled in by htmx after the page
    expect(panel).to_contain_text("搅拌站")
    panel.get_by_role("link", name="查看全部热点、地点和图表").click()
    expect(page.locator("h1")).to_have_text("热点问题")
    expect.set_options(timeout=5_000)
