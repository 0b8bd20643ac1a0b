"""The 配档表 in Excel: import (every row checked, nothing written on errors unless the
supervisor keeps the valid rows), the blank template, the filled sample and the export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from minsheng.core import audit, jobs, policy
from minsheng.core.models import LongJob, User
from minsheng.core.views.jobs import POLL_SECONDS, jobs_for
from minsheng.projects import plan_io, tasks
from minsheng.projects.errors import ProjectError
from minsheng.projects.forms import PlanExportForm, PlanImportForm
from minsheng.projects.models import Project
from minsheng.projects.views.common import staff_user


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=plan_io.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    return response


# Bigger workbooks (hundreds of projects) are checked by the worker while the page follows
# the job; smaller ones are imported within the request, still under a job for the record.
BACKGROUND_BYTES = 256 * 1024


@login_required
def plan_import(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    policy.require(user, "projects.manage")
    result: plan_io.ImportResult | dict[str, Any] | None = None
    job: LongJob | None = None
    status = 200
    if request.method == "POST":
        form = PlanImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            keep_valid = form.cleaned_data["keep_valid"]
            job = jobs.create(
                plan_io.JOB_KIND, _("导入配档表 %(name)s") % {"name": upload.name}, started_by=user
            )
            if upload.size > BACKGROUND_BYTES:
                parked = Path(settings.VAR_DIR) / "imports" / f"plan-{job.pk}.xlsx"
                parked.parent.mkdir(parents=True, exist_ok=True)
                with parked.open("wb") as out:
                    for chunk in upload.chunks():
                        out.write(chunk)
                tasks.import_plan_upload.enqueue(job.pk, str(parked), user.pk, keep_valid)
                return redirect(f"{reverse('projects:plan_import')}?job={job.pk}")
            try:
                result = plan_io.import_plan_job(job.pk, upload, user, keep_valid=keep_valid)
            except ProjectError as error:
                form.add_error(None, error.message)
                status = 400
            else:
                if result.written:
                    messages.success(request, result.summary)
                if not result.ok:
                    status = 400
        else:
            status = 400
    else:
        form = PlanImportForm()
        if request.GET.get("job", "").isdigit():
            job = jobs_for(user).filter(pk=int(request.GET["job"]), kind=plan_io.JOB_KIND).first()
            if job is not None and isinstance(job.result, dict):
                result = job.result
    return render(
        request,
        "projects/staff/plan_import.html",
        {
            "form": form,
            "result": result,
            "job": job,
            "running": job is not None
            and job.status in {LongJob.Status.QUEUED, LongJob.Status.RUNNING},
            "poll_seconds": POLL_SECONDS,
            "export_form": PlanExportForm(),
        },
        status=status,
    )


@login_required
def plan_template(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    policy.require(user, "projects.manage")
    return _xlsx(plan_io.export_template(), _("配档表模板.xlsx"))


@login_required
def plan_sample(request: HttpRequest) -> FileResponse:
    user = staff_user(request)
    policy.require(user, "projects.manage")
    try:
        handle = open(plan_io.SAMPLE_PATH, "rb")  # noqa: SIM115 (FileResponse closes it)
    except FileNotFoundError:
        raise Http404(_("示例文件不存在")) from None
    return FileResponse(
        handle,
        as_attachment=True,
        filename=_("配档表示例.xlsx"),
        content_type=plan_io.XLSX_CONTENT_TYPE,
    )


def _may_export(user: User) -> bool:
    return policy.can(user, "projects.export") or policy.can(user, "projects.manage")


@login_required
def plan_export(request: HttpRequest) -> HttpResponse:
    """The projects with their targets and plans, in the import's own layout (a round trip)."""
    user = staff_user(request)
    if not _may_export(user):
        raise PermissionDenied("projects.export")
    form = PlanExportForm(request.GET or None)
    batch = form.cleaned_data.get("batch") if form.is_valid() else None
    projects = policy.visible(user, Project.objects.all(), "projects.view")
    if batch is not None:
        projects = projects.filter(batch=batch)
    content = plan_io.export_plan(projects)
    audit.record(
        user,
        "projects.exported",
        object_type=Project._meta.label_lower,
        object_repr=_("配档表"),
        after={
            "table": "plan",
            "batch": batch.pk if batch is not None else None,
            "projects": projects.count(),
            "personal": True,
        },
    )
    return _xlsx(content, plan_io.export_filename(batch))
