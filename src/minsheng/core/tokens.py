"""API tokens for other systems: created once, shown once, stored only as a SHA-256.

A key is 40 random letters and digits (about 238 bits), so a plain SHA-256 is enough:
there is nothing to brute-force that a slow hash would protect. The first 8 characters
are kept in clear as the ``prefix`` so that an operator can tell tokens apart and revoke
one without ever seeing the key again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import string

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_save
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.core import audit, policy
from minsheng.core.models import ApiToken, User
from minsheng.core.recent import Recent

KEY_LENGTH = 40
PREFIX_LENGTH = 8
_ALPHABET = string.ascii_letters + string.digits
# Writing last_used_at on every call would turn each read into a write; once a minute
# is precise enough to tell a live integration from a dead one.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)

# An integration calls many times a second, and reading its token with the user and the
# department is a query per call. Each process keeps what it read for
# API_TOKEN_CACHE_SECONDS: a token revoked, or a user stopped, by another process stops
# working within that time; in this process at once.
_recent: Recent[ApiToken] = Recent(lambda: settings.API_TOKEN_CACHE_SECONDS)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_key() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(KEY_LENGTH))


@transaction.atomic
def create_token(user: User, name: str, *, by: User | None = None) -> tuple[ApiToken, str]:
    """Create a token acting as ``user``; returns it with the key, which is not kept.

    ``by`` is the person creating it; ``None`` means the operator at the command line,
    who already holds the server."""
    if by is not None:
        policy.require(by, "api.token.manage")
    name = name.strip()
    if not name:
        raise ValidationError({"name": [_("请填写调用方系统的名称")]})
    max_length = ApiToken._meta.get_field("name").max_length
    if max_length is not None and len(name) > max_length:
        raise ValidationError({"name": [_("名称最多 %(n)s 个字符") % {"n": max_length}]})
    if not user.is_active:
        raise ValidationError({"user": [_("该用户已停用，不能为其创建令牌")]})
    key = _new_key()
    token = ApiToken.objects.create(
        name=name, user=user, prefix=key[:PREFIX_LENGTH], key_hash=hash_key(key)
    )
    audit.record(
        by,
        "api_token.created",
        token,
        after={"name": name, "user_id": user.pk, "prefix": token.prefix},
    )
    return token, key


@transaction.atomic
def revoke_token(token_id: int, *, by: User | None = None) -> ApiToken:
    """Revoke a token (idempotent: revoking twice keeps the first time)."""
    if by is not None:
        policy.require(by, "api.token.manage")
    token = ApiToken.objects.select_for_update().get(pk=token_id)
    # Now, and again after commit in case a concurrent call re-read the row meanwhile.
    _recent.clear()
    transaction.on_commit(_recent.clear)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(by, "api_token.revoked", token, after={"revoked_at": token.revoked_at})
    return token


# A user's role, department or "active" changed here: re-read every token at the next call.
post_save.connect(_recent.clear, sender=User, dispatch_uid="minsheng.tokens.forget")


def _live_token(digest: str) -> ApiToken | None:
    return _recent.get(
        digest,
        lambda: (
            ApiToken.objects.select_related("user", "user__department")
            .filter(key_hash=digest, revoked_at__isnull=True, user__is_active=True)
            .first()
        ),
    )


def authenticate(key: str) -> ApiToken | None:
    """The live token with this key (its user active), or None; notes when it was used."""
    if len(key) != KEY_LENGTH:
        return None
    digest = hash_key(key)
    token = _live_token(digest)
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        # Conditional, so that concurrent calls write at most once per minute.
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
        token.last_used_at = now
        _recent.touch(digest, lambda kept: setattr(kept, "last_used_at", now))
    return token
