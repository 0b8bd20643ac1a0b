"""The demo county's appeals: categories, the routing catalogue, and a year of appeals.

``minsheng demo`` runs this after the core step (departments, towns, staff). The year is
simulated, not written: every appeal is submitted, dispatched, signed, answered, rated and
closed through ``appeals.actions`` at the moment it happens, so the timeline, the audit
chain, the outbox and every KPI come out exactly as they would from a year of real work.

To act "a year ago", ``simulated_time`` points ``django.utils.timezone.now`` (and every
model field defaulting to it) at a clock the simulation moves forward, for the duration of
the step only (the process runs nothing else meanwhile: it is the ``minsheng demo``
command). It does not touch ``time.time``, so signed links and job progress use the real
time. One event queue orders every step of every appeal and the deadline sweep on every
working day (催办, 督办, closing unrated replies), so time only moves forward; timeline,
audit events and notifications carry the simulated moments. Notifications older than two
days are marked delivered: they are the past, and the worker should not send a year of
them at once.

A seeded generator makes the result the same on every run on the same day; the year is
the twelve months before the moment the demo is loaded. Running the loader again adds no
appeals (the step stops when appeals exist).
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import random
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from django.apps import apps
from django.conf import settings
from django.db.models import Count, F
from django.utils import timezone

from minsheng.appeals import actions, sweep
from minsheng.appeals.demo_texts import (
    ASKS,
    BASIC_COMMENTS,
    CATEGORIES,
    COUNTS,
    DISPUTE_NOTES,
    DISPUTED_RETURN_REASONS,
    ESTATES,
    EXTENSION_REASONS,
    ISSUES,
    NOTES,
    PROBLEMS,
    PROMOTE_REASONS,
    REFUSALS,
    RETURN_REASONS,
    ROADS,
    SATISFIED_COMMENTS,
    SINCE,
    SPOTS,
    UNSATISFIED_COMMENTS,
    Problem,
)
from minsheng.appeals.models import (
    Appeal,
    AppealType,
    Category,
    Channel,
    Rating,
    RoutingRule,
    Supervision,
    Urgency,
)
from minsheng.appeals.states import OPEN_STATES, State
from minsheng.core import calendar, demo, jobs
from minsheng.core.demo import GIVEN, SURNAMES
from minsheng.core.models import Department, Division, OutboxMessage, Role, User

SEED = 12345
LOCAL = calendar.CALENDAR_TZ
DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)

# Notifications older than this are history (see the module docstring); the recent ones
# go out as usual.
FRESH_NOTIFICATIONS = dt.timedelta(days=2)


def last_message() -> int:
    """The newest outbox row now: what a demo step wrote comes after it."""
    return OutboxMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def archive_old_notifications(after: int, end: dt.datetime) -> None:
    """Old notifications are history, not news: a demo step's messages older than
    FRESH_NOTIFICATIONS count as sent; the recent ones go out as usual."""
    OutboxMessage.objects.filter(
        pk__gt=after,
        status=OutboxMessage.Status.PENDING,
        created_at__lt=end - FRESH_NOTIFICATIONS,
    ).update(status=OutboxMessage.Status.SENT, sent_at=F("created_at"), attempts=1)


CHANNELS: list[tuple[str, float]] = [
    (Channel.HOTLINE, 46),
    (Channel.WECHAT, 18),
    (Channel.WEB, 14),
    (Channel.CENTRE, 7),
    (Channel.FIELD, 5),
    (Channel.DEPARTMENT, 4),
    (Channel.EMAIL, 2),
    (Channel.API, 3),
    (Channel.OPEN311, 1),
]
# The two streets hold most of the county seat's people.
TOWN_WEIGHT = {"东关街道": 3.0, "河西街道": 2.6, "城关镇": 1.8}
# More appeals in summer (water, noise) and winter (heating, unpaid wages), fewer around
# the Spring Festival.
MONTH_WEIGHT = {1: 1.1, 2: 0.7, 3: 0.9, 4: 0.95, 5: 1.0, 6: 1.1, 7: 1.25, 8: 1.2}
MONTH_WEIGHT |= {9: 1.0, 10: 0.9, 11: 1.05, 12: 1.15}


# -- the clock -------------------------------------------------------------------------------


class SimulatedClock:
    """The moment ``timezone.now()`` returns inside ``simulated_time``; None: real time."""

    def __init__(self) -> None:
        self.moment: dt.datetime | None = None
        self._real = timezone.now

    def now(self) -> dt.datetime:
        return self.moment if self.moment is not None else self._real()

    @contextmanager
    def real(self) -> Iterator[None]:
        """Real time for a moment (progress output throttles on it)."""
        saved, self.moment = self.moment, None
        try:
            yield
        finally:
            self.moment = saved


@contextmanager
def simulated_time(clock: SimulatedClock) -> Iterator[None]:
    """Make ``timezone.now`` and the model fields that default to it follow ``clock``.

    Fields hold the function itself (``default=timezone.now``), so patching the module is
    not enough: their default is swapped too, and the cached ``_get_default`` dropped.
    """
    real = timezone.now
    defaulted = [f for model in apps.get_models() for f in model._meta.fields if f.default is real]
    with ExitStack() as stack:
        stack.enter_context(mock.patch.object(timezone, "now", clock.now))
        for model_field in defaulted:
            stack.enter_context(mock.patch.object(model_field, "default", clock.now))
            stack.callback(model_field.__dict__.pop, "_get_default", None)
            model_field.__dict__.pop("_get_default", None)
        yield


class _Lines:
    """``jobs`` progress printed through the demo's output function, a line at a time."""

    def __init__(self, out: demo.Output) -> None:
        self.out = out

    def write(self, msg: str, /) -> None:
        self.out(msg.rstrip("\n"))

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


# -- categories and routing ------------------------------------------------------------------


def build_categories(ctx: demo.DemoContext) -> dict[str, Category]:
    departments = {d.code: d for d in Department.objects.all()}
    categories: dict[str, Category] = {}
    rules = 0
    for order, (top, children) in enumerate(CATEGORIES, start=1):
        parent, _ = Category.objects.update_or_create(
            code=top.code, defaults={"name": top.name, "parent": None, "sort_order": order * 100}
        )
        categories[top.code] = parent
        for sub_order, spec in enumerate([top, *children]):
            if sub_order:
                categories[spec.code], _ = Category.objects.update_or_create(
                    code=spec.code,
                    defaults={"name": spec.name, "parent": parent, "sort_order": sub_order},
                )
            if spec.department is None or spec.department not in departments:
                continue  # 属地: the dispatcher sends it to the town government
            rule, _ = RoutingRule.objects.update_or_create(
                category=categories[spec.code],
                defaults={"department": departments[spec.department]},
            )
            rule.co_departments.set([departments[c] for c in spec.co if c in departments])
            rules += 1
    ctx.progress("诉求分类", len(categories), len(categories))
    ctx.progress("派单目录", rules, rules)
    return categories


# -- planning the year -----------------------------------------------------------------------


@dataclass
class Citizen:
    name: str
    mobile: str
    user: User | None = None


@dataclass
class Plan:
    """One appeal's story, drawn before the year starts; its ``rng`` draws the details."""

    index: int
    received: dt.datetime
    rng: random.Random
    problem: Problem
    village: Division
    channel: str
    urgent: bool
    citizen: Citizen | None  # None: anonymous
    # normal, refuse, merge, promote, stuck (never answered), await_rating, and the stalls
    # of the last days (see _stall_the_last_days)
    fate: str = "normal"
    refusal: tuple[str, str, str] | None = None
    master: Plan | None = None
    followers: list[Plan] = field(default_factory=list)  # merged into this one
    words: dict[str, str] = field(default_factory=dict)
    appeal_id: int | None = None


def _weighted(rng: random.Random, pairs: list[tuple[Any, float]]) -> Any:
    return rng.choices([p for p, _w in pairs], weights=[w for _p, w in pairs])[0]


class Simulation:
    def __init__(self, ctx: demo.DemoContext, categories: dict[str, Category], count: int):
        self.ctx = ctx
        self.categories = categories
        self.count = count
        self.rng = random.Random(SEED)  # noqa: S311 (a demo, not a secret)
        self.clock = SimulatedClock()
        self.end = timezone.now()
        self.start = self.end - dt.timedelta(days=365)
        self._queue: list[tuple[dt.datetime, int, Iterator[dt.datetime]]] = []
        self._order = itertools.count()
        self._load_people()

    # -- who is who

    def _load_people(self) -> None:
        def by_role(role: str, username: str) -> User:
            users = User.objects.filter(role=role, is_active=True).order_by("pk")
            user = users.filter(username=username).first() or users.first()
            if user is None:
                raise RuntimeError(f"演示诉求需要一名{Role(role).label}：请先载入核心演示数据")
            return user

        self.dispatcher = by_role(Role.DISPATCHER, "dispatcher")
        self.supervisor = by_role(Role.SUPERVISOR, "supervisor")
        self.citizen_user = User.objects.filter(username="citizen", role=Role.CITIZEN).first()
        self.departments = {d.code: d for d in Department.objects.filter(active=True)}
        self.departments_by_pk = {d.pk: d for d in self.departments.values()}
        self._routes: dict[str, tuple[Department, list[int]] | None] = {}
        self.handlers: dict[int, list[User]] = {}
        self.heads: dict[int, User] = {}
        for user in User.objects.filter(
            role__in=[Role.HANDLER, Role.DEPT_HEAD], is_active=True, department__isnull=False
        ).order_by("pk"):
            assert user.department_id is not None
            if user.role == Role.HANDLER:
                self.handlers.setdefault(user.department_id, []).append(user)
            else:
                self.heads.setdefault(user.department_id, user)
        towns = Division.objects.filter(level=Division.Level.TOWN, active=True)
        self.town_departments = {
            d.division_id: d
            for d in Department.objects.filter(
                kind=Department.Kind.TOWN, division__in=towns, active=True
            )
        }
        self.villages = list(
            Division.objects.filter(level=Division.Level.VILLAGE, active=True, parent__in=towns)
            .select_related("parent")
            .order_by("code")
        )
        if not self.villages or not self.town_departments:
            raise RuntimeError("演示诉求需要乡镇和村（社区）：请先载入核心演示数据")

    def handler(self, department: Department, rng: random.Random) -> User:
        return rng.choice(self.handlers[department.pk])

    def right_department(self, plan: Plan) -> tuple[Department, list[int]]:
        """The routing catalogue's answer, else the town government (属地)."""
        code = plan.problem.category
        if code not in self._routes:
            rule = actions.route_for(self.categories[code])
            self._routes[code] = (
                None
                if rule is None
                else (
                    self.departments_by_pk[rule.department_id],
                    sorted(rule.co_departments.values_list("pk", flat=True)),
                )
            )
        route = self._routes[code]
        if route is not None:
            return route
        assert plan.village.parent_id is not None
        return self.town_departments[plan.village.parent_id], []

    # -- the plans

    def _days(self) -> list[tuple[dt.date, float]]:
        first = self.start.astimezone(LOCAL).date()
        last = self.end.astimezone(LOCAL).date()
        days = []
        for n in range((last - first).days + 1):
            day = first + dt.timedelta(days=n)
            weight = MONTH_WEIGHT[day.month]
            if not calendar.is_working_day(day):
                weight *= 0.45
            # Slowly growing use of the new platform over the year.
            weight *= 0.85 + 0.3 * n / 365
            days.append((day, weight))
        return days

    def _moments(self) -> list[dt.datetime]:
        days = self._days()
        total = sum(w for _d, w in days)
        moments: list[dt.datetime] = []
        for day, weight in days:
            expected = self.count * weight / total
            n = int(expected) + (self.rng.random() < expected - int(expected))
            for _ in range(n):
                # Mostly office hours and evenings; some at night (web, WeChat).
                hour = _weighted(
                    self.rng, [(self.rng.uniform(8, 12), 4), (self.rng.uniform(13, 21), 5)]
                )
                if self.rng.random() < 0.06:
                    hour = self.rng.uniform(0, 24)
                moment = dt.datetime.combine(day, dt.time(0), tzinfo=LOCAL) + HOUR * hour
                if self.start < moment < self.end:
                    moments.append(moment)
        return sorted(moments)

    def plans(self) -> list[Plan]:
        problems = [(p, p.weight) for p in PROBLEMS]
        villages = [
            (v, TOWN_WEIGHT.get(v.parent.name, 1.0) if v.parent else 1.0) for v in self.villages
        ]
        citizens: list[Citizen] = []
        plans: list[Plan] = []
        for index, moment in enumerate(self._moments()):
            rng = random.Random(SEED * 100_003 + index)  # noqa: S311
            problem: Problem = _weighted(rng, problems)
            channel = _weighted(rng, CHANNELS)
            plan = Plan(
                index=index,
                received=moment,
                rng=rng,
                problem=problem,
                village=_weighted(rng, villages),
                channel=channel,
                urgent=rng.random() < problem.urgent_share,
                citizen=self._citizen(rng, channel, citizens),
            )
            plan.words = self._words(plan)
            self._fate(plan, plans)
            plans.append(plan)
        self._stall_the_last_days(plans)
        return plans

    def _citizen(self, rng: random.Random, channel: str, citizens: list[Citizen]) -> Citizen | None:
        if channel in (Channel.WEB, Channel.WECHAT, Channel.HOTLINE) and rng.random() < 0.04:
            return None
        if self.citizen_user is not None and channel == Channel.WEB and rng.random() < 0.06:
            return Citizen(self.citizen_user.name, self.citizen_user.mobile, self.citizen_user)
        if citizens and rng.random() < 0.1:
            return rng.choice(citizens)  # people who write more than once
        citizen = Citizen(
            rng.choice(SURNAMES) + rng.choice(GIVEN), f"1400{1_000_000 + len(citizens):07d}"
        )
        citizens.append(citizen)
        return citizen

    def _words(self, plan: Plan) -> dict[str, str]:
        rng = plan.rng
        issue, fixed = rng.choice(ISSUES)
        return {
            "place": plan.village.name,
            "spot": rng.choice(SPOTS),
            "estate": rng.choice(ESTATES),
            "road": rng.choice(ROADS),
            "since": rng.choice(SINCE),
            "ask": rng.choice(ASKS),
            "issue": issue,
            "issue_fixed": fixed,
            "count": rng.choice(COUNTS),
        }

    def _fate(self, plan: Plan, earlier: list[Plan]) -> None:
        rng = plan.rng
        roll = rng.random()
        if roll < 0.03:
            plan.fate = "refuse"
            plan.refusal = rng.choice(REFUSALS)
        elif roll < 0.065:
            # A second citizen reports what someone reported in the last days, in the same
            # village: the dispatcher merges it.
            recent = [
                p
                for p in earlier[-60:]
                if p.fate in ("normal", "promote", "stuck")
                and p.village.parent_id == plan.village.parent_id
                and plan.received - p.received < 6 * DAY
            ]
            if recent:
                plan.fate = "merge"
                plan.master = rng.choice(recent)
                plan.problem = plan.master.problem
                plan.words = dict(plan.master.words)
        elif plan.problem.structural and roll < 0.35:
            plan.fate = "promote"
        elif roll < 0.085 and self.end - plan.received < 50 * DAY:
            plan.fate = "stuck"  # nobody answers: overdue, reminded, supervised

    def _stall_the_last_days(self, plans: list[Plan]) -> None:
        """Whatever day the demo is loaded, the newest appeals wait where real ones wait:
        not dispatched yet, returned and waiting for re-routing, dispatched and not signed
        for, answered and waiting for the citizen's rating, merged into one still open."""

        def fresh(min_days: float, max_days: float) -> list[Plan]:
            return [
                p
                for p in reversed(plans)
                if p.fate == "normal"
                and p.citizen is not None
                and min_days * DAY <= self.end - p.received <= max_days * DAY
            ]

        recent = fresh(0, 30)  # the newest ten (a small demo reaches further back)
        for fate, n in (("stall_received", 4), ("stall_returned", 3), ("stall_unsigned", 3)):
            for plan in recent[:n]:
                plan.fate = fate
            recent = recent[n:]
        for plan in fresh(2, 6)[:3]:
            plan.fate = "await_rating"
        older = fresh(12, 25)
        if older:
            master = older[-1]
            master.fate = "stuck"
            for plan in [p for p in fresh(3, 12) if p.received > master.received][:2]:
                plan.fate, plan.master = "merge", master
                plan.problem, plan.words = master.problem, dict(master.words)

    # -- running the year

    def run(self) -> dict[str, int]:
        plans = self.plans()
        queue = self._queue
        push = self.push

        first_message = last_message()
        with (
            jobs.start(
                "demo.appeals", "演示诉求", total=len(plans), out=_Lines(self.ctx.out)
            ) as progress,
            simulated_time(self.clock),
        ):
            self._progress = progress
            push(self._sweeps())
            for plan in plans:
                push(self._life(plan))
            while queue:
                moment, _n, life = heapq.heappop(queue)
                self.clock.moment = moment
                push(life)
            self.clock.moment = None
            sweep.sweep()  # what the worker finds now
            with self.clock.real():
                progress.finish(message=f"共 {len(plans)} 件")
        archive_old_notifications(first_message, self.end)
        return dict(Appeal.objects.values_list("state").annotate(n=Count("pk")).order_by())

    def push(self, life: Iterator[dt.datetime]) -> None:
        """Run ``life`` up to the moment of its next step, and queue it for then (unless
        that is past the end of the year)."""
        moment = next(life, None)
        if moment is not None and moment < self.end:
            heapq.heappush(self._queue, (moment, next(self._order), life))

    def _advance(self) -> None:
        with self.clock.real():
            self._progress.advance()

    def _sweeps(self) -> Iterator[dt.datetime]:
        """The worker's deadline sweep at 08:05 on working days (it runs every 5 minutes;
        once a working day is fine enough for a demo and keeps it fast)."""
        day = self.start.astimezone(LOCAL).date()
        while True:
            day = calendar.next_working_day(day)
            yield dt.datetime.combine(day, dt.time(8, 5), tzinfo=LOCAL)
            sweep.sweep()

    # -- moments

    def office(self, rng: random.Random, after: dt.datetime, working_days: int) -> dt.datetime:
        """A moment in office hours ``working_days`` working days after ``after`` (0: the
        same working day if there is time left, else the next), never before ``after``."""
        day = calendar.add_working_days(after, working_days).due_at.astimezone(LOCAL).date()
        moment = dt.datetime.combine(day, dt.time(0), tzinfo=LOCAL) + HOUR * rng.uniform(8.75, 17)
        if moment <= after:
            moment = after + dt.timedelta(minutes=rng.randint(20, 150))
        return moment

    def dispatch_time(self, rng: random.Random, received: dt.datetime, urgent: bool) -> dt.datetime:
        """The 12345 centre dispatches from 8:00 to 20:00 every day; urgent ones at once."""
        if urgent:
            return received + dt.timedelta(minutes=rng.randint(5, 30))
        local = received.astimezone(LOCAL)
        if 8 <= local.hour < 19:
            return received + dt.timedelta(minutes=rng.randint(15, 120))
        day = local.date() + (DAY if local.hour >= 19 else dt.timedelta(0))
        return dt.datetime.combine(day, dt.time(8), tzinfo=LOCAL) + dt.timedelta(
            minutes=rng.randint(0, 90)
        )

    # -- one appeal's life

    def _submit(self, plan: Plan) -> Appeal:
        rng = plan.rng
        if plan.refusal is not None:
            _code, title, body = plan.refusal
            appeal_type: str = AppealType.HELP
        else:
            title, body = plan.problem.title, plan.problem.body
            appeal_type = plan.problem.appeal_type
        citizen = plan.citizen
        by: User | None = None
        if citizen is not None and citizen.user is not None:
            by = citizen.user
        elif plan.channel in (Channel.HOTLINE, Channel.EMAIL):
            by = self.dispatcher  # the 12345 operator types it in
        elif plan.channel in (Channel.CENTRE, Channel.FIELD) and plan.village.parent_id:
            by = self.handler(self.town_departments[plan.village.parent_id], rng)
        elif plan.channel == Channel.DEPARTMENT:
            by = self.handler(self.right_department(plan)[0], rng)
        village = plan.village
        if village.name.endswith("社区"):
            address = (
                f"{plan.words['estate']}{rng.randint(1, 30)}栋{rng.randint(1, 4)}单元"
                f"{rng.randint(1, 18)}0{rng.randint(1, 4)}室"
            )
        else:
            address = f"{rng.randint(1, 12)}组{rng.randint(1, 80)}号"
        data = actions.AppealInput(
            title=title.format_map(plan.words),
            body=body.format_map(plan.words),
            appeal_type=appeal_type,
            urgency=Urgency.URGENT if plan.urgent else Urgency.NORMAL,
            category_id=self.categories[plan.problem.category].pk,
            division_id=village.pk,
            address=address,
            anonymous=citizen is None,
            citizen_name=citizen.name if citizen else "",
            citizen_mobile=citizen.mobile if citizen else "",
            consent_publish=rng.random() < 0.6,
            channel=plan.channel,
        )
        appeal = actions.submit(data, by=by).appeal
        plan.appeal_id = appeal.pk
        self._advance()
        return appeal

    def _life(self, plan: Plan) -> Iterator[dt.datetime]:
        rng = plan.rng
        yield plan.received
        appeal = self._submit(plan)
        if plan.fate == "stall_received":
            return
        now = self.dispatch_time(rng, plan.received, plan.urgent)
        yield now
        if plan.refusal is not None:
            note = "已告知诉求人" if rng.random() < 0.5 else ""
            actions.refuse(appeal.pk, rule_code=plan.refusal[0], note=note, by=self.dispatcher)
            return
        if plan.fate == "merge":
            assert plan.master is not None and plan.master.appeal_id is not None
            if Appeal.objects.filter(pk=plan.master.appeal_id, state__in=OPEN_STATES).exists():
                actions.merge(plan.master.appeal_id, [appeal.pk], by=self.dispatcher)
                plan.master.followers.append(plan)
                return  # it follows the master (see _follower_rates)
            plan.fate = "normal"  # the master was answered already: handled on its own
        yield from self._handled(plan, appeal, now)

    def _follower_rates(self, plan: Plan) -> Iterator[dt.datetime]:
        """A merged citizen got the master's reply; most of them rate it."""
        rng = plan.rng
        yield self.clock.now() + HOUR * rng.uniform(0.5, 72)
        assert plan.appeal_id is not None
        appeal = Appeal.objects.get(pk=plan.appeal_id)
        if appeal.state != State.REPLIED or not appeal.citizen_mobile or rng.random() < 0.4:
            return  # the rating window closes it
        level, resolved, comment = self._verdict(rng, late=False)
        actions.rate(actions.rating_token(appeal), resolved=resolved, level=level, comment=comment)
        if level == Rating.Level.UNSATISFIED:
            yield self.office(rng, self.clock.now(), 1)
            actions.review_unsatisfied(
                appeal.pk, handler_at_fault=False, note="已合并办理，答复属实", by=self.dispatcher
            )

    def _handled(self, plan: Plan, appeal: Appeal, now: dt.datetime) -> Iterator[dt.datetime]:
        rng = plan.rng
        right, co = self.right_department(plan)
        returned = plan.fate == "stall_returned" or (plan.fate == "normal" and rng.random() < 0.07)
        disputed = returned and rng.random() < 0.35
        first = right
        if returned and not disputed:
            # Sent to the wrong department first: it returns the appeal, rightly.
            others = [d for pk, d in sorted(self.departments_by_pk.items()) if pk != right.pk]
            first = rng.choice([d for d in others if d.pk in self.handlers])
        appeal = actions.dispatch(
            appeal.pk,
            department_id=first.pk,
            co_department_ids=co if first == right else [],
            by=self.dispatcher,
        )
        if returned:
            now = self.office(rng, now, rng.choice([0, 0, 1]))
            yield now
            template = rng.choice(DISPUTED_RETURN_REASONS if disputed else RETURN_REASONS)
            appeal = actions.return_appeal(
                appeal.pk, reason=template.format(right=right.name), by=self.handler(first, rng)
            )
            if plan.fate == "stall_returned":
                return
            now += dt.timedelta(minutes=rng.randint(30, 180))
            yield now
            if disputed:
                record = appeal.returns.order_by("-pk").first()
                assert record is not None
                actions.dispute_return(
                    record.pk, note=rng.choice(DISPUTE_NOTES), by=self.dispatcher
                )
            appeal = actions.dispatch(
                appeal.pk, department_id=right.pk, co_department_ids=co, by=self.dispatcher
            )
        if plan.fate == "stall_unsigned":
            return
        dispatched = now
        handler = self.handler(right, rng)
        late_sign = rng.random() < 0.08
        now = self.office(rng, now, rng.choice([2, 3]) if late_sign else rng.choice([0, 0, 0, 1]))
        yield now
        appeal = actions.sign(appeal.pk, by=handler)
        assert appeal.due_at is not None
        if rng.random() < 0.3:
            note_at = min(self.office(rng, now, 1), appeal.due_at - HOUR)
            if note_at > now:
                yield note_at
                actions.add_note(appeal.pk, text=rng.choice(NOTES), by=handler)
        if plan.fate == "promote":
            yield self.office(rng, self.clock.now(), rng.randint(1, 3))
            by = self.heads.get(right.pk, self.dispatcher)
            actions.promote(appeal.pk, reason=rng.choice(PROMOTE_REASONS), by=by)
            return
        late = plan.fate == "stuck" or (plan.fate == "normal" and rng.random() < 0.08)
        if late and rng.random() < 0.25:
            # The supervisor's office takes it up on the due day, before the sweep would.
            yield self.office(rng, max(appeal.due_at - 6 * HOUR, self.clock.now()), 0)
            if not Supervision.objects.filter(appeal=appeal, resolved_at__isnull=True).exists():
                actions.supervise(appeal.pk, note="请加快办理并按期答复", by=self.supervisor)
        if plan.fate == "normal" and not late and rng.random() < 0.07:
            yield from self._extension(plan, appeal, handler)
            appeal = Appeal.objects.get(pk=appeal.pk)
        if plan.fate == "stuck":
            return
        assert appeal.due_at is not None
        span = calendar.working_days_between(dispatched, appeal.due_at)
        if plan.fate == "await_rating":
            days = rng.randint(0, 1)  # a quick answer, still waiting for the rating
        elif late:
            days = span + rng.randint(1, 5)
        else:
            days = rng.randint(span // 4, span)
        yield max(self.office(rng, dispatched, days), self.clock.now() + HOUR)
        appeal = self._reply(plan, appeal, right, handler)
        if plan.fate != "await_rating":
            yield from self._rating(plan, appeal, right, handler, late)

    def _extension(self, plan: Plan, appeal: Appeal, handler: User) -> Iterator[dt.datetime]:
        """延期: asked on the morning of the due day, decided within hours."""
        rng = plan.rng
        assert appeal.due_at is not None
        due_day = appeal.due_at.astimezone(LOCAL).date()
        ask = dt.datetime.combine(due_day, dt.time(9), tzinfo=LOCAL) + HOUR * rng.uniform(0, 2)
        if ask <= self.clock.now():
            return
        yield ask
        extension = actions.request_extension(
            appeal.pk,
            days=rng.choice([3, 5, 5, 7, 10]),
            reason=rng.choice(EXTENSION_REASONS),
            by=handler,
        )
        yield ask + HOUR * rng.uniform(1, 5)
        approve = rng.random() < 0.8
        actions.decide_extension(
            extension.pk,
            approve=approve,
            note="同意延期，请在延长期限内办结" if approve else "时限内可以办结，请抓紧办理",
            by=rng.choice([self.dispatcher, self.supervisor]),
        )

    def _reply(self, plan: Plan, appeal: Appeal, department: Department, by: User) -> Appeal:
        local = self.clock.now().astimezone(LOCAL)
        words = plan.words | {
            "dept": department.short_name or department.name,
            "date": f"{local.month}月{local.day}日",
        }
        appeal = actions.reply(appeal.pk, text=plan.problem.reply.format_map(words), by=by)
        for follower in plan.followers:
            self.push(self._follower_rates(follower))
        plan.followers = []
        return appeal

    def _verdict(self, rng: random.Random, *, late: bool) -> tuple[str, bool, str]:
        unsatisfied = 0.1 + (0.12 if late else 0)
        level = _weighted(
            rng,
            [
                (Rating.Level.SATISFIED, 0.74 - unsatisfied / 2),
                (Rating.Level.BASIC, 0.16),
                (Rating.Level.UNSATISFIED, unsatisfied),
            ],
        )
        resolved_share = {Rating.Level.SATISFIED: 0.96, Rating.Level.BASIC: 0.75}.get(level, 0.15)
        comments = {
            Rating.Level.SATISFIED: SATISFIED_COMMENTS,
            Rating.Level.BASIC: BASIC_COMMENTS,
        }.get(level, UNSATISFIED_COMMENTS)
        return level, rng.random() < resolved_share, rng.choice(comments)

    def _rating(
        self, plan: Plan, appeal: Appeal, department: Department, handler: User, late: bool
    ) -> Iterator[dt.datetime]:
        """Rated by link or by phone, or never (the sweep closes it); unsatisfied and the
        department's fault → re-handled with a new time limit, at most twice."""
        rng = plan.rng
        if plan.citizen is None:
            return  # anonymous: nobody to ask
        limit = actions.time_limit(appeal.appeal_type, appeal.urgency)
        for _round in range(3):
            replied = self.clock.now()
            how = _weighted(rng, [("link", 55), ("callback", 25), ("none", 20)])
            if how == "none":
                return
            level, resolved, comment = self._verdict(rng, late=late)
            if how == "link":
                yield replied + HOUR * rng.uniform(0.5, 72)
                appeal = actions.rate(
                    actions.rating_token(appeal), resolved=resolved, level=level, comment=comment
                )
                if level != Rating.Level.UNSATISFIED:
                    return
                yield self.office(rng, self.clock.now(), 1)
                fault = rng.random() < 0.55
                appeal = actions.review_unsatisfied(
                    appeal.pk,
                    handler_at_fault=fault,
                    note="经核实，承办单位处理不到位" if fault else "经核实，已按政策答复",
                    by=self.dispatcher,
                )
            else:
                yield min(self.office(rng, replied, rng.randint(1, 2)), replied + 6 * DAY)
                fault = level == Rating.Level.UNSATISFIED and rng.random() < 0.55
                appeal = actions.record_callback(
                    appeal.pk,
                    resolved=resolved,
                    level=level,
                    comment=comment,
                    handler_at_fault=fault,
                    by=self.dispatcher,
                )
            if not fault:
                return
            # 重办: the same department answers again within a new time limit.
            late = rng.random() < 0.1
            rehandled = self.clock.now()
            days = limit + rng.randint(1, 3) if late else rng.randint(min(1, limit), max(limit, 1))
            yield max(self.office(rng, rehandled, days), rehandled + HOUR)
            appeal = self._reply(plan, appeal, department, handler)


def appeal_count() -> int:
    return max(int(settings.DEMO_APPEALS), 0)


@demo.register("appeals", "诉求分类、派单目录和一年的诉求", order=200)
def build(ctx: demo.DemoContext) -> None:
    categories = build_categories(ctx)
    if Appeal.objects.exists():
        ctx.out("  已有诉求数据，不再生成演示诉求")
        return
    counts = Simulation(ctx, categories, appeal_count()).run()
    summary = "，".join(f"{State(s).label} {n}" for s, n in sorted(counts.items()))
    ctx.out(f"  诉求：{summary}")
    ctx.out(
        f"  督办 {Supervision.objects.count()} 件，"
        f"重办 {Appeal.objects.filter(rehandle_count__gt=0).count()} 件，"
        f"延期 {Appeal.objects.filter(extension_count__gt=0).count()} 件"
    )
