"""The ledger: milestone and project statuses, months behind, working-day arithmetic."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import IntegrityError, transaction

from minsheng.core import calendar
from minsheng.core.models import HolidayDay
from minsheng.projects import actions, ledger
from minsheng.projects.models import (
    Escalation,
    EscalationRule,
    ProjectCategory,
    ProjectSettings,
    ReportFrequency,
)
from minsheng.projects.states import (
    STEPS,
    InvalidStep,
    LedgerStatus,
    MilestoneStatus,
    ProjectState,
    ProjectStep,
)
from tests.projects.factories import Cast, MilestoneFactory, make_cast, make_project

pytestmark = pytest.mark.django_db


def at(day: dt.date, hour: int = 10) -> time_machine.travel:
    return time_machine.travel(
        dt.datetime(day.year, day.month, day.day, hour, tzinfo=calendar.CALENDAR_TZ), tick=False
    )


@pytest.fixture
def cast() -> Cast:
    return make_cast()


def test_defaults_are_seeded() -> None:
    names = list(ProjectCategory.objects.values_list("name", flat=True))
    assert names[:3] == ["乡村振兴", "就业创业", "社会保障"] and "营商环境" in names
    ladder = list(EscalationRule.objects.values_list("trigger", "threshold", "step"))
    assert ("milestone_late", 0, "remind") in ladder
    assert ("milestone_late_days", 5, "urge") in ladder
    assert ("behind_months", 2, "interview") in ladder
    assert ("deadline_missed", 0, "notice") in ladder
    assert ProjectSettings.current().report_frequency == ReportFrequency.MONTHLY


def test_the_workflow_table() -> None:
    project = MilestoneFactory().project
    project.state = ProjectState.DRAFT
    with pytest.raises(InvalidStep):
        project.move(ProjectStep.APPLY)
    assert project.move(ProjectStep.START) == ProjectState.DRAFT
    assert project.state == ProjectState.ACTIVE and project.version == 1
    assert STEPS[ProjectStep.REJECT] == (frozenset({ProjectState.APPLIED}), ProjectState.ACTIVE)


def test_last_working_day_and_report_due_follow_the_holiday_calendar() -> None:
    # 2026-02-28 is a Saturday made a working day for the Spring Festival.
    assert ledger.last_working_day(dt.date(2026, 2, 1)) == dt.date(2026, 2, 28)
    assert ledger.last_working_day(dt.date(2026, 5, 1)) == dt.date(2026, 5, 29)
    # April's report: 1–5 May are the Labour Day holidays, Saturday 9 May is worked.
    assert ledger.report_due(dt.date(2026, 4, 1), ReportFrequency.MONTHLY, 5) == dt.date(
        2026, 5, 11
    )
    assert ledger.report_due(dt.date(2026, 1, 1), ReportFrequency.QUARTERLY, 5) == dt.date(
        2026, 4, 8
    )
    assert ledger.period_start(dt.date(2026, 8, 17), ReportFrequency.QUARTERLY) == dt.date(
        2026, 7, 1
    )
    assert ledger.add_months(dt.date(2026, 11, 1), 3) == dt.date(2027, 2, 1)


def test_a_county_holiday_moves_the_default_due_date(cast: Cast) -> None:
    # The county gives 30 April off (an imported notice overrides the package).
    calendar.save_holiday(
        HolidayDay(date=dt.date(2026, 4, 30), kind="holiday", name="县庆"), by=None
    )
    assert ledger.last_working_day(dt.date(2026, 4, 1)) == dt.date(2026, 4, 29)


def test_milestone_status_and_working_days_late() -> None:
    milestone = MilestoneFactory(month=dt.date(2026, 4, 1), due=dt.date(2026, 4, 30))
    assert ledger.milestone_status(milestone, dt.date(2026, 4, 30)) == MilestoneStatus.PENDING
    assert ledger.milestone_status(milestone, dt.date(2026, 5, 1)) == MilestoneStatus.LATE
    # Through the Labour Day holidays no working day passes.
    assert ledger.late_working_days(milestone, dt.date(2026, 5, 5)) == 0
    assert ledger.late_working_days(milestone, dt.date(2026, 5, 6)) == 1
    assert ledger.late_working_days(milestone, dt.date(2026, 5, 11)) == 5
    milestone.done_at = dt.datetime(2026, 5, 7, tzinfo=dt.UTC)
    assert ledger.milestone_status(milestone, dt.date(2026, 5, 11)) == MilestoneStatus.DONE
    assert ledger.late_working_days(milestone, dt.date(2026, 5, 11)) == 0


def test_project_status_through_its_life(cast: Cast) -> None:
    with at(dt.date(2026, 3, 2)):
        project = make_project(cast)
        assert project.status == LedgerStatus.NORMAL
    march = project.milestones.get(title="完成设计和招标")
    assert ledger.compute(project, dt.date(2026, 3, 31)).status == LedgerStatus.NORMAL
    assert ledger.compute(project, dt.date(2026, 4, 1)) == ledger.Computed(LedgerStatus.BEHIND, 1)
    with at(dt.date(2026, 3, 30)):
        actions.submit_report(
            project.pk,
            by=cast.handler,
            period=dt.date(2026, 3, 1),
            text="设计完成，已招标",
            percent=10,  # below the 20 % the plan promised for March
            done_milestones=[march.pk],
        )
    project.refresh_from_db()
    # The milestone is done, but the progress is below plan once March is over.
    assert ledger.compute(project, dt.date(2026, 4, 1)).status == LedgerStatus.BEHIND
    with at(dt.date(2026, 4, 2)):
        actions.return_report(
            project.reports.get().pk, by=cast.supervisor, reason="进度百分比请按计划口径填写"
        )
        actions.submit_report(
            project.pk, by=cast.handler, period=dt.date(2026, 3, 1), text="设计完成", percent=25
        )
    project.refresh_from_db()
    assert ledger.compute(project, dt.date(2026, 4, 2)).status == LedgerStatus.NORMAL
    # Done on 30 March, the March milestone did not make March a month behind.
    assert ledger.compute(project, dt.date(2026, 4, 2)).behind_months == 0
    assert ledger.compute(project, dt.date(2026, 7, 1)).status == LedgerStatus.OVERDUE
    with at(dt.date(2026, 4, 3)):
        closeout = actions.apply_closeout(project.pk, by=cast.head, evidence="提前全部完成")
    project.refresh_from_db()
    assert project.status == LedgerStatus.PENDING_ACCEPTANCE
    with at(dt.date(2026, 4, 7)):
        actions.decide_closeout(closeout.pk, by=cast.supervisor, accept=True)
    project.refresh_from_db()
    assert project.status == LedgerStatus.CLOSED
    assert ledger.compute(project, dt.date(2026, 7, 1)).status == LedgerStatus.CLOSED


def test_behind_months_counts_consecutive_finished_months(cast: Cast) -> None:
    with at(dt.date(2026, 3, 2)):
        project = make_project(cast)
    march, april, _may = project.milestones.all()
    assert ledger.compute(project, dt.date(2026, 5, 15)).behind_months == 2
    assert ledger.compute(project, dt.date(2026, 6, 1)).behind_months == 3
    # March's milestone finished in the middle of April: March still ended behind.
    march.done_at = dt.datetime(2026, 4, 10, tzinfo=dt.UTC)
    march.save()
    assert ledger.compute(project, dt.date(2026, 5, 15)).behind_months == 2
    # April's milestone in time: the run of months behind ends with April.
    april.done_at = dt.datetime(2026, 4, 29, tzinfo=dt.UTC)
    april.save()
    assert ledger.compute(project, dt.date(2026, 5, 15)).behind_months == 0
    # Months before the project existed never count.
    assert ledger.compute(project, dt.date(2026, 3, 20)).behind_months == 0


def test_one_open_escalation_per_step_and_subject(cast: Cast) -> None:
    project = make_project(cast)
    milestone = project.milestones.first()
    Escalation.objects.create(project=project, step="urge", text="催办")
    Escalation.objects.create(project=project, milestone=milestone, step="urge", text="催办")
    for fields in ({}, {"milestone": milestone}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Escalation.objects.create(project=project, step="urge", text="再催", **fields)
    Escalation.objects.update(resolved_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    Escalation.objects.create(project=project, step="urge", text="新一轮催办")


def test_admin_pages_for_the_county_data(client, cast: Cast) -> None:
    make_project(cast)
    root = type(cast.admin).objects.create_superuser("root", password="x", role="admin")
    client.force_login(root)
    for model in ("projectsettings", "projectcategory", "escalationrule", "batch", "project"):
        assert client.get(f"/admin/projects/{model}/").status_code == 200, model
    rule = EscalationRule.objects.first()
    assert rule is not None
    assert client.get(f"/admin/projects/escalationrule/{rule.pk}/change/").status_code == 200
    # Projects change through the actions only.
    assert client.get("/admin/projects/project/add/").status_code == 403
