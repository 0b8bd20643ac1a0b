"""The 好差评 pages and endpoints through the test client."""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from minsheng.core import tokens
from minsheng.core.ratelimit import Limit
from minsheng.evaluation import actions, stats
from minsheng.evaluation.models import Case, Rating, RatingChannel, ServiceEvent
from minsheng.evaluation.states import CaseState
from minsheng.evaluation.views import public as public_views
from tests.evaluation.factories import event_at, make_hall, pad_for

pytestmark = pytest.mark.django_db


def _pad_post(client: Client, window_id: int, token: str, body: dict[str, object]):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("evaluation:pad_rate", args=[window_id]),
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Pad {token}"},
    )


def test_my_window_start_finish_and_the_receipt_with_its_qr_code(client: Client) -> None:
    hall = make_hall()
    client.force_login(hall.clerk)
    page = client.get(reverse("evaluation:window"))
    assert page.status_code == 200 and "开始办件" in page.content.decode()
    response = client.post(
        reverse("evaluation:start"), {"matter": hall.matter.pk, "mobile": "13800138000"}
    )
    assert response.status_code == 302
    event = ServiceEvent.objects.get()
    assert event.matter == hall.matter and event.staff == hall.clerk
    response = client.post(reverse("evaluation:finish", args=[event.pk]))
    assert response.url == reverse("evaluation:receipt", args=[event.pk])
    receipt = client.get(response.url).content.decode()
    assert "<svg" in receipt and "/evaluation/r/" in receipt and "138****8000" in receipt
    bad = client.post(reverse("evaluation:start"), {"mobile": "123"})
    assert bad.status_code == 302 and ServiceEvent.objects.count() == 1


def test_binding_a_pad_shows_its_address_once(client: Client) -> None:
    hall = make_hall()
    client.force_login(hall.clerk)
    client.post(reverse("evaluation:bind_pad"), {"name": "1号平板"})
    first = client.get(reverse("evaluation:window")).content.decode()
    assert "#token=" in first and "<svg" in first
    assert "#token=" not in client.get(reverse("evaluation:window")).content.decode()


def test_the_pad_endpoints_need_the_device_token_and_are_idempotent() -> None:
    hall = make_hall()
    client = Client(enforce_csrf_checks=True)  # the pad has no cookie: its token is the proof
    _pad, token = pad_for(hall)
    page = client.get(reverse("evaluation:pad", args=[hall.window.pk]))
    assert page.status_code == 200 and "pad.js" in page.content.decode()
    state_url = reverse("evaluation:pad_state", args=[hall.window.pk])
    assert client.get(state_url).status_code == 401
    assert client.get(state_url, headers={"Authorization": "Pad wrong"}).status_code == 401
    other = client.get(
        reverse("evaluation:pad_state", args=[hall.other_window.pk]),
        headers={"Authorization": f"Pad {token}"},
    )
    assert other.status_code == 401
    assert client.get(state_url, headers={"Authorization": f"Pad {token}"}).json()["event"] is None
    event = actions.start_event(by=hall.clerk, matter_id=hall.matter.pk)
    state = client.get(state_url, headers={"Authorization": f"Pad {token}"}).json()
    assert state["event"]["id"] == event.pk and state["event"]["matter"] == "社保卡补办"
    assert state["staff"]["name"] == "李晓燕" and state["staff"]["staff_no"] == "S0001"
    body = {"uuid": str(uuid.uuid4()), "level": 1, "reasons": ["waiting"], "event_id": event.pk}
    first = _pad_post(client, hall.window.pk, token, body)
    assert first.status_code == 201
    again = _pad_post(client, hall.window.pk, token, body)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert again.json()["replayed"] is True
    assert Rating.objects.count() == 1 and Case.objects.count() == 1
    second = _pad_post(client, hall.window.pk, token, {**body, "uuid": str(uuid.uuid4())})
    assert second.status_code == 409 and second.json()["error"]["code"] == "already_rated"
    assert _pad_post(client, hall.window.pk, token, {"uuid": "x", "level": 5}).status_code == 422
    assert _pad_post(client, hall.window.pk, "nope", body).status_code == 401


def test_pads_are_rate_limited(monkeypatch: pytest.MonkeyPatch, client: Client) -> None:
    hall = make_hall()
    _pad, token = pad_for(hall)
    monkeypatch.setattr(actions, "PAD_RATINGS_PER_MINUTE", 1)
    event_at(hall)
    body = {"uuid": str(uuid.uuid4()), "level": 5}
    assert _pad_post(client, hall.window.pk, token, body).status_code == 201
    event_at(hall, started_at=timezone.now() + dt.timedelta(minutes=1))  # the next citizen
    limited = _pad_post(client, hall.window.pk, token, {**body, "uuid": str(uuid.uuid4())})
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
    assert Rating.objects.count() == 1


def test_the_back_to_back_kiosk(client: Client) -> None:
    hall = make_hall()
    home = client.get(reverse("evaluation:kiosk")).content.decode()
    assert "社保窗口" in home
    people = client.get(reverse("evaluation:kiosk_window", args=[hall.window.pk])).content.decode()
    assert "李晓燕" in people and "王芳" in people
    url = reverse("evaluation:kiosk_rate", args=[hall.clerk.pk])
    assert "没有待评价的办件" in client.get(url).content.decode()
    event = event_at(hall)
    response = client.post(url, {"level": "2"})
    assert "请选择不满意的原因" in response.content.decode()
    response = client.post(
        url, {"level": "2", "reasons": ["waiting", "guide"], "comment": "排队太久"}
    )
    assert "感谢您的评价" in response.content.decode()
    rating = Rating.objects.get(event=event)
    assert rating.channel == RatingChannel.KIOSK and rating.reasons == ["waiting", "guide"]
    assert client.get(reverse("evaluation:kiosk_rate", args=[hall.head.pk])).status_code == 404


def test_the_phone_page_of_a_signed_link(client: Client) -> None:
    hall = make_hall()
    event = event_at(hall)
    url = reverse("evaluation:rate", args=[actions.link_token(event)])
    page = client.get(url).content.decode()
    assert "办事效率" in page and "办事指南准确度" in page and event.number in page
    incomplete = client.post(url, {"level": "5"})
    assert incomplete.status_code == 200 and not Rating.objects.exists()
    data = {
        "level": "4",
        "ind_efficiency": "5",
        "ind_guide": "4",
        "ind_convenience": "4",
        "ind_attitude": "5",
        "comment": "很快",
    }
    assert "感谢您的评价" in client.post(url, data).content.decode()
    rating = Rating.objects.get()
    assert rating.indicators == {"efficiency": 5, "guide": 4, "convenience": 4, "attitude": 5}
    assert "已经评价过" in client.get(url).content.decode()
    forged = reverse("evaluation:rate", args=[f"{event.pk}:forged"])
    assert client.get(forged).status_code == 404


def test_bad_links_are_rate_limited(monkeypatch: pytest.MonkeyPatch, client: Client) -> None:
    monkeypatch.setattr(public_views, "LINK_FAILURES", Limit("link-test", 2, 60))
    for _ in range(2):
        assert client.get(reverse("evaluation:rate", args=["x"])).status_code == 404
    assert client.get(reverse("evaluation:rate", args=["x"])).status_code == 429


def test_the_rated_staff_member_never_sees_who_rated(client: Client) -> None:
    hall = make_hall()
    event = event_at(hall, mobile="13912345678")
    actions.rate_by_hotline(
        event.pk, actions.RatingInput(2, ["attitude"], "态度差"), by=hall.operator
    )
    client.force_login(hall.clerk)
    page = client.get(reverse("evaluation:window")).content.decode()
    assert "态度差" in page
    assert "13912345678" not in page and "139****5678" not in page
    assert hall.operator.name not in page


def test_case_pages_for_the_department_and_the_supervisor(client: Client) -> None:
    hall = make_hall()
    event = event_at(hall)
    rating = actions.rate_by_hotline(
        event.pk, actions.RatingInput(1, ["overtime"]), by=hall.operator
    )
    case = Case.objects.get(rating=rating)
    client.force_login(hall.handler)
    board = client.get(reverse("evaluation:cases")).content.decode()
    assert event.number in board
    detail = client.get(reverse("evaluation:case", args=[case.pk])).content.decode()
    assert "do-verify" in detail
    client.post(
        reverse("evaluation:case_act", args=[case.pk, "verify"]),
        {"note": "已回访核实", "version": 0},
    )
    case.refresh_from_db()
    assert case.state == CaseState.CLASSIFYING
    # A stale page: the second submit of the same version is refused, with a message.
    client.post(
        reverse("evaluation:case_act", args=[case.pk, "verify"]), {"note": "再次", "version": 0}
    )
    case.refresh_from_db()
    assert case.state == CaseState.CLASSIFYING
    client.force_login(hall.other_head)
    assert client.get(reverse("evaluation:case", args=[case.pk])).status_code == 404
    client.force_login(hall.supervisor)
    client.post(
        reverse("evaluation:case_act", args=[case.pk, "classify"]),
        {"finding": "unreasonable", "note": "录像显示按规定办理"},
    )
    client.post(
        reverse("evaluation:case_act", args=[case.pk, "review"]), {"note": "同意", "approve": "1"}
    )
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED
    assert client.get(reverse("evaluation:cases") + "?show=overdue").status_code == 200


def test_appeal_pages(client: Client) -> None:
    hall = make_hall()
    rating = actions.rate_by_hotline(
        event_at(hall).pk, actions.RatingInput(1, ["attitude"]), by=hall.operator
    )
    client.force_login(hall.clerk)
    client.post(reverse("evaluation:file_appeal", args=[rating.pk]), {"reason": "当天系统故障"})
    client.force_login(hall.supervisor)
    page = client.get(reverse("evaluation:appeals")).content.decode()
    assert "当天系统故障" in page
    appeal = rating.appeals.get()
    client.post(reverse("evaluation:decide", args=[appeal.pk]), {"note": "属实", "uphold": "1"})
    rating.refresh_from_db()
    assert rating.excluded


def test_the_hotline_form(client: Client) -> None:
    hall = make_hall()
    event = event_at(hall)
    client.force_login(hall.operator)
    url = reverse("evaluation:hotline")
    assert client.get(url).status_code == 200
    wrong = client.post(url, {"number": "BJ000", "level": "5"})
    assert "找不到该办件" in wrong.content.decode()
    client.post(url, {"number": event.number.lower(), "level": "5"})
    assert Rating.objects.get().channel == RatingChannel.HOTLINE
    client.force_login(hall.clerk)
    assert client.get(url).status_code == 403


def test_statistics_pages_export_and_public_page(
    client: Client, django_capture_on_commit_callbacks
) -> None:
    hall = make_hall()
    with django_capture_on_commit_callbacks(execute=True):  # the month is marked on commit
        actions.rate_by_hotline(event_at(hall).pk, actions.RatingInput(5), by=hall.operator)
    stats.refresh_dirty()
    client.force_login(hall.clerk)
    assert client.get(reverse("evaluation:stats")).status_code == 403
    client.force_login(hall.head)
    for group in stats.GROUPS:
        page = client.get(reverse("evaluation:stats"), {"group": group})
        assert page.status_code == 200, group
    page = client.get(reverse("evaluation:stats")).content.decode()
    assert "echarts" in page and "stat-data" in page and "人社局" in page
    assert client.get(reverse("evaluation:rankings"), {"month": "2026-01"}).status_code == 200
    export = client.get(reverse("evaluation:export"), {"group": "staff"})
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(export.content)).active
    assert sheet is not None
    names = [row[0] for row in sheet.iter_rows(min_row=3, values_only=True)]
    assert any(str(n).startswith("李晓燕") for n in names)
    client.logout()
    public = client.get(reverse("evaluation:public")).content.decode()
    assert "人社局" in public and "李晓燕" not in public and "S0001" not in public


def test_the_api(client: Client) -> None:
    hall = make_hall()
    _token, key = tokens.create_token(hall.head, "业务系统")
    auth = {"Authorization": f"Bearer {key}"}
    payload = {
        "department": hall.department.code,
        "window": hall.window.pk,
        "staff_no": "S0001",
        "matter": "T-001",
        "finished_at": "2026-03-10T10:00:00+08:00",
        "mobile": "13800138000",
        "external_id": "SB-2026-0001",
    }
    created = client.post(
        "/api/v1/evaluation/events", payload, content_type="application/json", headers=auth
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["rating_url"] and "mobile" not in body
    replay = client.post(
        "/api/v1/evaluation/events", payload, content_type="application/json", headers=auth
    )
    assert replay.status_code == 200 and replay.json()["id"] == body["id"]
    bad = client.post(
        "/api/v1/evaluation/events",
        {**payload, "staff_no": "X"},
        content_type="application/json",
        headers=auth,
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid"
    rated = client.post(
        f"/api/v1/evaluation/events/{body['id']}/rating",
        {"level": 2, "reasons": ["waiting"]},
        content_type="application/json",
        headers=auth,
    )
    assert rated.status_code == 201 and rated.json()["level"] == 2
    again = client.post(
        f"/api/v1/evaluation/events/{body['id']}/rating",
        {"level": 5},
        content_type="application/json",
        headers=auth,
    )
    assert again.status_code == 409
    _t, other_key = tokens.create_token(hall.other_head, "其他")
    hidden = client.get(
        f"/api/v1/evaluation/events/{body['id']}", headers={"Authorization": f"Bearer {other_key}"}
    )
    assert hidden.status_code == 404
    stats.refresh_dirty()
    figures = client.get(
        "/api/v1/evaluation/stats",
        {"group": "staff", "from": "2026-01", "to": "2026-12"},
        headers=auth,
    )
    assert figures.status_code == 200, figures.content
    assert figures.json()["total"]["bad"] in (0, 1)
