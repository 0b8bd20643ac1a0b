"""Statistics of the practical projects for leaders and the supervision office: the on-time
rate of milestones by unit, projects by status and category, escalations by unit and step
(``dashboard``) and the leader's one-page overview (``overview``).

Every figure is one aggregate query over the projects the user may see (``policy.visible``
with ``projects.dashboard``); the lists are cut to a few rows and joined with
``select_related``, so page cost does not grow with the number of projects.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Avg, Count, F, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.core import policy
from minsheng.core.models import Department, User
from minsheng.projects.models import Batch, Escalation, Milestone, Project, ReportDue
from minsheng.projects.states import LADDER, EscalationStep, LedgerStatus, ProjectState
from minsheng.projects.views.common import staff_user

# Steps beyond routine reminders: what a leader wants to see by name.
FORMAL_STEPS = [s.value for s in EscalationStep if LADDER[s] >= LADDER[EscalationStep.WRITTEN]]
LATE = [LedgerStatus.BEHIND, LedgerStatus.OVERDUE]
ATTENTION_ROWS = 10
UPCOMING_DAYS = 30
RECENT_DAYS = 30


def _rate(part: int, whole: int) -> float | None:
    return round(part * 100 / whole, 1) if whole else None


@dataclass(frozen=True)
class UnitRate:
    unit_id: int
    unit: str
    due: int  # milestones due by now or done early
    on_time: int  # done by their due date
    done_late: int
    open_late: int  # past due and not done

    @property
    def rate(self) -> float | None:
        return _rate(self.on_time, self.due)


@dataclass(frozen=True)
class StepRow:
    unit_id: int
    unit: str
    counts: list[int]  # in ladder order
    open: int

    @property
    def total(self) -> int:
        return sum(self.counts)


def dashboard_projects(user: User, batch: Batch | None = None) -> QuerySet[Project]:
    """The projects the statistics cover: those the user may see, drafts left out."""
    policy.require(user, "projects.dashboard")
    projects = policy.visible(
        user, Project.objects.exclude(state=ProjectState.DRAFT), "projects.dashboard"
    )
    if batch is not None:
        projects = projects.filter(batch=batch)
    return projects


def _unit_labels(ids: set[int]) -> dict[int, str]:
    return {d.pk: d.label for d in Department.objects.filter(pk__in=ids).only("name", "short_name")}


def milestone_rates(projects: QuerySet[Project], today: dt.date) -> list[UnitRate]:
    """On-time rate of milestones by lead unit. A milestone counts once it is due (due
    before today) or done; it is on time when done on or before its due date."""
    rows = (
        Milestone.objects.filter(project__in=projects.values("pk"))
        .filter(Q(due__lt=today) | Q(done_at__isnull=False))
        .values("project__lead_unit_id")
        .annotate(
            n=Count("pk"),
            on_time=Count("pk", filter=Q(done_at__date__lte=F("due"))),
            done_late=Count("pk", filter=Q(done_at__date__gt=F("due"))),
            open_late=Count("pk", filter=Q(done_at__isnull=True)),
        )
        .order_by()
    )
    data = list(rows)
    ids = {r["project__lead_unit_id"] for r in data}
    labels = _unit_labels(ids)
    result = [
        UnitRate(
            unit_id=r["project__lead_unit_id"],
            unit=labels.get(r["project__lead_unit_id"], ""),
            due=r["n"],
            on_time=r["on_time"],
            done_late=r["done_late"],
            open_late=r["open_late"],
        )
        for r in data
    ]
    # Worst first: the page is for finding who needs chasing.
    result.sort(key=lambda u: (u.rate if u.rate is not None else 101.0, -u.open_late, u.unit))
    return result


def total_rate(rows: list[UnitRate]) -> UnitRate:
    return UnitRate(
        unit_id=0,
        unit=_("合计"),
        due=sum(r.due for r in rows),
        on_time=sum(r.on_time for r in rows),
        done_late=sum(r.done_late for r in rows),
        open_late=sum(r.open_late for r in rows),
    )


def by_status(projects: QuerySet[Project]) -> list[tuple[str, str, int]]:
    counts = {
        r["status"]: r["n"] for r in projects.order_by().values("status").annotate(n=Count("pk"))
    }
    return [(s.value, str(s.label), counts.get(s.value, 0)) for s in LedgerStatus]


def by_category(projects: QuerySet[Project]) -> tuple[list[str], dict[str, list[int]]]:
    """Category names (in their admin order) and, per ledger status, the count for each."""
    rows = list(
        projects.order_by()
        .values("category_id", "category__name", "category__order", "status")
        .annotate(n=Count("pk"))
    )
    order = sorted({(r["category__order"], r["category_id"], r["category__name"]) for r in rows})
    names = [name for _o, _pk, name in order]
    index = {pk: i for i, (_o, pk, _n) in enumerate(order)}
    series = {s.value: [0] * len(names) for s in LedgerStatus}
    for r in rows:
        series[r["status"]][index[r["category_id"]]] += r["n"]
    return names, series


def escalation_rows(projects: QuerySet[Project]) -> list[StepRow]:
    """Escalations issued, per lead unit and step (and how many are still open)."""
    rows = list(
        Escalation.objects.filter(project__in=projects.values("pk"))
        .values("project__lead_unit_id", "step")
        .annotate(n=Count("pk"), open=Count("pk", filter=Q(resolved_at__isnull=True)))
        .order_by()
    )
    ids = {r["project__lead_unit_id"] for r in rows}
    labels = _unit_labels(ids)
    steps = [s.value for s in EscalationStep]
    counts: dict[int, list[int]] = {pk: [0] * len(steps) for pk in ids}
    still_open: dict[int, int] = dict.fromkeys(ids, 0)
    for r in rows:
        counts[r["project__lead_unit_id"]][steps.index(r["step"])] += r["n"]
        still_open[r["project__lead_unit_id"]] += r["open"]
    result = [StepRow(pk, labels.get(pk, ""), counts[pk], still_open[pk]) for pk in ids]
    # Heaviest steps first, then the most escalations.
    result.sort(key=lambda r: (tuple(-c for c in reversed(r.counts)), r.unit))
    return result


def _batch(request: HttpRequest) -> Batch | None:
    raw = request.GET.get("batch", "")
    if not raw.isdigit():
        return None
    return Batch.objects.filter(pk=int(raw)).first()


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    batch = _batch(request)
    projects = dashboard_projects(user, batch)
    today = timezone.localdate()
    rates = milestone_rates(projects, today)
    statuses = by_status(projects)
    categories, category_series = by_category(projects)
    escalations = escalation_rows(projects)
    step_labels = [str(s.label) for s in EscalationStep]
    status_labels = {s.value: str(s.label) for s in LedgerStatus}
    chart = {
        "names": {"rate": str(_("按期完成率(%)")), "projects": str(_("项目数"))},
        "rates": {"labels": [r.unit for r in rates], "values": [r.rate for r in rates]},
        "status": [{"key": key, "name": label, "value": n} for key, label, n in statuses if n],
        "category": {
            "labels": categories,
            "series": [
                {"key": key, "name": status_labels[key], "data": data}
                for key, data in category_series.items()
                if any(data)
            ],
        },
        "escalations": {
            "labels": [r.unit for r in escalations],
            "series": [
                {"key": step.value, "name": label, "data": [r.counts[i] for r in escalations]}
                for i, (step, label) in enumerate(zip(EscalationStep, step_labels, strict=True))
            ],
        },
    }
    return render(
        request,
        "projects/dashboard/dashboard.html",
        {
            "batches": Batch.objects.all(),
            "batch": batch,
            "rates": rates,
            "rate_total": total_rate(rates),
            "statuses": statuses,
            "total": sum(n for _k, _l, n in statuses),
            "categories": list(
                zip(categories, zip(*category_series.values(), strict=True), strict=True)
            )
            if categories
            else [],
            "status_labels": [str(s.label) for s in LedgerStatus],
            "escalations": escalations,
            "step_labels": step_labels,
            "chart": chart,
        },
    )


@dataclass(frozen=True)
class Attention:
    project: Project
    step: str  # the highest open step's label, "" when none


def _attention(projects: QuerySet[Project]) -> list[Attention]:
    late = list(
        projects.filter(status__in=LATE)
        .select_related("lead_unit", "batch")
        # "overdue" sorts after "behind": overdue projects first.
        .order_by("-status", "-behind_months", "deadline", "code")[:ATTENTION_ROWS]
    )
    highest: dict[int, str] = {}
    for project_id, step in (
        Escalation.objects.open()
        .filter(project__in=[p.pk for p in late])
        .values_list("project_id", "step")
    ):
        if project_id not in highest or LADDER[step] > LADDER[highest[project_id]]:
            highest[project_id] = step
    return [
        Attention(p, str(EscalationStep(highest[p.pk]).label) if p.pk in highest else "")
        for p in late
    ]


def _batch_rows(projects: QuerySet[Project]) -> list[dict[str, Any]]:
    rows = (
        projects.order_by("-batch__year", "-batch__number")
        .values("batch_id", "batch__title")
        .annotate(
            total=Count("pk"),
            closed=Count("pk", filter=Q(state=ProjectState.CLOSED)),
            late=Count("pk", filter=Q(status__in=LATE)),
            pending=Count("pk", filter=Q(state=ProjectState.APPLIED)),
            percent=Avg("percent_complete"),
        )
    )
    return [
        {
            **r,
            "percent": round(r["percent"] or 0),
            "closed_rate": _rate(r["closed"], r["total"]),
        }
        for r in rows
    ]


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    """One page for a leader: where the projects stand, who is late, what comes next."""
    user = staff_user(request)
    projects = dashboard_projects(user)
    today = timezone.localdate()
    now = timezone.now()
    statuses = by_status(projects)
    counts = {key: n for key, _l, n in statuses}
    total = sum(counts.values())
    rates = milestone_rates(projects, today)
    rate_total = total_rate(rates)
    open_steps = {
        r["step"]: r["n"]
        for r in Escalation.objects.open()
        .filter(project__in=projects.values("pk"))
        .values("step")
        .annotate(n=Count("pk"))
        .order_by()
    }
    missing_reports = ReportDue.objects.filter(
        project__in=projects.filter(state__in=[ProjectState.ACTIVE, ProjectState.APPLIED]).values(
            "pk"
        ),
        submitted_report__isnull=True,
        due__lt=today,
    ).count()
    strip = [
        {"label": _("项目总数"), "value": total, "bad": False},
        {
            "label": _("已销号"),
            "value": counts.get(LedgerStatus.CLOSED, 0),
            "help": _("占%(r)s%%") % {"r": _rate(counts.get(LedgerStatus.CLOSED, 0), total) or 0},
            "bad": False,
        },
        {"label": _("正常推进"), "value": counts.get(LedgerStatus.NORMAL, 0), "bad": False},
        {
            "label": _("滞后"),
            "value": counts.get(LedgerStatus.BEHIND, 0),
            "bad": bool(counts.get(LedgerStatus.BEHIND)),
        },
        {
            "label": _("超期"),
            "value": counts.get(LedgerStatus.OVERDUE, 0),
            "bad": bool(counts.get(LedgerStatus.OVERDUE)),
        },
        {
            "label": _("待验收"),
            "value": counts.get(LedgerStatus.PENDING_ACCEPTANCE, 0),
            "bad": False,
        },
        {
            "label": _("节点按期完成率"),
            "value": f"{rate_total.rate}%" if rate_total.rate is not None else "—",
            "bad": False,
        },
        {"label": _("逾期未报"), "value": missing_reports, "bad": bool(missing_reports)},
        {"label": _("未办结督办"), "value": sum(open_steps.values()), "bad": False},
    ]
    upcoming = (
        Milestone.objects.filter(
            project__in=projects.filter(state=ProjectState.ACTIVE).values("pk"),
            done_at__isnull=True,
            due__gte=today,
            due__lte=today + dt.timedelta(days=UPCOMING_DAYS),
        )
        .select_related("project__lead_unit")
        .order_by("due", "project__code")[:ATTENTION_ROWS]
    )
    formal = (
        Escalation.objects.filter(
            project__in=projects.values("pk"),
            step__in=FORMAL_STEPS,
            issued_at__gte=now - dt.timedelta(days=RECENT_DAYS),
        )
        .select_related("project__lead_unit")
        .order_by("-issued_at", "-pk")[:ATTENTION_ROWS]
    )
    chart = {
        "names": {"rate": str(_("按期完成率(%)"))},
        "rates": {"labels": [r.unit for r in rates], "values": [r.rate for r in rates]},
        "status": [{"key": key, "name": label, "value": n} for key, label, n in statuses if n],
    }
    return render(
        request,
        "projects/dashboard/overview.html",
        {
            "today": today,
            "strip": strip,
            "batches": _batch_rows(projects),
            "attention": _attention(projects),
            "upcoming": upcoming,
            "formal": formal,
            "open_steps": [
                (str(s.label), open_steps[s.value]) for s in EscalationStep if s.value in open_steps
            ],
            "rates": rates[:ATTENTION_ROWS],
            "chart": chart,
        },
    )
