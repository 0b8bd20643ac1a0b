"""The ledger sweep walked through months with time travel: periods, chasing, the escalation
ladder by the working-day calendar (Qingming and Labour Day 2026), and idempotence."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command

from minsheng.core import calendar, periodic
from minsheng.core.models import LongJob, OutboxMessage
from minsheng.projects import actions, sweep
from minsheng.projects.models import (
    Escalation,
    EscalationRule,
    Project,
    ProjectSettings,
    ReportDue,
    ReportFrequency,
)
from minsheng.projects.states import LedgerStatus
from tests.projects.factories import Cast, make_cast, make_project

pytestmark = pytest.mark.django_db


def moment(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=calendar.CALENDAR_TZ)


def run(day: dt.date, hour: int = 10) -> sweep.SweepResult:
    with time_machine.travel(moment(day, hour), tick=False):
        return sweep.sweep()


def steps(project: Project) -> list[tuple[str, str]]:
    return [
        (e.step, e.milestone.title if e.milestone else (f"{e.period:%m}" if e.period else ""))
        for e in project.escalations.order_by("issued_at", "pk").select_related("milestone")
    ]


@pytest.fixture
def cast() -> Cast:
    return make_cast()


@pytest.fixture
def neglected(cast: Cast) -> Project:
    """The pipeline project, started on 2 March 2026; the unit never reports."""
    with time_machine.travel(moment(dt.date(2026, 3, 2)), tick=False):
        return make_project(cast)


def test_the_ladder_month_by_month(cast: Cast, neglected: Project) -> None:
    project = neglected
    assert run(dt.date(2026, 3, 20)).total == 0  # nothing due yet

    # 1 April: March is over. Its report period opens (due 8 April: 4–6 April are the
    # Qingming holidays), its milestone is late → 提醒, and the project is behind.
    result = run(dt.date(2026, 4, 1))
    assert (result.periods, result.reminded, result.escalations) == (1, 1, 1)
    due = ReportDue.objects.get(project=project)
    assert (due.period, due.due) == (dt.date(2026, 3, 1), dt.date(2026, 4, 8))
    assert steps(project) == [("remind", "完成设计和招标")]
    project.refresh_from_db()
    assert project.status == LedgerStatus.BEHIND and project.behind_months == 1
    # A second run, and another the same day, send and issue nothing new.
    assert run(dt.date(2026, 4, 1), 11).total == 0
    assert run(dt.date(2026, 4, 1), 15).total == 0

    # 7 April is only the 3rd working day late (1, 2, 3, 7): no 催办 yet; 8 April the 5th.
    assert run(dt.date(2026, 4, 7)).escalations == 0
    assert run(dt.date(2026, 4, 8)).escalations == 1
    assert steps(project)[-1] == ("urge", "完成设计和招标")

    # 9 April the March report is overdue: chased once.
    result = run(dt.date(2026, 4, 9))
    assert (result.chased, result.escalations) == (1, 0)
    assert run(dt.date(2026, 4, 10)).chased == 0
    # 13 April: 3 working days overdue → 催办 about the report (not the milestone's).
    assert run(dt.date(2026, 4, 13)).escalations == 1
    assert steps(project)[-1] == ("urge", "03")

    # 15 April: the milestone's 催办 went unheeded for 5 working days → 书面督办, numbered.
    run(dt.date(2026, 4, 15))
    written = project.escalations.get(step="written")
    assert written.doc_number == "督办字〔2026〕1号" and written.issued_by is None
    assert written.milestone is not None and "催办" in written.text
    assert run(dt.date(2026, 4, 15), 16).total == 0

    # 1 May (holiday): April's milestone is late → 提醒; March and April both ended behind
    # → 约谈. April's report is due 11 May (1–5 May off, Saturday 9 May worked).
    # The report's 催办 of 13 April went unheeded too: a second 书面督办, the next number.
    run(dt.date(2026, 5, 1))
    assert {("remind", "铺设管网7公里"), ("interview", ""), ("written", "03")} <= set(
        steps(project)
    )
    assert project.escalations.get(step="written", period__isnull=False).doc_number == (
        "督办字〔2026〕2号"
    )
    assert ReportDue.objects.get(project=project, period=dt.date(2026, 4, 1)).due == dt.date(
        2026, 5, 11
    )
    # 5 days later by the calendar, but only 4 working days (6, 7, 8, 9 May): no 催办 yet.
    run(dt.date(2026, 5, 10))
    assert ("urge", "铺设管网7公里") not in steps(project)
    run(dt.date(2026, 5, 11))
    assert ("urge", "铺设管网7公里") in steps(project)

    # 1 July: the deadline (30 June) passed → 通报批评, numbered; the project is 超期.
    run(dt.date(2026, 7, 1))
    notice = project.escalations.get(step="notice")
    assert notice.doc_number == "督通字〔2026〕1号"
    project.refresh_from_db()
    assert project.status == LedgerStatus.OVERDUE
    assert set(ReportDue.objects.filter(project=project).values_list("period", flat=True)) == {
        dt.date(2026, m, 1) for m in (3, 4, 5, 6)
    }
    issued = Escalation.objects.count()
    assert run(dt.date(2026, 7, 1), 12).total == 0
    assert Escalation.objects.count() == issued
    # Each escalation told the unit.
    kinds = set(
        OutboxMessage.objects.filter(user=cast.head).values_list("kind", flat=True).distinct()
    )
    assert {"projects.escalation.remind", "projects.escalation.notice"} <= kinds
    assert "projects.report.chase" in kinds


def test_reporting_resolves_the_escalations_it_answers(cast: Cast, neglected: Project) -> None:
    project = neglected
    run(dt.date(2026, 4, 8))  # 提醒 and 催办 on the March milestone
    assert Escalation.objects.open().count() == 2
    march = project.milestones.get(title="完成设计和招标")
    with time_machine.travel(moment(dt.date(2026, 4, 9)), tick=False):
        actions.submit_report(
            project.pk,
            by=cast.handler,
            period=dt.date(2026, 3, 1),
            text="设计已完成，招标完成",
            percent=20,
            done_milestones=[march.pk],
        )
    assert not Escalation.objects.open().exists()
    # The 催办 was answered before it went unheeded: no 书面督办, no chasing.
    result = run(dt.date(2026, 4, 20))
    assert result.chased == 0 and not project.escalations.filter(step="written").exists()
    project.refresh_from_db()
    assert project.status == LedgerStatus.NORMAL


def test_inactive_rules_and_admin_templates(cast: Cast, neglected: Project) -> None:
    EscalationRule.objects.exclude(trigger="milestone_late").update(active=False)
    EscalationRule.objects.filter(trigger="milestone_late").update(
        text="请{unit}加快推进“{project}”的“{milestone}”"
    )
    run(dt.date(2026, 4, 20))
    (only,) = neglected.escalations.all()
    assert (
        only.step == "remind"
        and only.text == "请县水利局加快推进“两水厂连通管网工程”的“完成设计和招标”"
    )
    # A broken template falls back to the default text instead of stopping the sweep.
    EscalationRule.objects.filter(trigger="milestone_late").update(text="节点{milestone")
    run(dt.date(2026, 5, 6))
    latest = neglected.escalations.order_by("-pk").first()
    assert latest is not None and "铺设管网7公里" in latest.text and "应于" in latest.text


def test_time_limit_rule_sets_a_due_date_in_working_days(cast: Cast, neglected: Project) -> None:
    EscalationRule.objects.update(active=False)
    EscalationRule.objects.create(trigger="milestone_late_days", threshold=1, step="time_limit")
    run(dt.date(2026, 4, 1))
    limit = neglected.escalations.get()
    # 10 working days from 1 April, over the Qingming holidays.
    assert limit.due == dt.date(2026, 4, 16)


def test_quarterly_reporting(cast: Cast, neglected: Project) -> None:
    ProjectSettings.objects.update(report_frequency=ReportFrequency.QUARTERLY)
    run(dt.date(2026, 3, 31))
    assert not ReportDue.objects.exists()
    run(dt.date(2026, 4, 1))
    run(dt.date(2026, 7, 1))
    dues = list(ReportDue.objects.values_list("period", "due"))
    assert dues == [
        (dt.date(2026, 1, 1), dt.date(2026, 4, 8)),  # the project started in the first quarter
        (dt.date(2026, 4, 1), dt.date(2026, 7, 7)),
    ]


def test_a_sweep_for_a_past_moment_dates_what_it_does_then(cast: Cast, neglected: Project) -> None:
    then = moment(dt.date(2026, 4, 8))
    with time_machine.travel(moment(dt.date(2026, 8, 3)), tick=False):
        sweep.sweep(now=then)
    assert set(neglected.escalations.values_list("step", "issued_at")) == {
        ("remind", then),
        ("urge", then),
    }
    neglected.refresh_from_db()
    assert neglected.status == LedgerStatus.BEHIND and neglected.status_changed_at == then


def test_periods_count_from_when_the_project_was_started(cast: Cast) -> None:
    with time_machine.travel(moment(dt.date(2026, 1, 12)), tick=False):
        draft = make_project(cast, start=False)
    assert run(dt.date(2026, 3, 2)).total == 0  # a draft is not swept
    with time_machine.travel(moment(dt.date(2026, 3, 2)), tick=False):
        actions.start_project(draft.pk, by=cast.supervisor)
    run(dt.date(2026, 4, 1))
    assert list(ReportDue.objects.values_list("period", flat=True)) == [dt.date(2026, 3, 1)]
    draft.refresh_from_db()
    assert draft.behind_months == 1  # March only: January and February were before 下达


def test_draft_and_closed_projects_are_left_alone(cast: Cast) -> None:
    with time_machine.travel(moment(dt.date(2026, 3, 2)), tick=False):
        make_project(cast, start=False)
        closed = make_project(cast, title="困难群众救助")
        closeout = actions.apply_closeout(closed.pk, by=cast.head, evidence="已全部完成")
        actions.decide_closeout(closeout.pk, by=cast.supervisor, accept=True)
    assert run(dt.date(2026, 8, 3)).total == 0
    assert not Escalation.objects.exists()


def test_periodic_job_and_command(cast: Cast, neglected: Project) -> None:
    job = periodic.get("projects.sweep")
    assert job is not None and job.every == dt.timedelta(hours=1)
    out = StringIO()
    with time_machine.travel(moment(dt.date(2026, 4, 1)), tick=False):
        call_command("projects", "sweep", stdout=out)
        assert "自动督办 1" in out.getvalue()
        assert job.fn() is None  # a second run had nothing to do
    assert LongJob.objects.get(kind="projects.sweep").status == LongJob.Status.DONE


def test_plan_commands_round_trip(cast: Cast, neglected: Project, tmp_path: Path) -> None:
    workbook = tmp_path / "配档表.xlsx"
    out = StringIO()
    call_command("projects", "export-plan", str(workbook), "--batch", "2026-1", stdout=out)
    assert "已导出 1 个项目" in out.getvalue() and workbook.stat().st_size > 0
    with pytest.raises(CommandError, match="无权"):
        call_command("projects", "import-plan", str(workbook), "--user", cast.handler.username)
    with pytest.raises(CommandError, match="批次"):
        call_command("projects", "export-plan", str(workbook), "--batch", "明年")
    out = StringIO()
    call_command(
        "projects", "import-plan", str(workbook), "--user", cast.supervisor.username, stdout=out
    )
    assert Project.objects.count() == 1
    assert [m.title for m in neglected.milestones.all()] == [
        "完成设计和招标",
        "铺设管网7公里",
        "全线贯通",
    ]
