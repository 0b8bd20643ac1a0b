"""The unit's progress reports: what is due and missing, and the report form of a project."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.core import policy
from minsheng.core.models import User
from minsheng.projects import actions, ledger
from minsheng.projects.errors import ProjectError
from minsheng.projects.forms import MONTH, ReportForm
from minsheng.projects.models import Project, ProjectSettings, ReportDue, ReportState
from minsheng.projects.views.common import add_errors, project_or_404, staff_user


def _dues(user: User) -> list[ReportDue]:
    projects = policy.visible(user, Project.objects.open(), "projects.report")
    return list(
        ReportDue.objects.filter(project__in=projects, submitted_report__isnull=True)
        .select_related("project")
        .order_by("due", "project__code")
    )


@login_required
def reports(request: HttpRequest) -> HttpResponse:
    """The unit's to-do list: reports overdue first, then the ones coming up."""
    user = staff_user(request)
    policy.require(user, "projects.report")
    today = timezone.localdate()
    dues = _dues(user)
    projects = policy.visible(
        user, Project.objects.open().select_related("lead_unit"), "projects.report"
    ).order_by("deadline", "code")
    return render(
        request,
        "projects/staff/reports.html",
        {
            "missing": [d for d in dues if d.is_missing(today)],
            "upcoming": [d for d in dues if not d.is_missing(today)],
            "projects": projects,
        },
    )


def open_periods(project: Project, today: dt.date) -> list[dt.date]:
    """Periods the unit may still report: those due without a report, and this month and
    the last (a unit reports a month while it runs or just after it)."""
    frequency = ProjectSettings.current().report_frequency
    current = ledger.period_start(today, frequency)
    previous = ledger.period_start(current - dt.timedelta(days=1), frequency)
    periods = set(
        project.report_dues.filter(submitted_report__isnull=True).values_list("period", flat=True)
    )
    first = ledger.period_start(timezone.localdate(project.start), frequency)
    periods.update(p for p in (previous, current) if p >= first)
    reported = set(
        project.reports.filter(state=ReportState.SUBMITTED).values_list("period", flat=True)
    )
    return sorted(periods - reported)


def _initial_period(request: HttpRequest, periods: list[dt.date], missing: list[ReportDue]) -> str:
    asked = request.GET.get("period", "")
    if asked in {p.strftime(MONTH) for p in periods}:
        return asked
    if missing:
        return missing[0].period.strftime(MONTH)
    return periods[-1].strftime(MONTH) if periods else ""


@login_required
def report(request: HttpRequest, pk: int) -> HttpResponse:
    user = staff_user(request)
    project = project_or_404(user, pk, "projects.report")
    today = timezone.localdate()
    dues = list(project.report_dues.filter(submitted_report__isnull=True).order_by("period"))
    missing = [d for d in dues if d.is_missing(today)]
    periods = open_periods(project, today)
    targets = list(project.targets.all())
    milestones = list(project.milestones.filter(done_at__isnull=True))

    def make_form(*args: Any, **kwargs: Any) -> ReportForm:
        return ReportForm(
            *args,
            project=project,
            periods=periods,
            targets=targets,
            milestones=milestones,
            **kwargs,
        )

    status = 200
    if request.method == "POST":
        form = make_form(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                saved = actions.submit_report(
                    project.pk,
                    by=user,
                    period=data["period"],
                    text=data["text"],
                    percent=data["percent"],
                    values=form.values(),
                    files=form.uploads(),
                    done_milestones=data.get("done_milestones") or [],
                )
            except ProjectError as error:
                add_errors(form, error)
            else:
                messages.success(
                    request,
                    _("已报送%(y)s年%(m)s月进展")
                    % {"y": saved.period.year, "m": saved.period.month},
                )
                return redirect("projects:detail", pk=project.pk)
        status = 400
    else:
        form = make_form(
            initial={
                "period": _initial_period(request, periods, missing),
                "percent": project.percent_complete,
            }
        )
    last = project.reports.filter(state=ReportState.SUBMITTED).first()
    return render(
        request,
        "projects/staff/report.html",
        {
            "project": project,
            "form": form,
            "missing": missing,
            "upcoming": [d for d in dues if not d.is_missing(today)],
            "last": last,
            "no_periods": not periods,
        },
        status=status,
    )
