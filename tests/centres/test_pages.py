"""The centre pages: department scoping (another town's centre is a 404), persons masked on
pages and in exports, no person at all on the public page, forms that refuse with the
reason in Chinese and write nothing, audited exports and document downloads."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from minsheng.centres import actions
from minsheng.centres.models import (
    Batch,
    Centre,
    CentreFunction,
    Dispute,
    FunctionKind,
    Matter,
    Opinion,
    Status,
)
from minsheng.core.models import AuditEvent, Role
from tests.centres.factories import make_centre, make_town, make_village, pdf
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def login(role: str, department=None) -> Client:
    client = Client()
    user = UserFactory(role=role, department=department)
    assert client.login(username=user.username, password=PASSWORD)
    return client


def rows(response) -> list[tuple]:
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))


@pytest.fixture
def two_towns():
    shiqiao, department = make_town("石桥镇")
    ours = make_centre(shiqiao, name="石桥村")
    theirs = make_centre(make_town("城关镇")[0], name="城北村")
    actions.record_matter(
        ours.pk, type=Matter.Type.PROXY, person_name="张三丰", mobile="13812345678",
        description="代缴城乡居民医保", outcome=Matter.Outcome.DONE, by=None,
    )  # fmt: skip
    actions.record_dispute(
        ours.pk, parties="王大山、李小河", type=Dispute.Type.LAND, description="宅基地边界不清",
        outcome=Dispute.Outcome.RESOLVED, mediated_on=timezone.localdate() - dt.timedelta(30),
        by=None,
    )  # fmt: skip
    actions.record_opinion(
        ours.pk, kind=Opinion.Kind.OPINION, title="路灯不亮", body="村口路灯坏了一个月",
        citizen_name="赵铁柱", citizen_mobile="13698765432", by=None,
    )  # fmt: skip
    return {"ours": ours, "theirs": theirs, "department": department}


def test_department_users_see_only_their_towns_centres(two_towns):
    ours, theirs = two_towns["ours"], two_towns["theirs"]
    staff = login(Role.HANDLER, two_towns["department"])
    index = staff.get(reverse("centres:index")).content.decode()
    assert "石桥村邻里中心" in index and "城北村邻里中心" not in index
    assert staff.get(reverse("centres:centre", args=[ours.code])).status_code == 200
    for name in ("centre", "matters_export", "disputes_export", "opinions_export"):
        assert staff.get(reverse(f"centres:{name}", args=[theirs.code])).status_code == 404
    response = staff.post(
        reverse("centres:act", args=[theirs.code, "matter"]), {"matter-person_name": "x"}
    )
    assert response.status_code == 404 and Matter.objects.count() == 1
    listed = rows(staff.get(reverse("centres:export")))
    assert [r[2] for r in listed[1:]] == ["石桥村邻里中心"]

    leader = login(Role.LEADER)
    index = leader.get(reverse("centres:index")).content.decode()
    assert "石桥村邻里中心" in index and "城北村邻里中心" in index
    page = leader.get(reverse("centres:centre", args=[ours.code])).content.decode()
    assert "opinion-form" not in page and "status-form" not in page
    assert leader.post(reverse("centres:act", args=[ours.code, "matter"])).status_code == 403
    assert login(Role.CITIZEN).get(reverse("centres:index")).status_code == 403


def test_pages_and_exports_show_persons_masked(two_towns):
    ours = two_towns["ours"]
    staff = login(Role.HANDLER, two_towns["department"])
    page = staff.get(reverse("centres:centre", args=[ours.code])).content.decode()
    for secret in ("张三丰", "13812345678", "王大山", "李小河", "赵铁柱", "13698765432"):
        assert secret not in page
    assert "张**" in page and "138****5678" in page and "王**、李**" in page
    assert "赵**" in page and "逾期" in page

    matters = rows(staff.get(reverse("centres:matters_export", args=[ours.code])))
    assert matters[1][2:4] == ("张**", "138****5678")
    disputes = rows(staff.get(reverse("centres:disputes_export", args=[ours.code])))
    assert disputes[1][2] == "王**、李**" and disputes[1][8] == "已逾期"
    opinions = rows(staff.get(reverse("centres:opinions_export", args=[ours.code])))
    assert opinions[1][4] == "赵** 136****5432"
    exported = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "centre.matters_exported",
        "centre.disputes_exported",
        "centre.opinions_exported",
    } <= exported
    staff.get(reverse("centres:export"), {"status": Status.IN_USE})
    event = AuditEvent.objects.get(action="centre.list_exported")
    assert event.after == {"rows": 1, "filters": {"status": "in_use"}}


def test_the_public_page_has_statuses_functions_and_counts_never_a_person(two_towns):
    ours = two_towns["ours"]
    shop = FunctionKind.objects.get(code="shop")
    actions.set_functions(ours.pk, states={shop.pk: "in_service"}, by=None)
    html = Client().get(reverse("centres:public")).content.decode()
    assert "石桥村邻里中心" in html and "城北村邻里中心" in html and "投入使用" in html
    assert "便民超市" in html and "办结事项 1 件" in html and "调解成功纠纷 1 起" in html
    for secret in ("张三丰", "张**", "138", "王大山", "赵铁柱", "路灯不亮", "宅基地边界不清"):
        assert secret not in html
    tile = Client().get(reverse("core:home")).content.decode()
    assert reverse("centres:public") in tile


def test_forms_refuse_in_chinese_and_write_nothing(two_towns, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    ours = two_towns["ours"]
    staff = login(Role.HANDLER, two_towns["department"])
    url = reverse("centres:act", args=[ours.code, "matter"])
    response = staff.post(
        url,
        {
            "matter-type": "proxy",
            "matter-person_name": "李四",
            "matter-mobile": "12345",
            "matter-description": "代缴医保",
            "matter-outcome": "done",
            "matter-handled_on": "2026-11-20",
        },
    )
    assert response.status_code == 400 and "请输入11位手机号码" in response.content.decode()
    response = staff.post(url, {"matter-handled_on": "20.11.2026"})
    assert response.status_code == 400 and "日期格式应为" in response.content.decode()
    assert Matter.objects.count() == 1

    response = staff.post(
        reverse("centres:act", args=[ours.code, "dispute"]),
        {
            "dispute-parties": "王五、赵六",
            "dispute-type": "neighbour",
            "dispute-description": "养狗扰民，夜间犬吠",
            "dispute-mediator": staff.session["_auth_user_id"],
            "dispute-mediated_on": timezone.localdate().isoformat(),
            "dispute-outcome": "resolved",
            "dispute-agreement": SimpleUploadedFile("协议.pdf", b"MZ\x90\x00 not a document"),
        },
    )
    assert response.status_code == 400 and "只能上传" in response.content.decode()
    assert Dispute.objects.count() == 1 and not list(tmp_path.rglob("*.*"))
    response = staff.post(reverse("centres:act", args=[ours.code, "status"]),
                          {"status-status": "planned", "status-on": "2026-11-20",
                           "status-expected": "in_use"})  # fmt: skip
    assert response.status_code == 400 and "不能直接改为" in response.content.decode()
    assert Centre.objects.get(pk=ours.pk).status == Status.IN_USE


def test_the_worker_records_on_the_page(two_towns, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    ours = two_towns["ours"]
    staff = login(Role.HANDLER, two_towns["department"])
    worker_id = staff.session["_auth_user_id"]
    upload = pdf()
    response = staff.post(
        reverse("centres:act", args=[ours.code, "dispute"]),
        {
            "dispute-parties": "王五，赵六",
            "dispute-type": "family",
            "dispute-description": "赡养费分担意见不一",
            "dispute-mediator": worker_id,
            "dispute-mediated_on": timezone.localdate().isoformat(),
            "dispute-outcome": "resolved",
            "dispute-agreement": upload,
        },
        follow=True,
    )
    assert "调解记录已登记，请在" in response.content.decode()
    made = Dispute.objects.get(type=Dispute.Type.FAMILY)
    assert made.parties == ["王五", "赵六"] and str(made.mediator_id) == worker_id
    document = staff.get(reverse("centres:agreement", args=[ours.code, made.pk]))
    assert document.status_code == 200 and b"".join(document.streaming_content).startswith(b"%PDF")
    assert document["Content-Disposition"].startswith("attachment")
    assert AuditEvent.objects.filter(action="centre.agreement_opened").count() == 1
    leader = login(Role.LEADER)
    assert leader.get(reverse("centres:agreement", args=[ours.code, made.pk])).status_code == 403

    response = staff.post(
        reverse("centres:act", args=[ours.code, "follow_up"]),
        {"dispute": made.pk, f"follow-up-{made.pk}-note": "", f"follow-up-{made.pk}-done_on": ""},
    )
    assert response.status_code == 400 and "这个字段是必填项" in response.content.decode()
    response = staff.post(
        reverse("centres:act", args=[ours.code, "follow_up"]),
        {
            "dispute": made.pk,
            f"follow-up-{made.pk}-note": "双方已履行协议",
            f"follow-up-{made.pk}-done_on": timezone.localdate().isoformat(),
        },
        follow=True,
    )
    assert "回访已登记" in response.content.decode()
    assert Dispute.objects.get(pk=made.pk).follow_up_note == "双方已履行协议"
    stray = staff.post(reverse("centres:act", args=[ours.code, "follow_up"]), {"dispute": 99999})
    assert stray.status_code == 404


def test_status_and_checklist_on_the_page(two_towns):
    centre = make_centre(two_towns["ours"].village.parent, name="新河村", status=Status.BUILDING)
    staff = login(Role.DEPT_HEAD, two_towns["department"])
    page = staff.get(reverse("centres:centre", args=[centre.code])).content.decode()
    assert "基本建成后才能登记" in page and "opinion-form" not in page
    response = staff.post(
        reverse("centres:act", args=[centre.code, "status"]),
        {
            "status-status": "basic",
            "status-on": timezone.localdate().isoformat(),
            "status-expected": "building",
        },
        follow=True,
    )
    assert "建设状态已改为“基本建成”" in response.content.decode()
    kinds = list(FunctionKind.objects.all())
    data = {f"functions-kind_{k.pk}": "none" for k in kinds}
    data |= {f"functions-note_{k.pk}": "" for k in kinds}
    shop = next(k for k in kinds if k.code == "shop")
    data[f"functions-kind_{shop.pk}"] = "in_service"
    data[f"functions-note_{shop.pk}"] = "村民自营"
    response = staff.post(
        reverse("centres:act", args=[centre.code, "functions"]), data, follow=True
    )
    assert "功能清单已保存" in response.content.decode()
    assert CentreFunction.objects.get(centre=centre).note == "村民自营"
    # A stale page (it still showed 建设中) is told someone else changed it.
    response = staff.post(
        reverse("centres:act", args=[centre.code, "status"]),
        {
            "status-status": "in_use",
            "status-on": timezone.localdate().isoformat(),
            "status-expected": "building",
        },
    )
    assert response.status_code == 409 and "刚刚已被他人修改" in response.content.decode()


def test_an_admin_opens_a_centre_and_edits_its_batch_in_the_admin(client):
    town, department = make_town("石桥镇")
    village = make_village(town, "前进村")
    client.force_login(UserFactory(role=Role.ADMIN, is_staff=True))
    url = reverse("admin:centres_centre_add")
    form = {"village": town.pk, "name": "", "batch": "", "address": "村委会旁"}
    response = client.post(url, form)
    assert response.status_code == 200 and not Centre.objects.exists()  # a town: refused
    response = client.post(url, form | {"village": village.pk})
    assert response.status_code == 302
    centre = Centre.objects.get()
    assert centre.department == department and centre.name == "前进村邻里中心"
    assert centre.status == Status.PLANNED and centre.status_changes.count() == 1
    assert AuditEvent.objects.filter(action="centre.created", actor_id__isnull=False).exists()
    batch = Batch.objects.create(name="第一批", year=2026)
    change = reverse("admin:centres_centre_change", args=[centre.pk])
    response = client.post(change, {"name": "前进村邻里中心", "batch": batch.pk, "address": ""})
    assert response.status_code == 302 and Centre.objects.get().batch == batch
    assert Centre.objects.get().status == Status.PLANNED
    assert AuditEvent.objects.filter(action="appeal.config_changed").exists()
