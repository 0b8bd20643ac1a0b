"""Appeals accepted through the API get their receipt (timeline step, audit event, SMS with
the query code, search words) written in batches after the commit."""

from __future__ import annotations

import threading

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from minsheng.appeals import actions, tasks
from minsheng.appeals.models import Appeal, AppealEvent, PendingReceipt
from minsheng.core import periodic
from minsheng.core.models import AuditEvent, OutboxMessage, Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def payload(n: int = 0) -> dict[str, object]:
    return {
        "title": f"路灯不亮{n}",
        "body": "东门村村口的路灯坏了一个多月，晚上出行不便。",
        "appeal_type": "help",
        "citizen_name": "张三丰",
        "citizen_mobile": "13812345678",
    }


def post(client: Client, headers: dict[str, str], n: int = 0):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/appeals",
        payload(n),
        content_type="application/json",
        headers=headers,
        REMOTE_ADDR="10.1.2.3",
    )


@pytest.fixture
def caller(bearer):  # type: ignore[no-untyped-def]
    user = UserFactory(role=Role.DISPATCHER)
    return user, bearer(user)


@pytest.fixture
def no_task_waiting():  # type: ignore[no-untyped-def]
    cache.delete(actions.RECEIPTS_QUEUED_KEY)
    yield
    cache.delete(actions.RECEIPTS_QUEUED_KEY)


def test_the_appeal_is_there_at_once_and_its_receipt_follows(client, caller):
    user, headers = caller
    response = post(client, headers)
    assert response.status_code == 201
    body = response.json()
    appeal = Appeal.objects.get(pk=body["appeal"]["id"])

    # Accepted: the citizen can look it up with the number and code straight away.
    citizen = Client()
    found = citizen.post(
        reverse("appeals:track"), {"number": appeal.number, "code": body["query_code"]}
    )
    assert found.status_code == 302
    assert citizen.get(found["Location"]).status_code == 200
    pending = PendingReceipt.objects.get()
    assert pending.appeal == appeal and pending.actor == user
    assert not AppealEvent.objects.exists()
    assert not AuditEvent.objects.filter(action="appeal.received").exists()
    assert not OutboxMessage.objects.exists()
    assert appeal.search_tokens == ""

    assert actions.register_receipts() == 1

    event = AppealEvent.objects.get()
    assert (event.kind, event.public, event.actor) == ("received", True, user)
    assert event.created_at == appeal.received_at
    audit = AuditEvent.objects.get(action="appeal.received")
    assert audit.actor_id == user.pk
    assert audit.ip == "10.1.2.3"
    assert audit.request_id == pending.request_id != ""
    assert audit.object_id == str(appeal.pk)
    sms = OutboxMessage.objects.get()
    assert sms.recipient == "13812345678"
    assert appeal.number in sms.body and body["query_code"] in sms.body
    appeal.refresh_from_db()
    assert "路灯" in appeal.search_tokens.split()
    # Written once: the query code is gone with the pending row.
    assert not PendingReceipt.objects.exists()
    assert actions.register_receipts() == 0


def test_receipts_are_written_in_batches_oldest_first(client, caller):
    _user, headers = caller
    for n in range(5):
        assert post(client, headers, n).status_code == 201

    assert actions.register_receipts(batch=2) == 5

    assert AppealEvent.objects.filter(kind="received").count() == 5
    assert OutboxMessage.objects.count() == 5
    assert not PendingReceipt.objects.exists()


@pytest.mark.usefixtures("no_task_waiting")
def test_one_task_is_queued_for_many_intakes(client, caller, django_capture_on_commit_callbacks):
    _user, headers = caller
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            post(client, headers, n)

    task = DBTaskResult.objects.get()
    assert task.task_path.endswith("register_receipts_task")
    assert cache.get(actions.RECEIPTS_QUEUED_KEY) is not None
    # The task clears the mark before it looks for work, so the next commit queues again.
    assert tasks.register_receipts_task.call() == 3
    assert cache.get(actions.RECEIPTS_QUEUED_KEY) is None


def test_the_periodic_job_writes_what_no_task_did(client, caller):
    _user, headers = caller
    post(client, headers)

    assert periodic.get("appeals.receipts") is not None
    assert tasks.register_receipts() == "1 receipts written"
    assert tasks.register_receipts() is None


def test_a_receipt_that_fails_does_not_hold_back_the_others(client, caller, monkeypatch):
    _user, headers = caller
    ids = [post(client, headers, n).json()["appeal"]["id"] for n in range(3)]
    receipt = actions._receipt

    def failing(appeal, by, code):  # type: ignore[no-untyped-def]
        if appeal.pk == ids[1]:
            raise RuntimeError("broken")
        return receipt(appeal, by, code)

    monkeypatch.setattr(actions, "_receipt", failing)

    assert actions.register_receipts() == 2

    assert list(PendingReceipt.objects.values_list("pk", flat=True)) == [ids[1]]
    assert set(AppealEvent.objects.values_list("appeal_id", flat=True)) == {ids[0], ids[2]}


def test_forms_still_write_the_receipt_at_once():
    submitted = actions.submit(
        actions.AppealInput(
            title="路灯不亮", body="村口路灯坏了很久了。", citizen_mobile="13812345678"
        )
    )

    assert not PendingReceipt.objects.exists()
    assert AppealEvent.objects.get().appeal == submitted.appeal
    assert OutboxMessage.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_write_each_receipt_once(caller):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no row locks: one writer at a time, so there is no race")
    _user, headers = caller
    for n in range(40):
        assert post(Client(), headers, n).status_code == 201
    barrier = threading.Barrier(4)
    counts: list[int] = []

    def work() -> None:
        try:
            barrier.wait()
            counts.append(actions.register_receipts(batch=5))
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(counts) == 40
    assert AppealEvent.objects.filter(kind="received").count() == 40
    assert AuditEvent.objects.filter(action="appeal.received").count() == 40
    assert OutboxMessage.objects.count() == 40
    assert not PendingReceipt.objects.exists()
