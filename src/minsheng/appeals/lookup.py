"""Citizens finding their appeals without an account: by mobile number and an SMS code.

A code is six digits, kept only as a keyed hash, valid for ten minutes and for five wrong
tries. A number gets at most one code a minute and ten a day, and one address at most
``REQUEST_PER_IP`` codes an hour, so the form can neither flood a stranger's phone nor
run through the county's numbers. The answer is the same whether or not a number has
appeals; only a number that has some is actually sent an SMS.

``RateLimit`` also guards the other citizen forms (submission, tracking): it counts events
per key in the cache, with timestamps in the value so that it behaves the same on the
database cache and on Redis, and under ``time_machine``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import Enum

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.appeals.models import Appeal, LookupCode
from minsheng.core import outbox

CODE_LENGTH = 6
CODE_VALID = dt.timedelta(minutes=10)
MAX_ATTEMPTS = 5
RESEND_AFTER = dt.timedelta(minutes=1)
MAX_PER_DAY = 10
# How long a verified number stays open in the citizen's session.
SESSION_VALID = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class RateLimit:
    """At most ``limit`` events per key within ``window`` seconds."""

    name: str
    limit: int
    window: int

    def _key(self, ident: str) -> str:
        digest = hashlib.sha256(ident.strip().lower().encode()).hexdigest()[:32]
        return f"appeals-rate:{self.name}:{digest}"

    def _recent(self, ident: str, now: float) -> list[float]:
        return [t for t in cache.get(self._key(ident), []) if now - t < self.window]

    def exceeded(self, ident: str | None) -> bool:
        if not ident:
            return False
        return len(self._recent(ident, timezone.now().timestamp())) >= self.limit

    def hit(self, ident: str | None) -> None:
        if not ident:
            return
        now = timezone.now().timestamp()
        events = self._recent(ident, now)
        events.append(now)
        cache.set(self._key(ident), events[-self.limit :], timeout=self.window)

    def reset(self, ident: str) -> None:
        cache.delete(self._key(ident))


# Code requests from one address: a service hall's shared connection sends a few dozen an
# hour at most; a script walking through numbers sends far more.
REQUEST_PER_IP = RateLimit("lookup-request-ip", 20, 3600)
# Wrong codes from one address, whatever the number (the per-code limit is MAX_ATTEMPTS).
VERIFY_FAILURES_PER_IP = RateLimit("lookup-verify-ip", 20, 3600)


class LookupRefused(Exception):
    """The citizen is told ``message``; nothing else about the number is revealed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _hash(mobile: str, code: str) -> str:
    # Keyed by the number as well, so a code never opens another number's appeals.
    message = f"lookup:{mobile}:{code.strip()}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"


def request_code(mobile: str, *, ip: str | None) -> None:
    """Create a code for ``mobile`` and send it by SMS if the number has appeals.

    Raises ``LookupRefused`` when the number or the address asks too often.
    """
    if REQUEST_PER_IP.exceeded(ip):
        raise LookupRefused(_("获取验证码过于频繁，请1小时后再试"))
    with transaction.atomic():
        now = timezone.now()
        recent = LookupCode.objects.filter(mobile=mobile, created_at__gt=now - dt.timedelta(days=1))
        if recent.filter(created_at__gt=now - RESEND_AFTER).exists():
            raise LookupRefused(_("验证码已发送，请1分钟后再重新获取"))
        if recent.count() >= MAX_PER_DAY:
            raise LookupRefused(_("今天获取验证码的次数已用完，请明天再试"))
        code = new_code()
        LookupCode.objects.create(
            mobile=mobile,
            code_hash=_hash(mobile, code),
            created_at=now,
            expires_at=now + CODE_VALID,
        )
        if Appeal.objects.filter(citizen_mobile=mobile).exists():
            outbox.enqueue(
                "sms",
                mobile,
                _(
                    "【%(county)s民生服务】您查询诉求的验证码为%(code)s，10分钟内有效。"
                    "如非本人操作，请忽略本短信。"
                )
                % {"county": settings.COUNTY_NAME, "code": code},
                kind="appeal.lookup_code",
            )
    REQUEST_PER_IP.hit(ip)


class Verdict(Enum):
    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"
    MISSING = "missing"


def _check(mobile: str, code: str) -> Verdict:
    with transaction.atomic():
        latest = (
            LookupCode.objects.select_for_update()
            .filter(mobile=mobile, used_at__isnull=True, expires_at__gt=timezone.now())
            .order_by("-created_at", "-pk")
            .first()
        )
        if latest is None:
            return Verdict.MISSING
        if latest.attempts >= MAX_ATTEMPTS:
            return Verdict.LOCKED
        if not hmac.compare_digest(latest.code_hash, _hash(mobile, code)):
            # Counted in its own committed transaction: the caller's error must not undo it.
            latest.attempts += 1
            latest.save(update_fields=["attempts"])
            return Verdict.LOCKED if latest.attempts >= MAX_ATTEMPTS else Verdict.WRONG
        latest.used_at = timezone.now()
        latest.save(update_fields=["used_at"])
        return Verdict.OK


def verify_code(mobile: str, code: str, *, ip: str | None) -> None:
    """Accept the latest code sent to ``mobile`` (once) or raise ``LookupRefused``."""
    if VERIFY_FAILURES_PER_IP.exceeded(ip):
        raise LookupRefused(_("验证码错误次数过多，请1小时后再试"))
    verdict = _check(mobile, code)
    if verdict is Verdict.OK:
        return
    VERIFY_FAILURES_PER_IP.hit(ip)
    if verdict is Verdict.WRONG:
        raise LookupRefused(_("验证码不正确，请核对短信后重新输入"))
    if verdict is Verdict.LOCKED:
        raise LookupRefused(_("验证码错误次数过多，请重新获取验证码"))
    raise LookupRefused(_("验证码已过期或尚未获取，请重新获取验证码"))


def appeals_for(mobile: str) -> list[Appeal]:
    return list(
        Appeal.objects.filter(citizen_mobile=mobile)
        .select_related("category", "town")
        .order_by("-received_at")
    )
