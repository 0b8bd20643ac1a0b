"""Delivery back-ends: one class per channel, named in ``settings.OUTBOX_BACKENDS``.

A back-end turns one ``OutboxMessage`` into a real message and returns the provider's id
for it (for the log), or raises ``DeliveryError``. The worker decides about retries; a
back-end only says whether trying again could help (``permanent``).
"""

from __future__ import annotations

import logging
import re
import uuid
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.utils import DNS_NAME

from minsheng.core.models import Notification, OutboxMessage, User

logger = logging.getLogger(__name__)

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class DeliveryError(Exception):
    """Sending failed. ``permanent`` means retrying the same message cannot succeed
    (a malformed number, a deleted user), so it fails at once instead of after
    ``OUTBOX_MAX_ATTEMPTS`` tries."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def absolute_url(url: str) -> str:
    """Links in SMS and e-mail leave the site, so relative ones get the site's address."""
    if not url or "://" in url:
        return url
    return f"{settings.SITE_URL}/{url.lstrip('/')}"


class Backend:
    """Sends the messages of one channel."""

    # True when ``deliver`` only writes to this database: the worker then runs it in the
    # same transaction that marks the message sent, so it happens exactly once.
    transactional = False

    def deliver(self, message: OutboxMessage) -> str:
        raise NotImplementedError


class SmsBackend(Backend):
    """The interface an SMS provider implements: ``send(mobile, text)`` returns the
    provider's message id or raises ``DeliveryError``."""

    def deliver(self, message: OutboxMessage) -> str:
        mobile = message.recipient.strip()
        if not MOBILE_RE.match(mobile):
            raise DeliveryError(f"手机号格式不正确：{mobile!r}", permanent=True)
        text = message.body
        if message.url:
            text = f"{text} {absolute_url(message.url)}"
        return self.send(mobile, text)

    def send(self, mobile: str, text: str) -> str:
        raise NotImplementedError


class LogSmsBackend(SmsBackend):
    """Writes the SMS to the log instead of sending it: the default until a provider's
    back-end is configured with ``OUTBOX_SMS_BACKEND``."""

    def send(self, mobile: str, text: str) -> str:
        provider_id = f"log-{uuid.uuid4().hex[:12]}"
        logger.info("SMS to %s (%s): %s", mobile, provider_id, text)
        return provider_id


class DjangoEmailBackend(Backend):
    """Sends through Django's mail: the console by default, SMTP when EMAIL_HOST is set."""

    def deliver(self, message: OutboxMessage) -> str:
        address = message.recipient.strip()
        if not EMAIL_RE.match(address):
            raise DeliveryError(f"邮箱地址格式不正确：{address!r}", permanent=True)
        body = message.body
        if message.url:
            body = f"{body}\n\n{absolute_url(message.url)}"
        message_id = make_msgid(domain=str(DNS_NAME))
        email = EmailMessage(
            subject=message.subject or message.body[:40],
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[address],
            headers={"Message-ID": message_id},
        )
        try:
            email.send(fail_silently=False)
        except (OSError, ValueError) as exc:  # smtplib's errors are OSErrors
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
        return message_id


class InAppBackend(Backend):
    """Shows the message in the web shell of the user it is for."""

    transactional = True

    def deliver(self, message: OutboxMessage) -> str:
        user = message.user
        if user is None and message.recipient.isdigit():
            user = User.objects.filter(pk=int(message.recipient)).first()
        if user is None:
            raise DeliveryError(f"找不到接收站内消息的用户：{message.recipient!r}", permanent=True)
        notification = Notification.objects.create(
            user=user,
            title=message.subject or message.body[:200],
            body=message.body,
            url=message.url,
        )
        return f"notification-{notification.pk}"
