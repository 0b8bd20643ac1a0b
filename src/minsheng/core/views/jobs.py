"""Long jobs (imports, exports, training, sweeps): a list and a page with a live progress bar."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from minsheng.core import policy
from minsheng.core.models import LongJob, Role, User

# How often the progress bar asks for news while a job runs.
POLL_SECONDS = 2


def jobs_for(user: User) -> QuerySet[LongJob]:
    """The jobs a user may follow: their own; an admin sees everyone's.

    A job's message and result can name what was imported or exported, so one person's
    jobs are not shown to the whole staff.
    """
    jobs = policy.visible(user, LongJob.objects.select_related("started_by"), "job.view")
    return jobs if user.role == Role.ADMIN else jobs.filter(started_by=user)


def _job(request: HttpRequest, pk: int) -> LongJob:
    assert isinstance(request.user, User)
    policy.require(request.user, "job.view")
    return get_object_or_404(jobs_for(request.user), pk=pk)


@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    assert isinstance(request.user, User)
    policy.require(request.user, "job.view")
    return render(request, "core/jobs/list.html", {"jobs": jobs_for(request.user)[:100]})


@login_required
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    return render(request, "core/jobs/detail.html", {"job": job, "poll_seconds": POLL_SECONDS})


@login_required
def job_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress fragment that htmx swaps in; it stops polling once the job has ended."""
    job = _job(request, pk)
    return render(request, "core/jobs/_progress.html", {"job": job, "poll_seconds": POLL_SECONDS})
