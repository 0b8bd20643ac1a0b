from __future__ import annotations

import datetime as dt
import logging
import threading
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction
from django.db.transaction import TransactionManagementError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django_tasks.backends.base import BaseTaskBackend
from django_tasks_db.models import DBTaskResult

from minsheng.core import outbox
from minsheng.core.models import AuditEvent, Notification, OutboxMessage, Role
from minsheng.core.outbox import delivery
from minsheng.core.outbox.backends import DeliveryError, SmsBackend
from tests.factories import UserFactory

Status = OutboxMessage.Status
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
MOBILE = "13800138000"


class FlakySms(SmsBackend):
    """Fails twice, then sends."""

    calls = 0

    def send(self, mobile: str, text: str) -> str:
        FlakySms.calls += 1
        if FlakySms.calls <= 2:
            raise DeliveryError(f"provider busy ({FlakySms.calls})")
        return "flaky-ok"


class BrokenSms(SmsBackend):
    def send(self, mobile: str, text: str) -> str:
        raise DeliveryError("provider down")


class BuggySms(SmsBackend):
    def send(self, mobile: str, text: str) -> str:
        raise KeyError("bug in the provider's client")


class RecordingSms(SmsBackend):
    """Remembers every message it sent, from any thread."""

    sent: list[str] = []
    lock = threading.Lock()

    def send(self, mobile: str, text: str) -> str:
        with RecordingSms.lock:
            RecordingSms.sent.append(text)
        return "recorded"


def backends(sms: str) -> dict[str, str]:
    return {
        "sms": f"tests.core.test_outbox.{sms}",
        "email": "minsheng.core.outbox.backends.DjangoEmailBackend",
        "inapp": "minsheng.core.outbox.backends.InAppBackend",
    }


def sms(body: str = "您的诉求已受理", recipient: str = MOBILE) -> OutboxMessage:
    with transaction.atomic():
        return outbox.enqueue("sms", recipient, body, kind="appeal.accepted")


# Writing ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_message_rolls_back_with_the_change_that_caused_it():
    user = UserFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        user.name = "改名"
        user.save()
        outbox.enqueue("sms", MOBILE, "资料已修改", user=user)
        raise RuntimeError("the change failed")
    assert not OutboxMessage.objects.exists()

    with transaction.atomic():
        outbox.enqueue("sms", MOBILE, "资料已修改", user=user)
    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts, message.recipient) == (Status.PENDING, 0, MOBILE)
    assert message.next_attempt_at is not None


@pytest.mark.django_db(transaction=True)
def test_enqueue_outside_a_transaction_is_refused():
    with pytest.raises(TransactionManagementError):
        outbox.enqueue("sms", MOBILE, "x")
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("fax", MOBILE, "x"), {}),
        (("sms", " ", "x"), {}),
        (("sms", MOBILE, "  "), {}),
        (("inapp", "", "x"), {}),
        (("sms", MOBILE, "x"), {"url": "/" + "a" * 600}),
    ],
)
def test_enqueue_refuses_malformed_messages(args, kwargs):
    with pytest.raises(ValueError), transaction.atomic():
        outbox.enqueue(*args, **kwargs)
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_long_subject_is_shortened_and_inapp_recipient_defaults_to_the_user():
    user = UserFactory()
    with transaction.atomic():
        message = outbox.enqueue("inapp", "", "正文", subject="标" * 300, user=user)
    assert message.recipient == str(user.pk)
    assert len(message.subject) == 200 and message.subject.endswith("…")


@pytest.fixture
def no_task_waiting():
    """Another test's real commits may have left the "task queued" mark in the cache."""
    cache.delete(outbox.DELIVERY_QUEUED_KEY)
    yield
    cache.delete(outbox.DELIVERY_QUEUED_KEY)


@pytest.mark.django_db
@override_settings(TASKS=DB_TASKS)
@pytest.mark.usefixtures("no_task_waiting")
def test_one_delivery_task_is_queued_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        for n in range(3):
            outbox.enqueue("sms", MOBILE, f"第{n}条")
        assert not DBTaskResult.objects.exists()  # nothing before the commit
    assert len(callbacks) == 1
    task = DBTaskResult.objects.get()
    assert task.task_path == "minsheng.core.tasks.deliver_outbox"


@pytest.mark.django_db(transaction=True)  # real commits: each runs its own on-commit hooks
@override_settings(TASKS=DB_TASKS)
@pytest.mark.usefixtures("no_task_waiting")
def test_commits_share_the_task_that_is_still_waiting():
    def commit(text: str) -> None:
        with transaction.atomic():
            outbox.enqueue("sms", MOBILE, text)

    commit("一")
    commit("二")  # the first task has not started: it will send both
    assert DBTaskResult.objects.count() == 1

    outbox.delivery_started()  # the worker picked it up
    commit("三")
    assert DBTaskResult.objects.count() == 2


class DownQueue(BaseTaskBackend):
    """A task queue that cannot be reached."""

    def enqueue(self, task, args, kwargs):
        raise ConnectionError("redis is down")


@pytest.mark.django_db
@override_settings(TASKS={"default": {"BACKEND": "tests.core.test_outbox.DownQueue"}})
def test_a_queue_that_is_down_does_not_lose_the_message(django_capture_on_commit_callbacks, caplog):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        outbox.enqueue("sms", MOBILE, "x")
    assert OutboxMessage.objects.get().status == Status.PENDING
    assert "the periodic job will do it" in caplog.text


# Delivering ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sms_is_delivered_by_the_log_backend(caplog):
    message = sms()
    with caplog.at_level(logging.INFO):
        report = delivery.deliver_due()
    assert (report.sent, report.retrying, report.failed) == (1, 0, 0)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.SENT, 1)
    assert (
        message.sent_at is not None
        and message.locked_until is None
        and message.next_attempt_at is None
    )
    assert f"SMS to {MOBILE}" in caplog.text
    assert delivery.deliver_due().attempted == 0  # sent once only


@pytest.mark.django_db
@override_settings(SITE_URL="https://ms.example.cn")
def test_email_goes_through_django_mail_with_an_absolute_link():
    with transaction.atomic():
        outbox.enqueue(
            "email", "li@example.cn", "请查看办理结果", subject="办理结果", url="/appeals/7/"
        )
    delivery.deliver_due()
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["li@example.cn"] and sent.subject == "办理结果"
    assert "https://ms.example.cn/appeals/7/" in sent.body
    assert OutboxMessage.objects.get().status == Status.SENT


@pytest.mark.django_db
def test_inapp_message_becomes_a_notification():
    user = UserFactory()
    with transaction.atomic():
        outbox.enqueue(
            "inapp", "", "有新的诉求待签收", subject="待签收", user=user, url="/appeals/9/"
        )
    delivery.deliver_due()
    note = Notification.objects.get()
    assert (note.user, note.title, note.body, note.url) == (
        user,
        "待签收",
        "有新的诉求待签收",
        "/appeals/9/",
    )
    assert note.read_at is None
    assert OutboxMessage.objects.get().status == Status.SENT


@pytest.mark.django_db
@override_settings(OUTBOX_BACKENDS=backends("FlakySms"))
def test_failures_are_retried_with_growing_back_off():
    FlakySms.calls = 0
    with time_machine.travel(START, tick=False) as clock:
        message = sms()
        assert delivery.deliver_due().retrying == 1
        message.refresh_from_db()
        assert (message.status, message.attempts) == (Status.PENDING, 1)
        assert "provider busy (1)" in message.last_error
        first_wait = message.next_attempt_at - START
        assert dt.timedelta(seconds=24) <= first_wait <= dt.timedelta(seconds=36)

        assert delivery.deliver_due().attempted == 0  # not due yet
        clock.shift(first_wait)
        assert delivery.deliver_due().retrying == 1
        message.refresh_from_db()
        second_wait = message.next_attempt_at - timezone.now()
        assert dt.timedelta(seconds=48) <= second_wait <= dt.timedelta(seconds=72)

        clock.shift(second_wait)
        assert delivery.deliver_due().sent == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, FlakySms.calls) == (Status.SENT, 3, 3)
    assert "provider busy (2)" in message.last_error  # the history stays visible


def test_back_off_is_capped():
    assert delivery.retry_delay(1000) <= delivery.RETRY_CAP


@pytest.mark.django_db
@override_settings(OUTBOX_BACKENDS=backends("BrokenSms"), OUTBOX_MAX_ATTEMPTS=3)
def test_failed_after_max_attempts_then_retried_by_an_admin_and_sent():
    admin = UserFactory(role=Role.ADMIN)
    with time_machine.travel(START, tick=False) as clock:
        message = sms()
        for _ in range(3):
            delivery.deliver_due()
            clock.shift(delivery.RETRY_CAP)
        message.refresh_from_db()
        assert (message.status, message.attempts) == (Status.FAILED, 3)
        assert "provider down" in message.last_error
        assert delivery.deliver_due().attempted == 0  # failed stays failed, visible

        with override_settings(OUTBOX_BACKENDS=backends("RecordingSms")):
            assert outbox.retry([message.pk], by=admin) == 1
            message.refresh_from_db()
            assert (message.status, message.attempts) == (Status.PENDING, 0)
            assert delivery.deliver_due().sent == 1
    message.refresh_from_db()
    assert message.status == Status.SENT
    event = AuditEvent.objects.get(action="outbox.retried")
    assert (event.actor, event.object_id, event.after) == (
        admin,
        str(message.pk),
        {"ids": [message.pk]},
    )


@pytest.mark.django_db
def test_only_admins_may_retry():
    message = sms()
    OutboxMessage.objects.filter(pk=message.pk).update(status=Status.FAILED)
    with pytest.raises(PermissionDenied):
        outbox.retry(by=UserFactory(role=Role.HANDLER))
    assert OutboxMessage.objects.get().status == Status.FAILED


@pytest.mark.django_db
def test_a_malformed_number_fails_at_once():
    message = sms(recipient="12345")
    assert delivery.deliver_due().failed == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.FAILED, 1)
    assert "手机号格式不正确" in message.last_error


@pytest.mark.django_db
@override_settings(OUTBOX_BACKENDS=backends("BuggySms"))
def test_a_crashing_backend_is_recorded_and_retried():
    message = sms()
    assert delivery.deliver_due().retrying == 1
    message.refresh_from_db()
    assert "KeyError" in message.last_error and message.status == Status.PENDING


@pytest.mark.django_db
@override_settings(
    OUTBOX_BACKENDS={**backends("RecordingSms"), "sms": "tests.core.test_outbox.Missing"}
)
def test_a_misconfigured_backend_keeps_the_message_for_later():
    message = sms()
    assert delivery.deliver_due().retrying == 1
    message.refresh_from_db()
    assert "无法加载发送方式" in message.last_error


@pytest.mark.django_db
@override_settings(OUTBOX_BACKENDS=backends("RecordingSms"))
def test_a_message_stuck_in_sending_is_reclaimed_after_its_lease():
    RecordingSms.sent = []
    with time_machine.travel(START, tick=False) as clock:
        message = sms("卡住的消息")
        dead_lease = delivery.claim(message.pk, timezone.now())  # a worker that then died
        assert dead_lease is not None
        assert delivery.deliver_due().attempted == 0  # still leased
        clock.shift(delivery.LEASE + dt.timedelta(seconds=1))
        assert delivery.deliver_due().sent == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.SENT, 2)
    assert RecordingSms.sent == ["卡住的消息"]
    # The dead worker, had it woken up, can no longer overwrite the outcome.
    assert delivery._mark_sent(message.pk, dead_lease) is False


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True)
@override_settings(OUTBOX_BACKENDS=backends("RecordingSms"))
def test_two_workers_never_send_the_same_message():
    RecordingSms.sent = []
    with transaction.atomic():
        bodies = [f"消息{n}" for n in range(60)]
        for body in bodies:
            outbox.enqueue("sms", MOBILE, body)
    barrier = threading.Barrier(2)
    reports: list[delivery.DeliveryReport] = []

    def work() -> None:
        try:
            barrier.wait()
            reports.append(delivery.deliver_due())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(RecordingSms.sent) == sorted(bodies)  # each once, none twice
    assert sum(report.sent for report in reports) == 60
    assert OutboxMessage.objects.filter(status=Status.SENT, attempts=1).count() == 60


# Admin and command --------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_lists_messages_and_retries_failed_ones(client):
    admin = UserFactory(role=Role.ADMIN, is_staff=True)
    failed, pending = sms("失败的"), sms("待发的")
    OutboxMessage.objects.filter(pk=failed.pk).update(
        status=Status.FAILED, last_error="provider down"
    )
    client.force_login(admin)
    url = reverse("admin:core_outboxmessage_changelist")
    page = client.get(url)
    assert page.status_code == 200 and "provider down" in page.content.decode()

    response = client.post(
        url, {"action": "retry", "_selected_action": [failed.pk, pending.pk]}, follow=True
    )
    text = response.content.decode()
    assert "已重新排队 1 条消息" in text and "1 条不是发送失败的消息" in text
    failed.refresh_from_db()
    assert failed.status == Status.PENDING


@pytest.mark.django_db
def test_admin_hides_the_outbox_from_other_roles(client):
    client.force_login(UserFactory(role=Role.SUPERVISOR, is_staff=True))
    assert client.get(reverse("admin:core_outboxmessage_changelist")).status_code == 403
    assert client.get(reverse("admin:core_outboxmessage_add")).status_code == 403


@pytest.mark.django_db
def test_outbox_command_shows_status_and_retries():
    failed, _pending = sms("失败的", recipient="13900000001"), sms("待发的")
    OutboxMessage.objects.filter(pk=failed.pk).update(
        status=Status.FAILED, last_error="2026-03-02 第 8 次：provider down"
    )
    out = StringIO()
    call_command("outbox", "status", stdout=out)
    text = out.getvalue()
    assert "发送失败" in text and "待发送" in text
    assert f"#{failed.pk} sms → 13900000001：2026-03-02 第 8 次：provider down" in text

    with pytest.raises(CommandError, match="没有这些消息：999999"):
        call_command("outbox", "retry", "--id", str(failed.pk), "--id", "999999")
    assert OutboxMessage.objects.get(pk=failed.pk).status == Status.FAILED  # nothing half-done

    out = StringIO()
    call_command("outbox", "retry", "--id", str(failed.pk), stdout=out)
    assert "已重新排队 1 条消息" in out.getvalue()
    assert AuditEvent.objects.get(action="outbox.retried").actor is None

    out = StringIO()
    call_command("outbox", "deliver", stdout=out)
    assert "已发送 2" in out.getvalue()
