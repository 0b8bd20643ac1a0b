"""Staff pages of 实事项目: the project list, the project page, creating and editing a
project (supervisor), 下达, the contact's full phone, the report and 销号 files.

Lists come from ``policy.visible`` (a unit's staff see the projects it leads or co-operates
in); every change goes through ``projects.actions``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q, QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from minsheng.appeals.models import Appeal
from minsheng.core import access, policy
from minsheng.core.models import User
from minsheng.projects import actions
from minsheng.projects.errors import ProjectError
from minsheng.projects.forms import ProjectFilterForm, ProjectForm, ReturnReportForm, number
from minsheng.projects.ledger import milestone_status
from minsheng.projects.models import (
    CloseOutAttachment,
    ProgressReport,
    Project,
    ReportAttachment,
    ReportState,
    ReportValue,
)
from minsheng.projects.states import MilestoneStatus, ProjectState
from minsheng.projects.views.common import (
    PAGE_SIZE,
    add_errors,
    is_htmx,
    project_or_404,
    say,
    staff_user,
    stored_file_response,
)


def visible_projects(user: User, action: str = "projects.view") -> QuerySet[Project]:
    return policy.visible(
        user, Project.objects.select_related("batch", "category", "lead_unit"), action
    )


def filtered(queryset: QuerySet[Project], filters: dict[str, Any]) -> QuerySet[Project]:
    if filters.get("batch"):
        queryset = queryset.filter(batch=filters["batch"])
    if filters.get("category"):
        queryset = queryset.filter(category=filters["category"])
    if filters.get("unit"):
        unit = filters["unit"]
        # Projects the unit leads and those it co-operates in: both are its work.
        co_operating = Project.co_units.through.objects.filter(department=unit)
        queryset = queryset.filter(Q(lead_unit=unit) | Q(pk__in=co_operating.values("project_id")))
    if filters.get("status"):
        queryset = queryset.filter(status=filters["status"])
    return queryset


# ---------------------------------------------------------------- list


@login_required
def project_list(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    policy.require(user, "projects.view")
    form = ProjectFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    queryset = filtered(visible_projects(user), filters).order_by("batch", "code")
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "projects/staff/list.html",
        {
            "form": form,
            "page": page,
            "rows": page.object_list,
            "can_manage": policy.can(user, "projects.manage"),
            "can_report": policy.can(user, "projects.report"),
            "can_ledger": policy.can(user, "projects.escalate")
            or policy.can(user, "projects.export"),
        },
    )


# ---------------------------------------------------------------- the project page


def _plan(project: Project) -> list[tuple[Any, list[dict[str, Any]]]]:
    today = timezone.localdate()
    labels = dict(MilestoneStatus.choices)
    months: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for milestone in project.milestones.select_related("target"):
        status = milestone_status(milestone, today)
        months[milestone.month].append(
            {
                "milestone": milestone,
                "status": status,
                "label": labels[status],
                "value": number(milestone.target_value)
                if milestone.target_value is not None
                else "",
            }
        )
    return sorted(months.items())


def render_detail(
    request: HttpRequest, user: User, project: Project, *, contact_shown: bool = False
) -> HttpResponse:
    today = timezone.localdate()
    reports = project.reports.select_related("submitted_by").prefetch_related(
        "attachments", Prefetch("values", queryset=_values())
    )
    can_return = policy.can(user, "projects.report.return", project)
    # Appeals the user may not open are counted, never shown: their titles are citizens' words.
    linked = Appeal.objects.filter(projects=project)
    visible_appeals = list(policy.visible(user, linked, "appeal.view").order_by("pk"))
    context: dict[str, Any] = {
        "project": project,
        "co_units": [unit.label for unit in project.co_units.all()],
        "contact_shown": contact_shown,
        "can_unmask": bool(project.contact_phone)
        and access.can_see_unmasked(user, "projects.contact", project),
        "targets": [
            {"target": t, "planned": number(t.planned), "reached": number(t.reached)}
            for t in project.targets.all()
        ],
        "plan": _plan(project),
        "reports": [
            (
                report,
                "；".join(
                    f"{v.target.name} {number(v.value)}{v.target.unit}" for v in report.values.all()
                ),
            )
            for report in reports
        ],
        "return_form": ReturnReportForm() if can_return else None,
        "missing": [
            due
            for due in project.report_dues.filter(submitted_report__isnull=True)
            if due.is_missing(today)
        ],
        "escalations": project.escalations.select_related("issued_by", "milestone"),
        "closeouts": project.closeouts.select_related("applied_by", "decided_by").prefetch_related(
            "attachments"
        ),
        "appeals": visible_appeals,
        "hidden_appeals": linked.count() - len(visible_appeals),
        # The citizens' ratings after 销号: levels and comments, never who gave them.
        "ratings": list(project.ratings.only("level", "comment", "created_at")),
        "can_report": project.is_open and policy.can(user, "projects.report", project),
        "can_manage": policy.can(user, "projects.manage", project),
        "can_start": project.state == ProjectState.DRAFT
        and policy.can(user, "projects.manage", project),
        "can_escalate": project.is_open and policy.can(user, "projects.escalate", project),
        "can_closeout": policy.can(user, "projects.closeout.apply", project)
        or policy.can(user, "projects.closeout.decide", project),
    }
    return render(request, "projects/staff/detail.html", context)


def _values() -> QuerySet[ReportValue]:
    return ReportValue.objects.select_related("target")


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = staff_user(request)
    return render_detail(request, user, project_or_404(user, pk))


@login_required
@require_POST
def contact(request: HttpRequest, pk: int) -> HttpResponse:
    """The contact's full phone number; ``view_personal`` checks the right and audits it."""
    user = staff_user(request)
    project = project_or_404(user, pk)
    access.view_personal(user, "projects.contact", project, fields=["contact_phone"])
    if is_htmx(request):
        return render(
            request,
            "projects/staff/_contact.html",
            {"project": project, "contact_shown": True},
        )
    return render_detail(request, user, project, contact_shown=True)


# ---------------------------------------------------------------- create, edit, 下达


@login_required
def create(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    policy.require(user, "projects.manage")
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project = actions.create_project(
                by=user, start=form.cleaned_data["start"], **form.fields_for_action()
            )
        except ProjectError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("已创建项目 %(code)s") % {"code": project.code})
            return redirect("projects:detail", pk=project.pk)
    status = 400 if form.is_bound else 200
    return render(
        request, "projects/staff/form.html", {"form": form, "project": None}, status=status
    )


@login_required
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = staff_user(request)
    project = project_or_404(user, pk, "projects.manage")
    if request.method != "POST":
        form = ProjectForm(editing=True, initial=ProjectForm.initial_for(project))
        return render(request, "projects/staff/form.html", {"form": form, "project": project})
    form = ProjectForm(request.POST, editing=True)
    if form.is_valid():
        version = form.cleaned_data["version"]
        try:
            actions.update_project(
                project.pk,
                by=user,
                expected_version=project.version if version is None else version,
                **form.fields_for_action(),
            )
        except ProjectError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("已保存"))
            return redirect("projects:detail", pk=project.pk)
    return render(
        request, "projects/staff/form.html", {"form": form, "project": project}, status=400
    )


@login_required
@require_POST
def start(request: HttpRequest, pk: int) -> HttpResponse:
    user = staff_user(request)
    project = project_or_404(user, pk, "projects.manage")
    try:
        actions.start_project(project.pk, by=user)
    except ProjectError as error:
        say(request, error)
    else:
        messages.success(request, _("项目已下达，责任单位开始报送进展"))
    return redirect("projects:detail", pk=project.pk)


@login_required
@require_POST
def return_report(request: HttpRequest, pk: int, report_pk: int) -> HttpResponse:
    """The supervisor sends a report back for correction (the unit reports the period again)."""
    user = staff_user(request)
    policy.require(user, "projects.report.return")
    project = project_or_404(user, pk)
    report = get_object_or_404(
        ProgressReport, pk=report_pk, project=project, state=ReportState.SUBMITTED
    )
    form = ReturnReportForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("退回时请写明原因"))
        return redirect("projects:detail", pk=project.pk)
    try:
        actions.return_report(report.pk, by=user, reason=form.cleaned_data["reason"])
    except ProjectError as error:
        say(request, error)
    else:
        messages.success(request, _("已退回该期进展报告"))
    return redirect("projects:detail", pk=project.pk)


# ---------------------------------------------------------------- files


@login_required
def report_file(request: HttpRequest, pk: int, file_pk: int) -> FileResponse:
    user = staff_user(request)
    project = project_or_404(user, pk)
    item = get_object_or_404(
        ReportAttachment.objects.select_related("report"), pk=file_pk, report__project=project
    )
    return stored_file_response(user, project, item, item.report)


@login_required
def closeout_file(request: HttpRequest, pk: int, file_pk: int) -> FileResponse:
    user = staff_user(request)
    project = project_or_404(user, pk)
    item = get_object_or_404(
        CloseOutAttachment.objects.select_related("closeout"),
        pk=file_pk,
        closeout__project=project,
    )
    return stored_file_response(user, project, item, item.closeout)
