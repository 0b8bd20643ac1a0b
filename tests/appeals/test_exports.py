"""Excel and CSV exports: a proper 台账, UTF-8 with BOM, masked unless the role may see
personal data (and then audited)."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from minsheng.appeals import actions
from minsheng.core.models import AuditEvent, Role
from tests.appeals.test_staff_pages import submit
from tests.factories import DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db


def export(client, table: str, fmt: str, **params):
    return client.get(reverse("appeals:export", args=[table, fmt]), params)


def test_excel_export_is_a_proper_ledger(client):
    dispatcher = UserFactory(role=Role.DISPATCHER)
    first = submit(title="路灯不亮")
    second = submit(title='=HYPERLINK("http://evil")', body="公式注入的标题不能当公式执行")
    client.force_login(dispatcher)
    response = export(client, "workbench", "xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert header[:3] == ("编号", "标题", "类型")
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["B"].width >= 30
    numbers = {row[0] for row in rows[1:]}
    assert numbers == {first.number, second.number}
    by_number = {row[0]: row for row in rows[1:]}
    assert by_number[second.number][1] == '=HYPERLINK("http://evil")'
    assert sheet.cell(row=2, column=2).data_type == "s"  # text, not a formula
    mobile = header.index("联系电话")
    assert by_number[first.number][mobile] == "13812341234"  # the dispatcher may see it
    event = AuditEvent.objects.filter(action="appeal.exported").latest("seq")
    assert event.actor_id == dispatcher.pk
    assert event.after["personal"] is True and event.after["rows"] == 2


def test_csv_has_a_bom_and_masks_for_roles_without_personal_data(client):
    submit(title="路灯不亮")
    leader = UserFactory(role=Role.LEADER)
    client.force_login(leader)
    response = export(client, "workbench", "csv")
    assert response.status_code == 200
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "编号"
    mobile, name = rows[0].index("联系电话"), rows[0].index("群众姓名")
    assert rows[1][mobile] == "138****1234" and rows[1][name] == "张**"
    assert "13812341234" not in response.content.decode("utf-8-sig")
    event = AuditEvent.objects.filter(action="appeal.exported").latest("seq")
    assert event.after["personal"] is False


def test_csv_neutralises_formulas(client):
    submit(title="=1+1 不是公式", body="公式注入的标题不能当公式执行")
    client.force_login(UserFactory(role=Role.DISPATCHER))
    rows = list(
        csv.reader(io.StringIO(export(client, "workbench", "csv").content.decode("utf-8-sig")))
    )
    assert rows[1][1] == "'=1+1 不是公式"


def test_export_follows_the_filters_of_the_page(client):
    urgent = submit(title="燃气泄漏", urgency="urgent")
    normal = submit(title="咨询社保")
    client.force_login(UserFactory(role=Role.DISPATCHER))
    content = export(client, "workbench", "csv", urgency="urgent").content.decode("utf-8-sig")
    assert urgent.number in content and normal.number not in content


def test_board_exports(client):
    dept = DepartmentFactory()
    dispatcher = UserFactory(role=Role.DISPATCHER)
    new = submit(title="新诉求")
    sent = submit(title="已派单")
    actions.dispatch(sent.pk, department_id=dept.pk, by=dispatcher)
    client.force_login(dispatcher)
    content = export(client, "new", "csv").content.decode("utf-8-sig")
    assert new.number in content and sent.number not in content
    content = export(client, "unsigned", "csv").content.decode("utf-8-sig")
    assert sent.number in content and new.number not in content
    sheet = load_workbook(
        io.BytesIO(export(client, "overdue_by_department", "xlsx").content)
    ).active
    assert next(sheet.iter_rows(values_only=True)) == ("主办部门", "超期件数")


def test_unknown_tables_and_formats(client):
    client.force_login(UserFactory(role=Role.DISPATCHER))
    assert export(client, "nothing", "csv").status_code == 404
    assert export(client, "workbench", "pdf").status_code == 404
    client.force_login(UserFactory(role=Role.HANDLER))
    assert export(client, "new", "csv").status_code == 403
