"""Admin pages: matters with inlines, the import/export pages, hall maps and their preview."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from minsheng.catalog.models import ServiceMatter
from minsheng.core.models import AuditEvent, Role

pytestmark = pytest.mark.django_db

PLAIN = (
    "code,name,department,type,window,conditions,materials,time_limit_days,fee,hall_location\n"
    "M001,个体工商户设立登记,县市场监督管理局,行政许可,A厅4号窗口,条件,申请书；身份证,0,不收费,A厅\n"
)


def test_changelist_and_change_page(admin_client, matter) -> None:
    response = admin_client.get(reverse("admin:catalog_servicematter_changelist"))
    assert response.status_code == 200
    assert "购买自住住房提取住房公积金" in response.content.decode()
    assert reverse("admin:catalog_servicematter_import") in response.content.decode()
    response = admin_client.get(reverse("admin:catalog_servicematter_change", args=[matter.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "居民身份证" in body and "审核放款" in body and "能提多少？" in body


def _inline_management(prefix: str, total: int, initial: int) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def test_add_matter_with_inlines_is_audited(admin_client, department, window) -> None:
    data = {
        "code": "NEW1",
        "name": "新事项",
        "short_name": "",
        "aliases": "",
        "department": str(department.pk),
        "matter_type": "public_service",
        "audience": "person",
        "fee": "不收费",
        "windows": [str(window.pk)],
        "visits_required": "1",
        "hf_order": "0",
        "active": "on",
        **_inline_management("materials", 1, 0),
        "materials-0-order": "1",
        "materials-0-name": "身份证",
        "materials-0-kind": "original",
        "materials-0-copies": "1",
        "materials-0-required": "on",
        **_inline_management("steps", 1, 0),
        "steps-0-order": "1",
        "steps-0-text": "提交",
        **_inline_management("faqs", 0, 0),
    }
    response = admin_client.post(reverse("admin:catalog_servicematter_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    matter = ServiceMatter.objects.get(code="NEW1")
    assert [m.name for m in matter.materials.all()] == ["身份证"]
    assert list(matter.windows.all()) == [window]
    assert AuditEvent.objects.filter(
        action="catalog.matter_created", object_id=str(matter.pk)
    ).exists()


def test_others_cannot_open_the_catalogue_admin(client, make_user, matter) -> None:
    user = make_user(role=Role.HANDLER, is_staff=True)
    client.force_login(user)
    assert client.get(reverse("admin:catalog_servicematter_changelist")).status_code == 403
    assert client.get(reverse("admin:catalog_servicematter_import")).status_code == 403
    assert (
        client.get(reverse("admin:catalog_servicematter_export", args=["csv"])).status_code == 403
    )


def test_import_page_good_and_bad_files(admin_client) -> None:
    url = reverse("admin:catalog_servicematter_import")
    assert admin_client.get(url).status_code == 200
    bad = PLAIN + "M002,坏行,县市场监督管理局,乱写,A厅4号窗口,,,x,,\n"
    response = admin_client.post(url, {"file": SimpleUploadedFile("c.csv", bad.encode())})
    body = response.content.decode()
    assert response.status_code == 200
    assert "未写入任何数据" in body and "事项类型“乱写”不对" in body
    assert "已完成" in body and 'http-equiv="refresh"' not in body
    assert not ServiceMatter.objects.exists()
    response = admin_client.post(
        url, {"file": SimpleUploadedFile("c.csv", bad.encode()), "valid_only": "on"}
    )
    assert "新增 1 项" in response.content.decode()
    assert list(ServiceMatter.objects.values_list("code", flat=True)) == ["M001"]
    response = admin_client.post(url, {"file": SimpleUploadedFile("c.pdf", b"%PDF")})
    assert "只支持 .xlsx 和 .csv 文件" in response.content.decode()


def test_export_downloads(admin_client, matter) -> None:
    response = admin_client.get(reverse("admin:catalog_servicematter_export", args=["xlsx"]))
    assert response.status_code == 200 and response.content[:2] == b"PK"
    response = admin_client.get(reverse("admin:catalog_servicematter_export", args=["csv"]))
    assert response["Content-Type"].startswith("text/csv")
    assert "GJJ003" in response.content.decode("utf-8-sig")
    assert (
        admin_client.get(reverse("admin:catalog_servicematter_export", args=["pdf"])).status_code
        == 404
    )


def test_hall_map_admin_and_preview(admin_client, hall_map, window, hall) -> None:
    response = admin_client.get(reverse("admin:catalog_hallmap_change", args=[hall_map.pk]))
    assert response.status_code == 200
    assert reverse("admin:catalog_hallmap_preview", args=[hall_map.pk]) in response.content.decode()
    assert "<svg" in response.content.decode()  # the current map under the form
    # A second window not yet drawn shows up as a problem on the preview.
    type(window).objects.create(hall=hall, number="05", name="新窗口", department=window.department)
    response = admin_client.get(reverse("admin:catalog_hallmap_preview", args=[hall_map.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in body and "cat-on" in body
    assert "05号窗口（新窗口）还没有画在图上" in body
    assert 'style="' not in body.split("<svg", 1)[1].split("</svg>", 1)[0]


IMMEDIATE = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
        "ENQUEUE_ON_COMMIT": False,
    }
}


def test_big_upload_is_imported_by_the_worker(admin_client, settings, monkeypatch) -> None:
    from minsheng.catalog import admin as catalog_admin
    from minsheng.core.models import LongJob

    monkeypatch.setattr(catalog_admin, "BACKGROUND_BYTES", 10)
    settings.TASKS = IMMEDIATE
    url = reverse("admin:catalog_servicematter_import")
    response = admin_client.post(url, {"file": SimpleUploadedFile("big.csv", PLAIN.encode())})
    job = LongJob.objects.get(kind="catalog.import")
    assert response.status_code == 302 and response["Location"] == f"{url}?job={job.pk}"
    assert ServiceMatter.objects.filter(code="M001").exists()
    assert not list((settings.VAR_DIR / "imports").glob("*"))  # the parked upload is gone
    body = admin_client.get(response["Location"]).content.decode()
    assert "新增 1 项" in body and 'http-equiv="refresh"' not in body


def test_job_page_of_a_running_import_refreshes(admin_client, make_user) -> None:
    from minsheng.core import jobs

    job = jobs.create("catalog.import", "导入办事指南 x.csv")
    url = reverse("admin:catalog_servicematter_import")
    body = admin_client.get(f"{url}?job={job.pk}").content.decode()
    assert 'http-equiv="refresh"' in body and "正在后台导入" in body
