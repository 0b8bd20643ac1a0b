"""The tamper-evident audit trail.

Every event stores the SHA-256 of its own content and of the event before it, so editing
or deleting any event breaks the chain from there on; ``minsheng audit verify`` finds the
first broken link.

``record`` only inserts the event, in the caller's transaction: it takes no lock, so
concurrent requests never queue behind each other for the trail. Right after the commit
``seal_pending`` gives the committed events their ``seq`` and hashes under the lock of the
single ``AuditHead`` row, in batches; the head's ``last_seq`` also reveals a deleted last
event. A process seals at most every ``AUDIT_SEAL_INTERVAL`` seconds and a periodic job
catches whatever is left, so an event stays unsealed (and could be edited unnoticed) for
well under a minute; ``verify`` reports events that waited longer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import ipaddress
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connection, models, transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.core import context
from minsheng.core.commit import on_commit_once
from minsheng.core.models.audit import AuditEvent, AuditHead

GENESIS = "0" * 64

logger = logging.getLogger(__name__)

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


def event_for(
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
    """The event ``record`` appends, not written yet (``record_all`` writes many at once),
    with the current request's id and address.

    ``actor`` is the user who acted, or None for the system (worker, sweeps, commands).
    """
    ctx = context.current()
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    o_type, o_id, o_repr = _describe(obj)
    return AuditEvent(
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
    )


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
    """Append one event (see ``event_for``). Call it inside the transaction of the change
    it records, so that the change and its event commit (or roll back) together; it is
    sealed into the chain after the commit."""
    event = event_for(
        actor,
        action,
        obj,
        before=before,
        after=after,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr,
    )
    record_all([event])
    return event


def record_all(events: list[AuditEvent]) -> None:
    """Append events built by ``event_for`` in one statement, in the caller's transaction
    (a batch of changes, such as the receipts of many appeals)."""
    if not events:
        return
    with transaction.atomic(savepoint=False):
        AuditEvent.objects.bulk_create(events)
        on_commit_once(_seal_soon)


_SEAL_SQL = (  # the table name is the model's own, never input
    f"UPDATE {AuditEvent._meta.db_table} SET seq = %s, prev_hash = %s, hash = %s WHERE id = %s"  # noqa: S608
)
_last_seal = 0.0  # per process: when this process last tried to seal


def _seal_soon() -> None:
    global _last_seal
    now = time.monotonic()
    if now - _last_seal < settings.AUDIT_SEAL_INTERVAL:
        return  # sealed a moment ago: the next commit or the periodic job takes these
    _last_seal = now
    try:
        seal_pending(wait=False)
    except DatabaseError:
        # The change itself is committed; the periodic job seals its event.
        logger.warning("could not seal the audit trail; the periodic job will", exc_info=True)


def seal_pending(*, wait: bool = True, batch: int = 2000) -> int:
    """Chain every committed event that has no ``seq`` yet, in the order they were written;
    returns how many. With ``wait=False`` it gives up at once when another process holds
    the head (that process is sealing already)."""
    sealed = 0
    while True:
        count = _seal_batch(wait=wait, batch=batch)
        sealed += count
        if count < batch:
            return sealed


def _seal_batch(*, wait: bool, batch: int) -> int:
    AuditHead.objects.get_or_create(pk=1)
    with transaction.atomic():
        head = AuditHead.objects.select_for_update(skip_locked=not wait).filter(pk=1).first()
        if head is None:
            return 0
        events = list(AuditEvent.objects.filter(seq__isnull=True).order_by("id")[:batch])
        for event in events:
            event.seq = head.last_seq + 1
            event.prev_hash = head.last_hash
            event.hash = compute_hash(event)
            head.last_seq, head.last_hash = event.seq, event.hash
        if events:
            # Only sealers write these columns, and they all hold the head's lock. One
            # statement per row, pipelined by the driver: bulk_update's CASE expressions
            # cost more to build than the rows cost to write.
            with connection.cursor() as cursor:
                cursor.executemany(_SEAL_SQL, [(e.seq, e.prev_hash, e.hash, e.pk) for e in events])
            head.save(update_fields=["last_seq", "last_hash"])
    return len(events)


def pending() -> tuple[int, dt.datetime | None]:
    """How many events wait to be sealed, and when the oldest of them was written."""
    queryset = AuditEvent.objects.filter(seq__isnull=True)
    oldest = queryset.order_by("id").values_list("created_at", flat=True).first()
    return queryset.count(), oldest


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    broken_seq: int | None = None
    reason: str = ""
    last_hash: str = GENESIS
    # Events written but not sealed into the chain yet (not checked by this run).
    pending: int = 0
    oldest_pending: dt.datetime | None = None

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
    (events sealed meanwhile are left for the next run), and compares the end with the
    head so that a deleted last event is found too; events not sealed yet are counted in
    ``pending``. ``events`` checks a given sequence
    (an export, say) from the start of the chain. ``progress`` is called with the number
    of events checked so far, after each one.
    """
    if events is not None:
        return _walk(events, progress)
    head = AuditHead.objects.filter(pk=1).first()
    if head is None and AuditEvent.objects.filter(seq__isnull=False).exists():
        # The first seal creates the head, so sealed events without one mean it was deleted.
        return VerifyResult(0, 1, _("链头记录缺失（已被删除），无法确认最后的事件是否完整"))
    last_seq = head.last_seq if head is not None else 0
    waiting, oldest = pending()
    queryset = AuditEvent.objects.filter(seq__lte=last_seq).order_by("seq")
    result = dataclasses.replace(
        _walk(queryset.iterator(chunk_size=2000), progress),
        pending=waiting,
        oldest_pending=oldest,
    )
    if result.ok and result.checked != last_seq:
        missing = result.checked + 1
        reason = _("第 %(first)d 至第 %(last)d 条事件缺失（已被删除）") % {
            "first": missing,
            "last": last_seq,
        }
        return dataclasses.replace(result, broken_seq=missing, reason=reason)
    if result.ok and head is not None and head.last_hash != result.last_hash:
        reason = _("第 %d 条事件写入后被改动过（与链头记录的哈希不符）") % last_seq
        return dataclasses.replace(result, broken_seq=last_seq, reason=reason)
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
