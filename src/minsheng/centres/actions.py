"""Every change to the neighbourhood centres goes through here, audited: opening a centre,
its construction status (one checked step at a time, a conditional update on the status
the page showed), its 7+X functions, and the records the centre's workers keep: opinions
(each becomes an appeal through ``appeals.actions.submit`` in the same transaction),
matters handled, disputes mediated with their agreement document, and the follow-up visit
(once: a conditional update on the visit not made yet).

Every refusal raises ``CentreError`` with the form field it is about, before anything is
written."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.appeals import actions as appeal_actions
from minsheng.appeals import attachments
from minsheng.appeals.errors import AppealError
from minsheng.appeals.models import AppealType, Channel
from minsheng.centres.models import (
    Batch,
    Centre,
    CentreFunction,
    CentreSettings,
    Dispute,
    FunctionKind,
    FunctionState,
    Matter,
    Opinion,
    Status,
    StatusChange,
    town_department,
)
from minsheng.core import audit, calendar, masking, policy
from minsheng.core.errors import ActionRefused
from minsheng.core.models import Department, Division, User
from minsheng.core.models.org import Role

logger = logging.getLogger(__name__)

R = Role
policy.register(
    {
        "centre.view": {R.WINDOW_STAFF, R.HANDLER, R.DEPT_HEAD, R.SUPERVISOR, R.LEADER, R.ADMIN},
        # The centre's workers (the town's staff) record what happens there.
        "centre.record": {R.WINDOW_STAFF, R.HANDLER, R.DEPT_HEAD, R.ADMIN},
        # Construction status and the 7+X checklist: the town's handlers and head.
        "centre.manage": {R.HANDLER, R.DEPT_HEAD, R.ADMIN},
        # Opening a centre for a village and putting it in a batch: the county.
        "centre.configure": {R.ADMIN},
    }
)

MOBILE = re.compile(r"^1[3-9]\d{9}$")
NAME_SEPARATORS = re.compile(r"[\s,，、;；/]+")
MAX_PARTIES = 10


class CentreError(ActionRefused):
    """A refusal of this app's actions (see core.errors)."""


def _check(user: User | None, action: str, centre: Centre) -> None:
    if user is not None and not policy.can(user, action, centre):
        raise PermissionDenied(action)


def _actor(user: User | None) -> User | None:
    return user if user is not None and user.is_authenticated else None


def _centre(centre_id: int, *, lock: bool = False) -> Centre:
    rows = Centre.objects.select_related("village")
    centre = (rows.select_for_update(of=("self",)) if lock else rows).filter(pk=centre_id).first()
    if centre is None:
        raise CentreError(_("邻里中心不存在"), "not_found")
    return centre


def _open(centre: Centre) -> None:
    if not centre.open:
        raise CentreError(
            _("%(name)s尚未建成（%(status)s），还不能登记")
            % {"name": centre.name, "status": centre.get_status_display()},
            "not_open",
        )


def _day(value: dt.date | None, field: str, *, not_before: dt.date | None = None) -> dt.date:
    """A day of something that happened: today by default, never in the future."""
    today = timezone.localdate()
    day = value or today
    if day > today:
        raise CentreError(_("日期不能晚于今天"), field=field)
    if not_before is not None and day < not_before:
        raise CentreError(_("日期不能早于 %(day)s") % {"day": not_before.isoformat()}, field=field)
    return day


def _text(value: str, field: str, message: str, *, least: int = 1, most: int = 200) -> str:
    text = value.strip()
    if len(text) < least:
        raise CentreError(message, field=field)
    if len(text) > most:
        raise CentreError(_("最多 %(n)d 个字") % {"n": most}, field=field)
    return text


# ---------------------------------------------------------------- the centre itself


def village_for_centre(village_id: int) -> tuple[Division, Department]:
    """The village (with no centre yet) and its town government, or CentreError."""
    village = (
        Division.objects.select_related("parent")
        .filter(pk=village_id, level=Division.Level.VILLAGE)
        .first()
    )
    if village is None:
        raise CentreError(_("请选择村（社区）"), field="village")
    department = town_department(village)
    if department is None:
        raise CentreError(
            _("%(town)s还没有乡镇政府（街道办事处）部门，请先在部门中添加")
            % {"town": village.parent.name if village.parent else ""},
            field="village",
        )
    if Centre.objects.filter(village=village).exists():
        raise CentreError(
            _("%(name)s已有邻里中心") % {"name": village.name}, "duplicate", "village"
        )
    return village, department


@transaction.atomic
def create_centre(
    village_id: int,
    *,
    batch_id: int | None = None,
    name: str = "",
    address: str = "",
    on: dt.date | None = None,
    by: User | None,
) -> Centre:
    """A village's centre, planned, run by the town government of its town."""
    if by is not None and not by.is_superuser:  # the admin lets superusers configure too
        policy.require(by, "centre.configure")
    village, department = village_for_centre(village_id)
    if batch_id is not None and not Batch.objects.filter(pk=batch_id).exists():
        raise CentreError(_("建设批次不存在"), field="batch")
    day = _day(on, "on")
    centre = Centre.objects.create(
        village=village,
        department=department,
        name=name.strip()[:64] or f"{village.name}邻里中心",
        batch_id=batch_id,
        status=Status.PLANNED,
        status_on=day,
        address=address.strip()[:200],
    )
    StatusChange.objects.create(centre=centre, to_status=Status.PLANNED, on=day, by=_actor(by))
    audit.record(
        by,
        "centre.created",
        centre,
        after={"village": village.code, "department": department.pk, "batch": batch_id},
    )
    return centre


@transaction.atomic
def change_status(
    centre_id: int,
    *,
    to: str,
    on: dt.date | None = None,
    note: str = "",
    expected: str = "",
    by: User | None,
) -> Centre:
    """Move the construction status one allowed step (``TRANSITIONS``). ``expected`` is the
    status the page showed: if someone changed it meanwhile, the change is refused."""
    centre = _centre(centre_id)
    _check(by, "centre.manage", centre)
    if to not in Status.values:
        raise CentreError(_("请选择建设状态"), field="status")
    current = centre.status
    if expected and expected != current:
        raise CentreError(_("建设状态刚刚已被他人修改，请刷新页面"), "conflict")
    if not centre.can_move_to(to):
        raise CentreError(
            _("“%(from)s”不能直接改为“%(to)s”")
            % {"from": centre.get_status_display(), "to": Status(to).label},
            "invalid_transition",
            "status",
        )
    if centre.needs_note(to) and not note.strip():
        raise CentreError(_("退回“%(to)s”时请写明原因") % {"to": Status(to).label}, field="note")
    day = _day(on, "on", not_before=centre.status_on)
    moved = Centre.objects.filter(pk=centre.pk, status=current).update(status=to, status_on=day)
    if not moved:
        raise CentreError(_("建设状态刚刚已被他人修改，请刷新页面"), "conflict")
    StatusChange.objects.create(
        centre=centre,
        from_status=current,
        to_status=to,
        on=day,
        note=note.strip()[:200],
        by=_actor(by),
    )
    audit.record(
        by,
        "centre.status_changed",
        centre,
        before={"status": current},
        after={"status": to, "on": day.isoformat(), "note": note.strip()[:200]},
    )
    centre.refresh_from_db()
    return centre


@transaction.atomic
def set_functions(
    centre_id: int,
    *,
    states: Mapping[int, str],
    notes: Mapping[int, str] | None = None,
    by: User | None,
) -> Centre:
    """The 7+X checklist: for each function kind (by id) whether the centre has none, has
    it planned, or has it in service. Kinds not named keep what they had."""
    centre = _centre(centre_id, lock=True)  # two people saving the checklist: one after another
    _check(by, "centre.manage", centre)
    kinds = {k.pk: k for k in FunctionKind.objects.filter(active=True)}
    notes = notes or {}
    for kind_id, state in states.items():
        if kind_id not in kinds:
            raise CentreError(_("功能类别不存在或已停用"), field="")
        if state not in FunctionState.values:
            raise CentreError(_("请选择功能状态"), field=f"kind_{kind_id}")
        if state == FunctionState.IN_SERVICE and not centre.open:
            raise CentreError(
                _("中心尚未建成，“%(kind)s”不能标为已投用") % {"kind": kinds[kind_id].name},
                field=f"kind_{kind_id}",
            )
        if len(notes.get(kind_id, "").strip()) > 100:
            raise CentreError(_("最多 %(n)d 个字") % {"n": 100}, field=f"note_{kind_id}")
    existing = {f.kind_id: f for f in CentreFunction.objects.filter(centre=centre)}
    before = {kinds[k].code: f.state.value for k, f in existing.items() if k in kinds}
    for kind_id, state in states.items():
        row = existing.get(kind_id)
        note = notes.get(kind_id, "").strip()
        if state == FunctionState.NONE:
            if row is not None:
                row.delete()
        elif row is None:
            CentreFunction.objects.create(
                centre=centre, kind_id=kind_id, in_service=state == FunctionState.IN_SERVICE,
                note=note,
            )  # fmt: skip
        else:
            row.in_service = state == FunctionState.IN_SERVICE
            row.note = note
            row.save(update_fields=["in_service", "note"])
    after = {
        kinds[f.kind_id].code: f.state.value
        for f in CentreFunction.objects.filter(centre=centre)
        if f.kind_id in kinds
    }
    if after != before:
        audit.record(by, "centre.functions_set", centre, before=before, after=after)
    return centre


# ---------------------------------------------------------------- records


@dataclass(frozen=True)
class Recorded:
    opinion: Opinion
    query_code: str | None  # shown once, to read out; None when a resent form replayed
    replayed: bool = False


# The appeal's fields named as the opinion form names them.
_APPEAL_FIELDS = {"title": "title", "body": "body", "citizen_mobile": "citizen_mobile"}


@transaction.atomic
def record_opinion(
    centre_id: int,
    *,
    kind: str,
    title: str,
    body: str,
    citizen_name: str = "",
    citizen_mobile: str = "",
    anonymous: bool = False,
    idempotency_key: str = "",
    by: User | None,
) -> Recorded:
    """A villager's opinion or suggestion: an appeal through the appeals' own intake
    (channel 邻里中心, the village as its place), linked to the centre. Either both are
    written or neither. A resent form (same ``idempotency_key``) gives back the first."""
    centre = _centre(centre_id)
    _check(by, "centre.record", centre)
    _open(centre)
    if kind not in Opinion.Kind.values:
        raise CentreError(_("请选择意见或建议"), field="kind")
    submission = appeal_actions.AppealInput(
        title=title,
        body=body,
        appeal_type=AppealType.SUGGESTION if kind == Opinion.Kind.SUGGESTION else AppealType.HELP,
        division_id=centre.village_id,
        anonymous=anonymous,
        citizen_name="" if anonymous else citizen_name,
        citizen_mobile="" if anonymous else citizen_mobile.strip(),
        channel=Channel.CENTRE,
    )
    worker = _actor(by)
    key = (f"centre:{worker.pk}", idempotency_key) if worker and idempotency_key else None
    try:
        submitted = appeal_actions.submit(submission, by=worker, idempotency=key)
    except AppealError as exc:
        # The first field's message, on the same field of the centre's form.
        name, messages = next(iter(exc.fields.items()), ("", [exc.message]))
        raise CentreError(messages[0], exc.code, _APPEAL_FIELDS.get(name, "")) from None
    if submitted.replayed:
        earlier = Opinion.objects.filter(appeal=submitted.appeal).first()
        if earlier is None:
            raise CentreError(_("同一个表单不能重复提交"), "duplicate")
        return Recorded(earlier, None, replayed=True)
    opinion = Opinion.objects.create(
        centre=centre, appeal=submitted.appeal, kind=kind, recorded_by=worker
    )
    audit.record(
        by,
        "centre.opinion_recorded",
        opinion,
        after={"centre": centre.code, "appeal": submitted.appeal.number, "kind": kind},
    )
    return Recorded(opinion, submitted.query_code)


@transaction.atomic
def record_matter(
    centre_id: int,
    *,
    type: str,
    person_name: str,
    description: str,
    outcome: str,
    mobile: str = "",
    handled_on: dt.date | None = None,
    by: User | None,
) -> Matter:
    centre = _centre(centre_id)
    _check(by, "centre.record", centre)
    _open(centre)
    if type not in Matter.Type.values:
        raise CentreError(_("请选择事项类型"), field="type")
    name = _text(person_name, "person_name", _("请填写办事群众姓名"), most=32)
    mobile = mobile.strip()
    if mobile and not MOBILE.match(mobile):
        raise CentreError(_("请输入11位手机号码"), field="mobile")
    text = _text(description, "description", _("请写明办理的事项"), least=2)
    if outcome not in Matter.Outcome.values:
        raise CentreError(_("请选择办理结果"), field="outcome")
    day = _day(handled_on, "handled_on")
    matter = Matter.objects.create(
        centre=centre,
        type=type,
        person_name=name,
        mobile=mobile,
        description=text,
        outcome=outcome,
        handled_by=_actor(by),
        handled_on=day,
    )
    audit.record(
        by,
        "centre.matter_recorded",
        matter,
        after={
            "centre": centre.code,
            "type": type,
            "outcome": outcome,
            "person": masking.mask_name(name),
            "on": day.isoformat(),
        },
    )
    return matter


def parse_parties(value: str | list[str]) -> list[str]:
    """Names separated by 、，; or blanks (or a list): two or more different ones."""
    names = NAME_SEPARATORS.split(value) if isinstance(value, str) else value
    parties = list(dict.fromkeys(n.strip() for n in names if n.strip()))
    if len(parties) < 2:
        raise CentreError(_("请填写至少两位当事人的姓名，用顿号分开"), field="parties")
    if len(parties) > MAX_PARTIES:
        raise CentreError(_("当事人最多 %(n)d 位") % {"n": MAX_PARTIES}, field="parties")
    if any(len(n) > 32 for n in parties):
        raise CentreError(_("当事人姓名过长，请用顿号分开每个人"), field="parties")
    return parties


def _mediator(centre: Centre, mediator_id: int | None, by: User | None) -> User | None:
    if mediator_id is None or (by is not None and mediator_id == by.pk):
        return _actor(by)
    mediator = User.objects.filter(
        pk=mediator_id, is_active=True, department_id=centre.department_id
    ).first()
    if mediator is None:
        raise CentreError(_("调解人须是本乡镇（街道）的工作人员"), field="mediator")
    return mediator


@transaction.atomic
def record_dispute(
    centre_id: int,
    *,
    parties: str | list[str],
    type: str,
    description: str,
    outcome: str,
    mediated_on: dt.date | None = None,
    mediator_id: int | None = None,
    agreement: UploadedFile | None = None,
    by: User | None,
) -> Dispute:
    """A mediated dispute. The follow-up visit is due at the end of the N-th working day
    after the mediation (N from ``CentreSettings``, days from ``core.calendar``)."""
    centre = _centre(centre_id)
    _check(by, "centre.record", centre)
    _open(centre)
    names = parse_parties(parties)
    if type not in Dispute.Type.values:
        raise CentreError(_("请选择纠纷类型"), field="type")
    text = _text(description, "description", _("请写明纠纷情况（至少5个字）"), least=5, most=2000)
    if outcome not in Dispute.Outcome.values:
        raise CentreError(_("请选择调解结果"), field="outcome")
    day = _day(mediated_on, "mediated_on")
    mediator = _mediator(centre, mediator_id, by)
    document = None
    if agreement is not None:
        try:
            document = attachments.clean(agreement)
        except attachments.AttachmentRejected as exc:
            raise CentreError(str(exc), "bad_file", "agreement") from None
    days = CentreSettings.current().follow_up_working_days
    due = calendar.add_working_days(day, days)
    dispute = Dispute(
        centre=centre,
        parties=names,
        type=type,
        description=text,
        mediator=mediator,
        mediated_on=day,
        outcome=outcome,
        follow_up_days=days,
        follow_up_due_at=due.due_at,
        follow_up_provisional=due.provisional,
        recorded_by=_actor(by),
    )
    if document is not None:
        dispute.agreement_name = document.original_name
        dispute.agreement_type = document.content_type
        dispute.agreement_sha256 = document.sha256
        dispute.agreement.save("agreement", document.content, save=False)
    dispute.save()
    audit.record(
        by,
        "centre.dispute_recorded",
        dispute,
        after={
            "centre": centre.code,
            "parties": [masking.mask_name(n) for n in names],
            "type": type,
            "outcome": outcome,
            "on": day.isoformat(),
            "follow_up_due": timezone.localdate(due.due_at).isoformat(),
            "agreement": dispute.agreement.name or "",
        },
    )
    return dispute


@transaction.atomic
def record_follow_up(
    dispute_id: int, *, note: str, done_on: dt.date | None = None, by: User | None
) -> Dispute:
    """The follow-up visit, once: of two people recording it at the same time, one wins."""
    dispute = Dispute.objects.select_related("centre").filter(pk=dispute_id).first()
    if dispute is None:
        raise CentreError(_("调解记录不存在"), "not_found")
    _check(by, "centre.record", dispute.centre)
    text = _text(note, "note", _("请填写回访情况"), least=2)
    day = _day(done_on, "done_on", not_before=dispute.mediated_on)
    done = Dispute.objects.filter(pk=dispute.pk, follow_up_done_on__isnull=True).update(
        follow_up_done_on=day, follow_up_note=text, follow_up_by=_actor(by)
    )
    if not done:
        raise CentreError(_("这起纠纷已经回访过了"), "duplicate")
    audit.record(
        by,
        "centre.follow_up_recorded",
        dispute,
        after={"on": day.isoformat(), "overdue": dispute.follow_up_overdue},
    )
    dispute.refresh_from_db()
    return dispute


@calendar.register_provisional_recompute
def recompute_follow_ups(years: frozenset[int]) -> int:
    """Open follow-ups whose due date ran into a year the calendar did not know: computed
    again from the mediation day with the days they were given. Returns how many moved."""
    moved = 0
    rows = Dispute.objects.follow_up_open().filter(follow_up_provisional=True)
    for dispute in rows.only("pk", "mediated_on", "follow_up_days", "follow_up_due_at"):
        due = calendar.add_working_days(dispute.mediated_on, dispute.follow_up_days)
        with transaction.atomic():
            changed = Dispute.objects.filter(
                pk=dispute.pk, follow_up_done_on__isnull=True, follow_up_provisional=True
            ).update(follow_up_due_at=due.due_at, follow_up_provisional=due.provisional)
            if changed and due.due_at != dispute.follow_up_due_at:
                moved += 1
                audit.record(
                    None,
                    "centre.follow_up_recomputed",
                    dispute,
                    before={"due_at": dispute.follow_up_due_at},
                    after={"due_at": due.due_at, "provisional": due.provisional},
                )
    logger.info("recomputed provisional follow-ups for %s: %d moved", sorted(years), moved)
    return moved
