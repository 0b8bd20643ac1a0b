"""The supervisor's ledger (督查台账): projects with their late milestones and current
escalation step, filters, the Excel export, issuing a step, 约谈 records and the numbered
documents of 书面督办 / 通报批评."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.forms import Form
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from minsheng.core import policy
from minsheng.core.models import User
from minsheng.projects import actions, pdf
from minsheng.projects.errors import ProjectError
from minsheng.projects.forms import EscalateForm, InterviewForm, LedgerFilterForm, ResolveForm
from minsheng.projects.models import Escalation, Milestone, Project, ReportDue
from minsheng.projects.states import LADDER, EscalationStep, ProjectState
from minsheng.projects.views import ledger_export
from minsheng.projects.views.common import PAGE_SIZE, add_errors, project_or_404, staff_user
from minsheng.projects.views.staff import filtered

NO_STEP = "none"


def require_ledger(user: User) -> None:
    if not (policy.can(user, "projects.escalate") or policy.can(user, "projects.export")):
        raise PermissionDenied("projects.ledger")


def ledger_queryset(user: User, filters: dict[str, Any], today: dt.date) -> QuerySet[Project]:
    queryset = policy.visible(
        user,
        Project.objects.exclude(state=ProjectState.DRAFT).select_related(
            "batch", "category", "lead_unit"
        ),
        "projects.view",
    )
    queryset = filtered(queryset, filters)
    step = filters.get("step")
    open_escalations = Escalation.objects.open()
    if step == NO_STEP:
        queryset = queryset.exclude(pk__in=open_escalations.values("project_id"))
    elif step:
        queryset = queryset.filter(pk__in=open_escalations.filter(step=step).values("project_id"))
    return queryset.prefetch_related(
        Prefetch(
            "milestones",
            queryset=Milestone.objects.filter(done_at__isnull=True, due__lt=today),
            to_attr="late_milestones",
        ),
        Prefetch(
            "report_dues",
            queryset=ReportDue.objects.filter(submitted_report__isnull=True, due__lt=today),
            to_attr="missing_dues",
        ),
        Prefetch(
            "escalations",
            queryset=open_escalations.order_by("-issued_at"),
            to_attr="open_escalations",
        ),
    ).order_by("batch", "code")


@dataclass(frozen=True)
class Row:
    project: Project
    late: list[Milestone]
    missing: int  # reporting periods overdue without a report
    step: Escalation | None  # the highest open step of the ladder


def row(project: Project) -> Row:
    escalations: list[Escalation] = getattr(project, "open_escalations", [])
    step = max(escalations, key=lambda e: LADDER[e.step], default=None)
    return Row(
        project,
        getattr(project, "late_milestones", []),
        len(getattr(project, "missing_dues", [])),
        step,
    )


def used_filters(request: HttpRequest) -> dict[str, str]:
    """The filters in use, not the blank ones of the form (for the export link and audit)."""
    values = {key: request.GET.get(key, "") for key in request.GET if key != "page"}
    return {key: value for key, value in values.items() if value}


def _filters(request: HttpRequest) -> tuple[LedgerFilterForm, dict[str, Any]]:
    form = LedgerFilterForm(request.GET or None)
    return form, (form.cleaned_data if form.is_bound and form.is_valid() else {})


@login_required
def ledger(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    require_ledger(user)
    form, filters = _filters(request)
    today = timezone.localdate()
    page = Paginator(ledger_queryset(user, filters, today), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = QueryDict(mutable=True)
    query.update(used_filters(request))
    return render(
        request,
        "projects/staff/ledger.html",
        {
            "form": form,
            "page": page,
            "rows": [row(p) for p in page.object_list],
            "query": query.urlencode(),
            "can_export": policy.can(user, "projects.export"),
            "can_escalate": policy.can(user, "projects.escalate"),
        },
    )


@login_required
def export(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    policy.require(user, "projects.export")
    _form, filters = _filters(request)
    today = timezone.localdate()
    projects = ledger_queryset(user, filters, today)
    content = ledger_export.build(user, projects, today, used_filters(request))
    response = HttpResponse(content, content_type=ledger_export.XLSX_TYPE)
    filename = f"{_('督查台账')}-{today:%Y%m%d}.xlsx"
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    return response


# ---------------------------------------------------------------- escalation


def render_escalate(
    request: HttpRequest,
    project: Project,
    *,
    form: EscalateForm | None = None,
    bound: dict[int, Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    bound = bound or {}
    escalations = list(project.escalations.select_related("issued_by", "milestone"))
    interviews = [
        (e, bound.get(e.pk) or InterviewForm(prefix=f"i{e.pk}"))
        for e in escalations
        if e.step == EscalationStep.INTERVIEW and e.held_on is None and e.is_open
    ]
    resolvable = [
        (e, bound.get(e.pk) or ResolveForm(prefix=f"r{e.pk}"))
        for e in escalations
        if e.is_open and not (e.step == EscalationStep.INTERVIEW and e.held_on is None)
    ]
    return render(
        request,
        "projects/staff/escalate.html",
        {
            "project": project,
            "form": form or EscalateForm(project=project),
            "interviews": interviews,
            "resolvable": resolvable,
            "escalations": escalations,
        },
        status=status,
    )


@login_required
def escalate(request: HttpRequest, pk: int) -> HttpResponse:
    user = staff_user(request)
    project = project_or_404(user, pk, "projects.escalate")
    if request.method != "POST":
        return render_escalate(request, project)
    form = EscalateForm(request.POST, project=project)
    if form.is_valid():
        data = form.cleaned_data
        milestone = data.get("milestone")
        try:
            escalation = actions.escalate(
                project.pk,
                by=user,
                step=data["step"],
                text=data["text"],
                milestone_id=milestone.pk if milestone else None,
                due=data.get("due"),
            )
        except ProjectError as error:
            add_errors(form, error)
        else:
            message = _("已下达%(step)s") % {"step": escalation.get_step_display()}
            if escalation.doc_number:
                message += _("，文号 %(n)s") % {"n": escalation.doc_number}
            messages.success(request, message)
            return redirect("projects:escalate", pk=project.pk)
    return render_escalate(request, project, form=form, status=400)


def _escalation_or_404(user: User, pk: int, action: str) -> Escalation:
    """The escalation of a project the user may see (another unit's: 404)."""
    projects = policy.visible(user, Project.objects.all(), action)
    if not policy.can(user, action):
        raise PermissionDenied(action)
    return get_object_or_404(
        Escalation.objects.select_related("project"), pk=pk, project__in=projects
    )


@login_required
@require_POST
def interview(request: HttpRequest, pk: int) -> HttpResponse:
    user = staff_user(request)
    escalation = _escalation_or_404(user, pk, "projects.escalate")
    form = InterviewForm(request.POST, prefix=f"i{escalation.pk}")
    if form.is_valid():
        try:
            actions.record_interview(escalation.pk, by=user, **form.cleaned_data)
        except ProjectError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("已保存约谈记录"))
            return redirect("projects:escalate", pk=escalation.project_id)
    return render_escalate(request, escalation.project, bound={escalation.pk: form}, status=400)


@login_required
@require_POST
def resolve(request: HttpRequest, pk: int) -> HttpResponse:
    user = staff_user(request)
    escalation = _escalation_or_404(user, pk, "projects.escalate")
    form = ResolveForm(request.POST, prefix=f"r{escalation.pk}")
    if form.is_valid():
        try:
            actions.resolve_escalation(
                escalation.pk, by=user, resolution=form.cleaned_data["resolution"]
            )
        except ProjectError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("督办事项已办结"))
            return redirect("projects:escalate", pk=escalation.project_id)
    return render_escalate(request, escalation.project, bound={escalation.pk: form}, status=400)


@login_required
def escalation_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The numbered document of a 书面督办 / 通报批评, for the supervisor to print and the
    unit it is addressed to."""
    user = staff_user(request)
    escalation = _escalation_or_404(user, pk, "projects.view")
    try:
        content = pdf.render_escalation_pdf(escalation)
    except pdf.DocumentError as error:
        messages.error(request, str(error))
        return redirect("projects:detail", pk=escalation.project_id)
    response = HttpResponse(content, content_type="application/pdf")
    filename = f"{escalation.doc_number or escalation.get_step_display()}.pdf"
    response["Content-Disposition"] = content_disposition_header(False, filename) or "inline"
    response["Cache-Control"] = "private, no-store"
    return response
