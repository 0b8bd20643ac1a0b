"""The demo's neighbourhood centres: every one of the 60 villages in one of two batches (36
in the first, 24 in the second), at statuses that make a believable progress, their 7+X
functions, and three months of records kept by each town's worker through the same actions
as the pages: several hundred matters, about sixty disputes (most resolved, a few follow-up
visits overdue) and about thirty opinions, each an appeal with the channel 邻里中心.

石桥镇, the town of the ``centre`` login, is all in the first batch and all in use."""

from __future__ import annotations

import datetime as dt
import io
import random

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from minsheng.appeals.demo import (
    SimulatedClock,
    archive_old_notifications,
    last_message,
    simulated_time,
)
from minsheng.centres import actions
from minsheng.centres.models import (
    Batch,
    Centre,
    Dispute,
    FunctionKind,
    FunctionState,
    Matter,
    Opinion,
    Status,
    StatusChange,
)
from minsheng.core import calendar, demo
from minsheng.core.demo import COUNTY_CODE, GIVEN, SURNAMES
from minsheng.core.models import Department, Division, Role, User

DAYS = 90
CENTRE_TOWN = f"{COUNTY_CODE}102"  # 石桥镇: the town of the `centre` demo login
FIRST_WHOLE_TOWNS = {f"{COUNTY_CODE}101", CENTRE_TOWN}  # all their villages in batch 1
FIRST_PER_TOWN = 3  # and the first three villages of every other town

MATTERS = {
    Matter.Type.PROXY: ["代缴城乡居民医保", "代缴养老保险", "代办老年证", "代办残疾人证年审"],
    Matter.Type.POLICY: [
        "咨询高龄补贴申领条件",
        "咨询低保政策",
        "咨询小额创业贷款",
        "咨询退役军人优待",
    ],
    Matter.Type.CERTIFICATE: ["开具居住证明", "开具家庭关系证明", "开具务工收入证明"],
    Matter.Type.LIVING: ["帮独居老人代购药品", "联系维修漏水屋顶", "帮助联系家政服务"],
    Matter.Type.OTHER: ["帮助查询快递", "代填申请表格"],
}
DISPUTES = {
    Dispute.Type.NEIGHBOUR: "两家因院墙排水问题发生争执，雨天积水流入邻居院内，双方多次争吵。",
    Dispute.Type.FAMILY: "老人赡养费分担问题，兄弟之间意见不一，老人请村里出面调解。",
    Dispute.Type.LAND: "宅基地边界不清，一方新建围墙占用了另一方的通道。",
    Dispute.Type.LABOUR: "村民在邻村工地务工，工钱被拖欠三个月，包工头称资金未到位。",
    Dispute.Type.OTHER: "养狗扰民，邻居多次反映夜间犬吠影响休息。",
}
OPINIONS = [
    (
        "建议村里路灯延长开灯时间",
        "冬天天黑得早，晚上七点以后村里主路上的路灯就关了，老人出门不安全，建议延长到十点。",
    ),
    (
        "村东头垃圾清运不及时",
        "村东头的垃圾箱经常满了三四天才清运，天热时气味很大，希望增加清运次数。",
    ),
    (
        "希望增加去县城的公交班次",
        "村里到县城的公交一天只有两班，看病和办事很不方便，希望增加班次。",
    ),
    (
        "建议在中心开设老年人智能手机课",
        "很多老人不会用手机缴费和挂号，建议邻里中心每周开一次手机使用培训课。",
    ),
    ("小学门口缺少减速带", "村小学门口的路上车速很快，接送孩子时很危险，建议安装减速带和警示牌。"),
    ("灌溉水渠需要清淤", "村北的灌溉水渠淤积严重，明年春灌前需要清淤，否则影响用水。"),
    ("建议四点半课堂增加作业辅导老师", "四点半课堂孩子很多，只有一位志愿者，希望增加辅导老师。"),
]
STATUS_PATH = [Status.BUILDING, Status.BASIC, Status.IN_USE]


def _agreement() -> SimpleUploadedFile:
    """A blank "scanned agreement": a page with lines where the text would be and a stamp."""
    from PIL import Image, ImageDraw

    page = Image.new("RGB", (500, 700), "white")
    draw = ImageDraw.Draw(page)
    draw.rectangle((10, 10, 490, 690), outline="black", width=3)
    for y in range(90, 560, 40):
        draw.line((50, y, 450, y), fill="#999999", width=6)
    draw.ellipse((320, 560, 440, 680), outline="#c00000", width=5)
    data = io.BytesIO()
    page.save(data, format="PNG")
    return SimpleUploadedFile("调解协议书.png", data.getvalue())


def _batches(today: dt.date) -> tuple[Batch, Batch]:
    first, _ = Batch.objects.get_or_create(
        name="第一批", defaults={"year": today.year - 1, "note": "去年启动，36个村（社区）"}
    )
    second, _ = Batch.objects.get_or_create(
        name="第二批", defaults={"year": today.year, "note": "今年启动，24个村（社区）"}
    )
    return first, second


def _plan(villages: list[Division], rng: random.Random) -> list[tuple[Division, bool, str]]:
    """(village, in the first batch, the status it reaches)."""
    plan: list[tuple[Division, bool, str]] = []
    seen: dict[int | None, int] = {}
    for village in villages:
        town = village.parent
        assert town is not None
        seen[town.pk] = seen.get(town.pk, 0) + 1
        first = town.code in FIRST_WHOLE_TOWNS or seen[town.pk] <= FIRST_PER_TOWN
        if town.code == CENTRE_TOWN:
            status = Status.IN_USE
        elif first:
            status = rng.choices(STATUS_PATH, weights=[1, 2, 7])[0]
        else:
            status = rng.choices([Status.PLANNED, *STATUS_PATH], weights=[3, 4, 2, 1])[0]
        plan.append((village, first, status))
    return plan


def _workers() -> dict[int, User]:
    """The worker who records at each town's centres: the `centre` login for its town, the
    town government's handler elsewhere."""
    workers: dict[int, User] = {}
    for user in User.objects.filter(
        role=Role.HANDLER, department__kind=Department.Kind.TOWN, is_active=True
    ).order_by("pk"):
        assert user.department_id is not None
        if user.username == "centre" or user.department_id not in workers:
            workers[user.department_id] = user
    return workers


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _open_centre(
    ctx: demo.DemoContext, village: Division, batch: Batch, status: str, today: dt.date
) -> Centre:
    rng = ctx.rng
    first = batch.year < today.year
    start = today - dt.timedelta(days=rng.randint(420, 470) if first else rng.randint(250, 300))
    centre = actions.create_centre(
        village.pk,
        batch_id=batch.pk,
        address=f"{village.parent.name if village.parent else ''}{village.name}"
        + ("居委会旁" if village.name.endswith("社区") else "村委会旁"),
        on=start,
        by=None,
    )
    # Batch 1's centres in use opened before the three months of records start.
    gaps = [rng.randint(60, 100), rng.randint(120, 180), rng.randint(30, 60)]
    if not first:
        gaps = [rng.randint(40, 80), rng.randint(90, 130), rng.randint(15, 40)]
    day = start
    for target, gap in zip(STATUS_PATH, gaps, strict=True):
        if Status.values.index(centre.status) >= Status.values.index(status):
            break
        day = min(day + dt.timedelta(days=gap), today)
        centre = actions.change_status(centre.pk, to=target, on=day, by=None)
    return centre


def _functions(ctx: demo.DemoContext, centre: Centre, kinds: list[FunctionKind]) -> None:
    rng = ctx.rng
    states: dict[int, str] = {}
    for kind in kinds:
        if centre.status == Status.PLANNED:
            continue
        if kind.basic:
            in_service = centre.open and rng.random() < (
                0.95 if centre.status == Status.IN_USE else 0.5
            )
            states[kind.pk] = FunctionState.IN_SERVICE if in_service else FunctionState.PLANNED
        elif centre.status == Status.IN_USE and rng.random() < 0.45:
            states[kind.pk] = FunctionState.IN_SERVICE
    if states:
        actions.set_functions(centre.pk, states=states, by=None)


def _records(
    ctx: demo.DemoContext, centre: Centre, worker: User | None, today: dt.date, document: bool
) -> None:
    rng = ctx.rng
    built = (
        StatusChange.objects.filter(centre=centre, to_status=Status.BASIC)
        .values_list("on", flat=True)
        .last()
    )
    opened = max(today - dt.timedelta(DAYS), built or today)
    span = max((today - opened).days, 1)
    busy = centre.status == Status.IN_USE
    for _ in range(rng.randint(9, 17) if busy else rng.randint(2, 6)):
        kind = rng.choice(list(MATTERS))
        actions.record_matter(
            centre.pk,
            type=kind,
            person_name=_name(rng),
            mobile=f"1400001{rng.randrange(10000):04d}" if rng.random() < 0.6 else "",
            description=rng.choice(MATTERS[kind]),
            outcome=rng.choices(list(Matter.Outcome.values), weights=[85, 10, 5])[0],
            handled_on=opened + dt.timedelta(days=rng.randrange(span)),
            by=worker,
        )
    for _ in range(rng.choice([1, 1, 2, 2, 3]) if busy else rng.choice([0, 1])):
        dispute_type = rng.choice(list(DISPUTES))
        outcome = rng.choices(list(Dispute.Outcome.values), weights=[72, 12, 7, 9])[0]
        mediated = opened + dt.timedelta(days=rng.randrange(span))
        dispute = actions.record_dispute(
            centre.pk,
            parties=[_name(rng), _name(rng)],
            type=dispute_type,
            description=DISPUTES[dispute_type],
            outcome=outcome,
            mediated_on=mediated,
            agreement=_agreement() if document and outcome == Dispute.Outcome.RESOLVED else None,
            by=worker,
        )
        due = dispute.follow_up_due_on
        # Most visits are made in time; a few are forgotten and show as overdue.
        if (due < today and rng.random() < 0.88) or (due >= today and rng.random() < 0.4):
            latest = min(due + dt.timedelta(days=rng.choice([0, 0, 0, 2])), today)
            visit = mediated + dt.timedelta(days=rng.randint(1, max((latest - mediated).days, 1)))
            actions.record_follow_up(
                dispute.pk,
                done_on=min(visit, today),
                note=rng.choice(
                    ["双方已按协议履行", "关系缓和，未再发生争执", "已转司法所继续处理"]
                ),
                by=worker,
            )


def _opinions(ctx: demo.DemoContext, centres: list[Centre], workers: dict[int, User]) -> None:
    """About thirty opinions over the last working days, each an appeal with the channel
    邻里中心, recorded at the moment it happened (a simulated clock, as the appeals' demo)."""
    rng = ctx.rng
    clock = SimulatedClock()
    moments: list[tuple[dt.datetime, Centre]] = []
    day = timezone.localdate()
    working: list[dt.date] = []
    while len(working) < 5:
        if calendar.is_working_day(day):
            working.append(day)
        day -= dt.timedelta(days=1)
    now = timezone.now()
    for centre in centres:
        count = 2 if centre.department.code == CENTRE_TOWN else int(rng.random() < 0.75)
        for _ in range(count):
            moment = dt.datetime.combine(
                rng.choice(working),
                dt.time(rng.randint(8, 16), rng.randrange(60)),
                tzinfo=calendar.CALENDAR_TZ,
            )
            if moment >= now:  # later today: an hour or two ago instead
                moment = now - dt.timedelta(minutes=rng.randint(10, 120))
            moments.append((moment, centre))
    first_message = last_message()
    with simulated_time(clock):
        for n, (moment, centre) in enumerate(sorted(moments, key=lambda m: m[0]), start=1):
            clock.moment = moment
            title, body = rng.choice(OPINIONS)
            anonymous = rng.random() < 0.25
            actions.record_opinion(
                centre.pk,
                kind=Opinion.Kind.SUGGESTION if title.startswith("建议") else Opinion.Kind.OPINION,
                title=title,
                body=body,
                citizen_name="" if anonymous else _name(rng),
                citizen_mobile="" if anonymous else f"1400002{n:04d}",
                anonymous=anonymous,
                by=workers.get(centre.department_id),
            )
    archive_old_notifications(first_message, now)


@demo.register("centres", "邻里中心：两批建设、7+X 功能和三个月的服务记录", order=530)
def build(ctx: demo.DemoContext) -> None:
    if not settings.DEMO_COMMUNITY:
        ctx.out("  DEMO_COMMUNITY 已关闭，跳过")
        return
    if Centre.objects.exists():
        ctx.out("  已有邻里中心，不再生成")
        return
    today = timezone.localdate()
    first, second = _batches(today)
    villages = list(
        Division.objects.filter(
            level=Division.Level.VILLAGE, code__startswith=COUNTY_CODE
        ).select_related("parent")
    )
    kinds = list(FunctionKind.objects.filter(active=True))
    workers = _workers()
    plan = _plan(villages, ctx.rng)
    centres: list[Centre] = []
    for n, (village, in_first, status) in enumerate(plan, start=1):
        centre = _open_centre(ctx, village, first if in_first else second, status, today)
        _functions(ctx, centre, kinds)
        if centre.open:
            worker = workers.get(centre.department_id)
            _records(ctx, centre, worker, today, document=centre.department.code == CENTRE_TOWN)
            if centre.status == Status.IN_USE:
                centres.append(centre)
        if n % 10 == 0:
            ctx.progress("邻里中心", n, len(plan))
    _opinions(ctx, centres, workers)
    ctx.progress("意见建议（诉求）", Opinion.objects.count(), Opinion.objects.count())
