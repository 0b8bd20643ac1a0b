"""The tamper-evident audit trail.

Every event stores the SHA-256 of its own content and of the event before it, so editing
or deleting any event breaks the chain from there on; ``minsheng audit verify`` finds the
first broken link. Appends lock the single ``AuditHead`` row, which serialises them and
keeps ``seq`` free of gaps; the head's ``last_seq`` also reveals a deleted last event.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.core import context
from minsheng.core.models.audit import AuditEvent, AuditHead

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


def _canonical(value: Any) -> Any:
    """Make what the database gives back hash the same as what was written.

    PostgreSQL's jsonb keeps numbers as ``numeric`` and prints ``1e20`` back as
    ``100000000000000000000``, which Python reads as an int: whole floats become ints on
    both sides so the two agree.
    """
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    return value


def _normalise(value: Any) -> Any:
    """JSON round-trip so that what is hashed is exactly what the database gives back."""
    text = json.dumps(
        value, cls=DjangoJSONEncoder, sort_keys=True, ensure_ascii=False, allow_nan=False
    )
    return _canonical(json.loads(text))


def _normalise_ip(ip: str | None) -> str | None:
    """The address in one spelling (PostgreSQL's ``inet`` prints some addresses back
    differently from how they were written), or None when it is not an address at all
    (a Unix socket, a misconfigured proxy)."""
    if not ip:
        return None
    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
        return None


def compute_hash(event: AuditEvent) -> str:
    payload: dict[str, Any] = {}
    for name in HASHED_FIELDS:
        value = getattr(event, name)
        if isinstance(value, dt.datetime):
            value = value.astimezone(dt.UTC).isoformat(timespec="microseconds")
        elif name in {"before", "after"}:
            value = _canonical(value)
        elif name == "ip":
            value = _normalise_ip(value)
        payload[name] = value
    data = json.dumps(
        payload, cls=DjangoJSONEncoder, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
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
    """Append one event. Call it inside the transaction of the change it records, so that
    the change and its event commit (or roll back) together.

    ``actor`` is the user who acted, or None for the system (worker, sweeps, commands).
    """
    ctx = context.current()
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    o_type, o_id, o_repr = _describe(obj)
    with transaction.atomic():
        head, _created = AuditHead.objects.select_for_update().get_or_create(pk=1)
        event = AuditEvent(
            seq=head.last_seq + 1,
            created_at=timezone.now(),
            actor_id=actor.pk if authenticated else None,
            actor_label=(getattr(actor, "display_name", "") or str(actor))[:64]
            if authenticated
            else "",
            role=getattr(actor, "role", "") if authenticated else "",
            action=action,
            object_type=object_type or o_type,
            object_id=object_id or o_id,
            object_repr=(object_repr or o_repr)[:200],
            before=_normalise(before) if before is not None else None,
            after=_normalise(after) if after is not None else None,
            request_id=ctx.request_id if ctx else "",
            ip=_normalise_ip(ctx.ip) if ctx else None,
            prev_hash=head.last_hash,
        )
        event.hash = compute_hash(event)
        event.save()
        head.last_seq = event.seq
        head.last_hash = event.hash
        head.save(update_fields=["last_seq", "last_hash"])
    return event


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    broken_seq: int | None = None
    reason: str = ""
    last_hash: str = GENESIS

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def _walk(events: Iterable[AuditEvent], progress: Callable[[int], None] | None) -> VerifyResult:
    expected_seq = 1
    prev_hash = GENESIS
    checked = 0
    for event in events:
        if event.seq != expected_seq:
            return VerifyResult(
                checked, expected_seq, _("第 %d 条事件缺失（已被删除）") % expected_seq, prev_hash
            )
        if event.prev_hash != prev_hash:
            reason = _("第 %(seq)d 条事件与第 %(prev)d 条接不上：其中一条写入后被改动过") % {
                "seq": event.seq,
                "prev": event.seq - 1,
            }
            return VerifyResult(checked, event.seq, reason, prev_hash)
        if compute_hash(event) != event.hash:
            return VerifyResult(
                checked, event.seq, _("第 %d 条事件写入后被改动过") % event.seq, prev_hash
            )
        prev_hash = event.hash
        expected_seq += 1
        checked += 1
        if progress is not None:
            progress(checked)
    return VerifyResult(checked, last_hash=prev_hash)


def verify(
    events: Iterable[AuditEvent] | None = None, progress: Callable[[int], None] | None = None
) -> VerifyResult:
    """Recompute the chain in order of ``seq`` and report the first broken link.

    Without ``events`` it checks the table up to the head as it is when the check starts
    (events appended meanwhile are left for the next run), and compares the end with the
    head so that a deleted last event is found too. ``events`` checks a given sequence
    (an export, say) from the start of the chain. ``progress`` is called with the number
    of events checked so far, after each one.
    """
    if events is not None:
        return _walk(events, progress)
    head = AuditHead.objects.filter(pk=1).first()
    if head is None and AuditEvent.objects.exists():
        # The first append creates the head, so events without one mean it was deleted.
        return VerifyResult(0, 1, _("链头记录缺失（已被删除），无法确认最后的事件是否完整"))
    last_seq = head.last_seq if head is not None else 0
    queryset = AuditEvent.objects.filter(seq__lte=last_seq).order_by("seq")
    result = _walk(queryset.iterator(chunk_size=2000), progress)
    if result.ok and result.checked != last_seq:
        missing = result.checked + 1
        reason = _("第 %(first)d 至第 %(last)d 条事件缺失（已被删除）") % {
            "first": missing,
            "last": last_seq,
        }
        return VerifyResult(result.checked, missing, reason, result.last_hash)
    if result.ok and head is not None and head.last_hash != result.last_hash:
        reason = _("第 %d 条事件写入后被改动过（与链头记录的哈希不符）") % last_seq
        return VerifyResult(result.checked, last_seq, reason, result.last_hash)
    return result


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The named fields of ``obj`` as a dict for ``before``/``after``.

    Many-to-many fields give the sorted ids, file fields the stored name. Leave secrets
    (password hashes, tokens) out, and pass personal data through ``core.masking`` first
    unless the exact value is what the record is about.
    """
    data: dict[str, Any] = {}
    for name in fields:
        field = obj._meta.get_field(name)
        value: Any
        if field.many_to_many:
            value = sorted(getattr(obj, name).values_list("pk", flat=True))
        else:
            value = getattr(obj, field.attname)  # type: ignore[union-attr]
            if isinstance(value, FieldFile):
                value = value.name
        data[name] = value
    return _normalise(data)
