"""/api/v1/projects: staff lists and details scoped by unit, progress reports, the ledger,
and the published batches for anyone, without personal data."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
import time_machine

from minsheng.appeals.states import State as AppealState
from minsheng.projects import actions
from minsheng.projects.models import Batch, ProgressReport
from minsheng.projects.states import EscalationStep, ProjectState
from tests.api.utils import error_of
from tests.appeals.factories import appeal_in
from tests.appeals.factories import make_cast as make_appeals_cast
from tests.projects.factories import make_cast, make_project

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
CITIZEN = "钱多多"


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=TZ)


@pytest.fixture
def world():
    cast = make_cast()
    with time_machine.travel(at(dt.date(2026, 3, 2)), tick=False):
        project = make_project(cast)
        appeal = appeal_in(AppealState.PROMOTED, make_appeals_cast(), citizen_name=CITIZEN)
        actions.link_appeal(project.pk, appeal.pk, by=cast.supervisor)
    return cast, project


def post(client, url: str, body: dict, headers: dict):
    return client.post(url, json.dumps(body), content_type="application/json", headers=headers)


def test_the_list_is_scoped_to_the_units_of_the_project(client, bearer, world):
    cast, project = world

    for user, expected in [
        (cast.handler, [project.code]),
        (cast.co_handler, [project.code]),
        (cast.other_handler, []),
        (cast.supervisor, [project.code]),
        (cast.leader, [project.code]),
    ]:
        response = client.get("/api/v1/projects", headers=bearer(user))
        assert response.status_code == 200, user.role
        body = response.json()
        assert [p["code"] for p in body["results"]] == expected, user.role
        assert body["count"] == len(expected)


def test_list_filters(client, bearer, world):
    cast, _project = world
    headers = bearer(cast.supervisor)

    assert client.get("/api/v1/projects", {"q": "管网"}, headers=headers).json()["count"] == 1
    assert client.get("/api/v1/projects", {"q": "幼儿园"}, headers=headers).json()["count"] == 0
    assert client.get("/api/v1/projects", {"state": "closed"}, headers=headers).json()["count"] == 0
    response = client.get("/api/v1/projects", {"status": "nonsense"}, headers=headers)
    assert response.status_code == 422
    assert error_of(response)["code"] == "invalid"


def test_detail_masks_the_contact_and_hides_other_units(client, bearer, world):
    cast, project = world

    response = client.get(f"/api/v1/projects/{project.pk}", headers=bearer(cast.handler))

    assert response.status_code == 200
    body = response.json()
    assert body["contact_name"] == "王*"
    assert body["contact_phone"] == "138****1111"
    assert "13800001111" not in response.content.decode()
    assert [t["name"] for t in body["targets"]] == ["铺设管网"]
    assert len(body["milestones"]) == 3
    assert body["source_appeals"] == 1
    assert body["co_units"][0]["name"] == cast.co_unit.label
    other = client.get(f"/api/v1/projects/{project.pk}", headers=bearer(cast.other_handler))
    assert other.status_code == 404
    assert error_of(other)["code"] == "not_found"
    assert client.get(f"/api/v1/projects/{project.pk}").status_code == 401


def test_a_unit_submits_its_progress_report(client, bearer, world):
    cast, project = world
    target = project.targets.get()
    first = project.milestones.order_by("month").first()
    url = f"/api/v1/projects/{project.pk}/reports"
    body = {
        "period": "2026-04-15",
        "text": "管网铺设完成7公里",
        "percent": 60,
        "values": [{"target": target.pk, "value": "7"}],
        "done_milestones": [first.pk],
    }

    with time_machine.travel(at(dt.date(2026, 5, 6)), tick=False):
        response = post(client, url, body, bearer(cast.handler))
        again = post(client, url, body, bearer(cast.handler))

    assert response.status_code == 201, response.content
    report = response.json()
    assert report["period"] == "2026-04-01"
    assert report["percent_complete"] == 60
    assert report["values"] == [{"target_id": target.pk, "value": 7.0}]
    assert report["submitted_by"] == cast.handler.display_name
    project.refresh_from_db()
    assert project.percent_complete == 60
    assert ProgressReport.objects.filter(project=project).count() == 1
    assert again.status_code == 409
    assert error_of(again)["code"] == "conflict"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"percent": 150}, "percent"),
        ({"text": "短"}, "text"),
        ({"period": "2099-01-01"}, "period"),
        ({"values": [{"target": 999999, "value": "1"}]}, "values"),
        ({"values": [{"target": 0, "value": "-1"}]}, "values.0.value"),
    ],
)
def test_bad_reports_are_refused_with_field_errors(client, bearer, world, change, field):
    cast, project = world
    body = {"period": "2026-04-01", "text": "管网铺设完成7公里", "percent": 60} | change

    response = post(client, f"/api/v1/projects/{project.pk}/reports", body, bearer(cast.handler))

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid"
    assert field in error["fields"]
    assert not ProgressReport.objects.exists()


def test_who_may_not_report(client, bearer, world):
    cast, project = world
    body = {"period": "2026-04-01", "text": "管网铺设完成7公里", "percent": 60}
    url = f"/api/v1/projects/{project.pk}/reports"

    assert post(client, url, body, bearer(cast.other_handler)).status_code == 404
    forbidden = post(client, url, body, bearer(cast.leader))
    assert forbidden.status_code == 403
    assert error_of(forbidden)["code"] == "forbidden"
    assert (
        post(client, "/api/v1/projects/999999/reports", body, bearer(cast.handler)).status_code
        == 404
    )
    assert not ProgressReport.objects.exists()


def test_the_ledger_lists_late_work_and_open_escalations(client, bearer, world):
    cast, project = world
    with time_machine.travel(at(dt.date(2026, 4, 20)), tick=False):
        actions.escalate(
            project.pk, by=cast.supervisor, step=EscalationStep.URGE, text="请加快设计招标"
        )
        actions.escalate(
            project.pk,
            by=cast.supervisor,
            step=EscalationStep.WRITTEN,
            text="书面督办：设计招标滞后",
        )

    with time_machine.travel(at(dt.date(2026, 5, 6)), tick=False):
        response = client.get("/api/v1/projects/ledger", headers=bearer(cast.supervisor))
        by_step = client.get(
            "/api/v1/projects/ledger", {"step": "interview"}, headers=bearer(cast.supervisor)
        )
        scoped = client.get("/api/v1/projects/ledger", headers=bearer(cast.other_handler))

    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["project"]["code"] == project.code
    assert row["late_milestones"] == 2  # March and April are past due, not done
    assert row["highest_step"] == "written"
    assert {e["step"] for e in row["open_escalations"]} == {"urge", "written"}
    written = next(e for e in row["open_escalations"] if e["step"] == "written")
    assert written["doc_number"].startswith("督办字〔2026〕")
    assert written["issued_by"] == cast.supervisor.display_name
    assert by_step.json()["count"] == 0
    assert scoped.json()["count"] == 0


def test_public_batches_need_no_login_and_carry_no_personal_data(client, world):
    cast, project = world
    with time_machine.travel(at(dt.date(2026, 4, 2)), tick=False):
        actions.submit_report(
            project.pk,
            by=cast.handler,
            period=dt.date(2026, 3, 1),
            text=f"设计招标完成，联系人王五13800001111，{CITIZEN}反映的问题已解决",
            percent=20,
        )
        batch = actions.publish_batch(project.batch_id, by=cast.supervisor)
    Batch.objects.create(year=2026, number=5, title="未公开的批次")

    listing = client.get("/api/v1/projects/public/batches")
    detail = client.get(f"/api/v1/projects/public/batches/{batch.pk}")

    assert listing.status_code == 200
    assert [(b["title"], b["projects"]) for b in listing.json()] == [(batch.title, 1)]
    assert detail.status_code == 200
    [item] = detail.json()["items"]
    assert item["code"] == project.code
    assert item["unit"] == cast.unit.label
    assert item["latest_report"]["percent"] == 20
    assert "设计招标完成" in item["latest_report"]["text"]
    assert {m["status"] for m in item["milestones"]} <= {"late", "pending", "done"}
    text = detail.content.decode()
    for value in ["王五", "13800001111", CITIZEN, "李副县长", cast.handler.name]:
        assert value not in text, value
    hidden = Batch.objects.get(number=5)
    missing = client.get(f"/api/v1/projects/public/batches/{hidden.pk}")
    assert missing.status_code == 404
    assert error_of(missing)["code"] == "not_found"


def test_drafts_are_not_in_the_public_batch(client, world):
    cast, project = world
    draft = make_project(cast, batch=project.batch, title="草稿项目", start=False, milestones=None)
    actions.publish_batch(project.batch_id, by=cast.supervisor)

    body = client.get(f"/api/v1/projects/public/batches/{project.batch_id}").json()

    assert draft.state == ProjectState.DRAFT
    assert [i["title"] for i in body["items"]] == [project.title]
    assert body["projects"] == 1


def test_the_operations_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    assert "get" in paths["/api/v1/projects"]
    assert "get" in paths["/api/v1/projects/{project_id}"]
    assert "post" in paths["/api/v1/projects/{project_id}/reports"]
    assert "get" in paths["/api/v1/projects/ledger"]
    assert not paths["/api/v1/projects/public/batches"]["get"].get("security")
    assert paths["/api/v1/projects"]["get"]["security"]
