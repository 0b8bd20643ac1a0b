"""实事项目 in a real browser: a unit reports its month from the phone (errors in Chinese
first, then with a photo), and the supervisor filters the ledger, issues a step from it and
downloads the filtered Excel export."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from PIL import Image
from playwright.sync_api import Page, expect

from minsheng.core.models import AuditEvent, Role
from minsheng.projects import actions, ledger
from minsheng.projects.actions import MilestoneIn, TargetIn
from minsheng.projects.models import Escalation, ProgressReport, Project, ProjectCategory
from tests.e2e.conftest import TIMEOUT_MS
from tests.factories import PASSWORD, DepartmentFactory, UserFactory

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    expect.set_options(timeout=TIMEOUT_MS)
    yield
    expect.set_options(timeout=5_000)


def log_in(page: Page, username: str) -> None:
    page.context.clear_cookies()
    page.goto(reverse("core:login"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    expect(page.locator(f"form[action='{reverse('core:logout')}']")).to_be_attached()


def make_projects():  # type: ignore[no-untyped-def]
    """Two projects of two units; the water one has a milestone two months late."""
    water = DepartmentFactory(name="县水利局")
    school = DepartmentFactory(name="县教育局")
    supervisor = UserFactory(username="e2e-supervisor", role=Role.SUPERVISOR)
    handler = UserFactory(username="e2e-water", role=Role.HANDLER, department=water)
    today = timezone.localdate()
    batch = actions.create_batch(
        by=supervisor, year=today.year, number=1, title="第一批我为群众办实事项目"
    )
    project = actions.create_project(
        by=supervisor,
        batch=batch,
        title="两水厂连通管网工程",
        category=ProjectCategory.objects.get(name="城乡建设"),
        lead_unit=water,
        deadline=today + dt.timedelta(days=240),
        contact_phone="13912345678",
        start=True,
    )
    actions.set_plan(
        project.pk,
        by=supervisor,
        targets=[TargetIn("铺设管网", "公里", Decimal("14.5"))],
        milestones=[
            MilestoneIn(ledger.add_months(today, -2), "完成设计招标", planned_percent=10),
            MilestoneIn(ledger.add_months(today, 2), "铺设过半", planned_percent=60),
        ],
    )
    other = actions.create_project(
        by=supervisor,
        batch=batch,
        title="中小学课后服务全覆盖",
        category=ProjectCategory.objects.get(name="文化教育"),
        lead_unit=school,
        deadline=today + dt.timedelta(days=120),
        start=True,
    )
    return supervisor, handler, water, Project.objects.get(pk=project.pk), other


def test_the_unit_reports_its_progress_from_the_phone(page: Page, tmp_path: Path) -> None:
    _supervisor, handler, _water, project, _other = make_projects()
    photo = tmp_path / "工地.png"
    Image.new("RGB", (40, 30), "green").save(photo)

    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, handler.username)
    page.goto(reverse("projects:reports"))
    page.get_by_role("link", name="两水厂连通管网工程").click()
    expect(page.locator("h1")).to_have_text("填报进度")
    form = page.locator("#report-form")
    form.get_by_label("本期进展情况").fill("太短")
    form.get_by_label("总体完成进度（%）").fill("150")
    form.get_by_label("铺设管网累计完成（公里，计划14.5）").fill("3.5")
    form.get_by_role("button", name="提交进展报告").click()
    expect(page.locator(".errorlist").first).to_be_visible()
    expect(form).to_contain_text("完成进度应在0到100之间")
    expect(form).to_contain_text("请至少写10个字")
    assert not ProgressReport.objects.exists()

    form = page.locator("#report-form")
    form.get_by_label("本期进展情况").fill("完成管网铺设3.5公里，设计招标已完成，进度正常。")
    form.get_by_label("总体完成进度（%）").fill("30")
    form.get_by_label("完成设计招标").check()
    form.get_by_label("现场照片").set_input_files(str(photo))
    form.get_by_role("button", name="提交进展报告").click()

    expect(page.locator(".message").first).to_contain_text("已报送")
    expect(page.locator("#reports")).to_contain_text("完成管网铺设3.5公里")
    expect(page.locator("#reports")).to_contain_text("工地.png")
    expect(page.locator("#targets")).to_contain_text("已完成 3.5 / 计划 14.5 公里")
    report = ProgressReport.objects.get()
    assert report.project == project and report.percent_complete == 30
    assert report.attachments.get().kind == "photo"
    assert project.milestones.get(title="完成设计招标").done_at is not None


def test_the_supervisor_filters_the_ledger_escalates_and_exports(page: Page) -> None:
    supervisor, _handler, water, project, other = make_projects()
    log_in(page, supervisor.username)
    page.goto(reverse("projects:ledger"))
    rows = page.locator("#ledger tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator(f"tr[data-project='{project.code}']")).to_contain_text("完成设计招标")

    page.get_by_label("责任单位").select_option(str(water.pk))
    page.get_by_role("button", name="查询").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("两水厂连通管网工程")
    export = page.locator("#ledger-export")
    expect(export).to_have_attribute("href", f"{reverse('projects:ledger_export')}?unit={water.pk}")

    rows.first.get_by_role("link", name="督办").click()
    form = page.locator("#escalate-form")
    # The due date is asked only for 限期办结.
    due = form.locator("input[name=due]")
    expect(due).to_be_hidden()
    form.get_by_label("督办措施").select_option("time_limit")
    expect(due).to_be_visible()
    form.get_by_label("督办措施").select_option("urge")
    expect(due).to_be_hidden()
    form.get_by_label("督办内容").fill("设计招标已滞后两个月，请于五个工作日内完成并报送。")
    form.get_by_role("button", name="下达").click()
    expect(page.locator(".message").first).to_contain_text("已下达催办")
    expect(page.locator("#escalations")).to_contain_text("催办")
    escalation = Escalation.objects.get()
    assert escalation.project == project and escalation.issued_by == supervisor

    page.goto(reverse("projects:ledger") + "?step=urge")
    expect(rows).to_have_count(1)
    expect(rows.first.locator(".pstep-urge")).to_have_text("催办")
    page.goto(reverse("projects:ledger") + f"?unit={water.pk}")
    with page.expect_download() as download_info:
        page.locator("#ledger-export").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    book = load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    titles = [row[2] for row in book.worksheets[0].iter_rows(min_row=2, values_only=True)]
    assert titles == ["两水厂连通管网工程"] and other.title not in titles
    assert AuditEvent.objects.filter(action="projects.exported", actor=supervisor).exists()
