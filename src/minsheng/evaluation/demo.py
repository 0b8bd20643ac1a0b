"""The demo's 好差评: the hall at the county's real scale (210 windows, 300 window staff)
and a year of service events and ratings, with 差评 cases in every state.

Historic events and ratings are written in bulk (one audit event for the step); the
recent month's 差评 go through the actions, so their cases carry real deadlines and
audit trails, and stop in every state of the workflow.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Sequence
from typing import TypeVar

from django.conf import settings
from django.utils import timezone

from minsheng.core import audit, demo
from minsheng.core.models import Department, Hall, Role, User, Window
from minsheng.evaluation import actions, stats
from minsheng.evaluation.errors import EvaluationError
from minsheng.evaluation.models import (
    BAD_LEVELS,
    Case,
    DefaultMode,
    EvaluationSettings,
    Finding,
    Level,
    RatingChannel,
    Reason,
    ServiceChannel,
    ServiceEvent,
)
from minsheng.evaluation.states import CaseState

T = TypeVar("T")

WINDOWS = 210
WINDOW_STAFF = 300
# A demo of at least this many events gets the hall at the county's real scale; smaller
# ones (tests, a quick look) keep the hall as core built it.
COUNTY_SCALE_EVENTS = 1000
EXTRA_HALL = ("D", "四号厅（综合受理）", "4层")
LEVELS = [
    (Level.VERY_GOOD, 70),
    (Level.GOOD, 19),
    (Level.BASIC, 6),
    (Level.BAD, 4),
    (Level.VERY_BAD, 1),
]
CHANNELS = [
    (RatingChannel.PAD, 60),
    (RatingChannel.KIOSK, 8),
    (RatingChannel.LINK, 27),
    (RatingChannel.HOTLINE, 5),
]
RATED_SHARE = 0.86
RECENT_DAYS = 30
MIN_RECENT_BAD = 14
COMMENTS = [
    "等了一个多小时才叫到号",
    "材料要求前后说法不一样",
    "跑了三趟还没办成",
    "工作人员态度生硬",
    "",
]


def _pick(rng: random.Random, weighted: Sequence[tuple[T, int]]) -> T:
    return rng.choices([v for v, _w in weighted], [w for _v, w in weighted])[0]


def build_hall(ctx: demo.DemoContext) -> None:
    """Top the hall up to the county's 210 windows and 300 window staff (idempotent)."""
    departments = list(
        Department.objects.filter(kind=Department.Kind.COUNTY).order_by("sort_order", "code")
    )
    if not departments:
        return
    code, name, floor = EXTRA_HALL
    hall, _created = Hall.objects.get_or_create(
        code=code,
        defaults={"name": name, "floor": floor, "building": f"{settings.COUNTY_NAME}政务服务中心"},
    )
    missing = WINDOWS - Window.objects.count()
    existing = set(Window.objects.filter(hall=hall).values_list("number", flat=True))
    n = 0
    new_windows = []
    while missing > 0:
        n += 1
        number = f"D{n:03d}"
        if number in existing:
            continue
        department = departments[n % len(departments)]
        new_windows.append(
            Window(
                hall=hall, number=number, name=f"{department.label}综合窗口", department=department
            )
        )
        missing -= 1
    Window.objects.bulk_create(new_windows)
    ctx.progress("服务窗口", Window.objects.count(), WINDOWS)

    have = User.objects.filter(role=Role.WINDOW_STAFF).count()
    staffed = set(User.objects.filter(role=Role.WINDOW_STAFF).values_list("window_id", flat=True))
    windows = list(Window.objects.filter(department__isnull=False).order_by("hall__code", "number"))
    order = [w for w in windows if w.pk not in staffed] + windows * 2
    people: list[User] = []
    index = 0
    taken = set(User.objects.filter(staff_no__startswith="W").values_list("staff_no", flat=True))
    usernames = set(
        User.objects.filter(username__startswith="ck").values_list("username", flat=True)
    )
    for window in order:
        if have + len(people) >= WINDOW_STAFF:
            break
        index += 1
        staff_no = f"W{index:04d}"
        while staff_no in taken:
            index += 1
            staff_no = f"W{index:04d}"
        username = f"ck{index:04d}"
        if username in usernames:
            continue
        person = User(
            username=username,
            name=ctx.rng.choice(demo.SURNAMES) + ctx.rng.choice(demo.GIVEN),
            role=Role.WINDOW_STAFF,
            department_id=window.department_id,
            window=window,
            staff_no=staff_no,
            mobile=f"1400002{index:04d}",
        )
        person.set_unusable_password()
        people.append(person)
    User.objects.bulk_create(people)
    ctx.progress("窗口工作人员", User.objects.filter(role=Role.WINDOW_STAFF).count(), WINDOW_STAFF)


def _moment(rng: random.Random, now: dt.datetime, days_back: int) -> dt.datetime:
    local = timezone.localtime(now) - dt.timedelta(days=days_back)
    while local.weekday() >= 5:
        local -= dt.timedelta(days=1)
    minute = rng.randrange(8 * 60 + 30, 17 * 60 + 30)
    return local.replace(
        hour=minute // 60, minute=minute % 60, second=rng.randrange(60), microsecond=0
    )


def build_events(ctx: demo.DemoContext) -> None:
    from minsheng.catalog.models import ServiceMatter

    # A generator of its own: what the other steps draw does not change this year.
    rng = random.Random(4)  # noqa: S311 (demo data, not security)
    now = timezone.now()
    staff = list(
        User.objects.filter(
            role=Role.WINDOW_STAFF, window__isnull=False, window__department__isnull=False
        )
        .select_related("window")
        .order_by("pk")
    )
    if not staff:
        return
    matters: dict[int, list[int]] = {}
    for pk, department_id in ServiceMatter.objects.filter(active=True).values_list(
        "pk", "department_id"
    ):
        matters.setdefault(department_id, []).append(pk)
    total = settings.DEMO_SERVICE_EVENTS
    events = []
    for i in range(total):
        person = rng.choice(staff)
        assert person.window is not None
        window_department = person.window.department_id
        assert window_department is not None
        options = matters.get(window_department)
        days_back = int(rng.triangular(0, 365, 0))
        events.append(
            ServiceEvent(
                department_id=window_department,
                window=person.window,
                staff=person,
                matter_id=rng.choice(options) if options else None,
                channel=ServiceChannel.WINDOW if rng.random() < 0.9 else ServiceChannel.ONLINE,
                mobile=f"1400001{i % 10000:04d}" if rng.random() < 0.4 else "",
                started_at=_moment(rng, now, days_back + 1),
            )
        )
    for event in events:
        event.finished_at = event.started_at + dt.timedelta(minutes=rng.randrange(5, 40))
    ServiceEvent.objects.bulk_create(events, batch_size=2000)
    ctx.progress("办件", len(events), total)

    from minsheng.evaluation.models import Rating

    recent = now - dt.timedelta(days=RECENT_DAYS)
    ratings = []
    later: list[tuple[ServiceEvent, int, str]] = []
    for event in events:
        if rng.random() > RATED_SHARE:
            continue
        level = int(_pick(rng, LEVELS))
        channel = str(_pick(rng, CHANNELS))
        if level in BAD_LEVELS and event.started_at >= recent:
            later.append((event, level, channel))  # through the actions, below
            continue
        reasons = rng.sample(Reason.values[:6], rng.randrange(1, 3)) if level in BAD_LEVELS else []
        ratings.append(
            Rating(
                event=event,
                level=level,
                channel=channel,
                reasons=reasons,
                comment=rng.choice(COMMENTS) if level in BAD_LEVELS else "",
                created_at=event.finished_at or event.started_at,
                department_id=event.department_id,
                staff_id=event.staff_id,
            )
        )
    # Enough recent 差评 to show a case in every state of the workflow.
    while len(later) < MIN_RECENT_BAD:
        recent_good = next((r for r in ratings if r.event.started_at >= recent), None)
        if recent_good is None:
            break
        ratings.remove(recent_good)
        later.append((recent_good.event, Level.BAD, RatingChannel.PAD))
    Rating.objects.bulk_create(ratings, batch_size=2000)
    for rating in ratings:
        rating.event.rated_at = rating.created_at
    ServiceEvent.objects.bulk_update([r.event for r in ratings], ["rated_at"], batch_size=2000)
    _historic_cases([r for r in ratings if r.level in BAD_LEVELS], rng)
    ctx.progress("评价", len(ratings), len(ratings))
    audit.record(
        None,
        "evaluation.demo",
        object_type="demo",
        object_repr="好差评演示数据",
        after={"events": len(events), "ratings": len(ratings)},
    )
    _recent_cases(ctx, later)
    done = 0
    while True:  # the county's default for events nobody rated (基本满意)
        step = actions.apply_default_ratings(now)
        if not step:
            break
        done += step
    ctx.out(f"  默认评价 {done} 件")


def _historic_cases(bad: list[object], rng: random.Random) -> None:
    """Bad ratings older than a month: their cases were long closed."""
    from minsheng.core import calendar
    from minsheng.evaluation.models import Rating

    cases = []
    for rating in bad:
        assert isinstance(rating, Rating)
        opened = rating.created_at
        verify = calendar.add_working_days(opened, 1).due_at
        rectify = calendar.add_working_days(opened, 5).due_at
        finding = _pick(
            rng, [(Finding.REASONABLE, 75), (Finding.UNREASONABLE, 20), (Finding.MALICIOUS, 5)]
        )
        reasonable = finding == Finding.REASONABLE
        cases.append(
            Case(
                rating=rating,
                department_id=rating.department_id,
                state=CaseState.CLOSED,
                opened_at=opened,
                verify_due_at=verify,
                rectify_due_at=rectify,
                verified_at=opened + dt.timedelta(hours=rng.randrange(2, 20)),
                verify_note="已电话回访，群众反映情况属实"
                if reasonable
                else "已回访，所反映情况与事实不符",
                finding=finding,
                measures="对窗口人员进行业务培训，优化叫号安排" if reasonable else "",
                rectified_at=opened + dt.timedelta(days=2) if reasonable else None,
                feedback_note="已向群众反馈整改情况" if reasonable else "",
                feedback_level=Level.GOOD if reasonable else None,
                fed_back_at=opened + dt.timedelta(days=3) if reasonable else None,
                review_note="同意办结",
                closed_at=opened + dt.timedelta(days=4),
                version=5,
            )
        )
    Case.objects.bulk_create(cases, batch_size=2000)


def _recent_cases(ctx: demo.DemoContext, later: list[tuple[ServiceEvent, int, str]]) -> None:
    """The last month's 差评 through the actions, stopped in every state."""
    supervisor = User.objects.filter(role=Role.SUPERVISOR, is_active=True).first()
    handlers = {
        u.department_id: u
        for u in User.objects.filter(role=Role.HANDLER, is_active=True).order_by("pk")
    }
    states: Counter[str] = Counter()
    rng = random.Random(5)  # noqa: S311 (demo data, not security)
    for i, (event, level, channel) in enumerate(later):
        reasons = rng.sample(Reason.values[:6], rng.randrange(1, 3))
        at = (event.finished_at or event.started_at) + dt.timedelta(minutes=5)
        rating = actions.record_past_rating(
            event.pk, actions.RatingInput(level, reasons, rng.choice(COMMENTS)), channel, at=at
        )
        case = Case.objects.get(rating=rating)
        handler = handlers.get(event.department_id)
        target = i % 7
        if handler is None or supervisor is None:
            states[case.get_state_display()] += 1
            continue
        try:
            if target >= 1:
                actions.verify_case(case.pk, by=handler, note="已电话回访，核实情况属实")
            if target == 6:
                actions.classify_case(
                    case.pk,
                    by=supervisor,
                    finding=Finding.UNREASONABLE,
                    note="经调取录像，窗口按规定办理",
                )
            elif target >= 2:
                actions.classify_case(case.pk, by=supervisor, finding=Finding.REASONABLE)
            if 3 <= target <= 5:
                actions.rectify_case(case.pk, by=handler, measures="增开临时窗口，高峰时段弹性排班")
            if 4 <= target <= 5:
                actions.feedback_case(
                    case.pk, by=handler, note="已电话告知群众整改情况", level=Level.GOOD
                )
            if target == 5:
                actions.review_case(case.pk, by=supervisor, approve=True, note="整改到位")
        except EvaluationError as error:  # a demo county's odd corner: report, go on
            ctx.out(f"  差评 {case.pk}: {error.message}")
        states[Case.objects.get(pk=case.pk).get_state_display()] += 1
        if i == 3 and rating.staff_id:
            staff = User.objects.get(pk=rating.staff_id)
            actions.file_appeal(rating.pk, by=staff, reason="当天系统故障导致等待，非本人原因")
    ctx.out("  近一个月差评：" + "，".join(f"{k} {v}" for k, v in states.items()))


@demo.register("evaluation", "政务服务好差评：窗口、人员和一年的办件与评价", order=300)
def build(ctx: demo.DemoContext) -> None:
    EvaluationSettings.objects.get_or_create(pk=1, defaults={"default_mode": DefaultMode.BASIC})
    if settings.DEMO_SERVICE_EVENTS >= COUNTY_SCALE_EVENTS:
        build_hall(ctx)
    if ServiceEvent.objects.exists():
        ctx.out("  已有办件数据，不再生成演示办件")
        return
    build_events(ctx)
    months = stats.refresh_all()
    ctx.out(f"  统计：{months} 个月")
