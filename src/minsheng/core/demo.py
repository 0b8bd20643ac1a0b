"""The demo county: a believable organisation to show and try the system with.

``minsheng demo`` runs the registered steps in order. Core builds the county itself (towns,
villages, departments, the service hall and its windows, staff and one login per role);
apps add their own content with ``register`` from their ``ready()``, e.g.::

    @demo.register("appeals", "诉求", order=200)
    def build(ctx: demo.DemoContext) -> None: ...

Every step is idempotent (rows are looked up by their codes before they are created), so
running the loader twice changes nothing. All names, codes and phone numbers are
fictional: the county code ``990102`` lies in the unassigned ``99`` province range of
GB/T 2260 and mobile numbers come from the unassigned ``1400000xxxx`` range.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from pypinyin import lazy_pinyin

from minsheng.core import audit
from minsheng.core.models import Department, Division, Hall, Role, User, Window

# Printed with the logins; in production every demo account must change it on first login.
DEMO_PASSWORD = "Minsheng-Demo-2026"  # noqa: S105 (published on purpose)
COUNTY_CODE = "990102"

Output = Callable[[str], None]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    name: str


@dataclass
class DemoContext:
    """What each step gets: where to print progress and a seeded random generator."""

    out: Output
    rng: random.Random = field(default_factory=lambda: random.Random(2026))  # noqa: S311 (not security)

    def progress(self, label: str, done: int, total: int) -> None:
        self.out(f"  {label}: {done}/{total}")


@dataclass(frozen=True)
class DemoStep:
    name: str
    label: str
    build: Callable[[DemoContext], None]
    order: int


_steps: dict[str, DemoStep] = {}


def register(
    name: str, label: str, order: int = 100
) -> Callable[[Callable[[DemoContext], None]], Callable[[DemoContext], None]]:
    """Add a demo step; steps run by ``order`` (core is 0, apps use 100 and up)."""

    def decorator(build: Callable[[DemoContext], None]) -> Callable[[DemoContext], None]:
        _steps[name] = DemoStep(name, label, build, order)
        return build

    return decorator


def steps() -> list[DemoStep]:
    return sorted(_steps.values(), key=lambda s: (s.order, s.name))


def is_empty() -> bool:
    """True for a fresh database: ``--if-empty`` loads the demo only then."""
    return not Department.objects.exists()


def load(out: Output) -> None:
    """Run every step, each in its own transaction, and record the load in the audit chain."""
    ctx = DemoContext(out=out)
    done: list[str] = []
    for step in steps():
        out(f"[{len(done) + 1}/{len(_steps)}] {step.label}")
        with transaction.atomic():
            step.build(ctx)
        done.append(step.name)
    with transaction.atomic():
        audit.record(
            None,
            "demo.loaded",
            object_type="demo",
            object_repr=settings.COUNTY_NAME,
            after={
                "steps": done,
                "users": User.objects.count(),
                "departments": Department.objects.count(),
            },
        )


# --- The county -------------------------------------------------------------------------

# (code suffix, name, villages or communities). GB/T 2260 style: streets 0xx, towns 1xx,
# townships 2xx; communities 0xx and villages 2xx below them.
TOWNS: list[tuple[str, str, list[str]]] = [
    ("001", "东关街道", ["东关社区", "文化路社区", "新华社区", "鼓楼社区", "南门社区", "振兴社区"]),
    (
        "002",
        "河西街道",
        ["河西社区", "滨河社区", "幸福里社区", "建设路社区", "西苑社区", "工业园社区"],
    ),
    ("101", "城关镇", ["城北村", "城南村", "十里铺村", "王家庄村", "桃园村", "马坊村"]),
    ("102", "石桥镇", ["石桥村", "前进村", "张家湾村", "新河村", "红星村", "李家岗村"]),
    ("103", "柳林镇", ["柳林村", "杏花村", "北坡村", "东沟村", "大槐树村", "赵庄村"]),
    ("104", "青山镇", ["青山村", "松岭村", "石门村", "三合村", "泉水村", "茶园村"]),
    ("105", "白塔镇", ["白塔村", "周家寨村", "高庙村", "河口村", "前营村", "后营村"]),
    ("201", "双河乡", ["双河村", "小营村", "柿子沟村", "刘家坪村", "东风村", "黄土岭村"]),
    ("202", "杨庄乡", ["杨庄村", "孙家洼村", "枣林村", "上河村", "下河村", "南坪村"]),
    ("203", "龙泉乡", ["龙泉村", "水磨村", "岔口村", "梨园村", "石窑村", "凤凰岭村"]),
]

# (code, full name after the county's name, short name, service windows in the hall)
DEPARTMENTS: list[tuple[str, str, str, list[str]]] = [
    (
        "rsj",
        "人力资源和社会保障局",
        "县人社局",
        ["社保参保登记", "社保待遇", "就业创业", "劳动关系"],
    ),
    ("ybj", "医疗保障局", "县医保局", ["医保参保", "医保报销", "异地就医"]),
    ("gjj", "住房公积金管理中心", "县公积金中心", ["公积金缴存", "公积金提取", "公积金贷款"]),
    ("mzj", "民政局", "县民政局", ["婚姻登记", "社会救助", "养老服务", "殡葬服务"]),
    ("jyj", "教育局", "县教育局", ["教师资格", "学籍办理"]),
    ("wjw", "卫生健康委员会", "县卫健委", ["医疗机构许可", "计生服务"]),
    ("zrzyj", "自然资源局", "县自然资源局", ["不动产登记", "不动产登记", "不动产查询", "用地规划"]),
    ("zjj", "住房和城乡建设局", "县住建局", ["施工许可", "商品房备案", "物业维修资金"]),
    ("sthj", "生态环境分局", "县生态环境分局", ["环评审批", "排污许可"]),
    ("jtysj", "交通运输局", "县交通运输局", ["道路运输", "从业资格", "网约车许可"]),
    (
        "scjgj",
        "市场监督管理局",
        "县市场监管局",
        ["企业开办", "企业开办", "个体登记", "食品经营许可", "特种设备"],
    ),
    ("gaj", "公安局", "县公安局", ["户籍办理", "身份证办理", "出入境", "车驾管", "交通违法处理"]),
]

# Halls of the government service centre: which departments sit in which hall.
HALLS: list[tuple[str, str, str, list[str]]] = [
    ("A", "一号厅（社会事务）", "1层", ["rsj", "ybj", "gjj", "mzj", "jyj", "wjw"]),
    ("B", "二号厅（不动产和工程建设）", "2层", ["zrzyj", "zjj", "sthj", "jtysj"]),
    ("C", "三号厅（企业开办和公安服务）", "3层", ["scjgj", "gaj"]),
]

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩"
    "唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
)
GIVEN = [
    "建国",
    "志强",
    "秀英",
    "桂兰",
    "海燕",
    "丽娟",
    "文博",
    "晓东",
    "红梅",
    "玉兰",
    "德明",
    "春华",
    "子涵",
    "雨桐",
    "浩然",
    "思远",
    "静怡",
    "俊杰",
    "雪梅",
    "国庆",
    "立新",
    "小燕",
    "明辉",
    "婷婷",
    "伟",
    "芳",
    "敏",
    "静",
    "磊",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "超",
    "霞",
    "鹏",
    "琳",
    "斌",
]

# One login per role; usernames are the role's English words so presenters remember them.
DEMO_USERS: list[tuple[str, Role, str, str | None]] = [
    ("citizen", Role.CITIZEN, "王小明", None),
    ("window", Role.WINDOW_STAFF, "李晓燕", "rsj"),
    ("school", Role.WINDOW_STAFF, "马丽", "jyj"),
    ("canteen", Role.HANDLER, "郭秀英", f"{COUNTY_CODE}101"),
    ("centre", Role.HANDLER, "黄丽萍", f"{COUNTY_CODE}102"),
    ("proxy", Role.HANDLER, "吴建平", f"{COUNTY_CODE}101"),
    ("handler", Role.HANDLER, "张志强", "zjj"),
    ("depthead", Role.DEPT_HEAD, "陈国华", "zjj"),
    ("dispatcher", Role.DISPATCHER, "刘芳", None),
    ("supervisor", Role.SUPERVISOR, "赵建军", None),
    ("leader", Role.LEADER, "周正明", None),
    ("admin", Role.ADMIN, "孙立新", None),
]


def _mobile(n: int) -> str:
    return f"1400000{n:04d}"


def _build_divisions(ctx: DemoContext) -> list[Division]:
    county, _ = Division.objects.update_or_create(
        code=COUNTY_CODE, defaults={"name": settings.COUNTY_NAME, "level": Division.Level.COUNTY}
    )
    towns: list[Division] = []
    for suffix, name, villages in TOWNS:
        town, _ = Division.objects.update_or_create(
            code=f"{COUNTY_CODE}{suffix}",
            defaults={"name": name, "level": Division.Level.TOWN, "parent": county},
        )
        towns.append(town)
        street = name.endswith("街道")
        for i, village in enumerate(villages, start=1):
            # Communities are numbered 0xx, villages 2xx (统计用区划代码).
            number = i if street else 200 + i
            Division.objects.update_or_create(
                code=f"{town.code}{number:03d}",
                defaults={"name": village, "level": Division.Level.VILLAGE, "parent": town},
            )
    expected = 1 + len(TOWNS) + sum(len(villages) for _c, _n, villages in TOWNS)
    ctx.progress(
        "乡镇（街道）和村（社区）",
        Division.objects.filter(code__startswith=COUNTY_CODE).count(),
        expected,
    )
    return towns


def _build_departments(ctx: DemoContext, towns: list[Division]) -> dict[str, Department]:
    county_name = settings.COUNTY_NAME
    departments: dict[str, Department] = {}
    for order, (code, name, short, _windows) in enumerate(DEPARTMENTS, start=1):
        departments[code], _ = Department.objects.update_or_create(
            code=code,
            defaults={
                "name": f"{county_name}{name}",
                "short_name": short,
                "kind": Department.Kind.COUNTY,
                "phone": f"0000-86{order:02d}{ctx.rng.randrange(1000, 9999)}",
                "sort_order": order,
            },
        )
    for order, town in enumerate(towns, start=100):
        office = "办事处" if town.name.endswith("街道") else "人民政府"
        departments[town.code], _ = Department.objects.update_or_create(
            code=town.code,
            defaults={
                "name": f"{town.name}{office}",
                "short_name": town.name,
                "kind": Department.Kind.TOWN,
                "division": town,
                "phone": f"0000-87{order % 100:02d}{ctx.rng.randrange(1000, 9999)}",
                "sort_order": order,
            },
        )
    ctx.progress("部门和乡镇政府", len(departments), len(DEPARTMENTS) + len(towns))
    return departments


def _build_hall(ctx: DemoContext, departments: dict[str, Department]) -> list[Window]:
    windows: list[Window] = []
    number = 0
    for code, name, floor, dept_codes in HALLS:
        hall, _ = Hall.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "building": f"{settings.COUNTY_NAME}政务服务中心",
                "floor": floor,
                "opening_hours": "周一至周五 8:30—12:00，14:00—17:30（法定节假日除外）",
                "phone": "0000-12345",
            },
        )
        for dept_code in dept_codes:
            for window_name in next(d[3] for d in DEPARTMENTS if d[0] == dept_code):
                number += 1
                window, _ = Window.objects.update_or_create(
                    hall=hall,
                    number=f"{number:02d}",
                    defaults={"name": f"{window_name}窗口", "department": departments[dept_code]},
                )
                windows.append(window)
    ctx.progress("服务大厅窗口", len(windows), len(windows))
    return windows


class _NamePicker:
    """Distinct, plausible Chinese names and pinyin usernames from a seeded generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used_names: set[str] = {name for _u, _r, name, _d in DEMO_USERS}
        self.used_usernames: set[str] = {username for username, _r, _n, _d in DEMO_USERS}

    def name(self) -> str:
        while True:
            name = self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)
            if name not in self.used_names:
                self.used_names.add(name)
                return name

    def username(self, name: str) -> str:
        base = "".join(lazy_pinyin(name))
        candidate, n = base, 1
        while candidate in self.used_usernames or User.objects.filter(username=candidate).exists():
            n += 1
            candidate = f"{base}{n}"
        self.used_usernames.add(candidate)
        return candidate


def _build_staff(
    ctx: DemoContext, departments: dict[str, Department], windows: list[Window]
) -> None:
    """Window staff for every window and a handler in every department and town.

    They have no usable password (the role logins below are for trying the system); an
    admin can set one in the admin.
    """
    picker = _NamePicker(ctx.rng)
    plan: list[tuple[Role, Department, Window | None]] = [
        (Role.WINDOW_STAFF, w.department, w) for w in windows if w.department
    ]
    plan += [(Role.HANDLER, dept, None) for dept in departments.values()]
    for index, (role, department, window) in enumerate(plan, start=1):
        staff_no = f"S{index:04d}"
        if User.objects.filter(staff_no=staff_no).exists():
            continue
        name = picker.name()
        user = User(
            username=picker.username(name),
            name=name,
            role=role,
            department=department,
            window=window,
            staff_no=staff_no,
            mobile=_mobile(100 + index),
        )
        user.set_unusable_password()
        user.save()
        if index % 20 == 0:
            ctx.progress("工作人员", index, len(plan))
    ctx.progress("工作人员", len(plan), len(plan))


def _build_demo_users(
    ctx: DemoContext, departments: dict[str, Department], windows: list[Window]
) -> None:
    # One slow (Argon2) hash for all: the password is the same and printed anyway.
    encoded = make_password(DEMO_PASSWORD)
    for n, (username, role, name, dept_code) in enumerate(DEMO_USERS, start=1):
        if User.objects.filter(username=username).exists():
            continue  # keep a password someone already changed
        department = departments[dept_code] if dept_code else None
        user = User(
            username=username,
            name=name,
            role=role,
            department=department,
            window=next((w for w in windows if w.department == department), None)
            if role == Role.WINDOW_STAFF
            else None,
            mobile=_mobile(n),
            must_change_password=True,
            is_staff=role == Role.ADMIN,
            is_superuser=role == Role.ADMIN,
        )
        user.password = encoded
        user.save()
    ctx.progress("演示账号", len(DEMO_USERS), len(DEMO_USERS))


@register("core", "县域组织机构、服务大厅和人员", order=0)
def build_core(ctx: DemoContext) -> None:
    towns = _build_divisions(ctx)
    departments = _build_departments(ctx, towns)
    windows = _build_hall(ctx, departments)
    _build_staff(ctx, departments, windows)
    _build_demo_users(ctx, departments, windows)


def logins() -> list[DemoLogin]:
    """The demo logins present in the database."""
    present = set(
        User.objects.filter(username__in=[u for u, _r, _n, _d in DEMO_USERS]).values_list(
            "username", flat=True
        )
    )
    return [DemoLogin(u, str(role.label), name) for u, role, name, _d in DEMO_USERS if u in present]
