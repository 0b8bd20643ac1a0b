"""The demo's open school venues: four venues of three schools run by the education bureau,
opening hours staggered with school time, announced closures, registered residents (one
banned) and a month of gate passages made through the gate action."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from minsheng.core import demo, idnumber
from minsheng.core.demo import GIVEN, SURNAMES
from minsheng.core.models import Department, Division
from minsheng.venues import actions
from minsheng.venues.models import Closure, OpeningHours, Resident, Venue

K = Venue.Kind
# (code, school, name, kind, capacity)
VENUES = [
    ("syzx-tj", "县实验中学", "田径场", K.TRACK, 200),
    ("syzx-tg", "县实验中学", "室内体育馆", K.HALL, 80),
    ("dexx-lq", "县第二小学", "篮球场", K.BASKETBALL, 40),
    ("czxx-zq", "东关街道中心小学", "足球场", K.FOOTBALL, 120),
]
# Outside school time: early mornings and evenings on school days, all day at weekends.
SCHOOL_DAYS = [(dt.time(6, 0), dt.time(7, 0)), (dt.time(18, 0), dt.time(21, 30))]
WEEKEND = [(dt.time(6, 0), dt.time(21, 30))]
RESIDENTS = 120
DAYS = 30


@demo.register(
    "venues", "校园运动场开放：场地、开放时段、闭馆公告、登记居民和一个月的进出记录", order=500
)
def build(ctx: demo.DemoContext) -> None:
    # Tests of the other apps' demos turn this off (tests/venues and tests/canteens keep it).
    if not settings.DEMO_COMMUNITY:
        ctx.out("  DEMO_COMMUNITY 已关闭，跳过")
        return
    if Venue.objects.exists():
        ctx.out("  已有开放场地，不再生成")
        return
    department = Department.objects.get(code="jyj")
    town = Division.objects.filter(level=Division.Level.TOWN).order_by("code").first()
    venues = []
    for code, school, name, kind, capacity in VENUES:
        venue = Venue.objects.create(
            code=code,
            school=school,
            name=name,
            kind=kind,
            capacity=capacity,
            department=department,
            town=town,
        )
        for weekday in range(7):
            for opens, closes in SCHOOL_DAYS if weekday < 5 else WEEKEND:
                OpeningHours.objects.create(
                    venue=venue, weekday=weekday, opens=opens, closes=closes
                )
        venues.append(venue)
    today = timezone.localdate()
    local = timezone.get_current_timezone()
    exam = dt.datetime.combine(today + dt.timedelta(days=10), dt.time(0), local)
    Closure.objects.create(
        venue=venues[1], starts_at=exam, ends_at=exam + dt.timedelta(days=2), reason="期末考试"
    )
    Closure.objects.create(
        venue=venues[2],
        starts_at=exam - dt.timedelta(days=5),
        ends_at=exam - dt.timedelta(days=4),
        reason="篮球架维修",
    )
    numbers = _register(ctx)
    actions.set_banned(
        Resident.objects.order_by("pk").first().pk,  # type: ignore[union-attr]
        banned=True,
        reason="多次在场内吸烟、劝阻不听",
        by=None,
    )
    _passages(ctx, venues, numbers, today)


def _register(ctx: demo.DemoContext) -> list[str]:
    numbers = []
    for n in range(RESIDENTS):
        born = dt.date(1945, 1, 1) + dt.timedelta(days=ctx.rng.randrange(0, 60 * 365))
        first17 = f"990102{born:%Y%m%d}{n:03d}"
        number = first17 + idnumber.check_char(first17)
        actions.register_resident(
            id_number=number,
            name=ctx.rng.choice(SURNAMES) + ctx.rng.choice(GIVEN),
            mobile=f"1400001{n:04d}",
            gate_identity=f"face-{n:04d}" if n % 3 == 0 else "",
            by=None,
        )
        numbers.append(number)
        if (n + 1) % 40 == 0:
            ctx.progress("登记居民", n + 1, RESIDENTS)
    return numbers


def _passages(
    ctx: demo.DemoContext, venues: list[Venue], numbers: list[str], today: dt.date
) -> None:
    """Each past day, residents come at open times and leave an hour or so later (all have
    left by now, so the live counts start at zero)."""
    local = timezone.get_current_timezone()
    for back in range(DAYS, 0, -1):
        day = today - dt.timedelta(days=back)
        slots = SCHOOL_DAYS if day.weekday() < 5 else WEEKEND
        for _ in range(ctx.rng.randint(15, 30)):
            venue = ctx.rng.choice(venues)
            opens, closes = ctx.rng.choice(slots)
            start = dt.datetime.combine(day, opens, local)
            span = (dt.datetime.combine(day, closes, local) - start).total_seconds()
            entered = start + dt.timedelta(seconds=ctx.rng.uniform(0, span * 0.7))
            number = ctx.rng.choice(numbers)
            decision = actions.pass_gate(
                venue.code, direction="in", id_number=number, by=None, now=entered
            )
            if decision.reason == "ok":
                left = entered + dt.timedelta(minutes=ctx.rng.randint(20, 90))
                actions.pass_gate(venue.code, direction="out", id_number=number, by=None, now=left)
        ctx.progress("进出记录", DAYS - back + 1, DAYS)
