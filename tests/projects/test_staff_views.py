"""The staff pages of 实事项目 through the test client: scoping, validation in Chinese, and
each action through its page (report, plan import, ledger and escalation, 约谈, 销号)."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook
from PIL import Image

from minsheng.core.models import AuditEvent, Department, Role, User
from minsheng.core.navigation import menu_for
from minsheng.projects import actions
from minsheng.projects.actions import MilestoneIn, TargetIn
from minsheng.projects.models import (
    Batch,
    CloseOut,
    Escalation,
    ProgressReport,
    Project,
    ProjectCategory,
    ReportAttachment,
    ReportDue,
)
from minsheng.projects.states import EscalationStep, LedgerStatus, ProjectState
from tests.factories import DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db

# A Wednesday in June: March's and April's milestones are past due, July's is not.
NOW = dt.datetime(2026, 6, 17, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@dataclass
class World:
    unit: Department
    co_unit: Department
    other: Department
    supervisor: User
    leader: User
    handler: User
    head: User
    co_handler: User
    stranger: User
    batch: Batch
    project: Project
    other_project: Project


def make_world() -> World:
    unit = DepartmentFactory(name="县水利局")
    co_unit = DepartmentFactory(name="县住建局")
    other = DepartmentFactory(name="县教育局")
    supervisor = UserFactory(role=Role.SUPERVISOR, name="督查员")
    batch = actions.create_batch(
        by=supervisor, year=2026, number=1, title="2026年第一批我为群众办实事项目"
    )
    water = ProjectCategory.objects.get(name="城乡建设")
    project = actions.create_project(
        by=supervisor,
        batch=batch,
        title="两水厂连通管网工程",
        category=water,
        lead_unit=unit,
        co_units=[co_unit],
        deadline=dt.date(2026, 12, 31),
        leader_name="李副县长",
        contact_name="王建国",
        contact_phone="13912345678",
        measures="铺设连通管网14.5公里，实现两水厂互为备用。",
        start=True,
    )
    actions.set_plan(
        project.pk,
        by=supervisor,
        targets=[TargetIn("铺设管网", "公里", Decimal("14.5"))],
        milestones=[
            MilestoneIn(dt.date(2026, 3, 1), "完成设计招标", planned_percent=10),
            MilestoneIn(
                dt.date(2026, 4, 1),
                "开工铺设",
                target="铺设管网",
                target_value=Decimal(3),
                planned_percent=30,
            ),
            MilestoneIn(dt.date(2026, 7, 1), "铺设过半", planned_percent=60),
        ],
    )
    other_project = actions.create_project(
        by=supervisor,
        batch=batch,
        title="中小学课后服务全覆盖",
        category=ProjectCategory.objects.get(name="文化教育"),
        lead_unit=other,
        deadline=dt.date(2026, 9, 30),
        start=True,
    )
    return World(
        unit=unit,
        co_unit=co_unit,
        other=other,
        supervisor=supervisor,
        leader=UserFactory(role=Role.LEADER),
        handler=UserFactory(role=Role.HANDLER, department=unit),
        head=UserFactory(role=Role.DEPT_HEAD, department=unit),
        co_handler=UserFactory(role=Role.HANDLER, department=co_unit),
        stranger=UserFactory(role=Role.HANDLER, department=other),
        batch=batch,
        project=Project.objects.get(pk=project.pk),
        other_project=other_project,
    )


@pytest.fixture
def world():
    with time_machine.travel(NOW, tick=False):
        yield make_world()


def as_user(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def png(name: str = "现场.png") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def detail_url(world: World) -> str:
    return reverse("projects:detail", args=[world.project.pk])


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


# ---------------------------------------------------------------- scoping


def test_a_unit_sees_its_own_and_co_operated_projects_and_nothing_else(world: World) -> None:
    url = reverse("projects:list")
    mine = text_of(as_user(world.handler).get(url))
    assert "两水厂连通管网工程" in mine and "中小学课后服务全覆盖" not in mine
    co = text_of(as_user(world.co_handler).get(url))
    assert "两水厂连通管网工程" in co and "中小学课后服务全覆盖" not in co
    everything = text_of(as_user(world.leader).get(url))
    assert "两水厂连通管网工程" in everything and "中小学课后服务全覆盖" in everything

    stranger = as_user(world.stranger)
    pk = world.project.pk
    for name in ("detail", "report"):
        assert stranger.get(reverse(f"projects:{name}", args=[pk])).status_code == 404
    assert stranger.post(reverse("projects:contact", args=[pk])).status_code == 404
    assert stranger.get(reverse("projects:closeout", args=[pk])).status_code == 404
    # Rights a handler never has are a 403, whoever's project it is.
    assert stranger.get(reverse("projects:escalate", args=[pk])).status_code == 403
    assert stranger.get(reverse("projects:ledger")).status_code == 403
    assert stranger.get(reverse("projects:create")).status_code == 403
    assert as_user(world.handler).get(reverse("projects:edit", args=[pk])).status_code == 403
    citizen = as_user(UserFactory(role=Role.CITIZEN))
    assert citizen.get(url).status_code == 403


def test_the_list_filters_by_batch_category_unit_and_status(world: World) -> None:
    client = as_user(world.supervisor)
    url = reverse("projects:list")
    by_unit = text_of(client.get(url, {"unit": world.co_unit.pk}))
    assert "两水厂连通管网工程" in by_unit and "中小学课后服务全覆盖" not in by_unit
    education = ProjectCategory.objects.get(name="文化教育")
    by_category = text_of(client.get(url, {"category": education.pk}))
    assert "两水厂连通管网工程" not in by_category and "中小学课后服务全覆盖" in by_category
    Project.objects.filter(pk=world.project.pk).update(status=LedgerStatus.BEHIND)
    behind = text_of(client.get(url, {"status": "behind", "batch": world.batch.pk}))
    assert "两水厂连通管网工程" in behind and "pstatus-behind" in behind
    assert "中小学课后服务全覆盖" not in behind
    # A filter value that is not a choice is ignored rather than an error page.
    assert client.get(url, {"status": "nonsense"}).status_code == 200


def test_menu_entries_follow_the_rights(world: World) -> None:
    import minsheng.projects.nav  # noqa: F401  (registered by the app; imported for certainty)

    def labels(user: User) -> set[str]:
        return {str(item["label"]) for item in menu_for(user)}

    assert {"实事项目", "进度填报"} <= labels(world.handler)
    assert "督查台账" not in labels(world.handler)
    assert {"实事项目", "督查台账"} <= labels(world.supervisor)
    assert "进度填报" not in labels(world.supervisor)
    assert "督查台账" in labels(world.leader)


# ---------------------------------------------------------------- the project page


def test_the_project_page_shows_plan_targets_and_masks_the_contact(world: World) -> None:
    with time_machine.travel(NOW, tick=False):
        page = text_of(
            as_user(world.leader).get(reverse("projects:detail", args=[world.project.pk]))
        )
    assert "2026年3月" in page and "完成设计招标" in page and "铺设过半" in page
    assert "pstatus-late" in page and "pstatus-pending" in page  # March late, July not yet due
    assert "已完成 0 / 计划 14.5 公里" in page
    assert "139****5678" in page and "13912345678" not in page and "王**" in page
    # The leader may not unmask; the unit may, and that is recorded.
    assert "显示完整电话" not in page
    client = as_user(world.handler)
    assert "显示完整电话" in text_of(
        client.get(reverse("projects:detail", args=[world.project.pk]))
    )
    shown = client.post(
        reverse("projects:contact", args=[world.project.pk]), headers={"HX-Request": "true"}
    )
    assert shown.status_code == 200 and "13912345678" in text_of(shown)
    assert AuditEvent.objects.filter(
        action="projects.contact", object_id=str(world.project.pk), actor=world.handler
    ).exists()
    assert (
        as_user(world.leader).post(reverse("projects:contact", args=[world.project.pk])).status_code
        == 403
    )


def test_linked_appeals_show_only_to_those_who_may_open_them(world: World) -> None:
    from minsheng.appeals import actions as appeal_actions

    appeal = appeal_actions.submit(
        appeal_actions.AppealInput(
            title="两个水厂之间没有连通管，停水时全村断水",
            body="去年夏天停水三天，希望把两个水厂的管网连起来。",
            citizen_name="刘大爷",
            citizen_mobile="13700001234",
        )
    ).appeal
    # Linking is proj-core's action (for promoted appeals); the page only shows the link.
    world.project.source_appeals.add(appeal)
    seen = text_of(as_user(world.supervisor).get(detail_url(world)))
    assert appeal.number in seen and reverse("appeals:detail", args=[appeal.pk]) in seen
    unit = text_of(as_user(world.handler).get(detail_url(world)))
    assert (
        appeal.number not in unit and "停水" not in unit and "另有 1 件其他单位办理的诉求" in unit
    )


# ---------------------------------------------------------------- create / edit / 下达


def _project_form(world: World, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "batch": world.batch.pk,
        "title": "残疾人意外伤害保险",
        "category": ProjectCategory.objects.get(name="社会保障").pk,
        "lead_unit": world.other.pk,
        "co_units": [world.unit.pk],
        "leader_name": "张副县长",
        "contact_name": "赵敏",
        "contact_phone": "13800001111",
        "measures": "为全县2万名残疾人购买意外伤害保险。",
        "budget": "60",
        "source": "department",
        "deadline": "2026-10-31",
    }
    data.update(changes)
    return data


def test_the_supervisor_creates_and_edits_a_project(world: World) -> None:
    client = as_user(world.supervisor)
    url = reverse("projects:create")
    bad = client.post(url, _project_form(world, title="", contact_phone="12345", deadline="明天"))
    body = text_of(bad)
    assert bad.status_code == 400 and "请输入11位手机号码" in body and "这个字段是必填项" in body
    assert "输入一个有效的日期" in body
    same = client.post(url, _project_form(world, co_units=[world.other.pk]))
    assert same.status_code == 400 and "牵头单位不必再列为配合单位" in text_of(same)
    assert Project.objects.count() == 2

    created = client.post(url, _project_form(world, start="on"))
    project = Project.objects.get(title="残疾人意外伤害保险")
    assert created.status_code == 302 and created.url == reverse(
        "projects:detail", args=[project.pk]
    )
    assert project.state == ProjectState.ACTIVE and project.code.startswith("2026-1-")
    assert list(project.co_units.all()) == [world.unit] and project.budget == Decimal(60)

    edit = reverse("projects:edit", args=[project.pk])
    form = client.get(edit)
    assert form.status_code == 200 and "残疾人意外伤害保险" in text_of(form)
    changed = client.post(
        edit, _project_form(world, title="2万名残疾人意外伤害保险", version=project.version)
    )
    assert changed.status_code == 302
    project.refresh_from_db()
    assert project.title == "2万名残疾人意外伤害保险"
    # Someone else saved in between: the stale form says so and changes nothing.
    stale = client.post(edit, _project_form(world, title="旧标题", version=project.version - 1))
    assert stale.status_code == 400 and "已被他人修改" in text_of(stale)
    project.refresh_from_db()
    assert project.title == "2万名残疾人意外伤害保险"


def test_a_draft_is_started_from_its_page(world: World) -> None:
    client = as_user(world.supervisor)
    client.post(reverse("projects:create"), _project_form(world))
    project = Project.objects.get(title="残疾人意外伤害保险")
    assert project.state == ProjectState.DRAFT
    page = text_of(client.get(reverse("projects:detail", args=[project.pk])))
    assert "下达项目" in page
    client.post(reverse("projects:start", args=[project.pk]))
    project.refresh_from_db()
    assert project.state == ProjectState.ACTIVE
    # Twice is a message, not an error page.
    again = client.post(reverse("projects:start", args=[project.pk]), follow=True)
    assert again.status_code == 200 and "不能" in text_of(again)


# ---------------------------------------------------------------- progress reports


def test_the_unit_reports_progress_with_values_and_photos(world: World, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    client = as_user(world.handler)
    url = reverse("projects:report", args=[world.project.pk])
    target = world.project.targets.get()
    with time_machine.travel(NOW, tick=False):
        page = text_of(client.get(url))
        assert "铺设管网累计完成（公里，计划14.5）" in page and "2026年6月" in page
        bad = client.post(
            url,
            {"period": "2026-06", "text": "进展", "percent": "150", f"target_{target.pk}": "-1"},
        )
        body = text_of(bad)
        assert bad.status_code == 400
        assert "完成进度应在0到100之间" in body and "完成值不能为负数" in body
        assert "请至少写10个字" in body
        wrong_file = client.post(
            url,
            {
                "period": "2026-06",
                "text": "本月完成管网铺设3.5公里，累计完成情况良好。",
                "percent": "35",
                "documents": [png()],
            },
        )
        assert wrong_file.status_code == 400 and "不是PDF文件" in text_of(wrong_file)
        assert not ProgressReport.objects.exists()

        april = world.project.milestones.get(title="开工铺设")
        response = client.post(
            url,
            {
                "period": "2026-06",
                "text": "本月完成管网铺设3.5公里，累计完成情况良好。",
                "percent": "35",
                f"target_{target.pk}": "3.5",
                "done_milestones": [april.pk],
                "photos": [png()],
            },
        )
    assert response.status_code == 302
    report = ProgressReport.objects.get()
    assert report.period == dt.date(2026, 6, 1) and report.percent_complete == 35
    assert report.values.get().value == Decimal("3.5")
    attachment = ReportAttachment.objects.get()
    assert attachment.kind == "photo"
    april.refresh_from_db()
    assert april.done_at is not None
    world.project.refresh_from_db()
    assert world.project.percent_complete == 35

    detail = text_of(client.get(reverse("projects:detail", args=[world.project.pk])))
    assert "本月完成管网铺设3.5公里" in detail and "现场.png" in detail
    file_url = reverse("projects:report_file", args=[world.project.pk, attachment.pk])
    opened = client.get(file_url)
    assert opened.status_code == 200 and opened["Content-Type"] == "image/png"
    assert as_user(world.stranger).get(file_url).status_code == 404
    # Nothing is left to report: the page says so, and a replayed post is refused.
    assert "本期及之前各期进展均已报送" in text_of(client.get(url))
    replay = client.post(
        url, {"period": "2026-06", "text": "再报一次六月份的进展情况。", "percent": "40"}
    )
    assert replay.status_code == 400 and ProgressReport.objects.count() == 1


def test_due_and_missing_reports_are_listed_for_the_unit(world: World) -> None:
    ReportDue.objects.create(
        project=world.project, period=dt.date(2026, 4, 1), due=dt.date(2026, 5, 8)
    )
    ReportDue.objects.create(
        project=world.project, period=dt.date(2026, 6, 1), due=dt.date(2026, 7, 8)
    )
    ReportDue.objects.create(
        project=world.other_project, period=dt.date(2026, 4, 1), due=dt.date(2026, 5, 8)
    )
    with time_machine.travel(NOW, tick=False):
        page = text_of(as_user(world.handler).get(reverse("projects:reports")))
        form = text_of(
            as_user(world.handler).get(reverse("projects:report", args=[world.project.pk]))
        )
    missing = page.split('id="missing-reports"')[1].split("</section>")[0]
    due = page.split('id="due-reports"')[1].split("</section>")[0]
    assert "2026年4月" in missing and "应于 2026-05-08 前报送" in missing
    assert "2026年6月" in due and "中小学课后服务全覆盖" not in page
    assert 'id="missing-reports"' in form and "2026年4月" in form
    # The overdue period is the one the form proposes first.
    assert 'value="2026-04" selected' in form
    assert as_user(world.supervisor).get(reverse("projects:reports")).status_code == 403


def test_the_supervisor_returns_a_report(world: World) -> None:
    with time_machine.travel(NOW, tick=False):
        report = actions.submit_report(
            world.project.pk,
            by=world.handler,
            period=dt.date(2026, 6, 1),
            text="本月开工铺设。",
            percent=20,
        )
        client = as_user(world.supervisor)
        url = reverse("projects:return_report", args=[world.project.pk, report.pk])
        client.post(url, {"reason": ""})
        report.refresh_from_db()
        assert report.state == "submitted"
        client.post(url, {"reason": "数据与现场不符，请核实后重报"})
    report.refresh_from_db()
    assert report.state == "returned" and report.returned_reason == "数据与现场不符，请核实后重报"
    assert as_user(world.handler).post(url, {"reason": "随便退回一下"}).status_code == 403
    report.refresh_from_db()
    assert report.returned_by == world.supervisor


# ---------------------------------------------------------------- the ledger


def test_the_ledger_filters_by_unit_status_and_step(world: World) -> None:
    actions.escalate(
        world.project.pk, by=world.supervisor, step=EscalationStep.URGE, text="请加快设计招标进度"
    )
    client = as_user(world.supervisor)
    url = reverse("projects:ledger")
    with time_machine.travel(NOW, tick=False):
        ReportDue.objects.create(
            project=world.project, period=dt.date(2026, 4, 1), due=dt.date(2026, 5, 8)
        )
        row = text_of(client.get(url)).split(f'data-project="{world.project.code}"')[1]
        assert "1 期" in row.split("</tr>")[0]
        ReportDue.objects.all().delete()
        page = text_of(client.get(url))
        assert "两水厂连通管网工程" in page and "中小学课后服务全覆盖" in page
        assert "pstep-urge" in page and "完成设计招标" in page  # the late milestone
        assert "pstatus-missing" not in page
        urged = text_of(client.get(url, {"step": "urge"}))
        assert "两水厂连通管网工程" in urged and "中小学课后服务全覆盖" not in urged
        none = text_of(client.get(url, {"step": "none"}))
        assert "两水厂连通管网工程" not in none and "中小学课后服务全覆盖" in none
        by_unit = text_of(client.get(url, {"unit": world.other.pk}))
        assert "两水厂连通管网工程" not in by_unit
        # The export link carries the filters.
        assert "export.xlsx?unit=" in by_unit
    assert as_user(world.leader).get(url).status_code == 200
    assert as_user(world.head).get(url).status_code == 403


def test_the_ledger_export_is_scoped_masked_and_audited(world: World) -> None:
    client = as_user(world.leader)
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("projects:ledger_export"), {"unit": world.unit.pk})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    projects, milestones = book.worksheets
    rows = list(projects.iter_rows(values_only=True))
    assert rows[0][0] == "项目编号" and len(rows) == 2
    assert rows[1][2] == "两水厂连通管网工程" and rows[1][8] == "139****5678"
    plan = list(milestones.iter_rows(values_only=True))
    assert [r[4] for r in plan[1:]] == ["完成设计招标", "开工铺设", "铺设过半"]
    assert plan[1][6] == "滞后" and plan[3][6] == "未到期"
    event = AuditEvent.objects.get(action="projects.exported")
    assert event.actor == world.leader
    assert event.after["rows"] == 1 and event.after["personal"] is False
    assert event.after["filters"] == {"unit": str(world.unit.pk)}
    # The supervisor may see the contact: the file carries it, and the audit says so.
    full = as_user(world.supervisor).get(reverse("projects:ledger_export"))
    rows = list(load_workbook(io.BytesIO(full.content)).worksheets[0].iter_rows(values_only=True))
    assert "13912345678" in [r[8] for r in rows]
    assert AuditEvent.objects.filter(action="projects.exported", after__personal=True).exists()
    assert as_user(world.handler).get(reverse("projects:ledger_export")).status_code == 403


def test_issuing_steps_from_the_escalation_page(world: World) -> None:
    client = as_user(world.supervisor)
    url = reverse("projects:escalate", args=[world.project.pk])
    with time_machine.travel(NOW, tick=False):
        page = text_of(client.get(url))
        assert "下达督办" in page and "完成设计招标" in page
        no_due = client.post(url, {"step": "time_limit", "text": "请于限期内完成铺设"})
        assert no_due.status_code == 400 and "限期办结须写明办结期限" in text_of(no_due)
        limited = client.post(
            url, {"step": "time_limit", "text": "请于限期内完成铺设", "due": "2026-07-31"}
        )
        assert limited.status_code == 302
        march = world.project.milestones.get(title="完成设计招标")
        written = client.post(
            url,
            {
                "step": "written",
                "text": "设计招标滞后，请书面说明原因并整改。",
                "milestone": march.pk,
            },
        )
        assert written.status_code == 302
        twice = client.post(
            url,
            {
                "step": "written",
                "text": "设计招标滞后，请书面说明原因并整改。",
                "milestone": march.pk,
            },
        )
        assert twice.status_code == 400 and "未办结" in text_of(twice)
    steps = Escalation.objects.filter(project=world.project)
    assert {e.step for e in steps} == {"time_limit", "written"}
    document = steps.get(step="written")
    assert document.doc_number and document.issued_by == world.supervisor
    assert document.milestone == march
    after = text_of(client.get(url))
    assert document.doc_number in after and "下载文书（PDF）" in after

    pdf = client.get(reverse("projects:escalation_pdf", args=[document.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    # The unit it is addressed to may read it; another unit may not even see it exists.
    assert (
        as_user(world.handler)
        .get(reverse("projects:escalation_pdf", args=[document.pk]))
        .status_code
        == 200
    )
    assert (
        as_user(world.stranger)
        .get(reverse("projects:escalation_pdf", args=[document.pk]))
        .status_code
        == 404
    )
    # A step without a document says so instead of failing.
    limit = steps.get(step="time_limit")
    no_pdf = client.get(reverse("projects:escalation_pdf", args=[limit.pk]), follow=True)
    assert no_pdf.status_code == 200 and no_pdf.redirect_chain

    resolve = client.post(
        reverse("projects:resolve", args=[limit.pk]), {f"r{limit.pk}-resolution": "已按期完成铺设"}
    )
    assert resolve.status_code == 302
    limit.refresh_from_db()
    assert limit.resolved_at is not None and limit.resolution == "已按期完成铺设"


def test_recording_an_interview(world: World) -> None:
    client = as_user(world.supervisor)
    with time_machine.travel(NOW, tick=False):
        client.post(
            reverse("projects:escalate", args=[world.project.pk]),
            {"step": "interview", "text": "连续两个月滞后，约谈县水利局主要负责人。"},
        )
        interview = Escalation.objects.get(step="interview")
        page = text_of(client.get(reverse("projects:escalate", args=[world.project.pk])))
        assert "记录约谈" in page
        url = reverse("projects:interview", args=[interview.pk])
        prefix = f"i{interview.pk}-"
        future = client.post(
            url,
            {
                prefix + "held_on": "2026-07-01",
                prefix + "attendees": "王局长",
                prefix + "agreed": "六月底前完成",
            },
        )
        assert future.status_code == 400 and "约谈日期不能晚于今天" in text_of(future)
        done = client.post(
            url,
            {
                prefix + "held_on": "2026-06-17",
                prefix + "attendees": "县水利局局长王某、分管副局长",
                prefix + "agreed": "七月底前完成铺设过半，每周报送进度。",
            },
        )
    assert done.status_code == 302
    interview.refresh_from_db()
    assert interview.held_on == dt.date(2026, 6, 17) and "分管副局长" in interview.attendees
    assert "每周报送进度" in text_of(
        client.get(reverse("projects:detail", args=[world.project.pk]))
    )
    assert as_user(world.handler).post(url, {}).status_code == 403


# ---------------------------------------------------------------- 销号


def test_closeout_applied_rejected_reapplied_and_accepted(world: World, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    url = reverse("projects:closeout", args=[world.project.pk])
    # A handler (not the head) and the co-unit's staff cannot apply.
    assert as_user(world.handler).get(url).status_code == 403
    head = as_user(world.head)
    short = head.post(url, {"step": "apply", "evidence": "完成了"})
    assert short.status_code == 400 and "请至少写10个字" in text_of(short)
    applied = head.post(
        url,
        {
            "step": "apply",
            "evidence": "管网14.5公里全部铺设完成并通水验收。",
            "uploads": [png("通水.png")],
        },
    )
    assert applied.status_code == 302
    closeout = CloseOut.objects.get()
    assert closeout.attachments.count() == 1
    world.project.refresh_from_db()
    assert world.project.state == ProjectState.APPLIED

    supervisor = as_user(world.supervisor)
    page = text_of(supervisor.get(url))
    assert "管网14.5公里全部铺设完成" in page and "通水.png" in page
    no_reason = supervisor.post(url, {"step": "decide", "decision": "reject", "reason": ""})
    assert no_reason.status_code == 400 and "退回时请写明原因" in text_of(no_reason)
    supervisor.post(url, {"step": "decide", "decision": "reject", "reason": "缺少通水验收报告"})
    world.project.refresh_from_db()
    assert world.project.state == ProjectState.ACTIVE

    head.post(url, {"step": "apply", "evidence": "补充了通水验收报告，管网全部完成。"})
    supervisor.post(url, {"step": "decide", "decision": "accept", "reason": ""})
    world.project.refresh_from_db()
    assert (
        world.project.state == ProjectState.CLOSED and world.project.closed_by == world.supervisor
    )
    history = text_of(head.get(reverse("projects:detail", args=[world.project.pk])))
    assert "缺少通水验收报告" in history and "验收通过" in history
    # A stale page posting again is told, not shown an error page.
    stale = head.post(
        url, {"step": "apply", "evidence": "再次申请销号，说明完成情况。"}, follow=True
    )
    assert stale.status_code == 200 and "项目状态已变化" in text_of(stale)


# ---------------------------------------------------------------- the plan in Excel


def test_the_plan_import_page_reports_row_errors_and_imports(world: World) -> None:
    client = as_user(world.supervisor)
    url = reverse("projects:plan_import")
    page = text_of(client.get(url))
    assert "下载模板" in page and "只导入无误的项目" in page
    template = client.get(reverse("projects:plan_template"))
    assert template.status_code == 200 and template.content[:2] == b"PK"
    sample = client.get(reverse("projects:plan_sample"))
    assert sample.status_code == 200 and b"".join(sample.streaming_content)[:2] == b"PK"
    not_excel = client.post(url, {"file": SimpleUploadedFile("plan.csv", b"a,b")})
    assert not_excel.status_code == 400 and "请上传 .xlsx 格式的 Excel 文件" in text_of(not_excel)

    exported = client.get(reverse("projects:plan_export"), {"batch": world.batch.pk})
    assert exported.status_code == 200
    assert AuditEvent.objects.filter(action="projects.exported", after__table="plan").exists()
    book = load_workbook(io.BytesIO(exported.content))
    sheet = book["项目"]
    header = [c.value for c in sheet[1]]
    code_col, title_col = header.index("项目编号") + 1, header.index("项目名称") + 1
    rows = {sheet.cell(row=r, column=code_col).value: r for r in range(2, sheet.max_row + 1)}
    # The water project loses its title; the school one gets a new one.
    sheet.cell(row=rows[world.project.code], column=title_col, value="")
    sheet.cell(row=rows[world.other_project.code], column=title_col, value="中小学课后延时服务")
    broken = io.BytesIO()
    book.save(broken)
    errors = client.post(url, {"file": SimpleUploadedFile("plan.xlsx", broken.getvalue())})
    body = text_of(errors)
    assert errors.status_code == 400 and "未写入任何数据" in body
    table = body.split('id="import-errors"')[1].split("</table>")[0]
    assert "项目名称" in table and f"<td>{rows[world.project.code]}</td>" in table
    assert Project.objects.get(pk=world.other_project.pk).title == "中小学课后服务全覆盖"

    kept = client.post(
        url, {"file": SimpleUploadedFile("plan.xlsx", broken.getvalue()), "keep_valid": "on"}
    )
    body = text_of(kept)
    assert kept.status_code == 400 and 'id="import-errors"' in body
    assert world.other_project.code in body.split('id="import-result"')[1]
    assert Project.objects.get(pk=world.other_project.pk).title == "中小学课后延时服务"
    assert Project.objects.get(pk=world.project.pk).title == "两水厂连通管网工程"

    ok = client.post(url, {"file": SimpleUploadedFile("plan.xlsx", exported.content)})
    assert ok.status_code == 200 and 'id="import-errors"' not in text_of(ok)
    assert Project.objects.get(pk=world.other_project.pk).title == "中小学课后服务全覆盖"
    assert as_user(world.handler).get(url).status_code == 403


def test_a_big_plan_is_imported_by_the_worker_while_the_page_follows(
    world: World, settings, monkeypatch
) -> None:
    from minsheng.core import jobs
    from minsheng.core.models import LongJob
    from minsheng.projects import plan_io
    from minsheng.projects.views import plans

    client = as_user(world.supervisor)
    url = reverse("projects:plan_import")
    exported = client.get(reverse("projects:plan_export"), {"batch": world.batch.pk}).content
    book = load_workbook(io.BytesIO(exported))
    sheet = book["项目"]
    header = [c.value for c in sheet[1]]
    code_col, title_col = header.index("项目编号") + 1, header.index("项目名称") + 1
    for r in range(2, sheet.max_row + 1):
        if sheet.cell(row=r, column=code_col).value == world.other_project.code:
            sheet.cell(row=r, column=title_col, value="中小学课后延时服务")
    changed = io.BytesIO()
    book.save(changed)

    # A job still queued: the page polls itself and shows the bar.
    queued = jobs.create(plan_io.JOB_KIND, "导入配档表 x.xlsx", started_by=world.supervisor)
    waiting = text_of(client.get(url, {"job": queued.pk}))
    assert 'id="import-job"' in waiting and "hx-trigger" in waiting and "<progress" in waiting
    # Someone else's job is not shown.
    other = as_user(UserFactory(role=Role.SUPERVISOR))
    assert 'id="import-job"' not in text_of(other.get(url, {"job": queued.pk}))

    monkeypatch.setattr(plans, "BACKGROUND_BYTES", 10)
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
            "ENQUEUE_ON_COMMIT": False,
        }
    }
    response = client.post(url, {"file": SimpleUploadedFile("plan.xlsx", changed.getvalue())})
    job = LongJob.objects.filter(kind=plan_io.JOB_KIND).latest("pk")
    assert response.status_code == 302 and response["Location"] == f"{url}?job={job.pk}"
    assert job.status == LongJob.Status.DONE and job.done == job.total > 0
    assert Project.objects.get(pk=world.other_project.pk).title == "中小学课后延时服务"
    assert not list((settings.VAR_DIR / "imports").glob("plan-*"))
    done = text_of(client.get(response["Location"]))
    assert 'id="import-result"' in done and "hx-trigger" not in done
    assert world.other_project.code in done.split('id="import-result"')[1]
