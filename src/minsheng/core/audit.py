"""The tamper-evident audit trail.

Every event stores the SHA-256 of its own content and of the event before it, so editing
or deleting any event breaks the chain from there on; ``minsheng audit verify`` finds the
first broken link. Appends lock the single ``AuditHead`` row, which serialises them and
keeps ``seq`` free of gaps.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from minsheng.core import context
from minsheng.core.models.audit import AuditEvent, AuditHead

if TYPE_CHECKING:
    from collections.abc import Iterable

GENESIS = "0" * 64

HASHED_FIELDS = (
    "seq",
    "created_at",
    "actor_id",
    "actor_label",
    "role",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "before",
    "after",
    "request_id",
    "ip",
    "prev_hash",
)


def _normalise(value: Any) -> Any:
    """JSON round-trip so that what is hashed is exactly what the database gives back."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True, ensure_ascii=False))


def compute_hash(event: AuditEvent) -> str:
    payload: dict[str, Any] = {}
    for name in HASHED_FIELDS:
        value = getattr(event, name)
        if isinstance(value, dt.datetime):
            value = value.astimezone(dt.UTC).isoformat(timespec="microseconds")
        payload[name] = value
    data = json.dumps(payload, cls=DjangoJSONEncoder, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(data.encode()).hexdigest()


def _describe(obj: models.Model | None) -> tuple[str, str, str]:
    if obj is None:
        return "", "", ""
    return obj._meta.label_lower, str(obj.pk), str(obj)[:200]


def record(
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
) -> AuditEvent:
    """Append one event. Call it inside the transaction of the change it records."""
    ctx = context.current()
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    o_type, o_id, o_repr = _describe(obj)
    with transaction.atomic():
        head, _created = AuditHead.objects.select_for_update().get_or_create(pk=1)
        event = AuditEvent(
            seq=head.last_seq + 1,
            created_at=timezone.now(),
            actor_id=actor.pk if authenticated else None,
            actor_label=(getattr(actor, "display_name", "") or str(actor))[:64] if authenticated else "",
            role=getattr(actor, "role", "") if authenticated else "",
            action=action,
            object_type=object_type or o_type,
            object_id=object_id or o_id,
            object_repr=(object_repr or o_repr)[:200],
            before=_normalise(before) if before is not None else None,
            after=_normalise(after) if after is not None else None,
            request_id=ctx.request_id if ctx else "",
            ip=ctx.ip if ctx else None,
            prev_hash=head.last_hash,
        )
        event.hash = compute_hash(event)
        event.save(force_insert=True)
        head.last_seq = event.seq
        head.last_hash = event.hash
        head.save(update_fields=["last_seq", "last_hash"])
    return event


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    broken_seq: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def verify(events: Iterable[AuditEvent] | None = None, progress: Any = None) -> VerifyResult:
    """Recompute the chain in order of ``seq`` and report the first broken link."""
    if events is None:
        events = AuditEvent.objects.order_by("seq").iterator(chunk_size=2000)
    expected_seq = 1
    prev_hash = GENESIS
    checked = 0
    for event in events:
        if event.seq != expected_seq:
            return VerifyResult(checked, expected_seq, f"event #{expected_seq} is missing")
        if event.prev_hash != prev_hash:
            return VerifyResult(checked, event.seq, f"event #{event.seq} does not follow #{event.seq - 1}")
        if compute_hash(event) != event.hash:
            return VerifyResult(checked, event.seq, f"event #{event.seq} was changed after it was written")
        prev_hash = event.hash
        expected_seq += 1
        checked += 1
        if progress is not None:
            progress(checked)
    head = AuditHead.objects.filter(pk=1).first()
    if head is not None and head.last_seq != checked:
        return VerifyResult(checked, checked + 1, f"event #{checked + 1} to #{head.last_seq} are missing")
    return VerifyResult(checked)


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The named fields of ``obj`` as a dict for ``before``/``after``."""
    data: dict[str, Any] = {}
    for name in fields:
        field = obj._meta.get_field(name)
        data[name] = getattr(obj, field.attname)
    return _normalise(data)
