"""The appeals REST API: idempotent intake, scoping, the workflow actions, errors, KPIs."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection
from django.test import Client
from openapi_spec_validator import validate

from minsheng.appeals import actions
from minsheng.appeals.models import (
    Appeal,
    AppealType,
    Category,
    ExtensionRequest,
    IdempotencyKey,
    RefusalRule,
    Supervision,
)
from minsheng.appeals.states import State
from minsheng.core.models import AuditEvent, Division, Role
from tests.api.utils import error_of
from tests.factories import DepartmentFactory, DivisionFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)  # a Monday, 18:00 in Shanghai


@pytest.fixture
def org():
    county = DivisionFactory(code="330000", level=Division.Level.COUNTY, name="示范县")
    town = DivisionFactory(code="330001", parent=county, name="城关镇")
    village = DivisionFactory(
        code="330002", parent=town, level=Division.Level.VILLAGE, name="东门村"
    )
    a, b = DepartmentFactory(name="住建局"), DepartmentFactory(name="水利局")
    return {
        "town": town,
        "village": village,
        "a": a,
        "b": b,
        "dispatcher": UserFactory(role=Role.DISPATCHER),
        "supervisor": UserFactory(role=Role.SUPERVISOR),
        "leader": UserFactory(role=Role.LEADER),
        "handler_a": UserFactory(role=Role.HANDLER, department=a),
        "head_a": UserFactory(role=Role.DEPT_HEAD, department=a),
        "handler_b": UserFactory(role=Role.HANDLER, department=b),
    }


def payload(**overrides):
    data = {
        "title": "路灯不亮",
        "body": "东门村村口的路灯坏了一个多月，晚上出行不便。",
        "appeal_type": "help",
        "citizen_name": "张三丰",
        "citizen_mobile": "13812345678",
        "address": "东门村3组12号",
    }
    data.update(overrides)
    return data


def new_appeal(org, **overrides) -> Appeal:
    data = {
        "title": "路灯不亮",
        "body": "东门村村口的路灯坏了一个多月。",
        "citizen_name": "张三丰",
        "citizen_mobile": "13812345678",
        "division_id": org["village"].pk,
        "address": "东门村3组12号",
    }
    data.update(overrides)
    return actions.submit(actions.AppealInput(**data)).appeal


def dispatched(org, department="a", **overrides) -> Appeal:
    appeal = new_appeal(org, **overrides)
    return actions.dispatch(appeal.pk, department_id=org[department].pk, by=org["dispatcher"])


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client: Client, path: str, data: dict | None = None, **kwargs):
    return client.post(path, data or {}, content_type="application/json", **kwargs)


# ---------------------------------------------------------------- intake


def test_idempotent_intake_creates_one_appeal_and_replays_it(client, bearer, org):
    headers = {**bearer(org["dispatcher"]), "Idempotency-Key": "order-42"}

    first = post(client, "/api/v1/appeals", payload(division=org["village"].pk), headers=headers)
    again = post(client, "/api/v1/appeals", payload(division=org["village"].pk), headers=headers)

    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first
    created = first.json()
    assert created["replayed"] is False
    assert len(created["query_code"]) == 8
    appeal = created["appeal"]
    assert appeal["number"].startswith("YT-")
    assert appeal["state"] == "received"
    assert appeal["channel"] == "api"
    # Personal data is masked even for the system that sent it.
    assert appeal["citizen_name"] == "张**"
    assert appeal["citizen_mobile"] == "138****5678"
    assert appeal["location"] == "示范县城关镇"
    assert "东门村3组" not in first.content.decode()

    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["appeal"]["id"] == appeal["id"]
    assert again.json()["query_code"] is None
    assert again.json()["replayed"] is True
    assert Appeal.objects.count() == 1


def test_same_key_with_other_content_is_refused(client, bearer, org):
    headers = {**bearer(org["dispatcher"]), "Idempotency-Key": "k-1"}
    assert post(client, "/api/v1/appeals", payload(), headers=headers).status_code == 201

    response = post(client, "/api/v1/appeals", payload(title="另一件事"), headers=headers)

    assert response.status_code == 422
    assert error_of(response)["code"] == "idempotency_mismatch"
    assert Appeal.objects.count() == 1


def test_idempotency_keys_belong_to_one_caller(client, bearer, org):
    first = {**bearer(org["dispatcher"]), "Idempotency-Key": "same"}
    second = {**bearer(org["dispatcher"], "另一个系统"), "Idempotency-Key": "same"}

    ids = {
        post(client, "/api/v1/appeals", payload(), headers=headers).json()["appeal"]["id"]
        for headers in (first, second)
    }

    assert len(ids) == 2
    assert set(IdempotencyKey.objects.values_list("client", flat=True)) == {
        f"token:{t.pk}" for t in org["dispatcher"].api_tokens.all()
    }


def test_session_callers_are_keyed_by_user(org):
    client = as_user(org["dispatcher"])
    headers = {"Idempotency-Key": "form-1"}

    responses = [post(client, "/api/v1/appeals", payload(), headers=headers) for _ in range(2)]

    assert [r.status_code for r in responses] == [201, 200]
    assert IdempotencyKey.objects.get().client == f"user:{org['dispatcher'].pk}"


def test_without_a_key_every_post_is_a_new_appeal(client, bearer, org):
    headers = bearer(org["dispatcher"])

    codes = [post(client, "/api/v1/appeals", payload(), headers=headers).status_code for _ in "ab"]

    assert codes == [201, 201]
    assert Appeal.objects.count() == 2


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        (payload(title=""), {"title"}),
        (payload(appeal_type="rumour"), {"appeal_type"}),
        (payload(unknown="x"), {"unknown"}),
        (payload(citizen_mobile="12345"), {"citizen_mobile"}),
        (payload(category=999999), {"category"}),
        (payload(division=999999), {"division"}),
        (payload(body="太短"), {"body"}),
        (payload(title="路灯\x00"), {"title"}),
    ],
)
def test_invalid_intake_is_422_with_field_messages(client, bearer, org, data, fields):
    response = post(client, "/api/v1/appeals", data, headers=bearer(org["dispatcher"]))

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid"
    assert set(error["fields"]) == fields
    assert Appeal.objects.count() == 0


def test_bad_idempotency_key_is_a_field_error(client, bearer, org):
    headers = {**bearer(org["dispatcher"]), "Idempotency-Key": "x" * 129}

    response = post(client, "/api/v1/appeals", payload(), headers=headers)

    assert response.status_code == 422
    assert set(error_of(response)["fields"]) == {"Idempotency-Key"}


def test_intake_needs_the_intake_right(client, bearer, org):
    response = post(client, "/api/v1/appeals", payload(), headers=bearer(org["leader"]))

    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"


def test_intake_needs_authentication(client, org):
    response = post(client, "/api/v1/appeals", payload())

    assert response.status_code == 401


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_posts_with_one_key_create_one_appeal(bearer):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so there is no race")
    user = UserFactory(role=Role.DISPATCHER)
    headers = {**bearer(user), "Idempotency-Key": "double-click"}
    barrier = threading.Barrier(6)
    results: list[tuple[int, dict]] = []

    def submit() -> None:
        try:
            barrier.wait()
            response = post(Client(), "/api/v1/appeals", payload(), headers=headers)
            results.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(status for status, _body in results) == [200] * 5 + [201], results
    assert Appeal.objects.count() == 1
    assert {body["appeal"]["id"] for _status, body in results} == {Appeal.objects.get().pk}
    assert IdempotencyKey.objects.count() == 1


# ---------------------------------------------------------------- reading


def test_list_is_scoped_to_the_department_and_masked(org):
    mine = dispatched(org, "a")
    dispatched(org, "b")
    new_appeal(org)

    own = as_user(org["handler_a"]).get("/api/v1/appeals").json()
    everything = as_user(org["dispatcher"]).get("/api/v1/appeals").json()

    assert own["count"] == 1
    (item,) = own["results"]
    assert item["id"] == mine.pk
    assert item["lead_department"] == {"id": org["a"].pk, "name": "住建局"}
    assert (item["citizen_name"], item["citizen_mobile"]) == ("张**", "138****5678")
    assert item["deadline"] == "green"
    assert everything["count"] == 3
    assert set(everything) == {"count", "next", "previous", "results"}


def test_list_filters(org):
    with time_machine.travel(NOW - dt.timedelta(days=30), tick=False):
        old = dispatched(org, "a", appeal_type=AppealType.CONSULT)
    with time_machine.travel(NOW, tick=False):
        recent = dispatched(org, "b")
        received = new_appeal(org)
        api = as_user(org["dispatcher"])

        def ids(**query) -> set[int]:
            response = api.get("/api/v1/appeals", query)
            assert response.status_code == 200, response.content
            return {item["id"] for item in response.json()["results"]}

        assert ids(state="received") == {received.pk}
        assert ids(type="consult") == {old.pk}
        assert ids(department=org["b"].pk) == {recent.pk}
        assert ids(town=org["town"].pk) == {old.pk, recent.pk, received.pk}
        assert ids(overdue="true") == {old.pk}
        assert ids(overdue="false") == {recent.pk, received.pk}
        assert ids(date_from="2026-11-01") == {recent.pk, received.pk}
        assert ids(date_to="2026-11-01") == {old.pk}
        response = api.get("/api/v1/appeals", {"date_from": "2026-11-02", "date_to": "2026-11-01"})
        assert response.status_code == 422
        assert set(error_of(response)["fields"]) == {"date_to"}


def test_list_filters_by_category_including_subcategories(org):
    parent = Category.objects.create(code="city", name="市政设施")
    child = Category.objects.create(code="lamp", name="路灯", parent=parent)
    in_child = new_appeal(org, category_id=child.pk)
    new_appeal(org)

    results = as_user(org["dispatcher"]).get("/api/v1/appeals", {"category": parent.pk}).json()

    assert [item["id"] for item in results["results"]] == [in_child.pk]


def test_list_refuses_roles_without_the_right(org):
    response = as_user(UserFactory(role=Role.WINDOW_STAFF)).get("/api/v1/appeals")

    assert response.status_code == 403


def test_detail_has_the_timeline_and_is_404_for_another_department(org):
    appeal = dispatched(org, "a")

    own = as_user(org["handler_a"]).get(f"/api/v1/appeals/{appeal.pk}")
    other = as_user(org["handler_b"]).get(f"/api/v1/appeals/{appeal.pk}")
    missing = as_user(org["dispatcher"]).get("/api/v1/appeals/999999")

    assert own.status_code == 200
    detail = own.json()
    assert [event["kind"] for event in detail["timeline"]] == ["received", "dispatched"]
    assert detail["timeline"][1]["actor"] == org["dispatcher"].name
    assert detail["body"] == "东门村村口的路灯坏了一个多月。"
    assert "东门村3组" not in own.content.decode()
    for response in (other, missing):
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"


def test_personal_data_is_shown_through_an_audited_post(org):
    appeal = dispatched(org, "a")

    response = post(as_user(org["handler_a"]), f"/api/v1/appeals/{appeal.pk}/personal")
    leader = post(as_user(org["leader"]), f"/api/v1/appeals/{appeal.pk}/personal")

    assert response.status_code == 200
    assert response.json() == {
        "id": appeal.pk,
        "citizen_name": "张三丰",
        "citizen_mobile": "13812345678",
        "address": "城关镇东门村东门村3组12号",
    }
    assert AuditEvent.objects.filter(action="appeal.view_personal").count() == 1
    assert leader.status_code == 403


# ---------------------------------------------------------------- actions


def test_the_closed_loop_through_the_api(org):
    dispatcher, handler = as_user(org["dispatcher"]), as_user(org["handler_a"])
    appeal = new_appeal(org)
    base = f"/api/v1/appeals/{appeal.pk}"

    response = post(
        dispatcher, f"{base}/dispatch", {"department": org["a"].pk, "expected_version": 0}
    )
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "dispatched"
    version = response.json()["version"]

    response = post(handler, f"{base}/sign", {"expected_version": version})
    assert response.json()["state"] == "handling"
    response = post(handler, f"{base}/notes", {"text": "已到现场查看，联系电工。"})
    assert response.json()["timeline"][-1]["kind"] == "note"
    response = post(handler, f"{base}/extensions", {"days": 3, "reason": "需采购灯具"})
    (extension,) = response.json()["extensions"]
    assert extension["status"] == "pending"
    response = post(
        dispatcher,
        f"{base}/extensions/{extension['id']}/decision",
        {"approve": True, "note": "同意"},
    )
    assert response.json()["extensions"][0]["status"] == "approved"
    assert response.json()["extension_count"] == 1
    response = post(handler, f"{base}/reply", {"text": GOOD_REPLY})
    assert response.json()["state"] == "replied", response.content
    response = post(
        dispatcher, f"{base}/callback", {"resolved": True, "level": "satisfied", "comment": "好"}
    )

    assert response.status_code == 200
    assert response.json()["state"] == "closed"
    assert response.json()["satisfaction"] == "satisfied"


GOOD_REPLY = (
    "您好！经现场核实，您反映的东门村村口路灯不亮问题属实。我单位已更换路灯灯具，现已恢复照明，"
    "并将于本月底前完成全村路灯检修。如有疑问请联系城关镇村建办，电话0530-1234567。感谢您的监督！"
)


def test_a_reply_with_warnings_is_sent_only_when_overridden(org):
    appeal = dispatched(org, "a")
    actions.sign(appeal.pk, by=org["handler_a"])
    handler = as_user(org["handler_a"])
    url = f"/api/v1/appeals/{appeal.pk}/reply"

    refused = post(handler, url, {"text": "已更换路灯灯具，现已恢复照明。"})
    assert refused.status_code == 422
    error = error_of(refused)
    assert error["code"] == "reply_check"
    assert {"no_contact", "no_courtesy"} <= set(error["fields"]["warnings"])
    assert len(error["fields"]["text"]) == len(error["fields"]["warnings"])
    assert Appeal.objects.get(pk=appeal.pk).state == State.HANDLING

    sent = post(handler, url, {"text": "已更换路灯灯具，现已恢复照明。", "override": True})
    assert sent.status_code == 200 and sent.json()["state"] == "replied"
    record = AuditEvent.objects.filter(action="appeal.replied").latest("seq")
    assert "no_contact" in record.after["reply_check"]["overridden"]


def test_stale_version_is_a_409_conflict(org):
    appeal = dispatched(org, "a")
    handler = as_user(org["handler_a"])

    signed = post(handler, f"/api/v1/appeals/{appeal.pk}/sign", {"expected_version": 0})
    note = post(
        handler, f"/api/v1/appeals/{appeal.pk}/notes", {"text": "过程", "expected_version": 0}
    )

    for response in (signed, note):
        assert response.status_code == 409
        error = error_of(response)
        assert error["code"] == "conflict"
        assert "刷新" in error["message"]
    assert Appeal.objects.get(pk=appeal.pk).state == State.DISPATCHED
    assert not appeal.events.filter(kind="note").exists()


def test_action_in_the_wrong_state_is_a_409(org):
    appeal = dispatched(org, "a")
    actions.sign(appeal.pk, by=org["handler_a"])
    RefusalRule.objects.get_or_create(
        code="emergency-110",
        defaults={"title": "紧急警情", "outcome": "transferred", "message": "请拨打110"},
    )

    response = post(
        as_user(org["dispatcher"]), f"/api/v1/appeals/{appeal.pk}/refuse", {"rule": "emergency-110"}
    )

    assert response.status_code == 409
    assert error_of(response)["code"] == "conflict"


def test_action_errors_are_422_with_fields(org):
    appeal = dispatched(org, "a")
    actions.sign(appeal.pk, by=org["handler_a"])
    handler = as_user(org["handler_a"])

    short = post(handler, f"/api/v1/appeals/{appeal.pk}/reply", {"text": "好了"})
    days = post(handler, f"/api/v1/appeals/{appeal.pk}/extensions", {"days": 0, "reason": "x"})
    unknown_rule = post(
        as_user(org["dispatcher"]), f"/api/v1/appeals/{new_appeal(org).pk}/refuse", {"rule": "nope"}
    )

    assert short.status_code == 422
    assert error_of(short)["code"] == "invalid"
    assert error_of(short)["fields"] == {"text": ["答复内容至少10个字"]}
    assert days.status_code == 422
    assert set(error_of(days)["fields"]) == {"days"}
    assert unknown_rule.status_code == 422
    assert set(error_of(unknown_rule)["fields"]) == {"rule"}


def test_actions_check_the_role(org):
    appeal = dispatched(org, "a")

    handler_dispatch = post(
        as_user(org["handler_a"]),
        f"/api/v1/appeals/{appeal.pk}/dispatch",
        {"department": org["b"].pk},
    )
    other_department = post(as_user(org["handler_b"]), f"/api/v1/appeals/{appeal.pk}/sign")

    assert handler_dispatch.status_code == 403
    assert error_of(handler_dispatch)["code"] == "forbidden"
    assert other_department.status_code == 404


def test_a_co_department_sees_but_cannot_sign(org):
    appeal = new_appeal(org)
    actions.dispatch(
        appeal.pk, department_id=org["a"].pk, co_department_ids=[org["b"].pk], by=org["dispatcher"]
    )
    co = as_user(org["handler_b"])

    assert co.get(f"/api/v1/appeals/{appeal.pk}").status_code == 200
    assert post(co, f"/api/v1/appeals/{appeal.pk}/sign").status_code == 403
    assert post(co, f"/api/v1/appeals/{appeal.pk}/notes", {"text": "协办意见"}).status_code == 200


def test_return_then_redispatch(org):
    appeal = dispatched(org, "a")

    returned = post(
        as_user(org["handler_a"]),
        f"/api/v1/appeals/{appeal.pk}/return",
        {"reason": "不属于本局职责"},
    )
    again = post(
        as_user(org["dispatcher"]),
        f"/api/v1/appeals/{appeal.pk}/dispatch",
        {"department": org["b"].pk, "expected_version": returned.json()["version"]},
    )

    assert returned.status_code == 200
    assert returned.json()["state"] == "returned"
    assert again.json()["state"] == "dispatched"
    assert again.json()["lead_department"]["id"] == org["b"].pk


def test_extension_decision_must_belong_to_the_appeal(org):
    first, second = dispatched(org, "a"), dispatched(org, "a")
    actions.sign(first.pk, by=org["handler_a"])
    extension = actions.request_extension(first.pk, days=2, reason="需要协调", by=org["handler_a"])

    response = post(
        as_user(org["dispatcher"]),
        f"/api/v1/appeals/{second.pk}/extensions/{extension.pk}/decision",
        {"approve": True},
    )

    assert response.status_code == 404
    assert ExtensionRequest.objects.get().status == ExtensionRequest.Status.PENDING


def test_merge_promote_and_supervise(org):
    master, duplicate, other = new_appeal(org), new_appeal(org), dispatched(org, "a")
    dispatcher = as_user(org["dispatcher"])

    merged = post(dispatcher, f"/api/v1/appeals/{master.pk}/merge", {"duplicates": [duplicate.pk]})
    missing = post(dispatcher, f"/api/v1/appeals/{master.pk}/merge", {"duplicates": [999999]})
    promoted = post(
        dispatcher, f"/api/v1/appeals/{master.pk}/promote", {"reason": "需要整体改造线路"}
    )
    supervised = post(
        as_user(org["supervisor"]), f"/api/v1/appeals/{other.pk}/supervise", {"note": "尽快办理"}
    )
    twice = post(as_user(org["supervisor"]), f"/api/v1/appeals/{other.pk}/supervise")

    assert merged.status_code == 200
    # Merged into the master, then promoted with it (a merged appeal follows its master).
    assert Appeal.objects.get(pk=duplicate.pk).merged_into_id == master.pk
    assert Appeal.objects.get(pk=duplicate.pk).state == State.PROMOTED
    assert missing.status_code == 404
    assert promoted.json()["state"] == "promoted"
    assert promoted.json()["promote_reason"] == "需要整体改造线路"
    assert supervised.status_code == 200
    assert Supervision.objects.filter(appeal=other).count() == 1
    assert twice.status_code == 409


def test_action_body_is_validated(org):
    appeal = new_appeal(org)

    response = post(
        as_user(org["dispatcher"]),
        f"/api/v1/appeals/{appeal.pk}/dispatch",
        {"department": "住建局", "expected_version": -1},
    )

    assert response.status_code == 422
    assert set(error_of(response)["fields"]) == {"department", "expected_version"}


# ---------------------------------------------------------------- KPIs


def test_kpis_by_department_with_definitions(org):
    with time_machine.travel(NOW, tick=False):
        dispatched(org, "a")
        dispatched(org, "a")
        dispatched(org, "b")
        body = as_user(org["leader"]).get("/api/v1/appeals/kpi", {"group": "department"}).json()
        own = as_user(org["handler_a"]).get("/api/v1/appeals/kpi").json()
        total = as_user(org["leader"]).get("/api/v1/appeals/kpi", {"group": "total"}).json()

    assert (body["start"], body["end"], body["group"]) == ("2026-01-01", "2026-11-23", "department")
    assert {row["name"]: row["received"] for row in body["rows"]} == {"住建局": 2, "水利局": 1}
    assert body["labels"]["satisfaction_rate"] == "满意率"
    assert "已评价件数" in body["definitions"]["satisfaction_rate"]
    assert set(body["rows"][0]["rates"]) >= {"sign_rate", "satisfaction_rate"}
    assert {row["name"]: row["received"] for row in own["rows"]} == {"住建局": 2}
    assert [row["received"] for row in total["rows"]] == [3]


def test_kpi_input_errors(org):
    leader = as_user(org["leader"])

    backwards = leader.get("/api/v1/appeals/kpi", {"start": "2026-05-01", "end": "2026-04-01"})
    too_long = leader.get("/api/v1/appeals/kpi", {"start": "2016-01-01", "end": "2026-04-01"})
    unknown = leader.get("/api/v1/appeals/kpi", {"group": "weather"})
    window = as_user(UserFactory(role=Role.WINDOW_STAFF)).get("/api/v1/appeals/kpi")

    assert backwards.status_code == 422
    assert error_of(backwards)["fields"] == {"end": ["结束日期不能早于开始日期"]}
    assert too_long.status_code == 422
    assert unknown.status_code == 422
    assert set(error_of(unknown)["fields"]) == {"group"}
    assert window.status_code == 403


# ---------------------------------------------------------------- the document


def test_openapi_document_still_validates_with_the_appeal_routes(client):
    document = client.get("/api/v1/openapi.json").json()

    validate(document)
    paths = document["paths"]
    for path in (
        "/api/v1/appeals",
        "/api/v1/appeals/kpi",
        "/api/v1/appeals/{appeal_id}",
        "/api/v1/appeals/{appeal_id}/extensions/{extension_id}/decision",
    ):
        assert path in paths
    for action in [
        "dispatch",
        "sign",
        "return",
        "notes",
        "extensions",
        "reply",
        "callback",
        "merge",
        "promote",
        "supervise",
        "refuse",
    ]:
        assert "post" in paths[f"/api/v1/appeals/{{appeal_id}}/{action}"]
    intake = paths["/api/v1/appeals"]["post"]
    assert {"200", "201"} <= set(intake["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in intake["parameters"])
