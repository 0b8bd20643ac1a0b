"""The demo's proxy service: two months of cases in six towns (most in 城关镇, the ``proxy``
login's town), on matters of the demo catalogue, at every stage of the relay: some still
collecting, some waiting for a signature or overdue, most handed back to the citizen and
rated. Every step is an action, run in simulated time (the appeals demo's clock), so the
deadlines, the audit trail and the 好差评 ratings are what two months of work would leave.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator

from django.conf import settings
from django.utils import timezone

from minsheng.appeals.demo import (
    SimulatedClock,
    archive_old_notifications,
    last_message,
    simulated_time,
)
from minsheng.catalog.models import ServiceMatter
from minsheng.core import calendar, demo, idnumber
from minsheng.core.demo import COUNTY_CODE, GIVEN, SURNAMES
from minsheng.core.models import Department, Division, Role, User
from minsheng.evaluation import actions as evaluation
from minsheng.evaluation.models import Level, Reason
from minsheng.relay import actions, sweep
from minsheng.relay.models import RelayCase

# Matters people ask a village proxy worker for, from the demo catalogue: a business
# licence first. Those whose department has no staff in the demo are left out.
MATTERS = [
    "SCJ004",  # 个体工商户设立登记
    "MZJ007",  # 高龄津贴申领
    "RSJ003",  # 社会保障卡申领
    "MZJ004",  # 最低生活保障申请
    "RSJ007",  # 城乡居民基本养老保险待遇领取
    "MZJ008",  # 困难残疾人生活补贴和重度残疾人护理补贴
    "ZRZ009",  # 乡村建设规划许可证核发（农村村民建房）
    "SCJ009",  # 小餐饮、食品小作坊登记
    "YBJ001",  # 城乡居民基本医疗保险参保登记
    "GAJ004",  # 无犯罪记录证明开具
]
# (town code suffix, cases): 城关镇 is the ``proxy`` login's.
TOWNS = [("101", 14), ("102", 7), ("103", 6), ("201", 5), ("104", 4), ("001", 4)]
DAYS = 60
# What becomes of the cases, in turn: every stage of the relay appears, most cases end
# handed back to the citizen.
FATES = [
    "delivered",
    "at_county",
    "delivered",
    "collecting",
    "to_town",
    "delivered",
    "done",
    "at_town",
    "delivered_after_return",
    "returned",
    "to_county",
    "delivered",
    "cancelled",
    "at_county",
    "delivered",
    "done",
]
# The steps of each fate after the opening.
FORWARD = ["hand_over", "sign", "hand_over", "sign", "complete", "deliver"]
PATHS: dict[str, list[str]] = {
    "collecting": [],
    "to_town": FORWARD[:1],
    "at_town": FORWARD[:2],
    "to_county": FORWARD[:3],
    "at_county": FORWARD[:4],
    "done": FORWARD[:5],
    "delivered": FORWARD,
    "returned": ["hand_over", "sign", "send_back"],
    "delivered_after_return": ["hand_over", "sign", "send_back", "materials", *FORWARD],
    "cancelled": ["hand_over", "sign", "cancel"],
}
# Working hours of a proxy worker or a window, in China.
OPENS, CLOSES = dt.time(8, 40), dt.time(17, 20)
LEVELS = [(Level.VERY_GOOD, 11), (Level.GOOD, 5), (Level.BASIC, 2), (Level.BAD, 1)]


def _office_time(moment: dt.datetime, rng: random.Random) -> dt.datetime:
    """``moment`` if a window is open then, else a time in the next working morning."""
    local = moment.astimezone(calendar.CALENDAR_TZ)
    day = local.date()
    if calendar.is_working_day(day) and OPENS <= local.time() <= CLOSES:
        return moment
    if not calendar.is_working_day(day) or local.time() > CLOSES:
        day = calendar.next_working_day(day)
    minutes = rng.randrange(0, 150)
    start = dt.datetime.combine(day, OPENS, tzinfo=calendar.CALENDAR_TZ)
    return start + dt.timedelta(minutes=minutes)


def _gap(step: str, matter: ServiceMatter, rng: random.Random) -> dt.timedelta:
    """How long after the previous step a step is taken (calendar time, before office hours)."""
    hours = {
        "hand_over": rng.uniform(1, 30),
        "sign": rng.uniform(0.5, 20),
        "send_back": rng.uniform(2, 20),
        "materials": rng.uniform(20, 60),
        "complete": rng.uniform(3, 24 * (1.4 * (matter.promised_days or 3) + 1)),
        "deliver": rng.uniform(2, 30),
        "cancel": rng.uniform(4, 40),
    }[step]
    return dt.timedelta(hours=hours)


def _id_number(rng: random.Random, serial: int) -> str:
    born = dt.date(rng.randint(1948, 1998), rng.randint(1, 12), rng.randint(1, 28))
    first17 = f"{COUNTY_CODE}{born:%Y%m%d}{serial % 1000:03d}"
    return first17 + idnumber.check_char(first17)


def _staff(department: Department, username: str = "") -> User | None:
    """Who works on the demo's cases in ``department``: the named login if it is there,
    else a window worker (ratings then count for a window too), else a handler."""
    members = User.objects.filter(department=department, is_active=True)
    if username:
        login = members.filter(username=username).first()
        if login is not None:
            return login
    return (
        members.filter(role=Role.WINDOW_STAFF, window__isnull=False).order_by("pk").first()
        or members.filter(role=Role.HANDLER).order_by("pk").first()
    )


def _times(
    path: list[str], matter: ServiceMatter, end: dt.datetime, rng: random.Random
) -> Iterator[dt.datetime]:
    """Office-hour moments for the opening and each step, the last before ``end``."""
    gaps = [_gap(step, matter, rng) for step in path]
    span = sum(gaps, dt.timedelta())
    # Open cases are recent (some a little late, a few very late); closed ones any time.
    back = dt.timedelta(hours=rng.uniform(2, 24 * 4)) if path[-1:] != ["deliver"] else None
    room = dt.timedelta(days=DAYS) - span
    if back is None or back > room:
        back = dt.timedelta(hours=rng.uniform(0, max(room.total_seconds() / 3600, 1)))
    moment = _office_time(end - span - back, rng)
    yield moment
    for gap in gaps:
        moment = _office_time(moment + gap, rng)
        yield min(moment, end - dt.timedelta(minutes=5))


@demo.register("relay", "代办帮办：六个乡镇两个月的代办件，从收件、接力到办结评价", order=540)
def build(ctx: demo.DemoContext) -> None:
    # Tests of the other apps' demos turn this off (tests/relay keeps it).
    if not settings.DEMO_COMMUNITY:
        ctx.out("  DEMO_COMMUNITY 已关闭，跳过")
        return
    if RelayCase.objects.exists():
        ctx.out("  已有代办件，不再生成")
        return
    county_staff: dict[int, User] = {}
    matters: list[ServiceMatter] = []
    for matter in ServiceMatter.objects.filter(code__in=MATTERS, active=True).select_related(
        "department"
    ):
        staff = _staff(matter.department)
        if staff is not None:
            matters.append(matter)
            county_staff[matter.department_id] = staff
    if not matters:
        ctx.out("  办事指南中没有可代办的演示事项，跳过")
        return
    matters.sort(key=lambda m: MATTERS.index(m.code))
    end = timezone.now()
    first_message = last_message()
    clock = SimulatedClock()
    serial = 0
    with simulated_time(clock):
        for n, (suffix, count) in enumerate(TOWNS, start=1):
            town = Division.objects.get(code=f"{COUNTY_CODE}{suffix}")
            origin = Department.objects.get(code=town.code)
            proxy = _staff(origin, "proxy")
            villages = list(Division.objects.filter(parent=town, level=Division.Level.VILLAGE))
            if proxy is None or not villages:
                continue
            for _i in range(count):
                serial += 1
                fate = FATES[serial % len(FATES)]
                # A business licence for every third case: the matter the proxy service is for.
                matter = matters[0] if serial % 3 == 0 else ctx.rng.choice(matters)
                _run(ctx, clock, fate, matter, proxy, county_staff, villages, serial, end)
            ctx.progress("代办件", n, len(TOWNS))
    sweep.sweep()  # what the worker finds now: the overdue stages, told to their holders
    archive_old_notifications(first_message, end)


def _run(
    ctx: demo.DemoContext,
    clock: SimulatedClock,
    fate: str,
    matter: ServiceMatter,
    proxy: User,
    county_staff: dict[int, User],
    villages: list[Division],
    serial: int,
    end: dt.datetime,
) -> None:
    """Open one case and take it through the steps of its fate, each at its moment."""
    rng = ctx.rng
    path = PATHS[fate]
    moments = _times(path, matter, end, rng)
    catalog = list(matter.materials.all())
    required = [m for m in catalog if m.required]
    received = {m.pk for m in catalog}
    if fate == "collecting" and required:
        received.discard(rng.choice(required).pk)  # one still missing
    clock.moment = next(moments)
    case = actions.open_case(
        matter_id=matter.pk,
        citizen_name=rng.choice(SURNAMES) + rng.choice(GIVEN),
        mobile=f"1400001{serial:04d}",
        id_number=_id_number(rng, serial) if rng.random() < 0.7 else "",
        village_id=rng.choice(villages).pk,
        received=received,
        by=proxy,
    )
    county = county_staff[matter.department_id]
    for step in path:
        clock.moment = next(moments)
        by = county if case.holder_department_id == matter.department_id else proxy
        if step == "hand_over":
            case = actions.hand_over(case.pk, by=by)
        elif step == "sign":
            case = actions.sign(case.pk, by=by)
        elif step == "send_back":
            missing = [m.pk for m in case.materials.filter(required=True)[:1]]
            case = actions.send_back(
                case.pk, by=by, reason="身份证复印件不清晰，请重新复印", missing=missing
            )
        elif step == "materials":
            everything = set(case.materials.values_list("pk", flat=True))
            case = actions.record_materials(case.pk, received=everything, by=proxy)
        elif step == "complete":
            case = actions.complete(case.pk, by=by, result=f"{matter.name}已办结，结果已出具")
        elif step == "deliver":
            case = actions.deliver(case.pk, by=by)
        else:
            case = actions.cancel(case.pk, by=by, reason="群众自行到县政务服务中心办理")
    if fate.startswith("delivered") and case.event is not None and rng.random() < 0.85:
        level = rng.choices([lv for lv, _w in LEVELS], [w for _lv, w in LEVELS])[0]
        evaluation.rate_from_link(
            evaluation.link_token(case.event),
            evaluation.RatingInput(
                level=level,
                reasons=[Reason.OVERTIME] if level == Level.BAD else [],
                comment="代办员跑腿，不用进城，很方便" if level == Level.VERY_GOOD else "",
            ),
        )
    clock.moment = None
