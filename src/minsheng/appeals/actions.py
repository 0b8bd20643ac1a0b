"""Every change of an appeal's state, and nothing else, happens here.

Each action locks the appeal row, checks the user's right (``core.policy``), moves the state
through ``Appeal.transition`` (which knows the allowed steps), records the timeline step and
the audit event, and queues notifications that leave only when the transaction commits.
An action started on a stale page (``expected_version``) or racing another person's action
raises ``Conflict`` instead of overwriting their work.

Checks come in a fixed order: the role (``PermissionDenied``), then the state (``Conflict``:
someone else got there first, refresh the page), then the department scope. A handler whose
page is stale because the appeal was just returned or re-routed thus learns that it moved
on, not that they lack a right they had a minute ago.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings as django_settings
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_save
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.appeals import numbers, search
from minsheng.appeals.attachments import CleanFile
from minsheng.appeals.errors import AppealError, Conflict
from minsheng.appeals.models import (
    Appeal,
    AppealEvent,
    AppealSettings,
    AppealType,
    Attachment,
    Category,
    Channel,
    ExtensionRequest,
    IdempotencyKey,
    PendingReceipt,
    Rating,
    RefusalRule,
    ReturnRecord,
    RoutingRule,
    Supervision,
    TimeLimit,
    Urgency,
)
from minsheng.appeals.states import STEPS, InvalidTransition, State, Step
from minsheng.core import audit, calendar, outbox, policy
from minsheng.core import context as request_context
from minsheng.core.commit import on_commit_once, queue_once
from minsheng.core.models import AuditEvent, Department, Division, OutboxMessage, Role, User
from minsheng.core.recent import Recent

logger = logging.getLogger(__name__)

# Used only when the admin-edited TimeLimit table has no row for a type (it is seeded with
# these by a data migration): urgent appeals are due the same working day.
DEFAULT_LIMITS: dict[str, int] = {
    AppealType.CONSULT: 3,
    AppealType.HELP: 5,
    AppealType.COMPLAINT: 13,
    AppealType.REPORT: 13,
    AppealType.SUGGESTION: 13,
    AppealType.PRAISE: 5,
}
RATING_SALT = "minsheng.appeals.rating"


# ---------------------------------------------------------------- helpers


def _lock(appeal_id: int, expected_version: int | None = None) -> Appeal:
    try:
        appeal = Appeal.objects.select_for_update().get(pk=appeal_id)
    except Appeal.DoesNotExist:
        raise AppealError(_("诉求不存在"), code="not_found") from None
    if expected_version is not None and appeal.version != expected_version:
        raise Conflict(_("该诉求刚刚已被他人处理，请刷新页面查看最新状态后再操作"))
    return appeal


def _expect(appeal: Appeal, step: str) -> None:
    """Raise Conflict unless ``step`` may start from the appeal's current state."""
    sources, _target = STEPS[step]
    if appeal.state not in sources:
        raise Conflict(
            _("该诉求当前状态为“%(state)s”，不能%(step)s，请刷新页面查看最新情况")
            % {"state": State(appeal.state).label, "step": Step(step).label}
        )


def _move(appeal: Appeal, step: str) -> str:
    """Take ``step``; returns the state before it."""
    _expect(appeal, step)
    before = appeal.state
    try:
        appeal.transition(STEPS[step][1])
    except InvalidTransition:  # STEPS and TRANSITIONS disagree: a bug, but never a 500
        raise Conflict(_("该诉求当前状态不能执行此操作，请刷新页面")) from None
    return before


def _allow(
    by: User | None,
    action: str,
    appeal: Appeal,
    step: str | None = None,
    *,
    lead: bool = False,
) -> None:
    """Role, then state, then scope (see the module docstring for why in this order).

    ``lead``: signing, returning, replying and extensions belong to the lead department
    only, not to the co-handlers.
    """
    policy.require(by, action)
    if step is not None:
        _expect(appeal, step)
    if not lead:
        policy.require(by, action, appeal)
    elif by is None or by.department_id != appeal.lead_department_id:
        raise PermissionDenied(action)
    # else: the lead department is the appeal's own scope, nothing more to look up


def _event(
    appeal: Appeal,
    kind: str,
    by: User | None,
    text: str = "",
    *,
    public: bool = False,
    department: Department | int | None = None,
) -> AppealEvent:
    """One step of the timeline; its department is the actor's unless named."""
    event = _event_row(appeal, kind, by, text, public=public, department=department)
    event.save()
    return event


def _event_row(
    appeal: Appeal,
    kind: str,
    by: User | None,
    text: str = "",
    *,
    public: bool = False,
    department: Department | int | None = None,
    at: dt.datetime | None = None,
) -> AppealEvent:
    """The step ``_event`` writes (now, unless ``at``), not saved yet."""
    if isinstance(department, Department):
        department = department.pk
    return AppealEvent(
        appeal=appeal,
        kind=kind,
        text=text,
        public=public,
        actor=by,
        department_id=department if department is not None else getattr(by, "department_id", None),
        created_at=at or timezone.now(),
    )


def _audit(by: User | None, action: str, appeal: Appeal, before: str, **after: Any) -> None:
    audit.record(
        by, action, appeal, before={"state": before}, after={"state": appeal.state, **after}
    )


def _notify_department(department: Department | int, title: str, url: str, kind: str) -> None:
    members = User.objects.filter(
        department=department, role__in=[Role.HANDLER, Role.DEPT_HEAD], is_active=True
    ).only("pk")
    for member in members:
        outbox.enqueue(
            "inapp", str(member.pk), title, subject=title, user=member, url=url, kind=kind
        )


def _notify_role(role: str, title: str, url: str, kind: str) -> None:
    for member in User.objects.filter(role=role, is_active=True).only("pk"):
        outbox.enqueue(
            "inapp", str(member.pk), title, subject=title, user=member, url=url, kind=kind
        )


def _sms(appeal: Appeal, text: str, kind: str) -> None:
    if appeal.citizen_mobile:
        outbox.enqueue("sms", appeal.citizen_mobile, text, kind=kind)


def staff_url(appeal: Appeal) -> str:
    return reverse("appeals:detail", args=[appeal.pk])


def time_limit(appeal_type: str, urgency: str) -> int:
    """The handling time in working days for a type and urgency (0: the same working day)."""
    configured = (
        TimeLimit.objects.filter(appeal_type=appeal_type, urgency=urgency)
        .values_list("working_days", flat=True)
        .first()
    )
    if configured is not None:
        return configured
    return 0 if urgency == Urgency.URGENT else DEFAULT_LIMITS.get(appeal_type, 13)


def route_for(category: Category | None) -> RoutingRule | None:
    """The closest routing rule up the category tree."""
    node = category
    while node is not None:
        rule = RoutingRule.objects.filter(category=node).first()
        if rule is not None:
            return rule
        node = node.parent
    return None


def _store_files(
    appeal: Appeal,
    files: Sequence[CleanFile],
    by: User | None,
    event: AppealEvent | None = None,
) -> None:
    """Save checked uploads (``attachments.clean``) as the appeal's attachments."""
    for clean_file in files:
        attachment = Attachment(
            appeal=appeal,
            event=event,
            original_name=clean_file.original_name,
            content_type=clean_file.content_type,
            extension=clean_file.extension,
            size=clean_file.size,
            sha256=clean_file.sha256,
            uploaded_by=by,
        )
        attachment.file.save("upload", clean_file.content, save=False)
        attachment.save()


# ---------------------------------------------------------------- intake


def _claim_key(idempotency: tuple[str, str], fingerprint: str, appeal: Appeal) -> bool:
    """Store the client's key for ``appeal``; False when a concurrent request holds it.

    ON CONFLICT DO NOTHING instead of catching the IntegrityError: no savepoint round
    trips on every keyed submission (PostgreSQL waits for the other transaction and then
    reports the conflict, so the winner is committed when the caller reads it).
    """
    table = connection.ops.quote_name(IdempotencyKey._meta.db_table)
    key = connection.ops.quote_name("key")
    sql = (
        f"INSERT INTO {table} (client, {key}, request_hash, appeal_id, created_at)"  # noqa: S608
        f" VALUES (%s, %s, %s, %s, %s) ON CONFLICT (client, {key}) DO NOTHING RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql, [idempotency[0], idempotency[1], fingerprint, appeal.pk, timezone.now()]
        )
        return cursor.fetchone() is not None


@dataclass
class AppealInput:
    title: str
    body: str
    appeal_type: str = AppealType.HELP
    urgency: str = Urgency.NORMAL
    category_id: int | None = None
    division_id: int | None = None
    address: str = ""
    anonymous: bool = False
    citizen_name: str = ""
    citizen_mobile: str = ""
    consent_publish: bool = False
    channel: str = Channel.WEB
    files: Sequence[CleanFile] = field(default_factory=list)

    def fingerprint(self) -> str:
        data = asdict(self)
        data["files"] = [f.sha256 for f in self.files]
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Submitted:
    appeal: Appeal
    query_code: str | None  # None when an idempotent retry returned the earlier appeal
    replayed: bool = False


def _validate(data: AppealInput) -> tuple[Category | None, Division | None]:
    errors: dict[str, list[str]] = {}
    if not data.title.strip():
        errors["title"] = [_("请填写标题")]
    if len(data.body.strip()) < 5:
        errors["body"] = [_("请把问题描述清楚（至少5个字）")]
    if data.appeal_type not in AppealType.values:
        errors["appeal_type"] = [_("诉求类型不正确")]
    if data.urgency not in Urgency.values:
        errors["urgency"] = [_("紧急程度不正确")]
    if data.channel not in Channel.values:
        errors["channel"] = [_("来源渠道不正确")]
    if not data.anonymous and not data.citizen_mobile:
        errors["citizen_mobile"] = [_("请填写手机号，或选择匿名反映")]
    if data.citizen_mobile and not (
        len(data.citizen_mobile) == 11
        and data.citizen_mobile.isdigit()
        and data.citizen_mobile[:2] >= "13"
    ):
        errors["citizen_mobile"] = [_("请输入11位手机号码")]
    category = None
    if data.category_id is not None:
        category = Category.objects.filter(pk=data.category_id, active=True).first()
        if category is None:
            errors["category"] = [_("所选分类不存在")]
    division = None
    if data.division_id is not None:
        division = (
            Division.objects.select_related("parent")  # for division.town
            .filter(pk=data.division_id, active=True)
            .exclude(level="county")
            .first()
        )
        if division is None:
            errors["division"] = [_("所选地点不存在")]
    if errors:
        raise AppealError(_("提交的内容有误，请检查后重试"), code="validation_error", fields=errors)
    return category, division


# The tracking number's prefix, read on every intake: kept per process for a few seconds
# (an admin's change applies within them; at once in the process that saved it).
_prefix: Recent[str] = Recent(lambda: 10.0, max_size=1)
post_save.connect(_prefix.clear, sender=AppealSettings, dispatch_uid="appeals.number_prefix")


def _number_prefix() -> str:
    prefix = _prefix.get("prefix", lambda: AppealSettings.current().number_prefix)
    assert prefix is not None
    return prefix


@transaction.atomic
def submit(
    data: AppealInput,
    *,
    by: User | None = None,
    idempotency: tuple[str, str] | None = None,
    receipt_later: bool = False,
) -> Submitted:
    """Receive an appeal from any channel. ``by`` is the staff member entering it, if any.

    With ``idempotency=(client, key)``, a retry with the same key gives back the first
    appeal instead of creating a second one; the same key with other content is refused.

    With ``receipt_later`` (the API: other systems pushing appeals in bulk) the appeal is
    committed with a ``PendingReceipt``, and ``register_receipts`` writes the receipt in
    batches right after the commit; otherwise the receipt is written here.
    """
    staff = by if by is not None and by.is_authenticated and by.is_staff_member else None
    if staff is not None:
        policy.require(by, "appeal.intake")
    category, division = _validate(data)
    fingerprint = data.fingerprint()
    now = timezone.now()
    day = timezone.localdate(now)
    code = numbers.new_query_code()
    citizen = by if by is not None and by.is_authenticated and staff is None else None
    title = data.title.strip()[:100]
    body = data.body.strip()
    appeal = Appeal(
        number=numbers.format_number(_number_prefix(), day, numbers.next_daily_number(day)),
        query_code_hash=numbers.hash_query_code(code),
        title=title,
        body=body,
        search_tokens="" if receipt_later else search.document_tokens(title, body),
        appeal_type=data.appeal_type,
        urgency=data.urgency,
        category=category,
        channel=data.channel,
        division=division,
        town=division.town if division else None,
        address=data.address.strip()[:200],
        anonymous=data.anonymous,
        citizen_name="" if data.anonymous else data.citizen_name.strip()[:32],
        citizen_mobile=data.citizen_mobile,
        citizen=citizen,
        consent_publish=data.consent_publish,
        entered_by=staff,
        received_at=now,
    )
    appeal.save()
    if idempotency is not None and not _claim_key(idempotency, fingerprint, appeal):
        # A retry: the key is taken, by an earlier request or by a concurrent one that has
        # committed meanwhile. Give back its appeal and roll this one back (read first: a
        # transaction marked for rollback runs no query). Not looking the key up before the
        # insert saves every first request a round trip; a retry costs a discarded number.
        winner = IdempotencyKey.objects.select_related("appeal").get(
            client=idempotency[0], key=idempotency[1]
        )
        transaction.set_rollback(True)
        if winner.request_hash != fingerprint:
            raise AppealError(_("同一个幂等键不能用于不同的内容"), code="idempotency_mismatch")
        return Submitted(winner.appeal, None, replayed=True)
    _store_files(appeal, data.files, appeal.entered_by)  # after the key: a retry stores none
    if receipt_later:
        ctx = request_context.current()
        PendingReceipt.objects.create(
            appeal=appeal,
            query_code=code,
            actor=by if by is not None and by.is_authenticated else None,
            request_id=ctx.request_id if ctx else "",
            ip=ctx.ip if ctx else None,
        )
        on_commit_once(_queue_receipts)
    else:
        _write_receipts([_receipt(appeal, by, code)])
    return Submitted(appeal, code)


Receipt = tuple[AppealEvent, AuditEvent, OutboxMessage | None]


def _receipt(appeal: Appeal, by: User | None, code: str) -> Receipt:
    """What follows an intake: the timeline step, the audit event (of the current request)
    and the SMS with the number and query code, not written yet."""
    event = _event_row(
        appeal,
        "received",
        by,
        _("诉求已受理（%(channel)s）") % {"channel": appeal.get_channel_display()},
        public=True,
        at=appeal.received_at,
    )
    audit_event = audit.event_for(
        by, "appeal.received", appeal, after={"state": appeal.state, "channel": appeal.channel}
    )
    sms = None
    if appeal.citizen_mobile:
        text = _("【%(county)s民生】您的诉求已受理，编号%(number)s，查询码%(code)s，请妥善保存。")
        sms = outbox.message_for(
            "sms",
            appeal.citizen_mobile,
            text % {"county": django_settings.COUNTY_NAME, "number": appeal.number, "code": code},
            kind="appeal.received",
        )
    return event, audit_event, sms


def _write_receipts(receipts: list[Receipt]) -> None:
    """Write receipts (a statement per table however many) and, after the commit, offer
    their appeals to the automatic routing."""
    AppealEvent.objects.bulk_create([event for event, _audit, _sms in receipts])
    audit.record_all([audit_event for _event, audit_event, _sms in receipts])
    outbox.enqueue_all([sms for _event, _audit, sms in receipts if sms is not None])
    appeal_ids = [event.appeal_id for event, _audit, _sms in receipts]
    transaction.on_commit(lambda: _after_intake(appeal_ids))


def _after_intake(appeal_ids: list[int]) -> None:
    # The classifier may route them (when the county turned that on); its module decides.
    from minsheng.intelligence import routing

    for appeal_id in appeal_ids:
        routing.after_intake(appeal_id)


RECEIPTS_QUEUED_KEY = "appeals:receipts-queued"


def _queue_receipts() -> None:
    from minsheng.appeals.tasks import register_receipts_task

    queue_once(RECEIPTS_QUEUED_KEY, register_receipts_task.enqueue)


def register_receipts(*, batch: int = 200) -> int:
    """Write the receipts of the appeals accepted with ``receipt_later``, oldest first, a
    batch per transaction; returns how many. Concurrent runs share the work: each takes the
    rows the others have not locked (PostgreSQL), so every receipt is written once. A
    receipt that cannot be written is logged and left for the next run; the others go on."""
    registered = 0
    failed: set[int] = set()
    while True:
        try:
            count, more = _register_batch(batch, failed)
        except Exception:
            logger.exception("a batch of appeal receipts failed; writing them one at a time")
            count, more = _register_singly(batch, failed)
        registered += count
        if not more:
            return registered


def _register_batch(batch: int, skip: set[int], only: int | None = None) -> tuple[int, bool]:
    """One transaction: up to ``batch`` receipts (or the one of appeal ``only``); returns
    how many were written and whether more may be waiting."""
    rows = PendingReceipt.objects.exclude(pk__in=skip)
    if only is not None:
        rows = rows.filter(pk=only)
    with transaction.atomic():
        pending = list(
            rows.select_for_update(skip_locked=True, of=("self",))
            .select_related("appeal", "actor")
            .order_by("created_at", "appeal_id")[:batch]
        )
        receipts = []
        for row in pending:
            # The audit event carries the request that submitted the appeal.
            token = request_context.begin(row.request_id or None, row.ip)
            try:
                receipts.append(_receipt(row.appeal, row.actor, row.query_code))
            finally:
                request_context.end(token)
        search.store_words([row.appeal for row in pending])
        _write_receipts(receipts)
        PendingReceipt.objects.filter(pk__in=[row.pk for row in pending]).delete()
    return len(pending), len(pending) == batch


def _register_singly(batch: int, failed: set[int]) -> tuple[int, bool]:
    """After a failed batch: the next ``batch`` receipts one per transaction, so that one
    that fails (added to ``failed``, logged) does not hold back the others."""
    ids = list(
        PendingReceipt.objects.exclude(pk__in=failed)
        .order_by("created_at", "appeal_id")
        .values_list("pk", flat=True)[:batch]
    )
    count = 0
    for pk in ids:
        try:
            count += _register_batch(1, failed, only=pk)[0]
        except Exception:
            logger.exception("the receipt of appeal %s could not be written", pk)
            failed.add(pk)
    return count, len(ids) == batch


@transaction.atomic
def refuse(
    appeal_id: int, *, rule_code: str, note: str = "", by: User, expected_version: int | None = None
) -> Appeal:
    """不予受理 / 转办: the county does not handle this; the citizen is told where to go."""
    appeal = _lock(appeal_id, expected_version)
    _allow(by, "appeal.refuse", appeal, Step.REFUSE)
    rule = RefusalRule.objects.filter(code=rule_code, active=True).first()
    if rule is None:
        raise AppealError(
            _("请选择不予受理或转办的情形"),
            code="validation_error",
            fields={"rule": [_("情形不存在")]},
        )
    before = _move(appeal, Step.REFUSE)
    appeal.outcome_message = rule.message
    appeal.closed_at = timezone.now()
    appeal.save(update_fields=["state", "version", "outcome_message", "closed_at", "updated_at"])
    text = f"{rule.get_outcome_display()}：{rule.message}"
    _event(appeal, "refused", by, text + (f"（{note}）" if note else ""), public=True)
    _audit(by, "appeal.refused", appeal, before, rule=rule.code)
    _sms(
        appeal,
        _("您的诉求%(number)s：%(text)s") % {"number": appeal.number, "text": text},
        "appeal.refused",
    )
    # The merged appeals asked the same thing: they share the outcome instead of waiting
    # for a reply that will never come.
    for merged in _followers(appeal):
        merged_before = _move(merged, Step.FOLLOW_REFUSE)
        merged.outcome_message = rule.message
        merged.closed_at = appeal.closed_at
        merged.save()
        _event(merged, "refused", by, text, public=True)
        _audit(by, "appeal.refused", merged, merged_before, rule=rule.code, master=appeal.pk)
        _sms(
            merged,
            _("您的诉求%(number)s：%(text)s") % {"number": merged.number, "text": text},
            "appeal.refused",
        )
    return appeal


# ---------------------------------------------------------------- routing


@transaction.atomic
def dispatch(
    appeal_id: int,
    *,
    department_id: int,
    co_department_ids: Iterable[int] = (),
    by: User | None,
    note: str = "",
    expected_version: int | None = None,
    auto: bool = False,
) -> Appeal:
    """派单 (or 改派 after a return, or before the department signed): the lead department
    and co-handlers, with the signing and handling deadlines."""
    appeal = _lock(appeal_id, expected_version)
    if auto:
        _expect(appeal, Step.DISPATCH)
    else:
        _allow(by, "appeal.dispatch", appeal, Step.DISPATCH)
    lead = Department.objects.filter(pk=department_id, active=True).first()
    if lead is None:
        raise AppealError(
            _("请选择主办部门"), code="validation_error", fields={"department": [_("部门不存在")]}
        )
    co_ids = set(co_department_ids) - {lead.pk}
    co = list(Department.objects.filter(pk__in=co_ids, active=True)) if co_ids else []
    before = _move(appeal, Step.DISPATCH)
    now = timezone.now()
    settings = AppealSettings.current()
    sign_deadline = calendar.add_working_days(now, settings.sign_within_days)
    due = calendar.add_working_days(now, time_limit(appeal.appeal_type, appeal.urgency))
    appeal.lead_department = lead
    appeal.auto_routed = auto
    appeal.dispatched_at = now
    appeal.sign_due_at = sign_deadline.due_at
    appeal.due_at = due.due_at
    appeal.due_provisional = due.provisional or sign_deadline.provisional
    appeal.signed_at = None
    appeal.sign_reminded_at = None
    appeal.due_soon_notified_at = None
    appeal.overdue_notified_at = None
    appeal.save()
    if co or before != State.RECEIVED:  # a new appeal has no co-handlers to clear
        appeal.co_departments.set(co)
    kind = "dispatched" if before == State.RECEIVED else "redispatched"
    names = "、".join([lead.name] + [d.name for d in co])
    _event(
        appeal,
        kind,
        by,
        _("派至%(names)s办理") % {"names": names} + (f"（{note}）" if note else ""),
        public=True,
        department=lead,
    )
    _audit(by, f"appeal.{kind}", appeal, before, lead=lead.pk, co=[d.pk for d in co], auto=auto)
    _notify_department(
        lead,
        _("新派单：%(title)s") % {"title": appeal.title},
        staff_url(appeal),
        "appeal.dispatched",
    )
    for department in co:
        _notify_department(
            department,
            _("协办：%(title)s") % {"title": appeal.title},
            staff_url(appeal),
            "appeal.co",
        )
    return appeal


@transaction.atomic
def sign(appeal_id: int, *, by: User, expected_version: int | None = None) -> Appeal:
    """签收: the lead department takes the appeal on."""
    appeal = _lock(appeal_id, expected_version)
    _allow(by, "appeal.sign", appeal, Step.SIGN, lead=True)
    before = _move(appeal, Step.SIGN)
    appeal.signed_at = timezone.now()
    appeal.save(update_fields=["state", "version", "signed_at", "updated_at"])
    _event(
        appeal, "signed", by, _("%(dept)s已签收，正在办理") % {"dept": by.department}, public=True
    )
    _audit(by, "appeal.signed", appeal, before)
    return appeal


@transaction.atomic
def return_appeal(
    appeal_id: int, *, reason: str, by: User, expected_version: int | None = None
) -> Appeal:
    """退单: the department says it is not theirs; the dispatcher re-routes it."""
    if len(reason.strip()) < 4:
        raise AppealError(
            _("请写明退单理由"), code="validation_error", fields={"reason": [_("请写明退单理由")]}
        )
    appeal = _lock(appeal_id, expected_version)
    _allow(by, "appeal.return", appeal, Step.RETURN, lead=True)
    department = appeal.lead_department
    assert department is not None  # _allow(lead=True) matched it against the user's
    before = _move(appeal, Step.RETURN)
    appeal.return_count += 1
    appeal.lead_department = None
    appeal.due_at = None
    appeal.sign_due_at = None
    appeal.due_provisional = False
    appeal.save()
    appeal.co_departments.clear()
    ReturnRecord.objects.create(
        appeal=appeal, department=department, reason=reason.strip(), returned_by=by
    )
    _event(appeal, "returned", by, reason.strip(), department=department)
    _audit(by, "appeal.returned", appeal, before, department=department.pk, reason=reason.strip())
    _notify_role(
        Role.DISPATCHER,
        _("退单待改派：%(title)s") % {"title": appeal.title},
        staff_url(appeal),
        "appeal.returned",
    )
    return appeal


@transaction.atomic
def dispute_return(return_id: int, *, note: str, by: User) -> ReturnRecord:
    """The dispatcher marks a return as disputed (the department should have kept it)."""
    record = ReturnRecord.objects.select_for_update().filter(pk=return_id).first()
    if record is None:
        raise AppealError(_("退单记录不存在"), code="not_found")
    policy.require(by, "appeal.dispute_return", record.appeal)
    if record.disputed:
        raise Conflict(_("该退单已标记为有争议"))
    record.disputed = True
    record.dispute_note = note.strip()
    record.save(update_fields=["disputed", "dispute_note"])
    _event(record.appeal, "return_disputed", by, note.strip(), department=record.department_id)
    audit.record(
        by,
        "appeal.return_disputed",
        record.appeal,
        after={"return": record.pk, "department": record.department_id, "note": note.strip()},
    )
    return record


# ---------------------------------------------------------------- handling


@transaction.atomic
def add_note(
    appeal_id: int, *, text: str, by: User, files: Sequence[CleanFile] = ()
) -> AppealEvent:
    """A process note with optional evidence, by the lead or a co-handling department."""
    if not text.strip() and not files:
        raise AppealError(
            _("请填写办理情况或上传材料"),
            code="validation_error",
            fields={"text": [_("请填写办理情况")]},
        )
    appeal = _lock(appeal_id)
    policy.require(by, "appeal.note")
    if not appeal.is_open:
        raise Conflict(_("该诉求已答复或办结，不能再添加办理过程"))
    policy.require(by, "appeal.note", appeal)
    event = _event(appeal, "note", by, text.strip())
    _store_files(appeal, files, by, event=event)
    audit.record(by, "appeal.note_added", appeal, after={"event": event.pk, "files": len(files)})
    return event


def extend_deadline(due_at: dt.datetime, days: int) -> calendar.Deadline:
    """``due_at`` moved by ``days`` working days.

    Counted from the deadline's day, not its moment: a deadline is the last instant of its
    day, after the cut-off, so counting from the moment would start a day late.
    """
    return calendar.add_working_days(due_at.astimezone(calendar.CALENDAR_TZ).date(), days)


@transaction.atomic
def request_extension(appeal_id: int, *, days: int, reason: str, by: User) -> ExtensionRequest:
    """延期申请, before the deadline passes."""
    appeal = _lock(appeal_id)
    policy.require(by, "appeal.request_extension")
    if appeal.state != State.HANDLING:
        raise Conflict(_("只有办理中的诉求可以申请延期"))
    _allow(by, "appeal.request_extension", appeal, lead=True)
    settings = AppealSettings.current()
    errors: dict[str, list[str]] = {}
    if not 1 <= days <= settings.max_extension_days:
        errors["days"] = [
            _("延期天数应在1到%(max)s个工作日之间") % {"max": settings.max_extension_days}
        ]
    if len(reason.strip()) < 4:
        errors["reason"] = [_("请写明延期理由")]
    if errors:
        raise AppealError(_("延期申请有误"), code="validation_error", fields=errors)
    if appeal.due_at is not None and calendar.is_overdue(appeal.due_at):
        raise AppealError(_("已超过办理期限，不能再申请延期"), code="deadline_passed")
    if appeal.extensions.filter(status=ExtensionRequest.Status.PENDING).exists():
        raise Conflict(_("已有待审批的延期申请"))
    assert by.department is not None  # a lead-department user
    extension = ExtensionRequest.objects.create(
        appeal=appeal, department=by.department, days=days, reason=reason.strip(), requested_by=by
    )
    _event(
        appeal,
        "extension_requested",
        by,
        _("申请延期%(days)s个工作日：%(reason)s") % {"days": days, "reason": reason.strip()},
    )
    audit.record(
        by, "appeal.extension_requested", appeal, after={"days": days, "extension": extension.pk}
    )
    _notify_role(
        Role.DISPATCHER,
        _("延期申请待审批：%(title)s") % {"title": appeal.title},
        staff_url(appeal),
        "appeal.extension_requested",
    )
    return extension


@transaction.atomic
def decide_extension(
    extension_id: int, *, approve: bool, note: str = "", by: User
) -> ExtensionRequest:
    """Approve (the deadline moves by the asked working days) or refuse an extension."""
    extension = ExtensionRequest.objects.filter(pk=extension_id).first()
    if extension is None:
        raise AppealError(_("延期申请不存在"), code="not_found")
    # The appeal first, then the request: the same order as every other action, so that
    # two of them cannot deadlock.
    appeal = _lock(extension.appeal_id)
    extension = ExtensionRequest.objects.select_for_update().get(pk=extension_id)
    _allow(by, "appeal.decide_extension", appeal)
    if extension.status != ExtensionRequest.Status.PENDING:
        raise Conflict(_("该延期申请已审批"))
    if appeal.state != State.HANDLING:
        raise Conflict(_("该诉求已不在办理中，无需延期"))
    extension.status = (
        ExtensionRequest.Status.APPROVED if approve else ExtensionRequest.Status.REFUSED
    )
    extension.decided_by = by
    extension.decided_at = timezone.now()
    extension.decision_note = note.strip()
    extension.save()
    old_due = appeal.due_at
    if approve and appeal.due_at is not None:
        deadline = extend_deadline(appeal.due_at, extension.days)
        appeal.due_at = deadline.due_at
        appeal.due_provisional = appeal.due_provisional or deadline.provisional
        appeal.extension_count += 1
        appeal.due_soon_notified_at = None
        appeal.overdue_notified_at = None
    appeal.version += 1
    appeal.save()
    verdict = _("同意") if approve else _("不同意")
    _event(
        appeal,
        "extension_decided",
        by,
        _("%(verdict)s延期%(days)s个工作日") % {"verdict": verdict, "days": extension.days}
        + (f"：{note.strip()}" if note.strip() else ""),
        public=approve,
        department=extension.department_id,
    )
    audit.record(
        by,
        "appeal.extension_decided",
        appeal,
        before={"due_at": old_due},
        after={"due_at": appeal.due_at, "approved": approve, "extension": extension.pk},
    )
    _notify_department(
        extension.department_id,
        _("延期申请已%(verdict)s：%(title)s") % {"verdict": verdict, "title": appeal.title},
        staff_url(appeal),
        "appeal.extension",
    )
    return extension


def _drop_pending_extensions(appeal: Appeal, why: str) -> None:
    """A request nobody needs to decide any more (the appeal was answered or left the
    handling); without this it would wait on the dispatcher's board for ever."""
    appeal.extensions.filter(status=ExtensionRequest.Status.PENDING).update(
        status=ExtensionRequest.Status.REFUSED, decided_at=timezone.now(), decision_note=why
    )


def rating_token(appeal: Appeal) -> str:
    """The signed key of the citizen's rating page: this appeal, this round of the reply."""
    return signing.dumps(
        {"a": appeal.pk, "r": appeal.rehandle_count}, salt=RATING_SALT, compress=True
    )


def rating_url(appeal: Appeal) -> str:
    return reverse("appeals:rate", args=[rating_token(appeal)])


def _send_reply(appeal: Appeal) -> None:
    link = django_settings.SITE_URL + rating_url(appeal)
    _sms(
        appeal,
        _("您的诉求%(number)s已答复：%(reply)s 请对办理结果评价：%(link)s")
        % {"number": appeal.number, "reply": appeal.reply[:60], "link": link},
        "appeal.replied",
    )


def _followers(appeal: Appeal) -> list[Appeal]:
    """The appeals merged into this one that still wait for it, locked."""
    return list(
        Appeal.objects.select_for_update()
        .filter(merged_into=appeal, state=State.MERGED)
        .order_by("pk")
    )


# Below this a reply is refused outright; the reply check (intelligence) judges the rest.
MIN_REPLY_CHARS = 10


@transaction.atomic
def reply(
    appeal_id: int,
    *,
    text: str,
    by: User,
    expected_version: int | None = None,
    check: dict[str, Any] | None = None,
) -> Appeal:
    """答复 the citizen; every appeal merged into this one gets the same reply. ``check``
    (the reply check's scores and overridden warnings) is kept in the audit record."""
    if len(text.strip()) < MIN_REPLY_CHARS:
        raise AppealError(
            _("答复内容过短，请写明办理结果"),
            code="validation_error",
            fields={"text": [_("答复内容至少10个字")]},
        )
    appeal = _lock(appeal_id, expected_version)
    _allow(by, "appeal.reply", appeal, Step.REPLY, lead=True)
    before = _move(appeal, Step.REPLY)
    now = timezone.now()
    appeal.reply = text.strip()
    appeal.replied_at = now
    if appeal.dispatched_at is not None:
        appeal.handling_days = calendar.working_days_between(appeal.dispatched_at, now)
    appeal.save()
    _event(appeal, "replied", by, appeal.reply, public=True)
    _audit(by, "appeal.replied", appeal, before, **({"reply_check": check} if check else {}))
    _send_reply(appeal)
    _drop_pending_extensions(appeal, _("诉求已答复，延期申请自动撤销"))
    resolve_supervisions(appeal)
    for merged in _followers(appeal):
        merged_before = _move(merged, Step.FOLLOW_REPLY)
        merged.reply = appeal.reply
        merged.replied_at = now
        merged.lead_department = appeal.lead_department
        # Answered with the master, so on time exactly when the master was.
        merged.due_at = appeal.due_at
        merged.handling_days = appeal.handling_days
        merged.save()
        _event(merged, "replied", by, appeal.reply, public=True)
        _audit(by, "appeal.replied", merged, merged_before, master=appeal.pk)
        _send_reply(merged)
    return appeal


# ---------------------------------------------------------------- rating and closing


def _read_rating_token(token: str, max_age_days: int | None) -> tuple[int, int]:
    if max_age_days is None:
        max_age_days = AppealSettings.current().rating_window_days
    try:
        data = signing.loads(token, salt=RATING_SALT, max_age=dt.timedelta(days=max_age_days))
    except signing.SignatureExpired:
        raise AppealError(_("评价链接已过期"), code="link_expired") from None
    except signing.BadSignature:
        raise AppealError(_("评价链接无效"), code="link_invalid") from None
    return int(data["a"]), int(data["r"])


def appeal_for_rating_token(token: str, max_age_days: int | None = None) -> Appeal:
    """The appeal a rating link is for; AppealError if the link is bad, expired or for an
    earlier reply (the appeal was re-handled since)."""
    appeal_id, round_ = _read_rating_token(token, max_age_days)
    appeal = Appeal.objects.filter(pk=appeal_id).first()
    if appeal is None or appeal.rehandle_count != round_:
        raise AppealError(_("评价链接已失效"), code="link_invalid")
    return appeal


def _check_level(level: str) -> Rating.Level:
    if level not in Rating.Level.values:
        raise AppealError(
            _("请选择满意度"), code="validation_error", fields={"level": [_("请选择满意度")]}
        )
    return Rating.Level(level)


def _record_rating(
    appeal: Appeal,
    *,
    resolved: bool | None,
    level: str,
    comment: str,
    source: str,
    by: User | None,
    handler_at_fault: bool = False,
) -> Rating:
    try:
        with transaction.atomic():
            rating = Rating.objects.create(
                appeal=appeal,
                department_id=appeal.lead_department_id,
                round=appeal.rehandle_count,
                resolved=resolved,
                level=level,
                comment=comment.strip()[:1000],
                handler_at_fault=handler_at_fault,
                source=source,
                recorded_by=by,
            )
    except IntegrityError:
        raise Conflict(_("本次答复已经评价过了")) from None
    appeal.resolved = resolved
    appeal.satisfaction = level
    appeal.rated_at = rating.created_at
    return rating


def _close(appeal: Appeal, by: User | None, text: str) -> None:
    before = _move(appeal, Step.CLOSE)
    appeal.closed_at = timezone.now()
    appeal.save()
    _event(appeal, "closed", by, text, public=True)
    _audit(by, "appeal.closed", appeal, before)


def _rehandle(appeal: Appeal, by: User | None, comment: str) -> None:
    """重办: back to the same department with a new deadline; escalate when it keeps failing."""
    before = _move(appeal, Step.REHANDLE)
    appeal.rehandle_count += 1
    deadline = calendar.add_working_days(
        timezone.now(), time_limit(appeal.appeal_type, appeal.urgency)
    )
    appeal.due_at = deadline.due_at
    appeal.due_provisional = deadline.provisional
    appeal.due_soon_notified_at = None
    appeal.overdue_notified_at = None
    appeal.save()
    _event(appeal, "rehandle", by, _("群众不满意，退回重办：%(c)s") % {"c": comment}, public=True)
    _audit(by, "appeal.rehandle", appeal, before, rehandle_count=appeal.rehandle_count)
    if appeal.lead_department_id is not None:
        _notify_department(
            appeal.lead_department_id,
            _("重办：%(title)s") % {"title": appeal.title},
            staff_url(appeal),
            "appeal.rehandle",
        )
    if appeal.rehandle_count >= AppealSettings.current().rehandle_escalate_after:
        _open_supervision(
            appeal,
            Supervision.Reason.REHANDLE,
            by,
            _("重办%(n)s次仍未解决") % {"n": appeal.rehandle_count},
        )


@transaction.atomic
def rate(token: str, *, resolved: bool, level: str, comment: str = "") -> Appeal:
    """The citizen's rating from the SMS link. Satisfied → closed; unsatisfied → the
    dispatcher reviews whose side the cause is on (``review_unsatisfied``)."""
    checked = _check_level(level)
    appeal_id, round_ = _read_rating_token(token, None)
    appeal = _lock(appeal_id)
    # Checked under the lock: a re-handle since the link was sent makes it stale.
    if appeal.rehandle_count != round_:
        raise AppealError(_("评价链接已失效"), code="link_invalid")
    if appeal.state != State.REPLIED:
        raise Conflict(_("该诉求当前不能评价"))
    _record_rating(
        appeal, resolved=resolved, level=level, comment=comment, source=Rating.Source.LINK, by=None
    )
    appeal.version += 1
    appeal.save()
    _event(
        appeal,
        "rated",
        None,
        f"{checked.label}" + ("" if resolved else _("（未解决）")),
        public=True,
    )
    audit.record(None, "appeal.rated", appeal, after={"level": level, "resolved": resolved})
    if checked == Rating.Level.UNSATISFIED:
        _notify_role(
            Role.DISPATCHER,
            _("群众不满意，待研判：%(title)s") % {"title": appeal.title},
            staff_url(appeal),
            "appeal.unsatisfied",
        )
    else:
        _close(appeal, None, _("群众评价后办结"))
    return appeal


@transaction.atomic
def record_callback(
    appeal_id: int,
    *,
    resolved: bool,
    level: str,
    comment: str = "",
    handler_at_fault: bool = False,
    by: User,
    expected_version: int | None = None,
) -> Appeal:
    """回访 by phone: the dispatcher records the citizen's verdict, and whose fault it was."""
    checked = _check_level(level)
    appeal = _lock(appeal_id, expected_version)
    policy.require(by, "appeal.callback")
    if appeal.state != State.REPLIED:
        raise Conflict(_("该诉求当前不能回访"))
    _allow(by, "appeal.callback", appeal)
    _record_rating(
        appeal,
        resolved=resolved,
        level=level,
        comment=comment,
        source=Rating.Source.CALLBACK,
        by=by,
        handler_at_fault=handler_at_fault,
    )
    appeal.version += 1
    appeal.save()
    _event(appeal, "callback", by, f"{checked.label}：{comment.strip()}".strip("："), public=True)
    audit.record(
        by,
        "appeal.callback",
        appeal,
        after={"level": level, "resolved": resolved, "fault": handler_at_fault},
    )
    if checked == Rating.Level.UNSATISFIED and handler_at_fault:
        _rehandle(appeal, by, comment)
    else:
        _close(appeal, by, _("回访后办结"))
    return appeal


@transaction.atomic
def review_unsatisfied(
    appeal_id: int, *, handler_at_fault: bool, note: str = "", by: User
) -> Appeal:
    """After an unsatisfied link rating: re-handle (the department's fault) or close."""
    appeal = _lock(appeal_id)
    policy.require(by, "appeal.callback")
    rating = appeal.ratings.filter(round=appeal.rehandle_count).first()
    if appeal.state != State.REPLIED or rating is None or rating.level != Rating.Level.UNSATISFIED:
        raise Conflict(_("该诉求没有待研判的不满意评价"))
    _allow(by, "appeal.callback", appeal)
    rating.handler_at_fault = handler_at_fault
    rating.save(update_fields=["handler_at_fault"])
    audit.record(
        by, "appeal.unsatisfied_reviewed", appeal, after={"fault": handler_at_fault, "note": note}
    )
    if handler_at_fault:
        _rehandle(appeal, by, note or rating.comment)
    else:
        _close(appeal, by, _("经研判非承办单位原因，予以办结") + (f"：{note}" if note else ""))
    return appeal


def close_unrated(now: dt.datetime | None = None) -> int:
    """Close replied appeals whose rating window has passed without a rating.

    An unsatisfied rating waiting for the dispatcher's review is a rating: it stays.
    """
    now = now or timezone.now()
    window = dt.timedelta(days=AppealSettings.current().rating_window_days)
    closed = 0
    candidates = Appeal.objects.filter(
        state=State.REPLIED, replied_at__lt=now - window
    ).values_list("pk", flat=True)
    for appeal_id in list(candidates):
        with transaction.atomic():
            appeal = _lock(appeal_id)
            if (
                appeal.state != State.REPLIED
                or appeal.replied_at is None
                or appeal.replied_at >= now - window
                or appeal.ratings.filter(round=appeal.rehandle_count).exists()
            ):
                continue  # rated or re-handled since the list was read
            Rating.objects.create(
                appeal=appeal,
                department_id=appeal.lead_department_id,
                round=appeal.rehandle_count,
                resolved=None,
                level="",
                source=Rating.Source.TIMEOUT,
            )
            _close(appeal, None, _("评价期满未评价，自动办结"))
            closed += 1
    return closed


# ---------------------------------------------------------------- merge and promote


@transaction.atomic
def merge(master_id: int, duplicate_ids: Iterable[int], *, by: User) -> list[Appeal]:
    """Merge duplicates into a master; their citizens get the master's reply and rating link."""
    ids = sorted(set(duplicate_ids) - {master_id})
    if not ids:
        raise AppealError(_("请选择要合并的诉求"), code="validation_error")
    # Lock in id order so that two merges touching the same appeals cannot deadlock.
    locked = {
        a.pk: a
        for a in Appeal.objects.select_for_update().filter(pk__in=[master_id, *ids]).order_by("pk")
    }
    master = locked.get(master_id)
    if master is None or len(locked) != len(ids) + 1:
        raise AppealError(_("诉求不存在"), code="not_found")
    policy.require(by, "appeal.merge")
    if not master.is_open:
        raise Conflict(_("主诉求已答复或办结，不能再合并"))
    policy.require(by, "appeal.merge", master)
    merged = []
    for appeal_id in ids:
        duplicate = locked[appeal_id]
        policy.require(by, "appeal.merge", duplicate)
        before = _move(duplicate, Step.MERGE)
        duplicate.merged_into = master
        duplicate.due_at = None
        duplicate.due_provisional = False
        duplicate.save()
        # Appeals merged into the duplicate earlier now wait for the master too.
        Appeal.objects.filter(merged_into=duplicate, state=State.MERGED).update(merged_into=master)
        _drop_pending_extensions(duplicate, _("诉求已合并办理，延期申请自动撤销"))
        resolve_supervisions(duplicate)
        _event(
            duplicate,
            "merged",
            by,
            _("与诉求%(n)s反映的是同一问题，合并办理") % {"n": master.number},
            public=True,
        )
        _audit(by, "appeal.merged", duplicate, before, master=master.pk)
        _sms(
            duplicate,
            _("您的诉求%(n)s与其他群众反映的问题相同，已合并办理，办理结果将短信告知您。")
            % {"n": duplicate.number},
            "appeal.merged",
        )
        merged.append(duplicate)
    _event(master, "merge_master", by, _("合并了%(n)s件相同诉求") % {"n": len(merged)})
    audit.record(by, "appeal.merge_master", master, after={"merged": [a.pk for a in merged]})
    master.version += 1
    master.save(update_fields=["version", "updated_at"])
    return merged


@transaction.atomic
def promote(
    appeal_id: int,
    *,
    reason: str,
    by: User,
    expected_version: int | None = None,
    project_id: int | None = None,
) -> Appeal:
    """转实事项目: the appeal cannot be solved at once and goes to the practical projects;
    with ``project_id`` it (and the appeals merged into it) is linked to that project."""
    if len(reason.strip()) < 4:
        raise AppealError(
            _("请写明转为实事项目的原因"),
            code="validation_error",
            fields={"reason": [_("请写明原因")]},
        )
    appeal = _lock(appeal_id, expected_version)
    _allow(by, "appeal.promote", appeal, Step.PROMOTE)
    before = _move(appeal, Step.PROMOTE)
    appeal.promote_reason = reason.strip()
    appeal.save()
    _drop_pending_extensions(appeal, _("诉求已转为实事项目，延期申请自动撤销"))
    resolve_supervisions(appeal)
    _event(
        appeal,
        "promoted",
        by,
        _("纳入为群众办实事项目统筹解决：%(r)s") % {"r": reason.strip()},
        public=True,
    )
    _audit(by, "appeal.promoted", appeal, before, reason=reason.strip())
    # The merged citizens asked the same thing: they hear the same news, and their appeals
    # follow this one into the project (merged_into stays, so KPIs count the project once).
    followers = _followers(appeal)
    for merged in followers:
        merged_before = _move(merged, Step.FOLLOW_PROMOTE)
        merged.promote_reason = appeal.promote_reason
        merged.save()
        _event(
            merged,
            "promoted",
            by,
            _("纳入为群众办实事项目统筹解决：%(r)s") % {"r": appeal.promote_reason},
            public=True,
        )
        _audit(by, "appeal.promoted", merged, merged_before, master=appeal.pk)
    if project_id is not None:
        from minsheng.projects import actions as project_actions

        # The project's lock after the appeals', as every promotion takes them.
        project = project_actions.lock(project_id)
        project_actions.link_appeals(project, [a.pk for a in [appeal, *followers]], by)
    for target in [appeal, *followers]:
        _sms(
            target,
            _("您的诉求%(n)s已纳入为群众办实事项目统筹解决，进展将在网站公开。")
            % {"n": target.number},
            "appeal.promoted",
        )
    return appeal


# ---------------------------------------------------------------- supervision


def _open_supervision(
    appeal: Appeal, reason: str, by: User | None, note: str
) -> Supervision | None:
    """Open a 督办 unless one is open already (call with the appeal locked)."""
    if appeal.supervisions.filter(resolved_at__isnull=True).exists():
        return None
    supervision = Supervision.objects.create(
        appeal=appeal,
        department_id=appeal.lead_department_id,
        reason=reason,
        note=note,
        raised_by=by,
    )
    _event(appeal, "supervised", by, note, department=appeal.lead_department_id)
    audit.record(
        by, "appeal.supervised", appeal, after={"reason": reason, "supervision": supervision.pk}
    )
    _notify_role(
        Role.SUPERVISOR,
        _("督办：%(t)s") % {"t": appeal.title},
        staff_url(appeal),
        "appeal.supervised",
    )
    if appeal.lead_department_id is not None:
        _notify_department(
            appeal.lead_department_id,
            _("督办通知：%(t)s") % {"t": appeal.title},
            staff_url(appeal),
            "appeal.supervised",
        )
    return supervision


@transaction.atomic
def supervise(appeal_id: int, *, note: str, by: User) -> Supervision:
    """督办 by the supervisor's office, on any appeal still open."""
    appeal = _lock(appeal_id)
    policy.require(by, "appeal.supervise")
    if not appeal.is_open:
        raise Conflict(_("该诉求已答复或办结，无需督办"))
    policy.require(by, "appeal.supervise", appeal)
    supervision = _open_supervision(
        appeal, Supervision.Reason.MANUAL, by, note.strip() or _("督查室督办")
    )
    if supervision is None:
        raise Conflict(_("该诉求已在督办中"))
    return supervision


def resolve_supervisions(appeal: Appeal) -> None:
    """Close the open 督办 of an appeal that was answered (or left the handling)."""
    appeal.supervisions.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())
