"""The 办事指南 pages in a real browser: the strict CSP lets the map and styles through."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import _static_root, page  # noqa: F401  (fixtures)

pytestmark = pytest.mark.e2e


def test_detail_page_shows_the_map_in_chromium(page, matter, hall_map) -> None:  # noqa: F811
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.set_viewport_size({"width": 400, "height": 900})
    page.goto("/banshi/")
    page.get_by_label("事项名称或关键词").fill("公积金")
    page.get_by_role("button", name="查找").click()
    page.get_by_role("link", name="购买自住住房提取住房公积金").click()
    highlighted = page.locator("svg .cat-on rect")
    assert highlighted.count() == 1
    # The stylesheet applied (a red fill), so CSP did not block it.
    fill = highlighted.evaluate("el => getComputedStyle(el).fill")
    assert fill == "rgb(209, 36, 47)"
    assert page.locator(".cat-map-hint").inner_text().startswith("从一号厅入口进门")
    assert page.locator(".cat-material").count() == 2
    assert not problems, problems
