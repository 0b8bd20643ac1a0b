"""Import: the plain layout of the shared catalogue, the full layout, row-level errors,
all-or-nothing, "import the valid rows", upserts, and the command line."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from minsheng.catalog import importer
from minsheng.catalog.models import ServiceMatter, Step
from minsheng.core.models import AuditEvent, Department, Hall, LongJob, Window

from .conftest import SHARED_CATALOG

pytestmark = pytest.mark.django_db

PLAIN_HEADER = (
    "code,name,department,type,window,conditions,materials,time_limit_days,fee,hall_location\n"
)
GOOD_ROWS = (
    "M001,个体工商户设立登记,县市场监督管理局,行政许可,A厅4号窗口,有经营能力的公民。,"
    "个体工商户登记申请书；经营者居民身份证原件；营业执照复印件,0,不收费,市民中心A厅一楼\n"
    "M002,公积金租房提取,县住房公积金管理中心,行政给付,A厅5号窗口、A厅6号窗口,租房自住。,"
    "居民身份证,3,不收费,市民中心A厅一楼\n"
)


def write(tmp_path: Path, text: str, name: str = "catalog.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_plain_layout_creates_matters_departments_and_windows(tmp_path: Path) -> None:
    report = importer.import_file(write(tmp_path, PLAIN_HEADER + GOOD_ROWS))
    assert report.ok and report.written
    assert (report.created, report.updated) == (2, 0)
    m1 = ServiceMatter.objects.get(code="M001")
    assert m1.department.name == "县市场监督管理局"
    assert m1.get_matter_type_display() == "行政许可"
    assert m1.promised_days == 0 and m1.location == "市民中心A厅一楼"
    assert [(m.name, m.kind) for m in m1.materials.all()] == [
        ("个体工商户登记申请书", "original"),
        ("经营者居民身份证原件", "original"),
        ("营业执照复印件", "copy"),
    ]
    assert m1.window_label() == "A厅4号窗口"
    m2 = ServiceMatter.objects.get(code="M002")
    assert sorted(w.number for w in m2.windows.all()) == ["5", "6"]
    assert Hall.objects.get(code="A").name == "A厅"
    assert Window.objects.get(hall__code="A", number="4").department == m1.department
    assert sorted(report.departments_created) == ["县住房公积金管理中心", "县市场监督管理局"]
    # One audit event for the whole import, not one per row.
    events = AuditEvent.objects.filter(action="catalog.imported")
    assert events.count() == 1
    assert events.get().after["created"] == 2
    job = LongJob.objects.get(kind="catalog.import")
    assert job.status == "done" and job.result["created"] == 2


def test_existing_departments_halls_and_windows_are_matched(tmp_path: Path, settings) -> None:
    settings.COUNTY_NAME = "示范县"
    dept = Department.objects.create(
        code="scjgj", name="示范县市场监督管理局", short_name="县市场监管局"
    )
    fund = Department.objects.create(code="gjj", name="示范县住房公积金管理中心")
    hall = Hall.objects.create(code="A", name="一号厅（社会事务）")
    w4 = Window.objects.create(hall=hall, number="04", name="个体登记窗口", department=dept)
    report = importer.import_file(write(tmp_path, PLAIN_HEADER + GOOD_ROWS))
    assert report.ok
    assert report.departments_created == []
    m1 = ServiceMatter.objects.get(code="M001")
    assert m1.department == dept
    assert list(m1.windows.all()) == [w4]  # "4" matches window "04"
    assert ServiceMatter.objects.get(code="M002").department == fund
    assert Hall.objects.count() == 1


BAD_ROWS = (
    "M010,好的事项,县民政局,公共服务,A厅1号窗口,,身份证,5,不收费,\n"
    ",没有编码,县民政局,公共服务,A厅1号窗口,,,1,,\n"
    "M011,类型不对,县民政局,行政审批,A厅1号窗口,,,1,,\n"
    "M012,时限不对,县民政局,公共服务,A厅1号窗口,,,五天,,\n"
    "M013,窗口不对,县民政局,公共服务,一号窗,,,1,,\n"
    "M010,编码重复,县民政局,公共服务,A厅1号窗口,,,1,,\n"
    "M014,,,公共服务,A厅1号窗口,,,1,,\n"
    ",,,,,,,,,\n"
)


def test_errors_are_reported_per_row_and_nothing_is_written(tmp_path: Path) -> None:
    report = importer.import_file(write(tmp_path, PLAIN_HEADER + BAD_ROWS))
    assert not report.written
    assert ServiceMatter.objects.count() == 0
    assert Department.objects.count() == 0 and Hall.objects.count() == 0
    assert not AuditEvent.objects.filter(action="catalog.imported").exists()
    by_line = {e.line: " ".join(e.messages) for e in report.errors}
    assert set(by_line) == {3, 4, 5, 6, 7, 8}
    assert "事项编码不能为空" in by_line[3]
    assert "事项类型“行政审批”不对" in by_line[4]
    assert "“五天”不是工作日数" in by_line[5]
    assert "窗口“一号窗”格式不对" in by_line[6]
    assert "在文件中重复" in by_line[7]
    assert "事项名称不能为空" in by_line[8] and "实施部门不能为空" in by_line[8]
    assert report.total_rows == 7  # the empty line is skipped, not an error
    assert "6 行有错误，未写入任何数据" in report.summary


def test_valid_only_imports_the_good_rows(tmp_path: Path) -> None:
    report = importer.import_file(write(tmp_path, PLAIN_HEADER + BAD_ROWS), valid_only=True)
    assert report.written and report.created == 1
    assert list(ServiceMatter.objects.values_list("code", flat=True)) == ["M010"]
    event = AuditEvent.objects.get(action="catalog.imported")
    assert event.after["skipped_lines"] == [3, 4, 5, 6, 7, 8]
    assert "跳过有错误的 6 行" in report.summary


def test_upsert_changes_only_the_columns_present(tmp_path: Path) -> None:
    importer.import_file(write(tmp_path, PLAIN_HEADER + GOOD_ROWS))
    m1 = ServiceMatter.objects.get(code="M001")
    Step.objects.create(matter=m1, order=1, text="管理员写的步骤")
    m1.consult_phone = "0000-1"
    m1.save()
    changed = GOOD_ROWS.replace("个体工商户设立登记", "个体工商户设立登记（新）")
    report = importer.import_file(write(tmp_path, PLAIN_HEADER + changed))
    assert (report.created, report.updated) == (0, 2)
    m1.refresh_from_db()
    assert m1.name == "个体工商户设立登记（新）"
    assert [s.text for s in m1.steps.all()] == ["管理员写的步骤"]
    assert m1.consult_phone == "0000-1"
    assert ServiceMatter.objects.count() == 2


def test_new_matter_needs_department_and_name(tmp_path: Path) -> None:
    report = importer.import_file(write(tmp_path, "code,fee\nX1,10元\n"))
    assert not report.written
    assert "新事项必须填写实施部门" in report.errors[0].messages[0]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("x.txt", b"code,name\n", "只支持 .xlsx 和 .csv"),
        ("x.csv", b"", "文件是空的"),
        ("x.csv", "名字,部门\n甲,乙\n".encode(), "表头缺少必需的列：事项编码"),
        ("x.xlsx", b"not a zip", "无法读取 Excel 文件"),
        ("x.csv", b"\xff\xfe\x00\x00\xff", "无法识别文件编码"),
    ],
)
def test_unreadable_files_are_refused_cleanly(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    report = importer.import_file(path)
    assert message in report.fatal
    assert not report.written and ServiceMatter.objects.count() == 0
    assert LongJob.objects.get(kind="catalog.import").status == "failed"


def test_gbk_csv_from_excel_is_read(tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes((PLAIN_HEADER + GOOD_ROWS).encode("gb18030"))
    assert importer.import_file(path).created == 2


def test_xlsx_with_chinese_headers(tmp_path: Path) -> None:
    wb = Workbook()
    sheet = wb.active
    sheet.append(
        ["事项编码", "事项名称", "实施部门", "事项类型", "承诺时限", "办理窗口", "高频事项"]
    )
    sheet.append(["X1", "结婚登记", "县民政局", "行政确认", 0, "B厅2号窗口", "是"])
    sheet.append(["X2", "离婚登记", "县民政局", "行政确认", "30个工作日", "B厅2号", "否"])
    buffer = io.BytesIO()
    wb.save(buffer)
    report = importer.import_file("upload.xlsx", data=buffer.getvalue())
    assert report.ok, report.errors
    x1 = ServiceMatter.objects.get(code="X1")
    assert x1.promised_days == 0 and x1.high_frequency
    assert ServiceMatter.objects.get(code="X2").promised_days == 30


def test_permission_needed_for_people(tmp_path: Path, make_user) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        importer.import_file(
            write(tmp_path, PLAIN_HEADER + GOOD_ROWS), user=make_user(role="handler")
        )
    admin = make_user(role="admin")
    report = importer.import_file(write(tmp_path, PLAIN_HEADER + GOOD_ROWS), user=admin)
    assert report.written
    assert AuditEvent.objects.get(action="catalog.imported").actor_id == admin.pk


def test_command_import_and_errors(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="未写入任何数据"):
        call_command(
            "catalog",
            "import",
            str(write(tmp_path, PLAIN_HEADER + BAD_ROWS)),
            stdout=out,
            stderr=err,
        )
    assert "第 4 行（M011）：事项类型“行政审批”不对" in err.getvalue()
    assert ServiceMatter.objects.count() == 0
    call_command(
        "catalog",
        "import",
        str(write(tmp_path, PLAIN_HEADER + BAD_ROWS)),
        "--valid-only",
        stdout=out,
        stderr=err,
    )
    assert ServiceMatter.objects.count() == 1
    with pytest.raises(CommandError, match="找不到文件"):
        call_command("catalog", "import", str(tmp_path / "missing.csv"))


@pytest.mark.skipif(not SHARED_CATALOG.exists(), reason="../shared/bench/catalog.csv is not here")
def test_shared_bench_catalog_imports_cleanly() -> None:
    out = io.StringIO()
    call_command("catalog", "import", str(SHARED_CATALOG), stdout=out)
    lines = [line for line in SHARED_CATALOG.read_text(encoding="utf-8").splitlines()[1:] if line]
    assert ServiceMatter.objects.count() == len(lines)
    for matter in ServiceMatter.objects.all():
        assert matter.windows.exists(), matter.code
        assert matter.materials.exists(), matter.code
    # Importing it again changes nothing but the counts.
    report = importer.import_file(SHARED_CATALOG)
    assert report.created == 0 and report.updated == len(lines)


def test_new_windows_are_drawn_on_the_halls_map(tmp_path: Path) -> None:
    from minsheng.catalog.models import HallMap, MapItem

    hall = Hall.objects.create(code="A", name="一号厅")
    hall_map = HallMap.objects.create(hall=hall, rows=2, cols=3, entrance_row=1, entrance_col=1)
    MapItem.objects.create(hall_map=hall_map, kind="wall", row=0, col=0, width=2)
    importer.import_file(write(tmp_path, PLAIN_HEADER + GOOD_ROWS))
    placed = {
        item.window.number: (item.row, item.col)
        for item in MapItem.objects.exclude(window=None).select_related("window")
    }
    assert placed == {"4": (0, 2), "5": (1, 0), "6": (1, 2)}  # free cells, not the entrance
