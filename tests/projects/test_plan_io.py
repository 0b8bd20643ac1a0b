"""Excel import/export of projects with their plans (配档表)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from openpyxl import load_workbook

from minsheng.appeals.states import State as AppealState
from minsheng.core import jobs
from minsheng.core.models import Department, LongJob, Role
from minsheng.projects import actions, plan_io
from minsheng.projects.models import Batch, Milestone, Project, ProjectCategory
from minsheng.projects.plan_io import MILESTONES, PROJECTS, TARGETS
from minsheng.projects.states import ProjectState
from tests.appeals.factories import appeal_in, make_cast
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# The demo county's units the shipped sample names (full name, short name, kind).
UNITS = [
    ("示范县民政局", "县民政局", Department.Kind.COUNTY),
    ("示范县教育局", "县教育局", Department.Kind.COUNTY),
    ("示范县住房和城乡建设局", "县住建局", Department.Kind.COUNTY),
    ("示范县自然资源局", "县自然资源局", Department.Kind.COUNTY),
    ("示范县生态环境分局", "县生态环境分局", Department.Kind.COUNTY),
    ("示范县医疗保障局", "县医保局", Department.Kind.COUNTY),
    ("城关镇人民政府", "城关镇", Department.Kind.TOWN),
    ("石桥镇人民政府", "石桥镇", Department.Kind.TOWN),
]


@pytest.fixture
def units(db):
    return {
        short: Department.objects.create(code=f"u{i}", name=name, short_name=short, kind=kind)
        for i, (name, short, kind) in enumerate(UNITS)
    }


@pytest.fixture
def supervisor(db):
    return UserFactory(role=Role.SUPERVISOR, department=None)


def _cells(data: bytes) -> dict[str, list[tuple[object, ...]]]:
    workbook = load_workbook(io.BytesIO(data))
    return {
        ws.title: [tuple(cell.value for cell in row) for row in ws.iter_rows()]
        for ws in workbook.worksheets
    }


def _project(code: str = "2026-1-01", **changes: object) -> list[object]:
    values: dict[str, object] = {
        "batch": "2026年第一批",
        "code": code,
        "title": "城乡供水管网互联互通工程",
        "category": "城乡建设",
        "lead_unit": "县住建局",
        "co_units": "县自然资源局",
        "leader_name": "陈志强",
        "contact_name": "周丽娟",
        "contact_phone": "13800000003",
        "measures": "铺设14.5公里供水主管网",
        "budget": 1850.5,
        "source": "部门申报",
        "source_appeals": None,
        "deadline": dt.date(2026, 11, 30),
    }
    values.update(changes)
    return [values[c.key] for c in PROJECTS.columns]


def _target(code: str = "2026-1-01", **changes: object) -> list[object]:
    values: dict[str, object] = {
        "project": code,
        "name": "铺设供水主管网",
        "unit": "公里",
        "planned": 14.5,
    }
    values.update(changes)
    return [values[c.key] for c in TARGETS.columns]


def _milestone(code: str = "2026-1-01", **changes: object) -> list[object]:
    values: dict[str, object] = {
        "project": code,
        "month": "2026年6月",
        "title": "铺设东段管网",
        "expected": "东段完工",
        "planned_percent": 40,
        "target": "铺设供水主管网",
        "target_value": 6,
        "due": None,
    }
    values.update(changes)
    return [values[c.key] for c in MILESTONES.columns]


def _workbook(projects: list, targets: list, milestones: list) -> bytes:
    return plan_io.build_workbook(
        {PROJECTS.name: projects, TARGETS.name: targets, MILESTONES.name: milestones},
        [],
        [],
    )


# --- the shipped files ------------------------------------------------------------------------


def test_shipped_template_and_sample_are_current():
    """Regenerate with plan_io.write_data_files() when the layout or the sample changes."""
    assert _cells(plan_io.TEMPLATE_PATH.read_bytes()) == _cells(plan_io.build_template())
    assert _cells(plan_io.SAMPLE_PATH.read_bytes()) == _cells(plan_io.build_sample())


def test_template_has_the_categories_as_a_drop_down(units):
    workbook = load_workbook(io.BytesIO(plan_io.export_template()))
    assert workbook.sheetnames == ["项目", "量化指标", "配档表", "填表说明", "选项"]
    projects = workbook["项目"]
    assert [c.value for c in projects[1]] == [c.label for c in PROJECTS.columns]
    formulas = {v.formula1 for v in projects.data_validations.dataValidation}
    assert "'选项'!$A$2:$A$11" in formulas  # the ten seeded categories
    options = workbook["选项"]
    assert [options.cell(row=r, column=1).value for r in range(2, 4)] == ["乡村振兴", "就业创业"]
    assert "示范县民政局" in [options.cell(row=r, column=3).value for r in range(2, 20)]
    assert projects["B2"].number_format == "@"  # codes stay text in Excel


def test_sample_imports_into_the_demo_county(units, supervisor):
    result = plan_io.import_plan(plan_io.SAMPLE_PATH, supervisor)

    assert result.ok, [str(e) for e in result.errors]
    assert result.written
    assert result.created == ["2026-1-01", "2026-1-02", "2026-1-03", "2026-1-04"]
    assert result.batches_created == ["2026年第一批我为群众办实事项目"]
    assert result.filename == "plan-sample.xlsx"
    pipeline = Project.objects.get(code="2026-1-03")
    assert pipeline.state == ProjectState.DRAFT
    assert pipeline.lead_unit == units["县住建局"]
    assert set(pipeline.co_units.all()) == {units["县自然资源局"], units["县生态环境分局"]}
    assert pipeline.budget == Decimal("1850.50")
    assert pipeline.contact_phone == "13800000003"
    assert [(t.name, t.unit, t.planned) for t in pipeline.targets.all()] == [
        ("铺设供水主管网", "公里", Decimal("14.50")),
        ("连通水厂", "座", Decimal("2.00")),
    ]
    milestones = list(pipeline.milestones.all())
    assert [m.month for m in milestones] == [
        dt.date(2026, 3, 1),
        dt.date(2026, 6, 1),
        dt.date(2026, 9, 1),
        dt.date(2026, 11, 1),
    ]
    assert milestones[1].target is not None and milestones[1].target.name == "铺设供水主管网"
    assert milestones[1].target_value == Decimal("6.00")
    assert milestones[1].planned_percent == 40
    assert milestones[1].due == dt.date(2026, 6, 30)  # the month's last working day
    explicit = Milestone.objects.get(project__code="2026-1-02", title="全部改造完成并验收")
    assert explicit.due == dt.date(2026, 9, 25)
    towns = Project.objects.get(code="2026-1-02")
    assert set(towns.co_units.all()) == {units["城关镇"], units["石桥镇"]}


def test_export_import_export_gives_identical_cells(units, supervisor):
    plan_io.import_plan(plan_io.SAMPLE_PATH, supervisor)
    first = plan_io.export_plan(Project.objects.all())

    Project.objects.all().delete()
    Batch.objects.all().delete()
    result = plan_io.import_plan(first, supervisor)
    assert result.ok, [str(e) for e in result.errors]
    second = plan_io.export_plan(Project.objects.all())

    assert _cells(first) == _cells(second)
    projects = _cells(first)["项目"]
    assert projects[1][:5] == (
        "2026年第一批",
        "2026-1-01",
        "设立困难妇女儿童救助基金",
        "社会保障",
        "示范县民政局",
    )
    assert len(_cells(first)["配档表"]) >= 15


def test_errors_are_reported_by_sheet_row_and_column_and_nothing_is_written(units, supervisor):
    data = _workbook(
        [
            _project("2026-1-01", lead_unit="县水务局"),
            _project("2026-1-02", category="交通出行", deadline="2026-13-40"),
            _project("2026-1-03"),
            _project("2026-1-03", title="另一个项目"),
            _project("2026-1-04", budget="十万", contact_phone="12345", batch="第一批"),
            _project("2026-1-05"),
        ],
        [
            _target("2026-1-05", planned="很多"),
            _target("2026-1-05", name="连通水厂", unit="座", planned=2),
            _target("2026-1-05", name="连通水厂", unit="座", planned=2),
            _target("2026-1-99"),
        ],
        [
            _milestone("2026-1-05", month="2025年12月", target=None, target_value=None),
            _milestone("2026-1-05", month="2026年7月", target="管网长度"),
            _milestone(
                "2026-1-05",
                month="2026年8月",
                planned_percent=30,
                target="连通水厂",
                target_value=1,
            ),
            _milestone(
                "2026-1-05", month="2026年9月", planned_percent=130, target=None, target_value=None
            ),
            _milestone("2026-1-05", month="下个月", due="2026-12-31"),
        ],
    )

    result = plan_io.import_plan(data, supervisor)

    messages = [str(e) for e in result.errors]
    expected = [
        "「项目」表第2行「牵头单位」：系统中没有“县水务局”这个单位",
        "「项目」表第3行「类别」：没有“交通出行”这个类别，应为：乡村振兴、就业创业、社会保障、生态环境、公共安全、医疗卫生、文化教育、营商环境、城乡建设、其他",
        "「项目」表第3行「完成时限」：“2026-13-40”不是有效日期，应写成“2026-06-30”",
        "「项目」表第4行「项目编号」：编号“2026-1-03”与第5行重复",
        "「项目」表第5行「项目编号」：编号“2026-1-03”与第4行重复",
        "「项目」表第6行「批次」：“第一批”不是批次，应写成“2026年第一批”或“2026-1”",
        "「项目」表第6行「联系电话」：“12345”不是11位手机号码",
        "「项目」表第6行「预算(万元)」：“十万”不是数字",
        "「量化指标」表第2行「目标值」：“很多”不是数字",
        "「量化指标」表第4行「指标名称」：本项目已有指标“连通水厂”",
        "「量化指标」表第5行「项目编号」：“项目”表中没有编号为“2026-1-99”的项目",
        "「配档表」表第2行「月份」：2025年12月不在项目实施期内（2026年1月至2026年11月）",
        "「配档表」表第3行「对应指标」：“量化指标”表中本项目没有“管网长度”这个指标",
        "「配档表」表第4行「计划累计进度(%)」：计划累计进度不能比前一个月份的40%少",
        "「配档表」表第5行「计划累计进度(%)」：“130”应为0到100的整数",
        "「配档表」表第6行「月份」：“下个月”不是月份，应写成“2026年3月”或“2026-03”",
        "「配档表」表第6行「完成期限」：完成期限晚于项目完成时限",
    ]
    for line in expected:
        assert line in messages, line
    assert [m for m in messages if m not in expected] == []
    assert not result.written
    assert "未写入任何数据" in result.summary
    assert Project.objects.count() == 0
    assert Batch.objects.count() == 0
    assert result.as_dict()["errors"][0]["sheet"] == "项目"


def test_keep_valid_writes_only_the_valid_projects_each_with_its_plan(units, supervisor):
    data = _workbook(
        [_project("2026-1-01"), _project("2026-1-02", title="零工市场建设", lead_unit="县民政局")],
        [_target("2026-1-01"), _target("2026-1-02", name="提供岗位", unit="个", planned=500)],
        [
            _milestone("2026-1-01"),
            _milestone("2026-1-02", target="提供岗位", target_value=100),
            _milestone("2026-1-02", month="2026年7月", title="", target=None, target_value=None),
        ],
    )

    refused = plan_io.import_plan(data, supervisor)
    assert [str(e) for e in refused.errors] == ["「配档表」表第4行「节点任务」：不能为空"]
    assert Project.objects.count() == 0

    result = plan_io.import_plan(data, supervisor, keep_valid=True)

    assert result.written
    assert result.created == ["2026-1-01"]
    assert result.valid == 1
    assert "跳过有错误的 1 个" in result.summary
    project = Project.objects.get()
    assert project.targets.count() == 1
    assert project.milestones.get().title == "铺设东段管网"


def test_existing_codes_are_updated_and_their_plan_replaced(units, supervisor):
    plan_io.import_plan(plan_io.SAMPLE_PATH, supervisor)
    project = Project.objects.get(code="2026-1-03")
    version = project.version
    data = _workbook(
        [_project("2026-1-03", title="城乡供水管网互联互通工程（调整）", budget=2000)],
        [_target("2026-1-03")],
        [_milestone("2026-1-03"), _milestone("2026-1-03", month="2026-10", title="全线贯通")],
    )

    result = plan_io.import_plan(data, supervisor)

    assert result.ok and result.updated == ["2026-1-03"] and result.created == []
    project.refresh_from_db()
    assert project.title == "城乡供水管网互联互通工程（调整）"
    assert project.budget == Decimal("2000.00")
    assert project.version > version
    assert list(project.targets.values_list("name", flat=True)) == ["铺设供水主管网"]
    assert list(project.milestones.values_list("title", flat=True)) == ["铺设东段管网", "全线贯通"]


def test_closed_or_moved_projects_cannot_be_reimported(units, supervisor):
    plan_io.import_plan(plan_io.SAMPLE_PATH, supervisor)
    Project.objects.filter(code="2026-1-01").update(state=ProjectState.CLOSED)
    data = _workbook(
        [
            _project("2026-1-01"),
            _project("2026-1-03", batch="2026-2"),
        ],
        [],
        [],
    )
    messages = [str(e) for e in plan_io.import_plan(data, supervisor).errors]
    assert "「项目」表第2行「项目编号」：项目2026-1-01当前为“已销号”，不能再修改" in messages
    assert (
        "「项目」表第3行「批次」：项目2026-1-03已属于“2026年第一批我为群众办实事项目”，"
        "不能改到其他批次" in messages
    )
    assert "「项目」表第3行「项目编号」：编号应以“2026-2-”开头（年度-批次-序号）" in messages


def test_promoted_appeals_are_linked(units, supervisor):
    cast = make_cast()
    promoted = appeal_in(AppealState.PROMOTED, cast)
    received = appeal_in(AppealState.RECEIVED, cast)
    data = _workbook(
        [_project(source="群众诉求转办", source_appeals=f"{promoted.number}、{received.number}")],
        [],
        [],
    )
    messages = [str(e) for e in plan_io.import_plan(data, supervisor).errors]
    assert messages == [f"「项目」表第2行「来源诉求编号」：诉求{received.number}还没有转为实事项目"]

    data = _workbook([_project(source="群众诉求转办", source_appeals=promoted.number)], [], [])
    assert plan_io.import_plan(data, supervisor).ok
    project = Project.objects.get()
    assert project.source == "appeal"
    assert list(project.source_appeals.all()) == [promoted]
    exported = _cells(plan_io.export_plan(Project.objects.all()))["项目"][1]
    assert exported[12] == promoted.number


def test_only_managers_may_import(units):
    handler = UserFactory(role=Role.HANDLER, department=units["县民政局"])
    with pytest.raises(PermissionDenied):
        plan_io.import_plan(plan_io.SAMPLE_PATH, handler)


def test_unreadable_files_and_missing_sheets(supervisor):
    result = plan_io.import_plan(b"not a workbook", supervisor)
    assert result.fatal.startswith("无法读取 Excel 文件")
    assert "无法导入" in result.summary

    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.title = "项目"
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = plan_io.import_plan(buffer.getvalue(), supervisor)
    assert "缺少工作表：量化指标、配档表" in result.fatal

    headless = _workbook([], [], [])
    assert plan_io.import_plan(headless, supervisor).fatal == "“项目”表中没有项目"


def test_columns_are_found_by_header_in_any_order(units, supervisor):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "项目"
    sheet.append(["完成时限", "编号", "项目名称", "类别", "牵头单位", "批次"])
    sheet.append(["2026/6/30", "2026-1-07", "零工市场建设", "就业创业", "示范县民政局", "2026-1"])
    workbook.create_sheet("量化指标").append(["项目编号", "指标名称", "计量单位", "目标值"])
    workbook.create_sheet("配档表").append(["项目编号", "月份", "节点任务"])
    workbook["配档表"].append(["2026-1-07", dt.datetime(2026, 5, 1), "市场开业"])
    buffer = io.BytesIO()
    workbook.save(buffer)

    result = plan_io.import_plan(io.BytesIO(buffer.getvalue()), supervisor)

    assert result.ok, [str(e) for e in result.errors]
    project = Project.objects.get(code="2026-1-07")
    assert project.deadline == dt.date(2026, 6, 30)
    assert project.category == ProjectCategory.objects.get(name="就业创业")
    assert project.milestones.get().due == dt.date(2026, 5, 29)


def test_progress_is_reported_row_by_row(units, supervisor):
    job = jobs.create(plan_io.JOB_KIND, "导入配档表", started_by=supervisor)
    seen: list[int] = []
    original = jobs.Progress.advance

    def advance(self: jobs.Progress, n: int = 1, *, message: str | None = None) -> None:
        original(self, n, message=message)
        seen.append(self.job.done)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jobs.Progress, "advance", advance)
        result = plan_io.import_plan_job(job.pk, plan_io.SAMPLE_PATH, supervisor)

    assert result.ok
    assert seen == list(range(1, 4 + 5 + 14 + 1))  # every row of the three sheets
    job.refresh_from_db()
    assert job.status == LongJob.Status.DONE
    assert job.total == job.done == 23
    assert job.result["created"] == ["2026-1-01", "2026-1-02", "2026-1-03", "2026-1-04"]
    assert job.message == result.summary


def test_a_job_fails_on_an_unreadable_file(supervisor):
    job = jobs.create(plan_io.JOB_KIND, "导入配档表", started_by=supervisor)
    plan_io.import_plan_job(job.pk, b"PK-not-really", supervisor)
    job.refresh_from_db()
    assert job.status == LongJob.Status.FAILED
    assert job.message.startswith("无法导入：无法读取 Excel 文件")
    assert job.result["fatal"]


def test_actions_refusing_inside_the_write_leave_nothing(units, supervisor, monkeypatch):
    def refuse(*args: object, **kwargs: object) -> None:
        raise actions.Conflict("该项目刚刚已被他人修改")

    monkeypatch.setattr(actions, "set_plan", refuse)
    result = plan_io.import_plan(plan_io.SAMPLE_PATH, supervisor)
    assert result.fatal == "该项目刚刚已被他人修改"
    assert not result.written and result.created == []
    assert Project.objects.count() == 0
    assert Batch.objects.count() == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026年第一批", (2026, 1)),
        ("2026年第十二批", (2026, 12)),
        ("2026年度第2批我为群众办实事项目", (2026, 2)),
        ("2026-3", (2026, 3)),
    ],
)
def test_batch_labels(text, expected):
    assert plan_io.parse_batch(text) == expected


def test_numbers_months_and_labels():
    assert plan_io.batch_label(2026, 1) == "2026年第一批"
    assert [plan_io.chinese_number(n) for n in (1, 10, 12, 20, 21)] == [
        "一",
        "十",
        "十二",
        "二十",
        "二十一",
    ]
    assert plan_io.parse_month("2026-03") == dt.date(2026, 3, 1)
    assert plan_io.parse_month("2026年3月") == dt.date(2026, 3, 1)
    assert plan_io.parse_month(dt.datetime(2026, 3, 17)) == dt.date(2026, 3, 1)
    assert plan_io.parse_decimal(14.5) == Decimal("14.50")
    with pytest.raises(ValueError, match="最多保留两位小数"):
        plan_io.parse_decimal("1.234")
    assert plan_io.number_cell(Decimal("20000.00")) == 20000
    assert plan_io.number_cell(Decimal("14.50")) == 14.5
