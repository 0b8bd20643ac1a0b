from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from minsheng.guide import index as guide_index
from minsheng.guide.engine import Document, Index, Synonym
from minsheng.guide.seed_synonyms import SEED_SYNONYMS

SHARED = Path(__file__).resolve().parents[3] / "shared" / "bench"

# A small catalogue written for the tests: families (公积金提取, 社保卡, 个体工商户) and
# loners, enough for every path of the engine.
DOCS = [
    Document(
        "T01",
        "个体工商户设立登记",
        "县市场监督管理局",
        conditions="在固定场所从事经营的公民可申请登记。",
        materials=("申请书", "经营者身份证", "经营场所使用证明"),
        window="A厅4号窗口",
    ),
    Document(
        "T02",
        "个体工商户变更登记",
        "县市场监督管理局",
        conditions="名称、经营场所等登记事项变化的应申请变更。",
        materials=("变更申请书", "营业执照正副本"),
    ),
    Document(
        "T03",
        "个体工商户注销登记",
        "县市场监督管理局",
        conditions="不再经营的可申请注销。",
        materials=("注销申请书", "营业执照正副本"),
    ),
    Document(
        "T04",
        "营业执照遗失补领",
        "县市场监督管理局",
        conditions="营业执照遗失或损坏的可申请补领。",
        materials=("补领申请书", "遗失声明"),
    ),
    Document(
        "T05",
        "食品经营许可证核发",
        "县市场监督管理局",
        conditions="从事食品销售或餐饮服务的经营者可申请。",
        materials=("食品经营许可申请书", "营业执照复印件"),
    ),
    Document(
        "T10",
        "住房公积金提取（购买自住住房）",
        "县住房公积金管理中心",
        conditions="购买自住住房的职工可提取。",
        materials=("购房合同", "身份证"),
    ),
    Document(
        "T11",
        "住房公积金提取（租赁住房）",
        "县住房公积金管理中心",
        conditions="租房自住且无自有住房的可提取。",
        materials=("租房合同", "身份证"),
    ),
    Document(
        "T12",
        "住房公积金提取（离退休）",
        "县住房公积金管理中心",
        conditions="离休、退休的职工可提取账户余额。",
        materials=("退休证明", "身份证"),
    ),
    Document(
        "T20",
        "社会保障卡申领",
        "县人力资源和社会保障局",
        conditions="参保人员可申领社会保障卡。",
        materials=("居民身份证",),
    ),
    Document(
        "T21",
        "社会保障卡补换",
        "县人力资源和社会保障局",
        conditions="社会保障卡遗失、损坏的可补领或换领。",
        materials=("居民身份证",),
    ),
    Document(
        "T30",
        "居民身份证换领",
        "县公安局",
        conditions="居民身份证有效期满的应换领新证。",
        materials=("居民户口簿", "原居民身份证"),
    ),
    Document(
        "T31",
        "出生登记（新生儿落户）",
        "县公安局",
        conditions="婴儿出生后一个月内申报出生登记。",
        materials=("出生医学证明", "父母身份证", "户口簿"),
    ),
    Document(
        "T40",
        "结婚登记",
        "县民政局",
        conditions="男女双方自愿结婚的到婚姻登记机关申请。",
        materials=("户口簿", "身份证", "照片"),
    ),
]


@pytest.fixture(scope="session")
def engine() -> Index:
    return Index(DOCS, [Synonym(a, b) for a, b in SEED_SYNONYMS])


@pytest.fixture(autouse=True)
def _fresh_index() -> Iterator[None]:
    guide_index.clear_cache()
    yield
    guide_index.clear_cache()


@pytest.fixture
def shared_catalog() -> Path:
    path = SHARED / "catalog.csv"
    if not path.exists():
        pytest.skip("../shared/bench/catalog.csv is not here")
    return path


@pytest.fixture
def imported(db, shared_catalog: Path) -> Path:
    """The shared benchmark catalogue imported through the catalogue's own command."""
    from django.core.management import call_command

    call_command("catalog", "import", str(shared_catalog), stdout=open("/dev/null", "w"))  # noqa: SIM115
    return shared_catalog


@pytest.fixture
def seeded_synonyms(db) -> None:
    """The data migration's synonyms (a transactional test's flush removes them)."""
    from minsheng.guide.models import Synonym as Row

    if not Row.objects.exists():
        Row.objects.bulk_create([Row(phrase=a, official=b) for a, b in dict(SEED_SYNONYMS).items()])


@pytest.fixture
def demo_catalog(db) -> None:
    """The demo county's hall, windows, maps and catalogue (the core and catalog steps)."""
    from minsheng.core import demo

    ctx = demo.DemoContext(out=lambda _line: None)
    for step in demo.steps():
        if step.name in {"core", "catalog"}:
            step.build(ctx)
