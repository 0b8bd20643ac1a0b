"""The demo's practical projects: two published batches with every state of the ledger,
built through the actions and the sweep."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from minsheng.appeals.states import State as AppealState
from minsheng.core import demo
from minsheng.core.models import AuditEvent, Role, User
from minsheng.projects import demo as projects_demo
from minsheng.projects.models import (
    Batch,
    CloseOut,
    CloseOutState,
    Escalation,
    Milestone,
    ProgressReport,
    Project,
    ProjectSource,
)
from minsheng.projects.states import EscalationStep, LedgerStatus, ProjectState
from tests.appeals.factories import appeal_in
from tests.appeals.factories import make_cast as make_appeals_cast

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _projects_demo_on(settings):
    settings.DEMO_PROJECTS = True


TZ = ZoneInfo("Asia/Shanghai")


def _quiet(_line: str) -> None:
    pass


def _load(day: dt.date) -> list[str]:
    lines: list[str] = []
    with time_machine.travel(dt.datetime.combine(day, dt.time(10), tzinfo=TZ), tick=True):
        ctx = demo.DemoContext(out=lines.append)
        demo.build_core(ctx)
        projects_demo.build(ctx)
    return lines


def test_two_published_batches_with_every_state_of_the_ledger():
    _load(dt.date(2026, 12, 2))

    batches = list(Batch.objects.order_by("number"))
    assert [b.projects.count() for b in batches] == [14, 20]
    assert all(b.published for b in batches)
    assert batches[0].title == "2026年第一批我为群众办实事项目"
    assert not Project.objects.filter(state=ProjectState.DRAFT).exists()
    # 12 units lead the first batch, towns among the second's.
    assert batches[0].projects.values("lead_unit").distinct().count() == 12
    assert batches[1].projects.filter(lead_unit__kind="town").exists()

    statuses = set(Project.objects.values_list("status", flat=True))
    assert statuses == set(LedgerStatus)
    assert Project.objects.filter(state=ProjectState.CLOSED).count() >= 4
    assert CloseOut.objects.filter(state=CloseOutState.REJECTED).exists()
    assert CloseOut.objects.filter(state=CloseOutState.PENDING).exists()
    closed = Project.objects.filter(state=ProjectState.CLOSED)
    assert all(p.closed_at and p.closed_at.date() <= dt.date(2026, 12, 2) for p in closed)

    steps = set(Escalation.objects.values_list("step", flat=True))
    assert steps == set(EscalationStep)
    assert Escalation.objects.filter(step=EscalationStep.WRITTEN).exclude(doc_number="").exists()
    assert Escalation.objects.filter(issued_by__isnull=True).exists()  # the sweep's
    assert Escalation.objects.exclude(attendees="").filter(step=EscalationStep.INTERVIEW).exists()
    # History: reports and escalations spread over months, nothing in the future.
    now = dt.datetime(2026, 12, 2, 10, tzinfo=TZ) + dt.timedelta(minutes=30)
    months = {r.submitted_at.astimezone(TZ).month for r in ProgressReport.objects.all()}
    assert len(months) >= 4
    assert not ProgressReport.objects.filter(submitted_at__gt=now).exists()
    assert not Milestone.objects.filter(done_at__gt=now).exists()
    assert Escalation.objects.filter(issued_at__lt=dt.datetime(2026, 11, 20, tzinfo=TZ)).exists()
    # Through the actions: every report and decision is in the audit trail.
    assert AuditEvent.objects.filter(action="projects.report.submitted").count() == (
        ProgressReport.objects.count()
    )
    assert AuditEvent.objects.filter(action="projects.closeout.decided").exists()
    # Set up and started when their batch began, months ago.
    first_batch = batches[0]
    assert all(
        p.started_at is not None and p.started_at.date() <= dt.date(2026, 7, 1)
        for p in first_batch.projects.all()
    )
    # Every project has a contact and a plan.
    assert not Project.objects.filter(contact_phone="").exists()
    assert not Project.objects.filter(milestones__isnull=True).exists()
    # 销号 was applied for by the lead unit's head.
    for closeout in CloseOut.objects.select_related("applied_by", "project"):
        assert closeout.applied_by.role == Role.DEPT_HEAD
        assert closeout.applied_by.department_id == closeout.project.lead_unit_id


def test_the_demo_shows_on_the_public_pages_and_the_dashboards(client):
    with time_machine.travel(dt.datetime(2026, 8, 3, 10, tzinfo=TZ), tick=True):
        appeal = appeal_in(AppealState.PROMOTED, make_appeals_cast(), citizen_name="孙悟净")
    _load(dt.date(2026, 12, 2))
    batch = Batch.objects.order_by("number").first()
    assert batch is not None
    # The appeal the appeals demo promoted is solved by a project, linked both ways.
    linked = Project.objects.get(title=projects_demo.APPEALS_PROJECT)
    assert list(appeal.projects.all()) == [linked]
    assert linked.source == ProjectSource.APPEAL
    public = client.get(reverse("projects:public_project", args=[linked.code])).content.decode()
    assert "源自群众诉求1件" in public
    assert "孙悟净" not in public

    page = client.get(reverse("projects:public_batch", args=[batch.year, batch.number]))
    assert page.status_code == 200
    project = batch.projects.exclude(contact_name="").first()
    assert project is not None
    html = page.content.decode()
    assert project.title in html
    assert project.contact_name not in html
    client.force_login(User.objects.get(username="leader"))
    assert client.get(reverse("projects:overview")).status_code == 200
    assert client.get(reverse("projects:dashboard")).status_code == 200


def test_across_the_new_year_and_only_once():
    lines = _load(dt.date(2027, 1, 18))

    titles = list(Batch.objects.order_by("created_at").values_list("title", flat=True))
    assert titles == ["2026年第一批我为群众办实事项目", "2026年第二批我为群众办实事项目"]
    count = Project.objects.count()
    assert count == 34
    assert any("实事项目" in line for line in lines)

    again = _load(dt.date(2027, 1, 18))
    assert Project.objects.count() == count
    assert any("不再生成" in line for line in again)


def test_the_whole_demo_links_the_promoted_appeals():
    with time_machine.travel(dt.datetime(2026, 12, 2, 10, tzinfo=TZ), tick=True):
        demo.load(_quiet)

    linked = Project.objects.get(title=projects_demo.APPEALS_PROJECT)
    assert linked.source_appeals.exists()
    assert all(a.state == AppealState.PROMOTED for a in linked.source_appeals.all())
    assert Batch.objects.filter(published=True).count() == 2


def test_the_step_can_be_turned_off(settings):
    settings.DEMO_PROJECTS = False
    lines = _load(dt.date(2026, 12, 2))

    assert not Batch.objects.exists()
    assert any("DEMO_PROJECTS" in line for line in lines)


def test_the_step_is_registered_after_the_county():
    names = [step.name for step in demo.steps()]
    assert names.index("core") < names.index("projects")
    assert names.index("appeals") < names.index("projects")
