"""实事项目 endpoints: the projects and the supervision ledger for staff (scoped to the
units a department user belongs to), submitting a progress report, and the published
batches for anyone (``auth=None``).

Thin calls to ``projects.actions``; refusals in the API's one error shape (``ProjectError``
→ 422 with its code, ``validation_error`` said as ``invalid``; ``not_found`` → 404;
``Conflict`` → 409; another unit's project → 404 as if it did not exist). The contact
person's name and phone are always masked here; the public endpoints carry no personal data
at all (they return the same scrubbed records as the public pages).
"""

# No "from __future__ import annotations": django-ninja reads the annotations at runtime.

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from minsheng.api.errors import CONFLICT, INVALID, NON_FIELD, NOT_FOUND, ApiError
from minsheng.api.pagination import PageNumberPagination
from minsheng.core import policy
from minsheng.core.masking import mask_mobile, mask_name
from minsheng.core.models import User
from minsheng.projects import actions, ledger
from minsheng.projects.errors import Conflict, ProjectError
from minsheng.projects.models import (
    Batch,
    Escalation,
    Milestone,
    ProgressReport,
    Project,
    ReportDue,
)
from minsheng.projects.states import LADDER, EscalationStep, LedgerStatus, ProjectState
from minsheng.projects.views.public import public_projects, published_batches, to_public

router = Router(tags=["projects"])

VALIDATION_ERROR = "validation_error"


def _user(request: HttpRequest) -> User:
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except Conflict as exc:
        raise ApiError(CONFLICT, exc.message, 409, exc.fields) from exc
    except ProjectError as exc:
        if exc.code == NOT_FOUND:
            raise ApiError(NOT_FOUND, exc.message, 404) from exc
        code = INVALID if exc.code == VALIDATION_ERROR else exc.code
        raise ApiError(code, exc.message, 422, exc.fields or {NON_FIELD: [exc.message]}) from exc


# ---------------------------------------------------------------- schemas


class Ref(Schema):
    id: int
    name: str


class BatchRef(Schema):
    id: int
    year: int
    number: int
    title: str


class ProjectOut(Schema):
    """A project in a list (staff). The contact person is masked."""

    id: int
    code: str = Field(description="项目编号，如 2026-1-03")
    title: str
    batch: BatchRef
    category: Ref
    lead_unit: Ref
    deadline: dt.date
    state: ProjectState = Field(description="流程状态：draft/active/applied/closed")
    state_display: str
    status: LedgerStatus = Field(
        description="台账状态：normal/behind/overdue/pending_acceptance/closed"
    )
    status_display: str
    percent_complete: int
    behind_months: int = Field(description="连续滞后月数")
    closed_at: dt.datetime | None
    version: int = Field(description="乐观锁版本号")


class TargetOut(Schema):
    id: int
    name: str
    unit: str
    planned: float
    reached: float


class MilestoneOut(Schema):
    id: int
    month: dt.date
    title: str
    expected: str
    due: dt.date
    target_id: int | None
    target_value: float | None
    planned_percent: int | None
    done_at: dt.datetime | None
    status: str = Field(description="pending 未到期 / done 已完成 / late 滞后")


class ReportValueOut(Schema):
    target_id: int
    value: float


class ReportOut(Schema):
    id: int
    period: dt.date = Field(description="所报期间的第一天")
    submitted_at: dt.datetime
    submitted_by: str
    text: str
    percent_complete: int
    state: str = Field(description="submitted 已报送 / returned 已退回")
    returned_reason: str
    values: list[ReportValueOut]
    attachments: int = Field(description="附件个数（文件请在网页上查看）")


class EscalationOut(Schema):
    id: int
    step: EscalationStep
    step_display: str
    milestone_id: int | None
    issued_at: dt.datetime
    issued_by: str = Field(description="督办人；系统自动督办为空")
    text: str
    doc_number: str
    due: dt.date | None
    resolved_at: dt.datetime | None


class ProjectDetailOut(ProjectOut):
    co_units: list[Ref]
    leader_name: str
    contact_name: str = Field(description="已脱敏，如 王*")
    contact_phone: str = Field(description="已脱敏，如 138****1234")
    measures: str
    budget: float | None = Field(description="预算（万元）")
    source: str
    source_appeals: int = Field(description="关联的群众诉求件数")
    targets: list[TargetOut]
    milestones: list[MilestoneOut]
    reports: list[ReportOut]
    escalations: list[EscalationOut]


def _ref(obj: Any, name: str | None = None) -> dict[str, Any]:
    return {"id": obj.pk, "name": name if name is not None else str(obj)}


def _batch_ref(batch: Batch) -> dict[str, Any]:
    return {"id": batch.pk, "year": batch.year, "number": batch.number, "title": batch.title}


def _project_out(project: Project) -> dict[str, Any]:
    return {
        "id": project.pk,
        "code": project.code,
        "title": project.title,
        "batch": _batch_ref(project.batch),
        "category": _ref(project.category, project.category.name),
        "lead_unit": _ref(project.lead_unit, project.lead_unit.label),
        "deadline": project.deadline,
        "state": project.state,
        "state_display": project.get_state_display(),
        "status": project.status,
        "status_display": project.get_status_display(),
        "percent_complete": project.percent_complete,
        "behind_months": project.behind_months,
        "closed_at": project.closed_at,
        "version": project.version,
    }


def _escalation_out(e: Escalation) -> dict[str, Any]:
    return {
        "id": e.pk,
        "step": e.step,
        "step_display": e.get_step_display(),
        "milestone_id": e.milestone_id,
        "issued_at": e.issued_at,
        "issued_by": e.issued_by.display_name if e.issued_by else "",
        "text": e.text,
        "doc_number": e.doc_number,
        "due": e.due,
        "resolved_at": e.resolved_at,
    }


def _report_out(r: ProgressReport) -> dict[str, Any]:
    return {
        "id": r.pk,
        "period": r.period,
        "submitted_at": r.submitted_at,
        "submitted_by": r.submitted_by.display_name,
        "text": r.text,
        "percent_complete": r.percent_complete,
        "state": r.state,
        "returned_reason": r.returned_reason,
        "values": [{"target_id": v.target_id, "value": float(v.value)} for v in r.values.all()],
        "attachments": len(r.attachments.all()),
    }


def _detail_out(project: Project) -> dict[str, Any]:
    today = timezone.localdate()
    return {
        **_project_out(project),
        "co_units": [_ref(u, u.label) for u in project.co_units.all()],
        "leader_name": project.leader_name,
        "contact_name": mask_name(project.contact_name),
        "contact_phone": mask_mobile(project.contact_phone),
        "measures": project.measures,
        "budget": float(project.budget) if project.budget is not None else None,
        "source": project.source,
        "source_appeals": project.source_appeals.count(),
        "targets": [
            {
                "id": t.pk,
                "name": t.name,
                "unit": t.unit,
                "planned": float(t.planned),
                "reached": float(t.reached),
            }
            for t in project.targets.all()
        ],
        "milestones": [
            {
                "id": m.pk,
                "month": m.month,
                "title": m.title,
                "expected": m.expected,
                "due": m.due,
                "target_id": m.target_id,
                "target_value": float(m.target_value) if m.target_value is not None else None,
                "planned_percent": m.planned_percent,
                "done_at": m.done_at,
                "status": ledger.milestone_status(m, today).value,
            }
            for m in project.milestones.all()
        ],
        "reports": [_report_out(r) for r in project.reports.all()],
        "escalations": [_escalation_out(e) for e in project.escalations.all()],
    }


def _projects() -> QuerySet[Project]:
    return Project.objects.select_related("batch", "category", "lead_unit")


def _visible(user: User, project_id: int) -> Project:
    """The project with its plan, reports and escalations, if the user may see it."""
    queryset = _projects().prefetch_related(
        "co_units",
        "targets",
        "milestones",
        Prefetch(
            "reports",
            queryset=ProgressReport.objects.select_related("submitted_by").prefetch_related(
                "values", "attachments"
            ),
        ),
        Prefetch("escalations", queryset=Escalation.objects.select_related("issued_by")),
    )
    return policy.get_object(user, queryset, "projects.view", pk=project_id)


# ---------------------------------------------------------------- staff: projects


class ProjectFilters(Schema):
    batch: int | None = Field(None, description="批次 id")
    status: LedgerStatus | None = Field(None, description="台账状态")
    state: ProjectState | None = Field(None, description="流程状态")
    unit: int | None = Field(None, description="牵头单位 id")
    category: int | None = Field(None, description="类别 id")
    q: str | None = Field(None, max_length=50, description="编号或名称中的关键词")


def _filtered(queryset: QuerySet[Project], filters: ProjectFilters) -> QuerySet[Project]:
    exact = {
        "batch_id": filters.batch,
        "status": filters.status,
        "state": filters.state,
        "lead_unit_id": filters.unit,
        "category_id": filters.category,
    }
    queryset = queryset.filter(**{k: v for k, v in exact.items() if v is not None})
    if filters.q:
        for word in filters.q.split():
            queryset = queryset.filter(Q(code__icontains=word) | Q(title__icontains=word))
    return queryset


class _Rows:
    """A queryset the paginator slices; each page's rows become dicts."""

    def __init__(self, queryset: QuerySet[Project], convert: Any) -> None:
        self.queryset = queryset
        self.convert = convert

    def count(self) -> int:
        return self.queryset.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item: slice) -> list[dict[str, Any]]:
        return self.convert(list(self.queryset[item]))


@router.get("/projects", response=list[ProjectOut], summary="实事项目列表")
@paginate(PageNumberPagination)
def project_list(request: HttpRequest, filters: Query[ProjectFilters]) -> Any:
    user = _user(request)
    policy.require(user, "projects.view")
    queryset = _filtered(policy.visible(user, _projects(), "projects.view"), filters)
    return _Rows(
        queryset.order_by("-batch__year", "-batch__number", "code"),
        lambda rows: [_project_out(p) for p in rows],
    )


class LedgerFilters(Schema):
    batch: int | None = Field(None, description="批次 id")
    status: LedgerStatus | None = Field(None, description="台账状态")
    unit: int | None = Field(None, description="牵头单位 id")
    step: EscalationStep | None = Field(None, description="有未办结的该项督办措施")


class LedgerRowOut(Schema):
    project: ProjectOut
    late_milestones: int = Field(description="到期未完成的节点数")
    missing_reports: int = Field(description="逾期未报的报送期数")
    highest_step: EscalationStep | None = Field(description="未办结督办中最重的措施")
    open_escalations: list[EscalationOut]


def _ledger_rows(projects: list[Project]) -> list[dict[str, Any]]:
    rows = []
    for project in projects:
        open_ones = list(project.open_escalations)  # type: ignore[attr-defined]
        highest = max((e.step for e in open_ones), key=lambda s: LADDER[s], default=None)
        rows.append(
            {
                "project": _project_out(project),
                "late_milestones": project.late_milestones,  # type: ignore[attr-defined]
                "missing_reports": project.missing_reports,  # type: ignore[attr-defined]
                "highest_step": highest,
                "open_escalations": [_escalation_out(e) for e in open_ones],
            }
        )
    return rows


def _count(queryset: QuerySet[Any]) -> Coalesce:
    """A correlated COUNT(*) subquery: several counts on one row without multiplying joins."""
    counted = queryset.order_by().values("project_id").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


@router.get("/projects/ledger", response=list[LedgerRowOut], summary="督查台账")
@paginate(PageNumberPagination)
def ledger_list(request: HttpRequest, filters: Query[LedgerFilters]) -> Any:
    user = _user(request)
    policy.require(user, "projects.view")
    today = timezone.localdate()
    queryset = policy.visible(user, _projects().exclude(state=ProjectState.DRAFT), "projects.view")
    exact = {"batch_id": filters.batch, "status": filters.status, "lead_unit_id": filters.unit}
    queryset = queryset.filter(**{k: v for k, v in exact.items() if v is not None})
    if filters.step is not None:
        queryset = queryset.filter(
            pk__in=Escalation.objects.open().filter(step=filters.step).values("project_id")
        )
    queryset = queryset.annotate(
        late_milestones=_count(
            Milestone.objects.filter(project=OuterRef("pk"), done_at__isnull=True, due__lt=today)
        ),
        missing_reports=_count(
            ReportDue.objects.filter(
                project=OuterRef("pk"), submitted_report__isnull=True, due__lt=today
            )
        ),
    ).prefetch_related(
        Prefetch(
            "escalations",
            queryset=Escalation.objects.open().select_related("issued_by"),
            to_attr="open_escalations",
        )
    )
    # The ledger's order: overdue, then behind, then the rest; the longest behind first.
    return _Rows(queryset.order_by("-status", "-behind_months", "deadline", "code"), _ledger_rows)


@router.get("/projects/{project_id}", response=ProjectDetailOut, summary="实事项目详情")
def project_detail(request: HttpRequest, project_id: int) -> dict[str, Any]:
    return _detail_out(_visible(_user(request), project_id))


class ValueIn(Schema):
    target: int = Field(description="量化指标 id")
    value: Decimal = Field(ge=0, description="累计完成值")


class ReportIn(Schema):
    period: dt.date = Field(description="所报期间内的任一天（按报送频次取该期第一天）")
    text: str = Field(min_length=4, max_length=5000, description="进展情况")
    percent: int = Field(ge=0, le=100, description="累计完成进度（%）")
    values: list[ValueIn] = Field(default_factory=list, description="各量化指标的累计完成值")
    done_milestones: list[int] = Field(default_factory=list, description="本期完成的计划节点 id")


@router.post(
    "/projects/{project_id}/reports",
    response={201: ReportOut},
    summary="报送进展（牵头或配合单位）",
    description="每个报送期只能有一份有效报告；已报送的期间返回 409 conflict。附件请在网页上传。",
)
def submit_report(
    request: HttpRequest, project_id: int, payload: ReportIn
) -> Status[dict[str, Any]]:
    user = _user(request)
    project = policy.get_object(user, Project.objects.all(), "projects.view", pk=project_id)
    values: dict[int, Decimal] = {}
    for item in payload.values:
        if item.target in values:
            raise ApiError(INVALID, _("同一指标只能填写一次"), 422, {"values": [_("指标重复")]})
        values[item.target] = item.value
    with _errors():
        report = actions.submit_report(
            project.pk,
            by=user,
            period=payload.period,
            text=payload.text,
            percent=payload.percent,
            values=values,
            done_milestones=payload.done_milestones,
        )
    report = (
        ProgressReport.objects.select_related("submitted_by")
        .prefetch_related("values", "attachments")
        .get(pk=report.pk)
    )
    return Status(201, _report_out(report))


# ---------------------------------------------------------------- public


class PublicBatchOut(Schema):
    id: int
    year: int
    number: int
    title: str
    published_at: dt.datetime | None
    projects: int
    closed: int


class PublicMilestoneOut(Schema):
    month: dt.date
    title: str
    due: dt.date
    status: str = Field(description="pending 未到期 / done 已完成 / late 滞后")
    done_on: dt.date | None


class PublicReportOut(Schema):
    period: dt.date
    submitted_on: dt.date
    percent: int
    text: str = Field(description="进展情况（已隐去个人信息）")


class PublicTargetOut(Schema):
    name: str
    unit: str
    planned: float
    reached: float


class PublicProjectOut(Schema):
    code: str
    title: str
    category: str
    unit: str = Field(description="责任（牵头）单位")
    co_units: list[str]
    deadline: dt.date
    percent: int
    status: str
    status_display: str
    closed_on: dt.date | None = Field(description="验收销号日期")
    targets: list[PublicTargetOut]
    milestones: list[PublicMilestoneOut]
    latest_report: PublicReportOut | None


class PublicBatchDetailOut(PublicBatchOut):
    items: list[PublicProjectOut]


def _public_batches() -> QuerySet[Batch]:
    shown = ~Q(projects__state=ProjectState.DRAFT)
    return published_batches().annotate(
        n=Count("projects", filter=shown),
        n_closed=Count("projects", filter=Q(projects__state=ProjectState.CLOSED)),
    )


def _public_batch_out(batch: Batch) -> dict[str, Any]:
    return {
        "id": batch.pk,
        "year": batch.year,
        "number": batch.number,
        "title": batch.title,
        "published_at": batch.published_at,
        "projects": batch.n,  # type: ignore[attr-defined]
        "closed": batch.n_closed,  # type: ignore[attr-defined]
    }


@router.get(
    "/projects/public/batches",
    response=list[PublicBatchOut],
    auth=None,
    summary="公开的实事项目批次",
)
def public_batch_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [_public_batch_out(b) for b in _public_batches()]


@router.get(
    "/projects/public/batches/{batch_id}",
    response=PublicBatchDetailOut,
    auth=None,
    summary="公开批次的项目及进展（不含个人信息）",
)
def public_batch_detail(request: HttpRequest, batch_id: int) -> dict[str, Any]:
    batch = _public_batches().filter(pk=batch_id).first()
    if batch is None:
        raise ApiError(NOT_FOUND, _("该批次不存在或尚未公开"), 404)
    today = timezone.localdate()
    items = []
    for project in public_projects(batch):
        p = to_public(project, today)
        latest = p.latest
        items.append(
            {
                "code": p.code,
                "title": p.title,
                "category": p.category,
                "unit": p.unit,
                "co_units": p.co_units,
                "deadline": p.deadline,
                "percent": p.percent,
                "status": p.status,
                "status_display": p.status_label,
                "closed_on": p.closed_on,
                "targets": [
                    {
                        "name": t.name,
                        "unit": t.unit,
                        "planned": float(t.planned),
                        "reached": float(t.reached),
                    }
                    for t in p.targets
                ],
                "milestones": [
                    {
                        "month": m.month,
                        "title": m.title,
                        "due": m.due,
                        "status": m.status,
                        "done_on": m.done_on,
                    }
                    for m in p.milestones
                ],
                "latest_report": {
                    "period": latest.period,
                    "submitted_on": latest.submitted_on,
                    "percent": latest.percent,
                    "text": latest.text,
                }
                if latest
                else None,
            }
        )
    return {**_public_batch_out(batch), "items": items}
