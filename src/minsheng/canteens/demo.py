"""The demo's happiness canteens: five village canteens of two towns (5 yuan a day from the
diner, 10 yuan subsidy), eligible diners, and a month of meals checked in through the action."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from minsheng.canteens import actions
from minsheng.canteens.models import Canteen, Diner
from minsheng.core import demo, idnumber
from minsheng.core.demo import COUNTY_CODE, GIVEN, SURNAMES
from minsheng.core.models import Department, Division

# (town code suffix, village name)
CANTEENS = [
    ("101", "城北村"),
    ("101", "十里铺村"),
    ("101", "桃园村"),
    ("102", "前进村"),
    ("102", "张家湾村"),
]
DAYS = 30


@demo.register("canteens", "幸福食堂：五个村的食堂、就餐老人和一个月的就餐登记", order=510)
def build(ctx: demo.DemoContext) -> None:
    # Tests of the other apps' demos turn this off (tests/venues and tests/canteens keep it).
    if not settings.DEMO_COMMUNITY:
        ctx.out("  DEMO_COMMUNITY 已关闭，跳过")
        return
    if Canteen.objects.exists():
        ctx.out("  已有幸福食堂，不再生成")
        return
    today = timezone.localdate()
    serial = 0
    for n, (town_suffix, village_name) in enumerate(CANTEENS, start=1):
        town = Division.objects.get(code=f"{COUNTY_CODE}{town_suffix}")
        village = Division.objects.get(parent=town, name=village_name)
        canteen = Canteen.objects.create(
            code=f"xfst-{n:02d}",
            name=f"{village_name}幸福食堂",
            village=village,
            department=Department.objects.get(code=town.code),
            fee_per_day=Decimal("5.00"),
            subsidy_per_day=Decimal("10.00"),
        )
        diners = []
        for _ in range(ctx.rng.randint(18, 32)):
            serial += 1
            category = ctx.rng.choice(list(Diner.Category.values))
            years = ctx.rng.randint(71, 92) if category != Diner.Category.DIFFICULTY else 55
            born = today.replace(year=today.year - years) - dt.timedelta(
                days=ctx.rng.randint(1, 300)
            )
            first17 = f"990102{born:%Y%m%d}{serial % 1000:03d}"
            diners.append(
                actions.register_diner(
                    canteen.pk,
                    name=ctx.rng.choice(SURNAMES) + ctx.rng.choice(GIVEN),
                    id_number=first17 + idnumber.check_char(first17),
                    category=category,
                    proof=f"低保证{serial:05d}" if category == Diner.Category.DIFFICULTY else "",
                    by=None,
                )
            )
        for back in range(DAYS, 0, -1):
            day = today - dt.timedelta(days=back)
            for diner in diners:
                if ctx.rng.random() < 0.8:
                    actions.check_in(diner.pk, by=None, day=day)
        ctx.progress("幸福食堂", n, len(CANTEENS))
