"""Statistics for leaders: on-time rate of milestones by unit, projects by status and
category, escalations by unit and step, and the one-page overview."""

from __future__ import annotations

import datetime as dt
import json
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from minsheng.core.models import Role
from minsheng.projects import actions
from minsheng.projects.actions import MilestoneIn
from minsheng.projects.models import Batch, Project, ProjectCategory
from minsheng.projects.states import EscalationStep
from minsheng.projects.views import dashboard
from tests.factories import DepartmentFactory, UserFactory
from tests.projects.factories import Cast, make_cast, make_project

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2026, 5, 6)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=TZ)


def other_project(cast: Cast, batch: Batch, unit=None, title: str = "困难群众救助") -> Project:
    project = actions.create_project(
        by=cast.supervisor,
        batch=batch,
        title=title,
        category=ProjectCategory.objects.get(name="社会保障"),
        lead_unit=unit or cast.other_unit,
        deadline=dt.date(2026, 6, 30),
        start=True,
    )
    actions.set_plan(
        project.pk,
        by=cast.supervisor,
        milestones=[MilestoneIn(month=dt.date(2026, 3, 1), title="完成摸底", planned_percent=50)],
        targets=[],
    )
    return project


@pytest.fixture
def world() -> tuple[Cast, Project, Project]:
    cast = make_cast()
    with time_machine.travel(at(dt.date(2026, 3, 2)), tick=False):
        pipe = make_project(cast)
        relief = other_project(cast, pipe.batch)
    with time_machine.travel(at(dt.date(2026, 3, 31)), tick=False):
        march = pipe.milestones.get(month=dt.date(2026, 3, 1))
        actions.submit_report(
            pipe.pk,
            by=cast.handler,
            period=dt.date(2026, 3, 1),
            text="设计招标完成",
            percent=20,
            done_milestones=[march.pk],
        )
    with time_machine.travel(at(dt.date(2026, 4, 10)), tick=False):
        actions.escalate(
            relief.pk, by=cast.supervisor, step=EscalationStep.REMIND, text="请抓紧推进摸底"
        )
        actions.escalate(
            relief.pk,
            by=cast.supervisor,
            step=EscalationStep.WRITTEN,
            text="摸底工作严重滞后，书面督办",
        )
    other_handler = cast.other_handler
    with time_machine.travel(at(dt.date(2026, 5, 6)), tick=False):
        actions.submit_report(
            relief.pk,
            by=other_handler,
            period=dt.date(2026, 4, 1),
            text="摸底完成",
            percent=50,
            done_milestones=[relief.milestones.get().pk],
        )
    return cast, pipe, relief


def test_on_time_rate_of_milestones_by_unit(world):
    cast, _pipe, _relief = world
    projects = dashboard.dashboard_projects(cast.leader)

    rows = dashboard.milestone_rates(projects, TODAY)

    by_unit = {r.unit: r for r in rows}
    water = by_unit[cast.unit.label]
    assert (water.due, water.on_time, water.done_late, water.open_late) == (2, 1, 0, 1)
    assert water.rate == 50.0
    civil = by_unit[cast.other_unit.label]
    assert (civil.due, civil.on_time, civil.done_late, civil.open_late) == (1, 0, 1, 0)
    assert civil.rate == 0.0
    assert rows[0].unit == cast.other_unit.label  # worst first
    total = dashboard.total_rate(rows)
    assert (total.due, total.on_time) == (3, 1)


def test_status_category_and_escalation_figures(world):
    cast, _pipe, _relief = world
    projects = dashboard.dashboard_projects(cast.leader)

    statuses = dashboard.by_status(projects)
    assert sum(n for _k, _l, n in statuses) == 2
    names, series = dashboard.by_category(projects)
    assert set(names) == {"城乡建设", "社会保障"}
    assert sum(sum(v) for v in series.values()) == 2
    rows = dashboard.escalation_rows(projects)
    assert [r.unit for r in rows] == [cast.other_unit.label]
    steps = [s.value for s in EscalationStep]
    assert rows[0].counts[steps.index(EscalationStep.REMIND)] == 1
    assert rows[0].counts[steps.index(EscalationStep.WRITTEN)] == 1
    assert rows[0].total == 2
    assert rows[0].open == 2


def test_the_dashboard_page_draws_charts_from_data_and_tables(client, world):
    cast, _pipe, _relief = world
    client.force_login(cast.leader)

    with time_machine.travel(at(TODAY, 12), tick=False):
        response = client.get(reverse("projects:dashboard"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "echarts" in html and "projects/dashboard.js" in html
    data = json.loads(re.search(r'id="dash-data"[^>]*>(.*?)</script>', html, re.S).group(1))
    assert data["rates"]["values"] == [0.0, 50.0]
    assert {s["key"] for s in data["escalations"]["series"]} == {s.value for s in EscalationStep}
    assert "style=" not in html
    assert cast.other_unit.label in html


def test_the_dashboard_filters_by_batch(client, world):
    cast, pipe, _relief = world
    client.force_login(cast.supervisor)

    html = client.get(reverse("projects:dashboard"), {"batch": pipe.batch_id}).content.decode()
    assert "selected" in html
    assert client.get(reverse("projects:dashboard"), {"batch": "x"}).status_code == 200


def test_the_overview_fits_on_one_page(client, world):
    cast, pipe, relief = world
    client.force_login(cast.leader)

    with time_machine.travel(at(TODAY, 12), tick=False):
        response = client.get(reverse("projects:overview"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "书面督办" in html
    assert relief.title in html
    assert pipe.batch.title in html
    assert "节点按期完成率" in html and "33.3%" in html


@pytest.mark.parametrize("role", [Role.HANDLER, Role.DEPT_HEAD, Role.DISPATCHER, Role.CITIZEN])
def test_only_leaders_and_the_supervision_office_see_the_statistics(client, role):
    user = UserFactory(role=role)
    client.force_login(user)

    assert client.get(reverse("projects:dashboard")).status_code == 403
    assert client.get(reverse("projects:overview")).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("projects:overview"))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_query_count_does_not_grow_with_projects(client, world):
    cast, pipe, _relief = world
    client.force_login(cast.leader)
    urls = [reverse("projects:dashboard"), reverse("projects:overview")]
    for url in urls:
        client.get(url)
    before = []
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        before.append(len(queries))
    with time_machine.travel(at(dt.date(2026, 3, 3)), tick=False):
        for n in range(3):
            project = other_project(cast, pipe.batch, DepartmentFactory(), title=f"追加{n}")
            actions.escalate(
                project.pk, by=cast.supervisor, step=EscalationStep.URGE, text="请加快进度"
            )
    after = []
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        after.append(len(queries))
    assert after == before
