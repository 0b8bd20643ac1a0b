"""Delivering the outbox: claim a message, send it, record what happened.

A worker claims one message at a time with a conditional UPDATE (due and not leased →
``sending`` with a lease), so two workers never send the same message. Each claim counts
as an attempt, so a message that kills the worker mid-send cannot loop forever. A message
whose lease ran out (its worker died) is due again and will be reclaimed; the sender
that lost its lease cannot overwrite the outcome any more, because every outcome is
written only while ``locked_until`` still holds the value of its own claim.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from minsheng.core.models import OutboxMessage
from minsheng.core.outbox.backends import Backend, DeliveryError

logger = logging.getLogger(__name__)

Status = OutboxMessage.Status
# What became of one message in one delivery run; "skipped": another worker had it, or it
# was no longer due.
Outcome = Literal["sent", "retrying", "failed", "skipped"]

# Longer than any back-end's own timeout (SMTP, SMS provider), so a live sender never
# loses its message to another worker.
LEASE = dt.timedelta(minutes=5)
RETRY_BASE = dt.timedelta(seconds=30)
RETRY_CAP = dt.timedelta(hours=1)
# ±20 %: messages that failed together (a provider outage) do not all retry at once.
JITTER = 0.2
BATCH = 500


def retry_delay(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min, 4 min ... after the 1st, 2nd, 3rd ... failure, at most an hour."""
    seconds = RETRY_BASE.total_seconds() * 2 ** min(max(attempts - 1, 0), 20)
    seconds *= random.uniform(1 - JITTER, 1 + JITTER)  # noqa: S311 (spreading load, not secrecy)
    return dt.timedelta(seconds=min(seconds, RETRY_CAP.total_seconds()))


def due(now: dt.datetime) -> models.QuerySet[OutboxMessage]:
    """Messages to send now: pending ones whose time has come, and ``sending`` ones whose
    lease ran out (a claim moves ``next_attempt_at`` to the end of the lease)."""
    return OutboxMessage.objects.filter(
        status__in=[Status.PENDING, Status.SENDING], next_attempt_at__lte=now
    )


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0

    @property
    def attempted(self) -> int:
        return self.sent + self.retrying + self.failed

    def add(self, outcome: Outcome) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def __str__(self) -> str:
        return f"已发送 {self.sent}，待重试 {self.retrying}，失败 {self.failed}"

    def as_dict(self) -> dict[str, int]:
        return {
            "sent": self.sent,
            "retrying": self.retrying,
            "failed": self.failed,
            "skipped": self.skipped,
        }


class _LeaseLost(Exception):
    """Another worker reclaimed the message while this one was sending it."""


class Backends:
    """The configured back-end of each channel, loaded once per delivery run."""

    def __init__(self) -> None:
        self._loaded: dict[str, Backend] = {}

    def __getitem__(self, channel: str) -> Backend:
        if channel not in self._loaded:
            path = settings.OUTBOX_BACKENDS.get(channel)
            if not path:
                raise DeliveryError(f"渠道 {channel!r} 没有配置发送方式（OUTBOX_BACKENDS）")
            try:
                self._loaded[channel] = import_string(path)()
            except ImportError as exc:
                # Not permanent: fixing the setting and restarting the worker sends it.
                raise DeliveryError(f"无法加载发送方式 {path}：{exc}") from exc
        return self._loaded[channel]


def claim(pk: int, now: dt.datetime) -> dt.datetime | None:
    """Take the message if it is due; return the lease (the claim's token) or None."""
    lease = now + LEASE
    claimed = (
        due(now)
        .filter(pk=pk)
        .update(
            status=Status.SENDING,
            locked_until=lease,
            next_attempt_at=lease,
            attempts=models.F("attempts") + 1,
        )
    )
    return lease if claimed else None


def _held(pk: int, lease: dt.datetime) -> models.QuerySet[OutboxMessage]:
    return OutboxMessage.objects.filter(pk=pk, status=Status.SENDING, locked_until=lease)


def _mark_sent(pk: int, lease: dt.datetime) -> bool:
    return bool(
        _held(pk, lease).update(
            status=Status.SENT, sent_at=timezone.now(), locked_until=None, next_attempt_at=None
        )
    )


def _mark_failed(
    message: OutboxMessage, lease: dt.datetime, error: str, *, permanent: bool
) -> Outcome:
    now = timezone.now()
    error = f"{timezone.localtime(now):%Y-%m-%d %H:%M:%S} 第 {message.attempts} 次：{error}"
    outcome: Outcome
    if permanent or message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        outcome, status, next_at = "failed", Status.FAILED, None
    else:
        outcome, status, next_at = "retrying", Status.PENDING, now + retry_delay(message.attempts)
    if not _held(message.pk, lease).update(
        status=status, next_attempt_at=next_at, locked_until=None, last_error=error[:4000]
    ):
        return "skipped"
    log = logger.error if outcome == "failed" else logger.warning
    log(
        "outbox #%s (%s → %s) %s: %s",
        message.pk,
        message.channel,
        message.recipient,
        outcome,
        error,
    )
    return outcome


def deliver_one(pk: int, backends: Backends) -> Outcome:
    """Send one message if this worker can claim it."""
    lease = claim(pk, timezone.now())
    if lease is None:
        return "skipped"
    message = OutboxMessage.objects.select_related("user").get(pk=pk)
    try:
        backend = backends[message.channel]
        if backend.transactional:
            with transaction.atomic():
                provider_id = backend.deliver(message)
                if not _mark_sent(pk, lease):
                    raise _LeaseLost
        else:
            provider_id = backend.deliver(message)
            if not _mark_sent(pk, lease):
                raise _LeaseLost
    except _LeaseLost:
        logger.warning("outbox #%s: lease lost while sending; another worker owns it now", pk)
        return "skipped"
    except DeliveryError as exc:
        return _mark_failed(message, lease, str(exc), permanent=exc.permanent)
    except Exception as exc:
        # A bug or an unexpected error in a back-end must not stop the other messages.
        logger.exception("outbox #%s: back-end raised", pk)
        return _mark_failed(message, lease, f"{type(exc).__name__}: {exc}", permanent=False)
    logger.info(
        "outbox #%s sent by %s → %s (%s)", pk, message.channel, message.recipient, provider_id
    )
    return "sent"


def deliver_due(limit: int = BATCH) -> DeliveryReport:
    """Send up to ``limit`` due messages, oldest first. Call it outside a transaction, so
    that each claim and outcome commits on its own."""
    report = DeliveryReport()
    backends = Backends()
    pks = list(
        due(timezone.now()).order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit]
    )
    for pk in pks:
        report.add(deliver_one(pk, backends))
    return report
