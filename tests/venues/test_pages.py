"""The public venue list and the staff page: what each sees, registration and bans."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from minsheng.core.models import AuditEvent, Role
from minsheng.venues import actions
from minsheng.venues.models import Closure, Resident
from tests.factories import PASSWORD, DepartmentFactory, UserFactory
from tests.venues.factories import id_number, make_resident, make_venue

pytestmark = pytest.mark.django_db

EVENING = dt.datetime(2026, 12, 2, 19, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def login(role: str, department=None) -> Client:
    client = Client()
    user = UserFactory(role=role, department=department)
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_the_public_page_shows_hours_closures_and_occupancy_but_no_person():
    venue = make_venue(capacity=30, school="县第二小学", name="篮球场")
    Closure.objects.create(
        venue=venue,
        starts_at=EVENING + dt.timedelta(days=3),
        ends_at=EVENING + dt.timedelta(days=4),
        reason="期末考试",
    )
    resident, number = make_resident(name="李大爷")
    with time_machine.travel(EVENING, tick=False):
        actions.pass_gate(venue.code, direction="in", id_number=number, by=None)
        html = Client().get(reverse("venues:public")).content.decode()
    assert "县第二小学" in html and "期末考试" in html and "现在开放" in html
    assert "场内 1/30 人" in html
    assert "李大爷" not in html and resident.id_masked not in html and number not in html


def test_the_staff_page_shows_only_the_departments_own_venues():
    own = make_venue(school="县实验中学")
    make_venue(school="别的学校")
    html = login(Role.WINDOW_STAFF, own.department).get(reverse("venues:staff")).content.decode()
    assert "县实验中学" in html and "别的学校" not in html
    leader = login(Role.LEADER).get(reverse("venues:staff")).content.decode()
    assert "县实验中学" in leader and "别的学校" in leader
    assert login(Role.HANDLER, own.department).get(reverse("venues:staff")).status_code == 403


def test_registration_at_the_window_checks_the_number_and_writes_nothing_when_wrong():
    client = login(Role.WINDOW_STAFF, DepartmentFactory())
    url = reverse("venues:register")
    wrong = client.post(url, {"name": "张三", "id_number": "110105194912310021"})
    assert wrong.status_code == 400 and "校验位不对" in wrong.content.decode()
    assert not Resident.objects.exists()

    number = id_number()
    done = client.post(url, {"name": "张三", "id_number": number, "mobile": "13800001234"})
    assert done.status_code == 302
    resident = Resident.objects.get()
    assert resident.id_masked.endswith(number[-4:])
    again = client.post(url, {"name": "张三", "id_number": number})
    assert again.status_code == 400 and "已登记" in again.content.decode()
    assert Resident.objects.count() == 1


def test_a_department_head_bans_and_restores_with_a_reason():
    department = DepartmentFactory()
    resident, _number = make_resident()
    client = login(Role.DEPT_HEAD, department)
    url = reverse("venues:ban", args=[resident.pk])
    client.post(url, {"banned": "on", "reason": ""})
    assert not Resident.objects.get().banned  # no reason, no ban
    client.post(url, {"banned": "on", "reason": "破坏设施"})
    assert Resident.objects.get().banned
    client.post(url, {})
    assert not Resident.objects.get().banned
    assert AuditEvent.objects.filter(action__startswith="venue.resident_").count() == 3
    window = login(Role.WINDOW_STAFF, department)
    assert window.post(url, {"banned": "on", "reason": "x"}).status_code == 403


def test_the_passages_export_is_excel_masked_scoped_and_audited():

    own = make_venue(school="县实验中学")
    other = make_venue(school="别的学校")
    _resident, number = make_resident()
    with time_machine.travel(EVENING, tick=False):
        actions.pass_gate(own.code, direction="in", id_number=number, by=None)
        actions.pass_gate(other.code, direction="in", id_number=id_number(), by=None)
        response = login(Role.WINDOW_STAFF, own.department).get(reverse("venues:export"))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert len(values) == 2 and "县实验中学" in values[1][1]
    assert number not in str(values) and number[-4:] in values[1][5]
    assert AuditEvent.objects.filter(action="venue.exported").get().after["rows"] == 1


def test_the_public_page_asks_the_same_number_of_queries_for_more_venues(
    django_assert_max_num_queries,
):
    for n in range(2):
        make_venue(code=f"a{n}")
    client = Client()
    client.get(reverse("venues:public"))  # warm up (session, translations)
    with django_assert_max_num_queries(6) as few:
        client.get(reverse("venues:public"))
    for n in range(5):
        make_venue(code=f"b{n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("venues:public"))
