"""The public disclosure of practical projects (公开): a page per published batch, a page per
project, the Atom feed and the weekly bulletin for the media column.

Templates never see a model row, only the ``Public*`` records built here, so a contact's
name or phone, a reporter's name or a linked appeal's citizen cannot reach a page through a
slip in a template. Free text written by the units (measures, reports, milestones) is
scrubbed as well: identity card and mobile numbers are masked, and the names, phones and
addresses this project knows of (contact, leader, reporters, the citizens of its appeals)
are hidden.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib import messages
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.appeals.models import Appeal
from minsheng.appeals.views.public import scrub
from minsheng.projects import actions, ledger, pdf
from minsheng.projects.errors import Conflict, ProjectError
from minsheng.projects.forms import ResultRatingForm
from minsheng.projects.models import (
    Batch,
    ProgressReport,
    Project,
    ProjectCategory,
    ProjectRating,
    ReportState,
    ResultLevel,
)
from minsheng.projects.states import LedgerStatus, MilestoneStatus, ProjectState

# The latest report on the batch page is a teaser; the project page has it in full.
TEASER = 120


@dataclass(frozen=True)
class PublicTarget:
    name: str
    unit: str
    planned: Decimal
    reached: Decimal
    percent: int


@dataclass(frozen=True)
class PublicMilestone:
    key: int
    month: dt.date
    title: str
    expected: str
    due: dt.date
    status: str
    status_label: str
    done_on: dt.date | None


@dataclass(frozen=True)
class PublicReport:
    key: int
    period: dt.date
    submitted_on: dt.date
    percent: int
    text: str


@dataclass(frozen=True)
class PublicProject:
    code: str
    title: str
    category: str
    unit: str
    co_units: list[str]
    measures: str
    budget: Decimal | None
    deadline: dt.date
    percent: int
    status: str
    status_label: str
    closed_on: dt.date | None
    appeals: int
    targets: list[PublicTarget] = field(default_factory=list)
    milestones: list[PublicMilestone] = field(default_factory=list)
    reports: list[PublicReport] = field(default_factory=list)

    @property
    def latest(self) -> PublicReport | None:
        return self.reports[0] if self.reports else None

    @property
    def teaser(self) -> str:
        latest = self.latest
        if latest is None:
            return ""
        text = " ".join(latest.text.split())
        return text if len(text) <= TEASER else text[:TEASER] + "…"

    @property
    def done_milestones(self) -> int:
        return sum(1 for m in self.milestones if m.status == MilestoneStatus.DONE)


def published_batches() -> QuerySet[Batch]:
    return Batch.objects.filter(published=True)


def batch_or_404(year: int, number: int) -> Batch:
    batch = published_batches().filter(year=year, number=number).first()
    if batch is None:
        raise Http404(_("该批次不存在或尚未公开"))
    return batch


def public_projects(batch: Batch | None = None) -> QuerySet[Project]:
    """Published projects with all a public page shows, in a fixed number of queries."""
    projects = Project.objects.public()
    if batch is not None:
        projects = projects.filter(batch=batch)
    return (
        projects.select_related("batch", "category", "lead_unit")
        .prefetch_related(
            "co_units",
            "targets",
            "milestones",
            Prefetch(
                "reports",
                queryset=ProgressReport.objects.filter(state=ReportState.SUBMITTED)
                .select_related("submitted_by")
                .order_by("-period", "-submitted_at", "-pk"),
                to_attr="standing_reports",
            ),
            # Only what scrubbing needs: the citizens' own words never leave the appeals.
            Prefetch(
                "source_appeals",
                queryset=Appeal.objects.only("pk", "citizen_name", "citizen_mobile", "address"),
            ),
        )
        .order_by("code")
    )


def known_personal(project: Project) -> list[str]:
    """Names, phones and addresses that must not appear in this project's public text."""
    known = [project.contact_name, project.contact_phone, project.leader_name]
    for report in getattr(project, "standing_reports", ()):
        known += [report.submitted_by.name, report.submitted_by.mobile]
    for appeal in project.source_appeals.all():
        known += [appeal.citizen_name, appeal.citizen_mobile, appeal.address]
    return [k for k in known if k]


def public_status(project: Project) -> tuple[str, str]:
    status = LedgerStatus(project.status)
    if project.state == ProjectState.CLOSED:
        status = LedgerStatus.CLOSED
    return status.value, str(status.label)


def to_public(project: Project, today: dt.date, *, reports: int | None = 1) -> PublicProject:
    """The public record of a project from ``public_projects``; ``reports`` is how many of
    the latest reports to keep (None: all)."""
    known = known_personal(project)

    def clean(text: str) -> str:
        return scrub(text, known)

    status, label = public_status(project)
    standing: list[ProgressReport] = list(getattr(project, "standing_reports", ()))
    if reports is not None:
        standing = standing[:reports]
    milestones = []
    for m in project.milestones.all():
        m_status = ledger.milestone_status(m, today)
        milestones.append(
            PublicMilestone(
                key=m.pk,
                month=m.month,
                title=clean(m.title),
                expected=clean(m.expected),
                due=m.due,
                status=m_status.value,
                status_label=str(m_status.label),
                done_on=ledger.local_date(m.done_at) if m.done_at else None,
            )
        )
    return PublicProject(
        code=project.code,
        title=clean(project.title),
        category=project.category.name,
        unit=project.lead_unit.label,
        co_units=[u.label for u in project.co_units.all()],
        measures=clean(project.measures),
        budget=project.budget,
        deadline=project.deadline,
        percent=100 if project.state == ProjectState.CLOSED else project.percent_complete,
        status=status,
        status_label=label,
        closed_on=ledger.local_date(project.closed_at) if project.closed_at else None,
        appeals=len(project.source_appeals.all()),
        targets=[
            PublicTarget(t.name, t.unit, t.planned, t.reached, t.percent)
            for t in project.targets.all()
        ],
        milestones=milestones,
        reports=[
            PublicReport(
                key=r.pk,
                period=r.period,
                submitted_on=ledger.local_date(r.submitted_at),
                percent=r.percent_complete,
                text=clean(r.text),
            )
            for r in standing
        ],
    )


def status_counts(projects: Iterable[PublicProject]) -> list[tuple[str, str, int]]:
    counts: dict[str, int] = {}
    for p in projects:
        counts[p.status] = counts.get(p.status, 0) + 1
    return [(s.value, str(s.label), counts[s.value]) for s in LedgerStatus if s.value in counts]


# ---------------------------------------------------------------- pages


def index(request: HttpRequest) -> HttpResponse:
    """The published batches with their tallies (one aggregate query)."""
    public = Q(projects__state__in=[ProjectState.ACTIVE, ProjectState.APPLIED, ProjectState.CLOSED])
    batches = published_batches().annotate(
        total=Count("projects", filter=public),
        closed=Count("projects", filter=public & Q(projects__state=ProjectState.CLOSED)),
        late=Count(
            "projects",
            filter=public
            & Q(projects__status__in=[LedgerStatus.BEHIND, LedgerStatus.OVERDUE])
            & ~Q(projects__state=ProjectState.CLOSED),
        ),
    )
    return render(request, "projects/public/index.html", {"batches": batches})


def batch_page(request: HttpRequest, year: int, number: int) -> HttpResponse:
    batch = batch_or_404(year, number)
    today = timezone.localdate()
    everything = [to_public(p, today) for p in public_projects(batch)]
    status = request.GET.get("status", "")
    category = request.GET.get("category", "")
    shown = [
        p
        for p in everything
        if (not status or p.status == status) and (not category or p.category == category)
    ]
    categories = sorted({p.category for p in everything}, key=_category_order())
    return render(
        request,
        "projects/public/batch.html",
        {
            "batch": batch,
            "projects": shown,
            "total": len(everything),
            "counts": status_counts(everything),
            "categories": categories,
            "status": status,
            "category": category,
            "week": last_week(today),
        },
    )


def _category_order() -> Callable[[str], int]:
    names = ProjectCategory.objects.values_list("name", flat=True)
    order = {name: i for i, name in enumerate(names)}
    return lambda name: order.get(name, len(order))


def project_page(request: HttpRequest, code: str) -> HttpResponse:
    project = public_projects().filter(code=code).first()
    if project is None:
        raise Http404(_("该项目不存在或尚未公开"))
    rating_form: ResultRatingForm | None = None
    rating_notice = ""
    if request.GET.get("rate"):
        outcome = _rate(request, project, request.GET["rate"])
        if isinstance(outcome, HttpResponse):
            return outcome
        rating_form, rating_notice = outcome
    today = timezone.localdate()
    public = to_public(project, today, reports=None)
    months: dict[dt.date, list[PublicMilestone]] = {}
    for m in public.milestones:
        months.setdefault(m.month, []).append(m)
    return render(
        request,
        "projects/public/project.html",
        {
            "batch": project.batch,
            "project": public,
            "plan": list(months.items()),
            "ratings": rating_summary(project) if project.state == ProjectState.CLOSED else None,
            "rating_form": rating_form,
            "rating_notice": rating_notice,
        },
    )


def _rate(
    request: HttpRequest, project: Project, token: str
) -> tuple[ResultRatingForm | None, str] | HttpResponse:
    """The rating form a citizen's link (``?rate=``) opens on the project page, or why
    there is none; a valid POST rates and returns to the page."""
    try:
        rated, appeal_id = actions.read_rating_token(token)
    except ProjectError as error:
        return None, error.message
    if rated.pk != project.pk:
        return None, _("评价链接无效")
    if ProjectRating.objects.filter(project=project, appeal_id=appeal_id).exists():
        return None, _("您已评价过，感谢您的参与")
    form = ResultRatingForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.rate_result(
                token, level=form.cleaned_data["level"], comment=form.cleaned_data["comment"]
            )
        except Conflict as error:
            return None, error.message
        except ProjectError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("感谢您的评价！"))
            return redirect(reverse("projects:public_project", args=[project.code]))
    return form, ""


@dataclass(frozen=True)
class RatingSummary:
    count: int
    satisfied: int  # 非常满意, 满意 and 基本满意

    @property
    def percent(self) -> int:
        return round(100 * self.satisfied / self.count) if self.count else 0


def rating_summary(project: Project) -> RatingSummary:
    """How the citizens whose appeals became the project rated its result (counts only:
    their comments stay with the staff)."""
    totals = ProjectRating.objects.filter(project=project).aggregate(
        count=Count("pk"), satisfied=Count("pk", filter=Q(level__gte=ResultLevel.BASIC))
    )
    return RatingSummary(totals["count"], totals["satisfied"])


# ---------------------------------------------------------------- the weekly bulletin


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def last_week(today: dt.date) -> dt.date:
    """The bulletin shows finished weeks by default: the Monday of the week before."""
    return week_start(today) - dt.timedelta(days=7)


def _week(request: HttpRequest) -> dt.date:
    today = timezone.localdate()
    raw = request.GET.get("week", "")
    try:
        chosen = dt.date.fromisoformat(raw) if raw else last_week(today)
    except ValueError:
        chosen = last_week(today)
    return min(week_start(chosen), week_start(today))


def bulletin(request: HttpRequest, year: int, number: int) -> HttpResponse:
    batch = batch_or_404(year, number)
    week = _week(request)
    data = pdf.bulletin_changes(batch, week)
    today = timezone.localdate()
    following = week + dt.timedelta(days=7)
    return render(
        request,
        "projects/public/bulletin.html",
        {
            "batch": batch,
            "bulletin": data,
            "week": week,
            "previous": week - dt.timedelta(days=7),
            "next": following if following <= week_start(today) else None,
        },
    )


def bulletin_pdf(request: HttpRequest, year: int, number: int) -> HttpResponse:
    batch = batch_or_404(year, number)
    week = _week(request)
    try:
        data = pdf.render_bulletin_pdf(batch, week)
    except pdf.DocumentError as error:
        messages.error(request, error.message)
        return redirect(reverse("projects:public_bulletin", args=[year, number]) + f"?week={week}")
    response = HttpResponse(data, content_type="application/pdf")
    name = f"bulletin-{batch.year}-{batch.number}-{week:%Y%m%d}.pdf"
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response
