from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from minsheng.catalog.maps import plan_for_matter
from minsheng.catalog.models import MapItem, ServiceMatter, split_aliases
from minsheng.core.models import Window

pytestmark = pytest.mark.django_db


def test_aliases_split_on_any_separator() -> None:
    assert split_aliases("开饭馆、开餐馆\n餐饮许可证,开饭馆") == ["开饭馆", "开餐馆", "餐饮许可证"]


def test_matter_helpers(matter: ServiceMatter, window: Window) -> None:
    assert str(matter) == "购买自住住房提取住房公积金"
    assert matter.primary_window() == window
    assert matter.effective_hall() == window.hall
    assert matter.window_label() == "一号厅04号窗口"
    assert not matter.is_instant
    assert list(ServiceMatter.objects.high_frequency()) == [matter]
    assert [m.name for m in matter.materials.all()] == ["居民身份证", "结婚证"]


def test_inactive_window_is_not_where_people_go(matter: ServiceMatter, window: Window) -> None:
    window.active = False
    window.save()
    assert matter.primary_window() is None
    assert matter.window_label() == ""


def test_map_item_validation(hall_map, window) -> None:
    item = MapItem(hall_map=hall_map, kind="window", row=0, col=0)
    with pytest.raises(ValidationError):
        item.clean()
    item = MapItem(hall_map=hall_map, kind="desk", row=5, col=7, width=3)
    with pytest.raises(ValidationError, match="超出"):
        item.clean()
    other = Window.objects.create(
        hall=type(window.hall).objects.create(code="B", name="二号厅"), number="1", name="x"
    )
    item = MapItem(hall_map=hall_map, kind="window", window=other, row=1, col=1)
    with pytest.raises(ValidationError, match="不在这个大厅"):
        item.clean()


def test_plan_highlights_the_matters_window(matter, hall_map, window) -> None:
    plan = plan_for_matter(matter)
    assert plan is not None
    on = [b for b in plan.boxes if "cat-on" in b.css]
    assert [b.label for b in on] == ["04号"]
    assert plan.route  # a walk from the entrance
    assert "04号窗口" in plan.hint and "左" in plan.hint
    assert plan.width == 8 * 40 and plan.height == 6 * 40


def test_no_map_no_plan(matter) -> None:
    assert plan_for_matter(matter) is None
