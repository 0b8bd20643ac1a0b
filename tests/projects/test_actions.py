"""The project actions: rights, states, validation, audit and notifications."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from minsheng.appeals.states import State as AppealState
from minsheng.core.models import AuditEvent, OutboxMessage, Role
from minsheng.projects import actions
from minsheng.projects.actions import MilestoneIn, TargetIn
from minsheng.projects.errors import Conflict, ProjectError
from minsheng.projects.models import (
    CloseOutState,
    Escalation,
    ProgressReport,
    Project,
    ProjectCategory,
    ReportDue,
    ReportState,
)
from minsheng.projects.states import LedgerStatus, ProjectState
from tests.factories import UserFactory
from tests.projects.factories import BatchFactory, Cast, make_cast, make_project, pdf_file, photo

pytestmark = pytest.mark.django_db

MARCH = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def cast() -> Cast:
    return make_cast()


def _inbox(user) -> list[str]:
    return list(OutboxMessage.objects.filter(user=user).values_list("body", flat=True))


# ---------------------------------------------------------------- projects


def test_create_project_numbers_codes_per_batch_and_records_audit(cast: Cast) -> None:
    batch = BatchFactory(year=2026, number=1)
    with time_machine.travel(MARCH, tick=False):
        first = make_project(cast, batch=batch, start=False)
        second = make_project(cast, batch=batch)
    assert (first.code, second.code) == ("2026-1-01", "2026-1-02")
    assert first.state == ProjectState.DRAFT and second.state == ProjectState.ACTIVE
    assert list(second.co_units.all()) == [cast.co_unit]
    assert AuditEvent.objects.filter(action="projects.project.created").count() == 2
    # Only the started project was announced to the unit.
    assert len(_inbox(cast.handler)) == 1 and "两水厂" in _inbox(cast.handler)[0]


def test_only_the_supervisor_or_admin_manages_projects(cast: Cast) -> None:
    with pytest.raises(PermissionDenied):
        actions.create_project(
            by=cast.head,
            batch=BatchFactory(),
            title="村级综合服务中心规范化建设",
            category=ProjectCategory.objects.first(),
            lead_unit=cast.unit,
            deadline=dt.date(2026, 12, 31),
        )
    assert not Project.objects.exists()


def test_bad_fields_are_validation_errors_and_nothing_is_written(cast: Cast) -> None:
    batch = BatchFactory()
    category = ProjectCategory.objects.first()
    common = {"by": cast.admin, "batch": batch, "category": category, "lead_unit": cast.unit}
    with pytest.raises(ProjectError) as error:
        actions.create_project(**common, title="", deadline=dt.date(2026, 12, 31))
    assert error.value.code == "validation_error" and "title" in error.value.fields
    with pytest.raises(ProjectError) as error:
        actions.create_project(
            **common, title="困难妇女儿童救助", deadline=dt.date(2026, 12, 31), contact_phone="123"
        )
    assert "contact_phone" in error.value.fields
    with pytest.raises(ProjectError) as error:
        actions.create_project(
            **common, title="困难妇女儿童救助", deadline=dt.date(2026, 12, 31), budget="abc"
        )
    assert "budget" in error.value.fields
    assert not Project.objects.exists()


def test_update_project_checks_the_version(cast: Cast) -> None:
    project = make_project(cast)
    seen = project.version
    actions.update_project(
        project.pk, by=cast.supervisor, expected_version=seen, deadline=dt.date(2026, 9, 30)
    )
    with pytest.raises(Conflict):
        actions.update_project(project.pk, by=cast.admin, expected_version=seen, title="改名")
    project.refresh_from_db()
    assert project.deadline == dt.date(2026, 9, 30) and project.title == "两水厂连通管网工程"
    with pytest.raises(ProjectError):
        actions.update_project(project.pk, by=cast.admin, expected_version=None, state="closed")


# ---------------------------------------------------------------- plan


def test_set_plan_defaults_due_to_the_last_working_day_and_keeps_done_milestones(
    cast: Cast,
) -> None:
    with time_machine.travel(MARCH, tick=False):
        project = make_project(cast)
    milestones = list(project.milestones.all())
    # 2026-05-31 is a Sunday, the 30th a Saturday: the 29th is the last working day.
    assert [m.due for m in milestones] == [
        dt.date(2026, 3, 31),
        dt.date(2026, 4, 30),
        dt.date(2026, 5, 29),
    ]
    first = milestones[0]
    with time_machine.travel(dt.datetime(2026, 3, 20, 9, tzinfo=dt.UTC), tick=False):
        actions.submit_report(
            project.pk,
            by=cast.handler,
            period=dt.date(2026, 3, 1),
            text="设计已完成，招标公告已发布",
            percent=20,
            done_milestones=[first.pk],
        )
        # The plan is adjusted: March unchanged, April's milestone renamed.
        actions.set_plan(
            project.pk,
            by=cast.supervisor,
            targets=[TargetIn(name="铺设管网", unit="公里", planned=Decimal("14.5"))],
            milestones=[
                MilestoneIn(month=dt.date(2026, 3, 1), title="完成设计和招标", planned_percent=20),
                MilestoneIn(month=dt.date(2026, 4, 15), title="开工建设", planned_percent=50),
            ],
        )
    kept = list(project.milestones.all())
    assert [m.title for m in kept] == ["完成设计和招标", "开工建设"]
    assert kept[0].pk == first.pk and kept[0].done_at is not None
    assert kept[1].month == dt.date(2026, 4, 1)


def test_set_plan_rejects_bad_rows_without_writing(cast: Cast) -> None:
    project = make_project(cast)
    before = list(project.milestones.values_list("pk", "title"))
    bad_plans = [
        [MilestoneIn(month=dt.date(2026, 4, 1), title="")],
        [MilestoneIn(month=dt.date(2026, 4, 1), title="x", target="不存在的指标")],
        [MilestoneIn(month=dt.date(2026, 4, 1), title="x", target_value=Decimal(3))],
        [MilestoneIn(month=dt.date(2026, 9, 1), title="晚于时限")],
        [MilestoneIn(month=dt.date(2026, 4, 1), title="x", planned_percent=120)],
    ]
    for plan in bad_plans:
        with pytest.raises(ProjectError) as error:
            actions.set_plan(project.pk, by=cast.supervisor, milestones=plan, targets=[])
        assert error.value.code == "validation_error", plan
    assert list(project.milestones.values_list("pk", "title")) == before


# ---------------------------------------------------------------- reports


def test_submit_report_stores_values_files_and_completes_milestones(cast: Cast) -> None:
    with time_machine.travel(MARCH, tick=False):
        project = make_project(cast)
    target = project.targets.get()
    april = project.milestones.get(title="铺设管网7公里")
    with time_machine.travel(dt.datetime(2026, 4, 28, 9, tzinfo=dt.UTC), tick=False):
        report = actions.submit_report(
            project.pk,
            by=cast.co_handler,  # a co-unit reports too
            period=dt.date(2026, 4, 15),
            text="已铺设管网7.2公里",
            percent=55,
            values={target.pk: Decimal("7.2")},
            files=[photo(), pdf_file()],
        )
    project.refresh_from_db()
    target.refresh_from_db()
    april.refresh_from_db()
    assert report.period == dt.date(2026, 4, 1)
    assert project.percent_complete == 55 and target.reached == Decimal("7.20")
    assert april.done_at is not None  # 7.2 ≥ 7: the target value reached
    kinds = sorted(report.attachments.values_list("kind", flat=True))
    assert kinds == ["document", "photo"]
    stored = report.attachments.get(kind="photo")
    assert stored.original_name == "现场.jpg" and "现场" not in stored.file.name
    assert ReportDue.objects.get(project=project, period=dt.date(2026, 4, 1)).submitted_report == (
        report
    )
    assert AuditEvent.objects.filter(action="projects.report.submitted").exists()


def test_report_rights_and_checks(cast: Cast) -> None:
    with time_machine.travel(MARCH, tick=False):
        project = make_project(cast)
        draft = make_project(cast, start=False)
        args = {"period": dt.date(2026, 3, 1), "text": "按计划推进", "percent": 10}
        with pytest.raises(PermissionDenied):
            actions.submit_report(project.pk, by=cast.other_handler, **args)
        with pytest.raises(PermissionDenied):
            actions.submit_report(project.pk, by=cast.supervisor, **args)
        with pytest.raises(Conflict):
            actions.submit_report(draft.pk, by=cast.handler, **args)
        with pytest.raises(ProjectError) as error:
            actions.submit_report(project.pk, by=cast.handler, **{**args, "percent": 101})
        assert error.value.fields == {"percent": ["进度应为0到100之间的整数"]}
        with pytest.raises(ProjectError) as error:
            actions.submit_report(
                project.pk, by=cast.handler, **{**args, "period": dt.date(2026, 4, 1)}
            )
        assert "period" in error.value.fields
        with pytest.raises(ProjectError):
            actions.submit_report(project.pk, by=cast.handler, **args, values={999999: 1})
        actions.submit_report(project.pk, by=cast.handler, **args)
        with pytest.raises(Conflict):
            actions.submit_report(project.pk, by=cast.head, **args)
    assert ProgressReport.objects.count() == 1


def test_returned_report_reopens_the_period_and_restores_progress(cast: Cast) -> None:
    with time_machine.travel(MARCH, tick=False):
        project = make_project(cast)
    target = project.targets.get()
    with time_machine.travel(dt.datetime(2026, 4, 20, 9, tzinfo=dt.UTC), tick=False):
        actions.submit_report(
            project.pk,
            by=cast.handler,
            period=dt.date(2026, 3, 1),
            text="完成设计",
            percent=20,
            values={target.pk: Decimal(1)},
        )
        wrong = actions.submit_report(
            project.pk,
            by=cast.handler,
            period=dt.date(2026, 4, 1),
            text="进度填错了",
            percent=90,
            values={target.pk: Decimal(12)},
        )
        with pytest.raises(PermissionDenied):
            actions.return_report(wrong.pk, by=cast.head, reason="自己退回")
        actions.return_report(wrong.pk, by=cast.supervisor, reason="进度与现场不符，请核实")
        with pytest.raises(Conflict):
            actions.return_report(wrong.pk, by=cast.supervisor, reason="再退一次")
    project.refresh_from_db()
    target.refresh_from_db()
    wrong.refresh_from_db()
    assert wrong.state == ReportState.RETURNED and wrong.returned_by == cast.supervisor
    assert project.percent_complete == 20 and target.reached == Decimal(1)
    due = ReportDue.objects.get(project=project, period=dt.date(2026, 4, 1))
    assert due.submitted_report is None
    assert any("退回" in body for body in _inbox(cast.handler))


# ---------------------------------------------------------------- escalation


def test_escalate_numbers_written_documents_per_year_and_step(cast: Cast) -> None:
    with time_machine.travel(MARCH, tick=False):
        one = make_project(cast)
        two = make_project(cast, title="残疾人意外伤害保险")
        first = actions.escalate(one.pk, by=cast.supervisor, step="written", text="请限期整改到位")
        second = actions.escalate(two.pk, by=cast.supervisor, step="written", text="请限期整改到位")
        notice = actions.escalate(one.pk, by=cast.supervisor, step="notice", text="通报批评如下")
        remind = actions.escalate(one.pk, by=cast.supervisor, step="remind", text="请注意进度")
    assert (first.doc_number, second.doc_number) == ("督办字〔2026〕1号", "督办字〔2026〕2号")
    assert notice.doc_number == "督通字〔2026〕1号"
    assert remind.doc_number == "" and remind.doc_seq is None
    with time_machine.travel(dt.datetime(2027, 1, 5, 9, tzinfo=dt.UTC), tick=False):
        actions.update_project(
            one.pk, by=cast.supervisor, expected_version=None, deadline=dt.date(2027, 6, 30)
        )
        actions.resolve_escalation(first.pk, by=cast.supervisor, resolution="已整改")
        again = actions.escalate(one.pk, by=cast.supervisor, step="written", text="新年度督办")
    assert again.doc_number == "督办字〔2027〕1号"
    assert any("督办字〔2026〕1号" in body for body in _inbox(cast.head))


def test_escalation_rules_of_the_ladder(cast: Cast) -> None:
    project = make_project(cast)
    with pytest.raises(PermissionDenied):
        actions.escalate(project.pk, by=cast.leader, step="urge", text="请抓紧推进")
    with pytest.raises(ProjectError) as error:
        actions.escalate(project.pk, by=cast.supervisor, step="time_limit", text="限期办结")
    assert "due" in error.value.fields
    actions.escalate(project.pk, by=cast.supervisor, step="urge", text="请抓紧推进")
    with pytest.raises(Conflict):
        actions.escalate(project.pk, by=cast.supervisor, step="urge", text="再催一次")
    milestone = project.milestones.first()
    assert milestone is not None
    # The same step about one milestone is another matter.
    actions.escalate(
        project.pk, by=cast.supervisor, step="urge", text="节点催办", milestone_id=milestone.pk
    )
    assert Escalation.objects.open().count() == 2


def test_record_interview(cast: Cast) -> None:
    with time_machine.travel(MARCH, tick=False):
        project = make_project(cast)
        urge = actions.escalate(project.pk, by=cast.supervisor, step="urge", text="请抓紧推进")
        interview = actions.escalate(
            project.pk, by=cast.supervisor, step="interview", text="约谈单位主要负责人"
        )
        with pytest.raises(Conflict):
            actions.record_interview(
                urge.pk, by=cast.supervisor, held_on=dt.date(2026, 3, 10), attendees="a", agreed="b"
            )
        with pytest.raises(ProjectError):
            actions.record_interview(
                interview.pk,
                by=cast.supervisor,
                held_on=dt.date(2026, 3, 12),
                attendees="局长",
                agreed="两周内完成",
            )
        actions.record_interview(
            interview.pk,
            by=cast.supervisor,
            held_on=dt.date(2026, 3, 10),
            attendees="水利局局长、分管副局长",
            agreed="3月底前完成招标，每周报送进展",
        )
    interview.refresh_from_db()
    assert interview.held_on == dt.date(2026, 3, 10) and "招标" in interview.agreed
    assert interview.is_open  # the interview is recorded; the matter is not settled yet


# ---------------------------------------------------------------- 销号


def test_closeout_accept_closes_with_who_and_when(cast: Cast) -> None:
    with time_machine.travel(MARCH, tick=False):
        project = make_project(cast)
        actions.escalate(project.pk, by=cast.supervisor, step="urge", text="请抓紧推进")
        with pytest.raises(PermissionDenied):  # a handler may report, not apply
            actions.apply_closeout(project.pk, by=cast.handler, evidence="已全部完成")
        co_head = UserFactory(role=Role.DEPT_HEAD, department=cast.co_unit)
        with pytest.raises(PermissionDenied):  # the co-unit's head may not either
            actions.apply_closeout(project.pk, by=co_head, evidence="已全部完成")
        closeout = actions.apply_closeout(
            project.pk, by=cast.head, evidence="管网全线贯通，已通水", files=[pdf_file()]
        )
        project.refresh_from_db()
        assert project.state == ProjectState.APPLIED
        assert project.status == LedgerStatus.PENDING_ACCEPTANCE
        with pytest.raises(Conflict):
            actions.apply_closeout(project.pk, by=cast.head, evidence="再申请一次")
        assert any("待验收" in body for body in _inbox(cast.supervisor))
    with time_machine.travel(dt.datetime(2026, 3, 12, 3, tzinfo=dt.UTC), tick=False):
        with pytest.raises(PermissionDenied):
            actions.decide_closeout(closeout.pk, by=cast.leader, accept=True)
        actions.decide_closeout(closeout.pk, by=cast.supervisor, accept=True)
        with pytest.raises(Conflict):
            actions.decide_closeout(closeout.pk, by=cast.supervisor, accept=False, reason="重复")
    project.refresh_from_db()
    closeout.refresh_from_db()
    assert project.state == ProjectState.CLOSED and project.status == LedgerStatus.CLOSED
    assert project.closed_by == cast.supervisor
    assert project.closed_at == dt.datetime(2026, 3, 12, 3, tzinfo=dt.UTC)
    assert project.percent_complete == 100
    assert closeout.state == CloseOutState.ACCEPTED and closeout.attachments.count() == 1
    assert not Escalation.objects.open().filter(project=project).exists()
    assert any("已销号" in body for body in _inbox(cast.head))


def test_closeout_reject_needs_a_reason_and_goes_back_to_active(cast: Cast) -> None:
    project = make_project(cast)
    closeout = actions.apply_closeout(project.pk, by=cast.head, evidence="已全部完成")
    with pytest.raises(ProjectError) as error:
        actions.decide_closeout(closeout.pk, by=cast.supervisor, accept=False, reason="")
    assert "reason" in error.value.fields
    actions.decide_closeout(
        closeout.pk, by=cast.supervisor, accept=False, reason="缺少通水验收记录，请补充"
    )
    project.refresh_from_db()
    closeout.refresh_from_db()
    assert project.state == ProjectState.ACTIVE and closeout.state == CloseOutState.REJECTED
    assert closeout.reason == "缺少通水验收记录，请补充"
    assert any("缺少通水验收记录" in body for body in _inbox(cast.head))
    # Applying again is possible.
    actions.apply_closeout(project.pk, by=cast.head, evidence="已补充通水验收记录")


# ---------------------------------------------------------------- disclosure and appeals


def test_publish_batch(cast: Cast) -> None:
    batch = BatchFactory()
    make_project(cast, batch=batch, start=False)
    with pytest.raises(ProjectError):
        actions.publish_batch(batch.pk, by=cast.supervisor)
    make_project(cast, batch=batch)
    with pytest.raises(PermissionDenied):
        actions.publish_batch(batch.pk, by=cast.leader)
    actions.publish_batch(batch.pk, by=cast.supervisor)
    batch.refresh_from_db()
    assert batch.published and batch.published_at is not None
    assert Project.objects.public().count() == 1
    with pytest.raises(Conflict):
        actions.publish_batch(batch.pk, by=cast.admin)


def test_promote_with_a_project_links_the_appeal_both_ways(cast: Cast) -> None:
    from minsheng.appeals import actions as appeal_actions
    from tests.appeals.factories import appeal_in
    from tests.appeals.factories import make_cast as appeal_cast

    people = appeal_cast()
    appeal = appeal_in(AppealState.HANDLING, people)
    project = make_project(cast)
    appeal_actions.promote(
        appeal.pk, reason="需要新建管网统筹解决", by=people.dispatcher, project_id=project.pk
    )
    assert list(project.source_appeals.all()) == [appeal]
    assert list(appeal.projects.all()) == [project]
    other = appeal_in(AppealState.HANDLING, people)
    with pytest.raises(ProjectError):  # not promoted
        actions.link_appeal(project.pk, other.pk, by=cast.supervisor)
    with pytest.raises(PermissionDenied):
        actions.link_appeal(project.pk, appeal.pk, by=cast.handler)
    # Linking twice is harmless.
    actions.link_appeal(project.pk, appeal.pk, by=cast.supervisor)
    assert project.source_appeals.count() == 1


def test_promote_into_a_closed_project_rolls_back(cast: Cast) -> None:
    from minsheng.appeals import actions as appeal_actions
    from tests.appeals.factories import appeal_in
    from tests.appeals.factories import make_cast as appeal_cast

    people = appeal_cast()
    appeal = appeal_in(AppealState.HANDLING, people)
    project = make_project(cast)
    closeout = actions.apply_closeout(project.pk, by=cast.head, evidence="已全部完成")
    actions.decide_closeout(closeout.pk, by=cast.supervisor, accept=True)
    with pytest.raises(Conflict):
        appeal_actions.promote(
            appeal.pk, reason="需要新建管网统筹解决", by=people.dispatcher, project_id=project.pk
        )
    appeal.refresh_from_db()
    assert appeal.state == AppealState.HANDLING


def test_citizens_of_promoted_appeals_rate_the_result(cast: Cast) -> None:
    from minsheng.appeals import actions as appeal_actions
    from tests.appeals.factories import appeal_in
    from tests.appeals.factories import make_cast as appeal_cast

    people = appeal_cast()
    appeal = appeal_in(AppealState.HANDLING, people)
    project = make_project(cast)
    appeal_actions.promote(
        appeal.pk, reason="需要新建管网统筹解决", by=people.dispatcher, project_id=project.pk
    )
    token = actions.rating_token(project, appeal.pk)
    with pytest.raises(ProjectError) as error:  # not closed yet
        actions.rate_result(token, level=5)
    assert error.value.code == "link_invalid"
    closeout = actions.apply_closeout(project.pk, by=cast.head, evidence="管网全线贯通")
    actions.decide_closeout(closeout.pk, by=cast.supervisor, accept=True)
    (invite,) = OutboxMessage.objects.filter(kind="projects.rating.invite")
    assert invite.recipient == appeal.citizen_mobile
    assert f"/projects/p/{project.code}/?rate=" in invite.body
    with pytest.raises(ProjectError) as error:
        actions.rate_result(token, level=9)
    assert "level" in error.value.fields
    rating = actions.rate_result(token, level=4, comment="通水了，水压还可以再提高")
    assert rating.project == project and rating.appeal_id == appeal.pk
    with pytest.raises(Conflict):
        actions.rate_result(token, level=1)
    with pytest.raises(ProjectError) as error:
        actions.rate_result(token[:-2] + "xx", level=5)
    assert error.value.code == "link_invalid"
    with time_machine.travel(dt.timedelta(days=16)), pytest.raises(ProjectError) as error:
        actions.rate_result(token, level=5)
    assert error.value.code == "link_expired"
