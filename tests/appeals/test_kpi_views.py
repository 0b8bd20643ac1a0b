"""The KPI dashboard and its exports: who sees which figures, and that the files open."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook

from minsheng.appeals.models import Rating
from minsheng.core.models import AuditEvent, Role
from tests.appeals.test_kpis import TZ, handled
from tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db

URL = reverse("appeals:kpi")
EXPORT = reverse("appeals:kpi_export")


@pytest.fixture
def two_departments(db):
    mine = DepartmentFactory(name="住建局")
    other = DepartmentFactory(name="交通局")
    handled(mine, replied=10, days=2, satisfaction=Rating.Level.SATISFIED, resolved=True)
    handled(mine, replied=11, days=5, satisfaction=Rating.Level.BASIC, resolved=True)
    handled(other, replied=9, days=3, satisfaction=Rating.Level.UNSATISFIED, resolved=False)
    return mine, other


@pytest.fixture(autouse=True)
def _march():
    with time_machine.travel(dt.datetime(2026, 3, 20, 12, tzinfo=TZ), tick=False):
        yield


def test_leader_sees_every_department(logged_in, two_departments):
    client, _user = logged_in(role=Role.LEADER)
    response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "住建局" in page and "交通局" in page
    # Each figure carries its definition.
    assert "在签收时限内签收的件数 ÷ 已派单件数" in page
    assert "（满意 + 基本满意）的件数 ÷ 已评价件数" in page
    data = json.loads(page.split('id="kpi-data" type="application/json">')[1].split("</script>")[0])
    assert sorted(data["departments"]["labels"]) == ["交通局", "住建局"]
    assert sum(data["trend"]["received"]) == 3
    total = response.context["total"]
    assert total.received == 3 and total.rates["satisfaction_rate"] == 66.7
    assert 'id="kpi-data"' in page and "<script>" not in page  # CSP: no inline script
    assert "往日数字截至" not in page  # no rollup yet: everything is counted live


def test_dashboard_says_how_fresh_the_rollup_is(logged_in, two_departments):
    from minsheng.appeals import rollup

    rollup.refresh()
    client, _user = logged_in(role=Role.LEADER)
    page = client.get(URL).content.decode()
    assert "往日数字截至 2026-03-20 12:00" in page


@pytest.mark.parametrize("group", ["town", "category", "channel"])
def test_group_tabs(logged_in, two_departments, group):
    client, _user = logged_in(role=Role.SUPERVISOR)
    response = client.get(URL, {"group": group, "period": "year"})
    assert response.status_code == 200
    assert response.context["query"].group == group
    assert sum(line["row"].received for line in response.context["table"]) == 3


def test_department_head_sees_only_their_department(logged_in, two_departments):
    mine, _other = two_departments
    client, _user = logged_in(role=Role.DEPT_HEAD, department=mine)
    response = client.get(URL)
    page = response.content.decode()
    assert "住建局" in page and "交通局" not in page
    assert response.context["total"].received == 2
    csv_text = client.get(EXPORT, {"format": "csv"}).content.decode("utf-8-sig")
    assert "住建局" in csv_text and "交通局" not in csv_text


def test_window_staff_and_citizens_are_refused(logged_in, client):
    staff, _user = logged_in(role=Role.WINDOW_STAFF)
    assert staff.get(URL).status_code == 403
    client.logout()
    assert client.get(URL).status_code == 302  # to the login page


def test_custom_period_and_bad_input(logged_in, two_departments):
    client, _user = logged_in(role=Role.LEADER)
    response = client.get(URL, {"period": "custom", "start": "2026-03-01", "end": "2026-03-05"})
    assert response.context["total"].received == 3
    response = client.get(URL, {"period": "custom", "start": "2026-03-05", "end": "2026-03-01"})
    assert response.status_code == 200
    assert "结束日期不能早于开始日期" in response.content.decode()
    assert response.context["query"].period.key == "month"
    response = client.get(URL, {"period": "custom", "start": "nonsense", "group": "bogus"})
    assert response.status_code == 200 and response.context["query"].group == "department"


def test_empty_period(logged_in):
    client, _user = logged_in(role=Role.LEADER)
    response = client.get(URL, {"period": "last_year"})
    assert response.status_code == 200
    assert "该期间没有受理的诉求" in response.content.decode()


def test_excel_export_opens(logged_in, two_departments):
    client, user = logged_in(role=Role.LEADER)
    response = client.get(EXPORT, {"period": "month", "group": "department"})
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.xlsx"')
    book = load_workbook(io.BytesIO(response.content))
    sheet = book["诉求办理统计"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == "部门" and rows[1][2] == "签收及时率(%)"
    names = [r[0] for r in rows[2:]]
    assert set(names) == {"住建局", "交通局", "合计"} and names[-1] == "合计"
    assert rows[-1][1] == 3  # the total's 受理量
    assert "指标口径" in book.sheetnames
    assert AuditEvent.objects.filter(action="appeal.kpi_exported", actor_id=user.pk).exists()


def test_csv_export_opens(logged_in, two_departments):
    client, _user = logged_in(role=Role.DISPATCHER)
    response = client.get(EXPORT, {"format": "csv", "group": "channel"})
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "渠道"
    assert rows[-1][0] == "合计" and rows[-1][1] == "3"
    assert all(len(r) == len(rows[0]) for r in rows)
