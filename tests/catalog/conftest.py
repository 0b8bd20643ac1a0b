from __future__ import annotations

from pathlib import Path

import pytest

from minsheng.catalog.models import FAQ, HallMap, MapItem, Material, ServiceMatter, Step
from minsheng.core.models import Department, Hall, Role, Window

SHARED_CATALOG = Path(__file__).resolve().parents[3] / "shared" / "bench" / "catalog.csv"


@pytest.fixture
def hall(db) -> Hall:
    return Hall.objects.create(code="A", name="一号厅", floor="1层", opening_hours="工作日")


@pytest.fixture
def department(db) -> Department:
    return Department.objects.create(
        code="gjj", name="示范县住房公积金管理中心", short_name="县公积金中心", phone="0000-1"
    )


@pytest.fixture
def window(hall: Hall, department: Department) -> Window:
    return Window.objects.create(
        hall=hall, number="04", name="公积金提取窗口", department=department
    )


@pytest.fixture
def matter(department: Department, hall: Hall, window: Window) -> ServiceMatter:
    m = ServiceMatter.objects.create(
        code="GJJ003",
        name="购买自住住房提取住房公积金",
        short_name="买房提取",
        aliases="买房取公积金、公积金付首付",
        department=department,
        matter_type="payment",
        conditions="在本县购买自住住房。",
        legal_basis="《住房公积金管理条例》",
        statutory_days=5,
        promised_days=3,
        fee="不收费",
        location="政务服务中心一号厅",
        consult_phone="0000-12329",
        complaint_phone="0000-12345",
        visits_required=1,
        online=True,
        online_url="https://example.org/gjj",
        high_frequency=True,
        hf_order=1,
    )
    m.windows.set([window])
    Material.objects.create(matter=m, name="居民身份证", kind="both", copies=1, order=1)
    Material.objects.create(
        matter=m,
        name="结婚证",
        kind="copy",
        copies=2,
        required=False,
        notes="提取配偶账户时",
        order=2,
    )
    Step.objects.create(matter=m, order=1, text="提交申请")
    Step.objects.create(matter=m, order=2, text="审核放款")
    FAQ.objects.create(matter=m, order=1, question="能提多少？", answer="不超过房价。\n第二行。")
    return m


@pytest.fixture
def hall_map(hall: Hall, window: Window) -> HallMap:
    hm = HallMap.objects.create(hall=hall, rows=6, cols=8, entrance_row=5, entrance_col=4)
    MapItem.objects.create(hall_map=hm, kind="window", window=window, row=0, col=1)
    MapItem.objects.create(hall_map=hm, kind="desk", label="咨询台", row=3, col=3, width=2)
    return hm


@pytest.fixture
def admin_client(client, make_user):
    user = make_user(role=Role.ADMIN, is_staff=True)
    client.force_login(user)
    return client
