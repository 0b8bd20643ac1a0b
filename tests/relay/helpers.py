"""A small county for the proxy-service tests: one town government with a village, a county
department whose business-licence matter has two required materials and one optional."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.test import Client

from minsheng.catalog.models import Material as CatalogMaterial
from minsheng.catalog.models import ServiceMatter
from minsheng.core import idnumber
from minsheng.core.models import Department, Division, Role, User
from minsheng.relay import actions
from minsheng.relay.models import RelayCase
from tests.factories import PASSWORD, DepartmentFactory, DivisionFactory, UserFactory

MOBILE = "13800138000"


@dataclass
class World:
    town: Division
    village: Division
    town_gov: Department
    county: Department
    matter: ServiceMatter
    proxy: User  # the village proxy worker (town government, window staff)
    town_handler: User  # the town's 便民服务中心
    county_staff: User  # a window of the county department


def make_world(suffix: str = "1", promised_days: int | None = 3) -> World:
    town = DivisionFactory(code=f"99010210{suffix}", name=f"城关镇{suffix}")
    village = DivisionFactory(
        code=f"99010210{suffix}201",
        name=f"城北村{suffix}",
        level=Division.Level.VILLAGE,
        parent=town,
    )
    town_gov = DepartmentFactory(
        name=f"城关镇{suffix}人民政府",
        short_name=f"城关镇{suffix}",
        kind=Department.Kind.TOWN,
        division=town,
    )
    county = DepartmentFactory(name=f"县市场监督管理局{suffix}", short_name=f"县市场监管局{suffix}")
    matter = ServiceMatter.objects.create(
        code=f"SCJ004-{suffix}",
        name="个体工商户设立登记",
        department=county,
        promised_days=promised_days,
    )
    CatalogMaterial.objects.create(matter=matter, name="居民身份证", copies=2, order=1)
    CatalogMaterial.objects.create(matter=matter, name="经营场所使用证明", order=2)
    CatalogMaterial.objects.create(matter=matter, name="委托书", required=False, order=3)
    return World(
        town=town,
        village=village,
        town_gov=town_gov,
        county=county,
        matter=matter,
        proxy=UserFactory(role=Role.WINDOW_STAFF, department=town_gov, name="吴建平"),
        town_handler=UserFactory(role=Role.HANDLER, department=town_gov),
        county_staff=UserFactory(role=Role.WINDOW_STAFF, department=county),
    )


def id_number(serial: int = 1) -> str:
    first17 = f"990102{dt.date(1980, 5, 1):%Y%m%d}{serial:03d}"
    return first17 + idnumber.check_char(first17)


def required_ids(world: World) -> set[int]:
    return set(world.matter.materials.filter(required=True).values_list("pk", flat=True))


def open_case(world: World, *, received: set[int] | None = None, **fields: object) -> RelayCase:
    return actions.open_case(
        matter_id=fields.pop("matter_id", world.matter.pk),  # type: ignore[arg-type]
        citizen_name=fields.pop("citizen_name", "王秀英"),  # type: ignore[arg-type]
        mobile=fields.pop("mobile", MOBILE),  # type: ignore[arg-type]
        village_id=fields.pop("village_id", world.village.pk),  # type: ignore[arg-type]
        received=required_ids(world) if received is None else received,
        by=fields.pop("by", world.proxy),  # type: ignore[arg-type]
        **fields,  # type: ignore[arg-type]
    )


def at_county(world: World) -> RelayCase:
    """A case signed for by the county department."""
    case = open_case(world)
    actions.hand_over(case.pk, by=world.proxy)
    actions.sign(case.pk, by=world.town_handler)
    actions.hand_over(case.pk, by=world.town_handler)
    return actions.sign(case.pk, by=world.county_staff)


def login(user: User) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client
