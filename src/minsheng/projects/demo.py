"""The demo's practical projects: two published batches (14 and 20 projects) led by the demo
county's departments and towns, with their plans, months of progress reports, projects on
schedule, behind, silent and overdue, the escalations the county's rules issue for them,
and projects accepted and crossed off (销号).

Everything goes through ``projects.actions`` and the ledger sweep. History is replayed a
month at a time: the units report on each month's last working day (those that finish apply
for 销号), last month's sweep runs with ``now`` set to its 12th, and today's sweep ends the
replay. The timestamps the actions write with the real clock (submission, completion, issue,
resolution and decision times) are moved back to the simulated moment, so the ledger, the
charts and the weekly bulletin read like the months that happened.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from minsheng.appeals.models import Appeal
from minsheng.appeals.states import State as AppealState
from minsheng.core import calendar, demo
from minsheng.core.models import Department, Role, User
from minsheng.projects import actions, ledger, sweep
from minsheng.projects.actions import MilestoneIn, TargetIn
from minsheng.projects.errors import ProjectError
from minsheng.projects.models import (
    Batch,
    CloseOut,
    CloseOutState,
    Escalation,
    Milestone,
    ProgressReport,
    Project,
    ProjectCategory,
    ProjectSource,
    ReportDue,
)
from minsheng.projects.states import EscalationStep, LedgerStatus, ProjectState

# How a project's story goes (see ``_replay``).
NORMAL = "normal"  # reports every month, milestones on time
SLOW = "slow"  # falls behind the plan two months ago
SILENT = "silent"  # stops reporting
OVERDUE = "overdue"  # the deadline passed last month, not finished
CLOSED = "closed"  # finished early, accepted and crossed off
APPLIED = "applied"  # finished, waiting for acceptance
REJECTED = "rejected"  # applied, sent back with reasons, still under way


@dataclass(frozen=True)
class Plan:
    title: str
    category: str
    unit: str  # a department code of core.demo, or a town's name
    target: str
    target_unit: str
    planned: str
    fate: str
    months: int  # from the batch's first month to the deadline's month
    measures: str
    co_units: tuple[str, ...] = ()
    budget: str | None = None


# One project a line or two: the demo's data reads as a table.
# fmt: off
FIRST: list[Plan] = [
    Plan("设立困境妇女儿童关爱救助基金", "社会保障", "mzj", "救助困境妇女儿童", "人", "200",
         CLOSED, 6, "设立专项救助基金，对困境妇女儿童实施临时救助和助学帮扶，建立动态台账。",
         ("rsj",), "100"),
    Plan("村级便民服务中心标准化建设", "乡村振兴", "城关镇", "建成标准化服务中心", "个", "6",
         NORMAL, 7, "统一标识、统一制度、统一流程，配齐自助服务终端，实现群众办事不出村。",
         (), "60"),
    Plan("两水厂连通管网工程", "城乡建设", "zjj", "铺设连通管网", "公里", "14.5", SLOW, 7,
         "新建两座水厂之间的连通管网14.5公里，实现互联互通、互为备用，提升城区供水保障能力。",
         ("zrzyj",), "3200"),
    Plan("为2万名残疾人购买意外伤害保险", "社会保障", "mzj", "参保残疾人", "人", "20000", CLOSED, 5,
         "由财政出资为全县持证残疾人统一购买意外伤害保险，简化理赔流程。", (), "80"),
    Plan("城区老旧小区改造提升", "城乡建设", "zjj", "改造老旧小区", "个", "8", NORMAL, 7,
         "实施雨污分流、加装照明、整治停车和绿化，同步完善适老化设施。", ("gaj",), "4500"),
    Plan("新增城区公办幼儿园学位", "文化教育", "jyj", "新增公办学位", "个", "600", CLOSED, 6,
         "改扩建城区公办幼儿园3所，新增学位600个，缓解入园难。", (), "1800"),
    Plan("乡镇卫生院远程会诊全覆盖", "医疗卫生", "wjw", "接入远程会诊的卫生院", "家", "7",
         APPLIED, 6, "县医院与各乡镇卫生院建立远程会诊系统，群众在家门口享受县级专家服务。",
         (), "350"),
    Plan("零工市场建设", "就业创业", "rsj", "帮扶灵活就业", "人", "1500", NORMAL, 7,
         "建设县城零工市场，发布用工信息，开展技能培训和对接洽谈。", (), "120"),
    Plan("异地就医直接结算扩面", "医疗卫生", "ybj", "新增直接结算定点机构", "家", "30", OVERDUE, 5,
         "推动县域定点医药机构全部接入跨省异地就医直接结算。"),
    Plan("城区路口信号灯智能化改造", "公共安全", "gaj", "改造路口", "个", "24", SLOW, 7,
         "对城区主要路口信号灯实施智能化改造，根据车流自动配时，缓解高峰拥堵。", ("jtysj",), "900"),
    Plan("农村客运公交化改造", "乡村振兴", "jtysj", "开通公交化线路", "条", "5", NORMAL, 7,
         "将农村客运班线改造为公交化运营，降低票价、加密班次。", (), "600"),
    Plan("企业开办一日办结", "营商环境", "scjgj", "一日办结率", "%", "95", CLOSED, 4,
         "企业开办全流程一网通办，营业执照、公章刻制、税务登记一日办结。"),
    Plan("城区黑臭水体治理", "生态环境", "sthj", "治理黑臭水体", "处", "3", SILENT, 7,
         "截污纳管、清淤疏浚、生态修复，建立长效管护机制。", ("zjj",), "2600"),
    Plan("公积金提取零跑动", "营商环境", "gjj", "上线零跑动事项", "项", "10", NORMAL, 7,
         "公积金提取业务全部网上办、掌上办，数据共享免于提交证明材料。"),
]

SECOND: list[Plan] = [
    Plan("城乡居民医保参保便民服务", "医疗卫生", "ybj", "设立参保服务点", "个", "60", NORMAL, 6,
         "在村（社区）设立医保参保缴费服务点，实现参保缴费就近办。"),
    Plan("社区嵌入式养老服务中心建设", "社会保障", "mzj", "建成养老服务中心", "个", "4", NORMAL, 8,
         "在城区社区建设嵌入式养老服务中心，提供助餐、日间照料和上门服务。", (), "800"),
    Plan("农村饮水安全巩固提升", "乡村振兴", "石桥镇", "改善饮水人口", "人", "12000", SLOW, 6,
         "新建和改造供水管网，更换老旧管道，提升农村供水保障水平。", ("zjj",), "1500"),
    Plan("高校毕业生就业见习岗位开发", "就业创业", "rsj", "开发见习岗位", "个", "300", NORMAL, 6,
         "组织企事业单位开发见习岗位，给予见习补贴。", (), "150"),
    Plan("中小学校园食堂明厨亮灶", "文化教育", "jyj", "完成改造的食堂", "所", "45", NORMAL, 5,
         "学校食堂全部实现明厨亮灶，家长可在线查看后厨。", ("scjgj",), "200"),
    Plan("城区公共停车场建设", "城乡建设", "zjj", "新增停车泊位", "个", "800", NORMAL, 9,
         "利用闲置地块建设公共停车场，新增停车泊位800个。", ("gaj",), "2400"),
    Plan("基层医疗机构慢病送药上门", "医疗卫生", "wjw", "服务慢病患者", "人", "5000", NORMAL, 6,
         "家庭医生团队为行动不便的慢病患者提供送药上门服务。"),
    Plan("不动产登记交房即交证", "营商环境", "zrzyj", "交房即交证项目", "个", "12", APPLIED, 3,
         "新建商品房项目实现交房即交证，群众收房当天领取不动产权证书。"),
    Plan("河道沿岸生态绿道建设", "生态环境", "sthj", "建成绿道", "公里", "8", SILENT, 8,
         "沿河建设生态绿道，配套健身步道和休憩设施。", ("zrzyj",), "1200"),
    Plan("校园周边交通安全设施完善", "公共安全", "gaj", "完善设施的学校", "所", "30", NORMAL, 5,
         "在中小学校园周边设置护学岗、减速带和警示标志。", ("jyj",), "180"),
    Plan("乡镇综合文化站提档升级", "文化教育", "柳林镇", "升级文化站", "个", "1", NORMAL, 6,
         "改造文化站场馆，配齐图书和文体器材，常态化开展群众文化活动。", (), "90"),
    Plan("住房公积金贷款提速", "营商环境", "gjj", "平均办结天数", "天", "5", CLOSED, 3,
         "优化审批流程，公积金贷款平均办结时间压缩到5个工作日。"),
    Plan("农村公路安全生命防护工程", "公共安全", "jtysj", "完成防护工程", "公里", "60", SLOW, 7,
         "在临水临崖等危险路段安装波形护栏和警示设施。", (), "1600"),
    Plan("城区背街小巷路灯亮化", "城乡建设", "东关街道", "新装路灯", "盏", "400", NORMAL, 5,
         "为背街小巷新装和更换路灯，消除照明盲区。", (), "120"),
    Plan("特殊困难老人家庭适老化改造", "社会保障", "mzj", "完成改造家庭", "户", "300", REJECTED, 4,
         "为特殊困难老年人家庭实施防滑、扶手等适老化改造。", (), "150"),
    Plan("食品安全快检室进农贸市场", "公共安全", "scjgj", "建成快检室", "个", "10", NORMAL, 6,
         "在农贸市场设立食品安全快检室，免费为群众提供快速检测。", (), "100"),
    Plan("新就业形态劳动者权益保障", "就业创业", "rsj", "建成服务驿站", "个", "8", NORMAL, 7,
         "为外卖骑手、快递小哥等建设服务驿站，提供休息、饮水、充电等服务。"),
    Plan("农村生活垃圾分类示范村建设", "生态环境", "青山镇", "建成示范村", "个", "6", NORMAL, 8,
         "推进农村生活垃圾分类，建设分类示范村，完善收运体系。", ("sthj",), "300"),
    Plan("县医院急诊急救能力提升", "医疗卫生", "wjw", "新增救护车", "辆", "6", NORMAL, 6,
         "新增负压救护车，建设胸痛、卒中中心，缩短急救响应时间。", (), "900"),
    Plan("小区电动自行车集中充电设施", "公共安全", "河西街道", "建成充电桩", "个", "1200",
         NORMAL, 6, "在小区建设电动自行车集中充电设施，消除飞线充电隐患。",
         ("zjj",), "240"),
]
# fmt: on

# Months of history each batch has had by today.
FIRST_AGE = 5
SECOND_AGE = 3
SWEEP_DAY = 12
CLOSE_OUT_DAYS = (3, 9, 15, 20)  # days ago the closed ones were accepted
# The project the appeals demo's promoted appeals are linked to, and how many.
APPEALS_PROJECT = "城区背街小巷路灯亮化"
APPEALS_LINKED = 3


def _aware(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


Stamp = tuple[type[models.Model], str]

# What the actions and the sweep stamp with the real clock, by what the demo replays.
REPORT_STAMPS: list[Stamp] = [
    (ProgressReport, "submitted_at"),
    (Milestone, "done_at"),
    (Escalation, "resolved_at"),
    (Project, "status_changed_at"),
]
SWEEP_STAMPS: list[Stamp] = [
    (Escalation, "issued_at"),
    (ReportDue, "reminded_at"),
    (ReportDue, "chased_at"),
    (Project, "status_changed_at"),
]
CLOSEOUT_STAMPS: list[Stamp] = [
    (CloseOut, "applied_at"),
    (CloseOut, "decided_at"),
    (Project, "closed_at"),
    (Project, "status_changed_at"),
    (Escalation, "resolved_at"),
]
ESCALATION_STAMPS: list[Stamp] = [(Escalation, "issued_at")]


@contextmanager
def _backdated(moment: dt.datetime, stamps: list[Stamp]) -> Iterator[None]:
    """Move the ``stamps`` the actions inside write with the real clock back to ``moment``."""
    mark = timezone.now()
    yield
    for model, name in stamps:
        model._default_manager.filter(**{f"{name}__gte": mark}).update(**{name: moment})


@dataclass
class Cast:
    supervisor: User
    units: dict[str, Department]
    handlers: dict[int, User]
    heads: dict[int, User]


def _unit(key: str) -> Department | None:
    return Department.objects.filter(Q(code=key) | Q(division__name=key)).first()


def _cast(ctx: demo.DemoContext, plans: list[Plan]) -> Cast | None:
    supervisor = User.objects.filter(role=Role.SUPERVISOR, is_active=True).order_by("pk").first()
    if supervisor is None:
        return None
    units: dict[str, Department] = {}
    for key in {p.unit for p in plans} | {c for p in plans for c in p.co_units}:
        unit = _unit(key)
        if unit is not None:
            units[key] = unit
    handlers: dict[int, User] = {}
    heads: dict[int, User] = {}
    for user in User.objects.filter(
        role__in=[Role.HANDLER, Role.DEPT_HEAD], department__in=units.values(), is_active=True
    ).order_by("pk"):
        assert user.department_id is not None
        target = handlers if user.role == Role.HANDLER else heads
        target.setdefault(user.department_id, user)
    # 销号 is applied for by the lead unit's head; the core demo has one only in 住建局, so the
    # units whose projects reach 销号 get one.
    closing = {p.unit for p in plans if p.fate in (CLOSED, APPLIED, REJECTED)}
    n = User.objects.filter(username__startswith="ksz").count()
    for key, unit in units.items():
        if key not in closing or unit.pk in heads:
            continue
        n += 1
        name = ctx.rng.choice(demo.SURNAMES) + ctx.rng.choice(demo.GIVEN)
        head = User(
            username=f"ksz{n:03d}",
            name=name,
            role=Role.DEPT_HEAD,
            department=unit,
            mobile=f"1400003{n:04d}",
        )
        head.set_unusable_password()
        head.save()
        heads[unit.pk] = head
    return Cast(supervisor, units, handlers, heads)


@dataclass
class Story:
    plan: Plan
    project: Project
    milestones: list[Milestone]
    start: dt.date  # first month


def _plan_rows(plan: Plan, start: dt.date) -> tuple[list[MilestoneIn], list[TargetIn]]:
    planned = Decimal(plan.planned)
    months = plan.months
    phases = ["完成实施方案编制和审批", "完成招标采购，启动实施"]
    rows = []
    for i in range(months):
        month = ledger.add_months(start, i)
        share = Decimal(i + 1) / months
        if i < len(phases) and i < months - 1:
            title = phases[i]
        elif i == months - 1:
            title = f"全面完成{plan.target}并申请验收"
        else:
            title = f"累计{plan.target}达到计划的{round(share * 100)}%"
        value = (planned * share).quantize(Decimal("0.01"))
        rows.append(
            MilestoneIn(
                month=month,
                title=title,
                expected=f"{plan.target}累计{value.normalize():f}{plan.target_unit}",
                target=plan.target,
                target_value=value if i >= 1 else None,
                planned_percent=round(share * 100),
            )
        )
    return rows, [TargetIn(name=plan.target, unit=plan.target_unit, planned=planned)]


def _create(
    cast: Cast, batch: Batch, plan: Plan, start: dt.date, ctx: demo.DemoContext
) -> Story | None:
    unit = cast.units.get(plan.unit)
    if unit is None:
        return None
    category = ProjectCategory.objects.filter(name=plan.category).first()
    if category is None:
        return None
    deadline = ledger.last_working_day(ledger.add_months(start, plan.months - 1))
    handler = cast.handlers.get(unit.pk)
    project = actions.create_project(
        by=cast.supervisor,
        batch=batch,
        title=plan.title,
        category=category,
        lead_unit=unit,
        co_units=[cast.units[c] for c in plan.co_units if c in cast.units],
        deadline=deadline,
        # The contact is the unit's handler (fictional, like everyone in the demo).
        leader_name=ctx.rng.choice(demo.SURNAMES) + "副县长",
        contact_name=handler.name if handler else "",
        contact_phone=handler.mobile if handler else "",
        measures=plan.measures,
        budget=Decimal(plan.budget) if plan.budget else None,
        start=True,
    )
    milestones, targets = _plan_rows(plan, start)
    actions.set_plan(project.pk, by=cast.supervisor, milestones=milestones, targets=targets)
    # The project was set up when its batch began, not when the demo was loaded.
    Project.objects.filter(pk=project.pk).update(
        created_at=_aware(start, 9), started_at=_aware(start, 10)
    )
    project.refresh_from_db()
    return Story(plan, project, list(project.milestones.order_by("month", "order")), start)


def _link_appeals(cast: Cast, stories: list[Story]) -> None:
    """The appeals the appeals demo promoted go to the project that solves them (both
    pages show the link)."""
    promoted = list(
        Appeal.objects.filter(state=AppealState.PROMOTED, projects__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)[:APPEALS_LINKED]
    )
    story = next((s for s in stories if s.plan.title == APPEALS_PROJECT), None)
    if not promoted or story is None:
        return
    actions.update_project(
        story.project.pk,
        by=cast.supervisor,
        expected_version=story.project.version,
        source=ProjectSource.APPEAL,
    )
    for appeal_id in promoted:
        actions.link_appeal(story.project.pk, appeal_id, by=cast.supervisor)
    story.project.refresh_from_db()


def _reported_share(story: Story, index: int, last: int) -> tuple[Decimal, bool] | None:
    """What the unit reports for its ``index``-th month (0 = the first); None: no report.
    ``last`` is the index of the last month that can have been reported by now."""
    months = story.plan.months
    on_plan = Decimal(index + 1) / months
    fate = story.plan.fate
    if fate == SLOW and index >= last - 1:
        return on_plan - Decimal("0.2"), False
    if fate == SILENT and index >= last - 1:
        return None
    if fate == OVERDUE and index >= months - 2:
        return Decimal("0.8"), False
    if fate in (CLOSED, APPLIED, REJECTED):
        # Ahead of plan: done a little before the deadline.
        return min(Decimal(1), Decimal(index + 1) / max(months - 1, 1)), True
    return on_plan, True


def _report(cast: Cast, story: Story, index: int, last: int) -> dt.date | None:
    """Submit the unit's report of its ``index``-th month; the day it finished the project
    (the report said 100%), else None."""
    share_done = _reported_share(story, index, last)
    handler = cast.handlers.get(story.project.lead_unit_id)
    if share_done is None or handler is None:
        return None
    share, on_time = share_done
    period = ledger.add_months(story.start, index)
    day = ledger.last_working_day(period)
    when = _aware(day, 16)
    target = story.project.targets.first()
    plan = story.plan
    value = (Decimal(plan.planned) * share).quantize(Decimal("0.01"))
    if not on_time:
        done: list[Milestone] = []
    elif share >= 1:
        done = [m for m in story.milestones if m.done_at is None]
    else:
        done = [m for m in story.milestones if m.month <= period and m.done_at is None]
    text = f"{period.month}月份，{plan.target}累计完成{value.normalize():f}{plan.target_unit}，" + (
        f"占计划的{round(share * 100)}%，各项工作按计划推进。"
        if on_time
        else f"占计划的{round(share * 100)}%。受施工条件和资金拨付影响，进度滞后于计划，"
        "正在组织力量赶工。"
    )
    with _backdated(when, REPORT_STAMPS):
        actions.submit_report(
            story.project.pk,
            by=handler,
            period=period,
            text=text,
            percent=min(100, round(share * 100)),
            values={target.pk: value} if target else {},
            done_milestones=[m.pk for m in done],
        )
    # Finished by their due date (or on report day, those finished early).
    for m in done:
        Milestone.objects.filter(pk=m.pk).update(done_at=min(when, _aware(m.due, 17)))
    story.milestones = list(story.project.milestones.order_by("month", "order"))
    return day if share >= 1 else None


def _replay(cast: Cast, stories: list[Story], today: dt.date) -> None:
    """Month by month: the units' reports on the month's last working day (and the 销号
    applications of the projects they finish); last month the sweep on the 12th as well."""
    month = min(s.start for s in stories)
    current = ledger.month_start(today)
    while month <= current:
        sweep_day = month.replace(day=SWEEP_DAY)
        # The sweep of last month is enough history for the ladder (提醒 and 催办 then,
        # 书面督办 now for what they did not fix); a sweep every month would slow the demo.
        if month == ledger.add_months(current, -1) and sweep_day < today:
            moment = _aware(sweep_day, 9)
            with _backdated(moment, SWEEP_STAMPS):
                sweep.sweep(now=moment)
        for story in stories:
            index = (month.year - story.start.year) * 12 + month.month - story.start.month
            if not 0 <= index < story.plan.months or story.project.state != ProjectState.ACTIVE:
                continue
            if ledger.last_working_day(month) >= today:
                continue  # this month's report is not due yet
            last = (current.year - story.start.year) * 12 + current.month - story.start.month - 1
            finished = _report(cast, story, index, last)
            if finished is not None and story.plan.fate in (CLOSED, APPLIED, REJECTED):
                _apply(cast, story, finished, today)
        month = ledger.add_months(month, 1)


def _apply(cast: Cast, story: Story, finished: dt.date, today: dt.date) -> None:
    head = cast.heads.get(story.project.lead_unit_id)
    applied = calendar.next_working_day(finished)
    if head is None or applied >= today:
        return
    evidence = (
        f"{story.plan.target}已全部完成，累计{Decimal(story.plan.planned).normalize():f}"
        f"{story.plan.target_unit}，附验收报告和现场照片。"
    )
    with _backdated(_aware(applied, 10), CLOSEOUT_STAMPS):
        actions.apply_closeout(story.project.pk, by=head, evidence=evidence)
    story.project.refresh_from_db()


def _decide(cast: Cast, stories: list[Story], today: dt.date) -> None:
    """The supervisor's decisions over the last weeks: the finished ones accepted, the
    one with gaps in its evidence sent back."""
    deciding = [s for s in stories if s.plan.fate in (CLOSED, REJECTED)]
    for n, story in enumerate(deciding):
        closeout = story.project.closeouts.filter(state=CloseOutState.PENDING).first()
        if closeout is None:
            continue
        day = max(
            calendar_back(today, CLOSE_OUT_DAYS[n % len(CLOSE_OUT_DAYS)]),
            calendar.next_working_day(timezone.localdate(closeout.applied_at)),
        )
        accept = story.plan.fate == CLOSED
        with _backdated(min(_aware(day, 15), timezone.now()), CLOSEOUT_STAMPS):
            actions.decide_closeout(
                closeout.pk,
                by=cast.supervisor,
                accept=accept,
                reason="验收合格，同意销号"
                if accept
                else "部分改造户未签字确认，佐证材料不全，请补充后重新申请",
            )
        story.project.refresh_from_db()


def calendar_back(today: dt.date, working_days: int) -> dt.date:
    """The working day ``working_days`` before ``today``."""
    day = today
    for _step in range(working_days):
        day -= dt.timedelta(days=1)
        while not calendar.is_working_day(day):
            day -= dt.timedelta(days=1)
    return day


def _supervise(ctx: demo.DemoContext, cast: Cast, stories: list[Story], today: dt.date) -> None:
    """What the supervisor did by hand: a written order, a time limit, an interview held."""
    written = Escalation.objects.open().filter(step=EscalationStep.WRITTEN, milestone=None)
    late = [
        s for s in stories if s.plan.fate == SLOW and not written.filter(project=s.project).exists()
    ]
    overdue = [s for s in stories if s.plan.fate == OVERDUE]
    yesterday = _aware(calendar_back(today, 1), 11)
    with _backdated(yesterday, ESCALATION_STAMPS):
        for story in late[:1]:
            try:
                actions.escalate(
                    story.project.pk,
                    by=cast.supervisor,
                    step=EscalationStep.WRITTEN,
                    text=f"“{story.plan.title}”进度明显滞后于配档表，请于10个工作日内制定赶工方案并报督查室。",
                )
            except ProjectError as error:  # the sweep may have issued it already
                ctx.out(f"  {story.project.code}: {error.message}")
    for story in overdue[:1]:
        try:
            actions.escalate(
                story.project.pk,
                by=cast.supervisor,
                step=EscalationStep.TIME_LIMIT,
                text=f"“{story.plan.title}”已超过完成时限，限期办结。",
                due=calendar.add_working_days(today, 10).due_at.date(),
            )
        except ProjectError as error:
            ctx.out(f"  {story.project.code}: {error.message}")
    interview = (
        Escalation.objects.open()
        .filter(step=EscalationStep.INTERVIEW, project__in=[s.project for s in stories])
        .order_by("pk")
        .first()
    )
    if interview is not None:
        actions.record_interview(
            interview.pk,
            by=cast.supervisor,
            held_on=today,
            attendees="县督查室负责同志，牵头单位主要负责人、分管负责人",
            agreed="牵头单位倒排工期，每周向督查室书面报告进展，月底前完成滞后节点。",
        )


def _batch(cast: Cast, ctx: demo.DemoContext, number: int, start: dt.date) -> Batch:
    title = f"{start.year}年第{_CHINESE[number]}批我为群众办实事项目"
    batch = actions.create_batch(by=cast.supervisor, year=start.year, number=number, title=title)
    Batch.objects.filter(pk=batch.pk).update(created_at=_aware(start, 9))
    return batch


_CHINESE = {1: "一", 2: "二", 3: "三", 4: "四"}


def build_batches(ctx: demo.DemoContext, today: dt.date | None = None) -> list[Batch]:
    """The two demo batches, as of ``today``."""
    today = today or timezone.localdate()
    cast = _cast(ctx, FIRST + SECOND)
    if cast is None:
        ctx.out("  没有督查室账号，跳过")
        return []
    current = ledger.month_start(today)
    first_start = ledger.add_months(current, -FIRST_AGE)
    second_start = ledger.add_months(current, -SECOND_AGE)
    number = 1 + max(
        (b for b in Batch.objects.filter(year=first_start.year).values_list("number", flat=True)),
        default=0,
    )
    first = _batch(cast, ctx, number, first_start)
    second_number = number + 1 if second_start.year == first_start.year else 1
    second = _batch(cast, ctx, second_number, second_start)
    stories: list[Story] = []
    for batch, plans, start in ((first, FIRST, first_start), (second, SECOND, second_start)):
        for plan in plans:
            story = _create(cast, batch, plan, start, ctx)
            if story is not None:
                stories.append(story)
    ctx.progress("实事项目", len(stories), len(FIRST) + len(SECOND))
    _link_appeals(cast, stories)
    _replay(cast, stories, today)
    _decide(cast, stories, today)
    # Today's ledger: statuses and the escalations the rules call for now.
    sweep.sweep()
    _supervise(ctx, cast, stories, today)
    for batch, start in ((first, first_start), (second, second_start)):
        actions.publish_batch(batch.pk, by=cast.supervisor)
        Batch.objects.filter(pk=batch.pk).update(published_at=_aware(start + dt.timedelta(9), 9))
    states = Project.objects.filter(batch__in=[first, second])
    shown: dict[str, dict[str, str]] = {
        "已销号": {"state": ProjectState.CLOSED},
        "待验收": {"state": ProjectState.APPLIED},
        "滞后": {"status": LedgerStatus.BEHIND},
        "超期": {"status": LedgerStatus.OVERDUE},
    }
    summary = {label: states.filter(**where).count() for label, where in shown.items()}
    ctx.out(
        "  "
        + "，".join(f"{k} {v}" for k, v in summary.items())
        + f"，督办 {Escalation.objects.filter(project__batch__in=[first, second]).count()} 次"
    )
    return [first, second]


@demo.register("projects", "我为群众办实事项目：两批项目、进展、督办和销号", order=400)
def build(ctx: demo.DemoContext) -> None:
    # Tests of the other apps' demos turn this off: replaying months of projects through the
    # actions takes seconds they do not need (tests/projects/test_demo.py keeps it on).
    if not settings.DEMO_PROJECTS:
        ctx.out("  DEMO_PROJECTS 已关闭，跳过")
        return
    if Batch.objects.exists():
        ctx.out("  已有实事项目批次，不再生成演示项目")
        return
    build_batches(ctx)
