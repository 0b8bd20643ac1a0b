"""The proxy service's pages: opening a case, the case page and its steps, department
scope, masking, the Excel export, the rating link, the figures and the public query."""

from __future__ import annotations

import io
import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from minsheng.core.models import AuditEvent, OutboxMessage, Role
from minsheng.evaluation import stats
from minsheng.evaluation.models import Rating, RatingChannel
from minsheng.relay import actions, figures
from minsheng.relay.models import RelayCase, RelaySettings, State
from tests.factories import DepartmentFactory, UserFactory
from tests.relay.helpers import MOBILE, World, at_county, login, make_world, open_case

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def _form(world: World, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "matter": world.matter.pk,
        "citizen_name": "王秀英",
        "mobile": MOBILE,
        "id_number": "",
        "village": world.village.pk,
        "received": [m.pk for m in world.matter.materials.filter(required=True)],
        "extra_materials": "营业执照名称预先核准通知书\n",
    }
    data.update(changes)
    return data


def test_opening_a_case_on_the_page_with_errors_in_chinese():
    world = make_world()
    client = login(world.proxy)
    page = client.get(reverse("relay:new"), {"matter": world.matter.pk}).content.decode()
    assert "经营场所使用证明" in page and world.village.name in page
    fragment = client.get(reverse("relay:materials"), {"matter": world.matter.pk})
    assert "居民身份证" in fragment.content.decode()

    response = client.post(reverse("relay:new"), _form(world, mobile="1380013"))
    assert response.status_code == 400 and "请输入11位手机号码" in response.content.decode()
    response = client.post(reverse("relay:new"), _form(world, matter="x"))
    assert "请从办事指南中选择办理事项" in response.content.decode()
    response = client.post(reverse("relay:new"), _form(world, id_number="110105194912310021"))
    assert "校验位" in response.content.decode()
    assert not RelayCase.objects.exists()

    response = client.post(reverse("relay:new"), _form(world), follow=True)
    case = RelayCase.objects.get()
    assert response.redirect_chain[-1][0] == reverse("relay:detail", args=[case.number])
    html = response.content.decode()
    assert "已受理" in html and case.number in html
    assert "营业执照名称预先核准通知书" in html
    assert case.materials.filter(received=True).count() == 3


def test_a_county_department_cannot_open_cases():
    world = make_world()
    assert login(world.county_staff).get(reverse("relay:new")).status_code == 403
    assert login(UserFactory(role=Role.LEADER)).get(reverse("relay:new")).status_code == 403


def _act(client: Client, case: RelayCase, step: str, **data: object):
    case.refresh_from_db()
    return client.post(
        reverse("relay:act", args=[case.number, step]),
        {"version": case.version, **data},
        follow=True,
    )


def test_the_steps_on_the_case_page():
    world = make_world()
    case = open_case(world, received=set())
    proxy, town, county = login(world.proxy), login(world.town_handler), login(world.county_staff)

    html = _act(proxy, case, "hand_over").content.decode()
    assert "以下必需材料尚未收取" in html
    everything = list(case.materials.values_list("pk", flat=True))
    html = _act(proxy, case, "materials", received=everything).content.decode()
    assert "材料登记已保存" in html
    html = _act(proxy, case, "hand_over", note="齐了").content.decode()
    assert "已移交" in html and "待签收" in html
    assert _act(town, case, "sign").status_code == 200
    _act(town, case, "hand_over")
    html = _act(county, case, "sign").content.decode()
    assert "办结" in html and 'id="complete-form"' in html
    html = _act(county, case, "complete", result="").content.decode()
    assert "请填写办理结果" in html
    html = _act(county, case, "complete", result="已核发营业执照").content.decode()
    assert "已办结" in html
    case.refresh_from_db()
    assert case.state == State.DONE

    stale = proxy.post(
        reverse("relay:act", args=[case.number, "deliver"]), {"version": 0}, follow=True
    )
    assert "刷新" in stale.content.decode()
    html = _act(proxy, case, "deliver").content.decode()
    assert "已交付群众" in html
    assert proxy.post(reverse("relay:act", args=[case.number, "nonsense"])).status_code == 404


def test_other_departments_get_404_and_the_chain_sees_the_case():
    world = make_world()
    case = open_case(world)
    url = reverse("relay:detail", args=[case.number])
    stranger = login(UserFactory(role=Role.HANDLER, department=DepartmentFactory()))
    county = login(world.county_staff)
    assert stranger.get(url).status_code == 404
    assert county.get(url).status_code == 404  # not handed to the county yet
    assert case.number not in county.get(reverse("relay:index")).content.decode()
    assert stranger.post(reverse("relay:act", args=[case.number, "sign"])).status_code == 404

    case = at_county(make_world("2"))
    other = RelayCase.objects.get(pk=case.pk)
    county2 = login(UserFactory(role=Role.HANDLER, department=other.holder_department))
    town2 = login(other.origin_department.members.first())
    for client in (county2, town2, login(UserFactory(role=Role.LEADER))):
        assert client.get(reverse("relay:detail", args=[other.number])).status_code == 200
        assert other.number in client.get(reverse("relay:index")).content.decode()
    assert login(world.proxy).get(reverse("relay:detail", args=[other.number])).status_code == 404


def test_persons_are_masked_and_revealing_is_audited():
    world = make_world()
    case = open_case(world, citizen_name="王秀英", id_number="")
    client = login(world.proxy)
    html = client.get(reverse("relay:detail", args=[case.number])).content.decode()
    assert "王**" in html and "138****8000" in html
    assert "王秀英" not in html and MOBILE not in html
    listing = client.get(reverse("relay:index")).content.decode()
    assert "王秀英" not in listing and MOBILE not in listing

    shown = client.post(
        reverse("relay:contact", args=[case.number]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "王秀英" in shown and MOBILE in shown
    event = AuditEvent.objects.get(action="relay.view_personal")
    assert event.after == {"fields": ["citizen_name", "mobile"]}
    leader = login(UserFactory(role=Role.LEADER))
    assert leader.post(reverse("relay:contact", args=[case.number])).status_code == 403
    assert AuditEvent.objects.filter(action="relay.view_personal").count() == 1


def test_the_list_filters_and_exports_to_excel_with_an_audit_event():
    world = make_world()
    waiting = open_case(world)
    done = at_county(world)
    client = login(world.proxy)
    listing = client.get(reverse("relay:index"), {"state": "collecting"}).content.decode()
    assert waiting.number in listing and done.number not in listing
    listing = client.get(reverse("relay:index"), {"level": "county"}).content.decode()
    assert done.number in listing and waiting.number not in listing

    response = client.get(reverse("relay:export"))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("代办编号", "办理事项", "群众")
    assert {r[0] for r in rows[1:]} == {waiting.number, done.number}
    assert {r[2] for r in rows[1:]} == {"王**"} and all(MOBILE not in str(r) for r in rows)
    event = AuditEvent.objects.get(action="relay.exported")
    assert event.after["rows"] == 2

    client.get(reverse("relay:export"), {"state": "at_county"})
    assert (
        AuditEvent.objects.filter(action="relay.exported").order_by("id").last().after["rows"] == 1
    )


def test_the_rating_link_lands_in_the_county_departments_statistics():
    world = make_world()
    case = actions.complete(at_county(world).pk, by=world.county_staff, result="已核发营业执照")
    sms = OutboxMessage.objects.get(kind="evaluation.link", recipient=MOBILE)
    link = re.search(r"/evaluation/r/[^/\s]+/", sms.body)
    assert link is not None
    page = Client().get(link.group(0))
    assert page.status_code == 200 and "个体工商户设立登记" in page.content.decode()
    answer = {"level": "5", "comment": "不用进城就办好了"}
    answer |= {f"ind_{key}": "5" for key in ("efficiency", "guide", "convenience", "attitude")}
    assert Client().post(link.group(0), answer).status_code == 200

    rating = Rating.objects.get()
    assert (rating.department, rating.channel, rating.level) == (
        world.county,
        RatingChannel.LINK,
        5,
    )
    month = case.opened_at.date().replace(day=1)
    _rows, total = stats.compute_raw(stats.Query("department", month, month, world.county.pk))
    assert (total.events, total.rated, total.good) == (1, 1, 1)
    html = login(world.proxy).get(reverse("relay:detail", args=[case.number])).content.decode()
    assert "非常满意" in html and "不用进城就办好了" in html

    county = figures.county_figures()
    assert (county.total.opened, county.total.done, county.total.rated) == (1, 1, 1)
    assert county.total.satisfaction == 100.0
    assert [line.label for line in county.towns] == [world.town_gov.label]
    assert [line.label for line in county.matters] == ["个体工商户设立登记"]
    assert ("done", "已办结，待交付", 1) in county.states


def test_figures_count_overdue_and_average_working_days():
    world = make_world()
    open_case(world)
    RelayCase.objects.update(due_at="2020-01-01T00:00:00Z")
    line = figures.county_figures().total
    assert (line.opened, line.open, line.overdue, line.done) == (1, 1, 1, 0)
    assert line.average_days is None and line.satisfaction is None
    html = login(world.proxy).get(reverse("relay:index")).content.decode()
    assert "已超期" in html


def test_the_public_query_shows_stages_and_no_person():
    world = make_world()
    case = open_case(world, citizen_name="王秀英")
    actions.hand_over(case.pk, by=world.proxy)
    client = Client()
    assert client.get(reverse("relay:public")).status_code == 200
    wrong = client.post(reverse("relay:public"), {"number": case.number, "mobile_tail": "1234"})
    assert "不正确" in wrong.content.decode()
    shown = client.post(
        reverse("relay:public"), {"number": case.number.lower(), "mobile_tail": "8000"}
    ).content.decode()
    assert "已移交乡镇，待签收" in shown and world.town_gov.label in shown
    assert "王" not in shown.split('id="progress"')[1] and MOBILE not in shown
    assert world.proxy.name not in shown

    for _n in range(5):
        client.post(reverse("relay:public"), {"number": case.number, "mobile_tail": "0000"})
    limited = client.post(reverse("relay:public"), {"number": case.number, "mobile_tail": "8000"})
    assert limited.status_code == 429 and "次数过多" in limited.content.decode()


def test_an_admin_changes_the_stage_time_limits_audited(client):
    settings = RelaySettings.current()
    client.force_login(UserFactory(role=Role.ADMIN, is_staff=True))
    url = reverse("admin:relay_relaysettings_change", args=[settings.pk])
    form = {"community_days": 2, "town_days": 3, "county_default_days": 10, "handback_days": 1}
    assert client.post(url, form).status_code == 302
    assert RelaySettings.current().county_default_days == 10
    event = AuditEvent.objects.get(action="appeal.config_changed")
    assert (event.before["town_days"], event.after["town_days"]) == (2, 3)
    assert client.get(reverse("admin:relay_relaysettings_add")).status_code == 403
    window = login(UserFactory(role=Role.WINDOW_STAFF))
    assert window.get(url).status_code == 302  # to the admin login: not for departments
