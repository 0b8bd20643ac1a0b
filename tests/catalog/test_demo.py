"""The demo catalogue: ≥ 80 matters on the demo county's windows, 28 high-frequency ones,
families of similar matters, a map for each hall, and idempotent."""

from __future__ import annotations

import pytest

from minsheng.catalog import demo as catalog_demo
from minsheng.catalog.demo_matters import MATTERS
from minsheng.catalog.maps import plan_for_matter
from minsheng.catalog.models import HallMap, MapItem, ServiceMatter
from minsheng.core import demo
from minsheng.core.models import AuditEvent, Window

pytestmark = pytest.mark.django_db


@pytest.fixture
def built() -> demo.DemoContext:
    ctx = demo.DemoContext(out=lambda _s: None)
    demo.build_core(ctx)
    catalog_demo.build(ctx)
    return ctx


def test_demo_catalogue(built) -> None:
    assert ServiceMatter.objects.count() == len(MATTERS) >= 80
    assert ServiceMatter.objects.high_frequency().count() == 28
    assert list(ServiceMatter.objects.high_frequency().values_list("hf_order", flat=True)) == list(
        range(1, 29)
    )
    for matter in ServiceMatter.objects.with_details():
        assert matter.windows.exists(), matter.code
        assert matter.materials.exists() and matter.steps.exists(), matter.code
        assert matter.location and matter.consult_phone, matter.code
        assert plan_for_matter(matter) is not None, matter.code
    names = set(ServiceMatter.objects.values_list("name", flat=True))
    for family in [
        {"有限责任公司设立登记", "公司变更登记", "公司注销登记"},
        {"购买自住住房提取住房公积金", "租赁住房提取住房公积金", "离休退休提取住房公积金"},
        {"社会保障卡申领", "社会保障卡补换", "社会保障卡挂失"},
    ]:
        assert family <= names
    # Every active window of the demo halls is drawn on its hall's map.
    assert HallMap.objects.count() == 3
    drawn = set(MapItem.objects.exclude(window=None).values_list("window_id", flat=True))
    assert drawn == set(Window.objects.filter(active=True).values_list("pk", flat=True))


def test_demo_is_idempotent(built) -> None:
    counts = (ServiceMatter.objects.count(), MapItem.objects.count())
    materials = sorted(
        ServiceMatter.objects.get(code="GJJ003").materials.values_list("name", flat=True)
    )
    catalog_demo.build(built)
    assert (ServiceMatter.objects.count(), MapItem.objects.count()) == counts
    assert (
        sorted(ServiceMatter.objects.get(code="GJJ003").materials.values_list("name", flat=True))
        == materials
    )
    assert AuditEvent.objects.filter(action="catalog.imported").count() == 2


def test_demo_codes_are_not_the_bench_codes() -> None:
    assert not any(m.code.startswith("M0") for m in MATTERS)
