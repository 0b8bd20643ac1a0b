"""The notifications outbox: SMS, e-mail and in-app messages that must not be lost.

An action writes its messages with ``enqueue`` inside its own transaction, so a message
exists exactly when the change that caused it was committed. After the commit a
``deliver_outbox`` task is queued so that messages leave promptly; the worker's periodic
sweep delivers whatever that missed (the task queue was down, a retry fell due).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from django.db import models, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from minsheng.core import audit, policy
from minsheng.core.commit import on_commit_once, queue_once, task_started
from minsheng.core.models import OutboxMessage
from minsheng.core.outbox.backends import DeliveryError

if TYPE_CHECKING:
    from minsheng.core.models import User

__all__ = [
    "DeliveryError",
    "enqueue",
    "enqueue_all",
    "enqueue_on_commit",
    "message_for",
    "retry",
]

Channel = OutboxMessage.Channel
Status = OutboxMessage.Status


def _max_length(name: str) -> int:
    field = OutboxMessage._meta.get_field(name)
    assert isinstance(field, models.CharField) and field.max_length is not None
    return field.max_length


SUBJECT_MAX = _max_length("subject")


def _limit(value: str, field: str) -> str:
    limit = _max_length(field)
    if len(value) > limit:
        raise ValueError(f"outbox {field} longer than {limit} characters: {value[:40]!r}…")
    return value


def message_for(
    channel: str,
    recipient: str,
    body: str,
    *,
    subject: str = "",
    user: User | None = None,
    url: str = "",
    kind: str = "",
) -> OutboxMessage:
    """The message ``enqueue`` writes, checked but not written yet (``enqueue_all`` writes
    many at once).

    ``recipient`` is a mobile number (sms), an address (email) or, for in-app messages,
    may be left empty when ``user`` is given.
    """
    if channel not in Channel.values:
        raise ValueError(f"unknown outbox channel {channel!r}")
    if channel == Channel.INAPP and not recipient and user is not None:
        recipient = str(user.pk)
    if not recipient.strip():
        raise ValueError(f"outbox {channel} message without a recipient")
    if not body.strip():
        raise ValueError("outbox message without a body")
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1] + "…"
    return OutboxMessage(
        channel=channel,
        recipient=_limit(recipient.strip(), "recipient"),
        user=user,
        subject=subject,
        body=body,
        url=_limit(url, "url"),
        kind=_limit(kind, "kind"),
        next_attempt_at=timezone.now(),
    )


def enqueue(
    channel: str,
    recipient: str,
    body: str,
    *,
    subject: str = "",
    user: User | None = None,
    url: str = "",
    kind: str = "",
) -> OutboxMessage:
    """Write one message to the outbox (see ``message_for``), inside the caller's
    transaction. Delivery starts after the commit; when the transaction rolls back, the
    message was never there."""
    message = message_for(channel, recipient, body, subject=subject, user=user, url=url, kind=kind)
    enqueue_all([message])
    return message


def enqueue_all(messages: list[OutboxMessage]) -> None:
    """Write messages built by ``message_for`` in one statement, inside the caller's
    transaction."""
    if not transaction.get_connection().in_atomic_block:
        # Outside a transaction the message and the change it reports could part ways.
        raise TransactionManagementError(
            "outbox.enqueue() must be called inside transaction.atomic()"
        )
    if messages:
        OutboxMessage.objects.bulk_create(messages)
        on_commit_once(_queue_delivery)  # one delivery task however many messages


# The name the design sketch uses in actions: the row is written now, in the caller's
# transaction, and leaves after the commit.
enqueue_on_commit = enqueue


# Set while a delivery task waits in the queue (``core.commit.queue_once``).
DELIVERY_QUEUED_KEY = "outbox:delivery-queued"
DELIVERY_QUEUED_SECONDS = 10


def delivery_started() -> None:
    """Called by the delivery task before it reads the outbox."""
    task_started(DELIVERY_QUEUED_KEY)


def _queue_delivery() -> None:
    from minsheng.core.tasks import deliver_outbox

    queue_once(DELIVERY_QUEUED_KEY, deliver_outbox.enqueue, seconds=DELIVERY_QUEUED_SECONDS)


@transaction.atomic
def retry(ids: Collection[int] | None = None, *, by: User | None) -> int:
    """Put failed messages (all, or those in ``ids``) back in the queue with a fresh set
    of attempts. ``by`` is None when an operator runs ``minsheng outbox retry``; a
    superuser may retry whatever role the account has, as everywhere in the admin."""
    if by is not None and not by.is_superuser:
        policy.require(by, "outbox.retry")
    failed = OutboxMessage.objects.select_for_update().filter(status=Status.FAILED)
    if ids is not None:
        failed = failed.filter(pk__in=ids)
    pks = sorted(failed.values_list("pk", flat=True))
    if not pks:
        return 0
    OutboxMessage.objects.filter(pk__in=pks).update(
        status=Status.PENDING, attempts=0, next_attempt_at=timezone.now(), locked_until=None
    )
    audit.record(
        by,
        "outbox.retried",
        object_type=OutboxMessage._meta.label_lower,
        object_id=str(pks[0]) if len(pks) == 1 else "",
        object_repr=f"{len(pks)} 条发送失败的消息",
        after={"ids": pks},
    )
    on_commit_once(_queue_delivery)
    return len(pks)
