"""Every change of 好差评 data happens here.

Each action runs in one transaction, locks the row it changes (``select_for_update``),
checks the user's right (``core.policy``; the pads and citizens have none to check: a pad
proves itself with its device token, a citizen with a signed link), checks the state,
saves, records the audit event and queues notifications through ``core.outbox``.
A rating locks its service event, so two channels rating the same event at once give one
rating and one "已评价" answer; the database's unique constraints back that up.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings as django_settings
from django.core import signing
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_save
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.core import audit, calendar, outbox, policy
from minsheng.core.models import Department, Role, User, Window
from minsheng.core.recent import Recent
from minsheng.evaluation.errors import Conflict, EvaluationError
from minsheng.evaluation.models import (
    BAD_LEVELS,
    Case,
    DirtyMonth,
    EvaluationSettings,
    Finding,
    Indicator,
    Level,
    PadDevice,
    Rating,
    RatingChannel,
    Reason,
    ServiceChannel,
    ServiceEvent,
    StaffAppeal,
)
from minsheng.evaluation.states import CaseState, CaseStep, InvalidStep

LINK_SALT = "minsheng.evaluation.link"
COMMENT_MAX = 500
# A pad serves one citizen at a time: a few ratings a minute; more is a script.
PAD_RATINGS_PER_MINUTE = 60
# How often a pad's "last seen" is written (not on every rating: it is a write per request).
PAD_SEEN_EVERY = dt.timedelta(minutes=1)


# ---------------------------------------------------------------- helpers


def month_of(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date().replace(day=1)


# Raw, because it runs after every rating: the ORM's bulk_create costs more to build than
# the statement costs to run. The table name is the model's own, never input.
_MARK_SQL = (
    f"INSERT INTO {DirtyMonth._meta.db_table} (month, marked_at) VALUES (%s, %s) "  # noqa: S608
    "ON CONFLICT DO NOTHING"
)


def mark_dirty(*moments: dt.datetime) -> None:
    """Mark the rollup months whose figures this transaction changes, once it commits.

    After the commit, not within: the rollup deletes a month's mark before it reads the
    month, so a mark that already existed while this change was still uncommitted would
    be deleted by a rollup that could not see the change, and the change would stay out of
    the figures. Marked after the commit, the change is either seen by that rollup or marks
    the month again.
    """
    months = sorted({month_of(m) for m in moments})

    def mark() -> None:
        ops = connection.ops
        now = ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.executemany(_MARK_SQL, [(ops.adapt_datefield_value(m), now) for m in months])

    transaction.on_commit(mark)


def _notify_department(department_id: int, title: str, url: str, kind: str) -> None:
    members = User.objects.filter(
        department_id=department_id, role__in=[Role.DEPT_HEAD], is_active=True
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


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


# ---------------------------------------------------------------- service events


@transaction.atomic
def start_event(
    *,
    by: User,
    matter_id: int | None = None,
    mobile: str = "",
    window: Window | None = None,
) -> ServiceEvent:
    """开始办件: window staff record one service at their window in one click."""
    policy.require(by, "evaluation.event.create")
    window = window or by.window
    if window is None:
        raise EvaluationError(_("您还没有分配窗口，请联系管理员"), code="no_window")
    department_id = window.department_id or by.department_id
    if department_id is None:
        raise EvaluationError(_("该窗口没有进驻部门"), code="no_department")
    if by.role in (Role.WINDOW_STAFF, Role.HANDLER, Role.DEPT_HEAD) and (
        department_id != by.department_id
    ):
        raise EvaluationError(_("只能在本部门的窗口登记办件"), code="forbidden")
    _check_mobile(mobile)
    event = ServiceEvent.objects.create(
        matter_id=matter_id,
        department_id=department_id,
        window=window,
        staff=by,
        channel=ServiceChannel.WINDOW,
        mobile=mobile,
        created_by=by,
    )
    mark_dirty(event.started_at)
    audit.record(by, "evaluation.event.started", event, after={"window": window.pk})
    return event


def _check_mobile(mobile: str) -> None:
    if mobile and not (len(mobile) == 11 and mobile.isdigit() and mobile[0] == "1"):
        raise EvaluationError(
            _("请输入11位手机号码"), code="invalid", fields={"mobile": [_("请输入11位手机号码")]}
        )


@transaction.atomic
def finish_event(event_id: int, *, by: User) -> ServiceEvent:
    """办结: the event is done; a citizen who gave a mobile number gets the rating link."""
    event = ServiceEvent.objects.select_for_update().filter(pk=event_id).first()
    if event is None:
        raise EvaluationError(_("办件不存在"), code="not_found")
    policy.require(by, "evaluation.event.create", event)
    if event.finished_at is not None:
        return event
    event.finished_at = timezone.now()
    event.save(update_fields=["finished_at"])
    audit.record(by, "evaluation.event.finished", event)
    send_link(event)
    return event


@dataclass(frozen=True)
class EventInput:
    department: Department
    window: Window | None = None
    staff: User | None = None
    matter_id: int | None = None
    channel: str = ServiceChannel.WINDOW
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    mobile: str = ""
    external_id: str = ""


@transaction.atomic
def record_event(data: EventInput, *, by: User) -> tuple[ServiceEvent, bool]:
    """A service event reported by a business system; the same ``external_id`` again
    gives back the first event (``created`` False)."""
    policy.require(by, "evaluation.event.create", data.department)
    if data.channel not in ServiceChannel.values:
        raise EvaluationError(_("办理渠道无效"), code="invalid", fields={"channel": [_("无效")]})
    _check_mobile(data.mobile)
    if data.window is not None and data.window.department_id != data.department.pk:
        raise EvaluationError(
            _("窗口不属于该部门"), code="invalid", fields={"window": [_("窗口不属于该部门")]}
        )
    if data.external_id:
        existing = ServiceEvent.objects.filter(
            department=data.department, external_id=data.external_id
        ).first()
        if existing is not None:
            return existing, False
    now = timezone.now()
    try:
        with transaction.atomic():
            event = ServiceEvent.objects.create(
                matter_id=data.matter_id,
                department=data.department,
                window=data.window,
                staff=data.staff,
                channel=data.channel,
                mobile=data.mobile,
                external_id=data.external_id,
                started_at=data.started_at or now,
                finished_at=data.finished_at,
                created_by=by,
            )
    except IntegrityError:  # the same external id, sent twice at once
        existing = ServiceEvent.objects.get(
            department=data.department, external_id=data.external_id
        )
        return existing, False
    mark_dirty(event.started_at)
    audit.record(by, "evaluation.event.recorded", event, after={"external_id": data.external_id})
    if event.finished_at is not None:
        send_link(event)
    return event, True


# ---------------------------------------------------------------- signed links


def link_token(event: ServiceEvent) -> str:
    """Signed, so that links can be neither forged nor enumerated; expires by max_age."""
    return signing.dumps({"e": event.pk}, salt=LINK_SALT, compress=True)


def link_url(event: ServiceEvent) -> str:
    return reverse("evaluation:rate", args=[link_token(event)])


def event_for_token(token: str) -> ServiceEvent:
    days = EvaluationSettings.current().link_valid_days
    try:
        data = signing.loads(token, salt=LINK_SALT, max_age=dt.timedelta(days=days))
    except signing.SignatureExpired:
        raise EvaluationError(_("评价链接已过期"), code="link_expired") from None
    except signing.BadSignature:
        raise EvaluationError(_("评价链接无效"), code="link_invalid") from None
    event = (
        ServiceEvent.objects.select_related("matter", "department", "window__hall", "staff")
        .filter(pk=data.get("e"))
        .first()
    )
    if event is None:
        raise EvaluationError(_("评价链接无效"), code="link_invalid")
    return event


def send_link(event: ServiceEvent) -> None:
    """Text the rating link (inside the caller's transaction: leaves after the commit)."""
    if not event.mobile:
        return
    link = django_settings.SITE_URL + link_url(event)
    days = EvaluationSettings.current().link_valid_days
    outbox.enqueue(
        "sms",
        event.mobile,
        _("您在%(dept)s办理的事项已办结，请对本次服务评价（%(days)s天内有效）：%(link)s")
        % {"dept": event.department.label, "days": days, "link": link},
        kind="evaluation.link",
    )


# ---------------------------------------------------------------- pads


@transaction.atomic
def bind_pad(window_id: int, *, by: User, name: str = "") -> tuple[PadDevice, str]:
    """Bind a tablet to a window. Returns the device and its token, shown once."""
    window = Window.objects.select_for_update().filter(pk=window_id).first()
    if window is None:
        raise EvaluationError(_("窗口不存在"), code="not_found")
    policy.require(by, "evaluation.pad.bind", window)
    if by.role == Role.WINDOW_STAFF and by.window_id != window.pk:
        raise EvaluationError(_("只能绑定本人所在窗口的评价器"), code="forbidden")
    raw = secrets.token_urlsafe(32)
    pad = PadDevice.objects.create(
        window=window, name=name[:64], token_hash=hash_token(raw), created_by=by
    )
    audit.record(by, "evaluation.pad.bound", pad, after={"window": window.pk})
    return pad, raw


@transaction.atomic
def unbind_pad(pad_id: int, *, by: User) -> PadDevice:
    pad = PadDevice.objects.select_for_update().select_related("window").get(pk=pad_id)
    policy.require(by, "evaluation.pad.bind", pad.window)
    pad.active = False
    pad.save(update_fields=["active"])
    transaction.on_commit(_pads.clear)  # and at once, by the post_save signal
    audit.record(by, "evaluation.pad.unbound", pad)
    return pad


# Every rating a pad sends starts by finding the pad by its token. Each process keeps the
# pads it found for PAD_TOKEN_CACHE_SECONDS: a pad unbound through another process stops
# working within that time, in this process at once.
_pads: Recent[PadDevice] = Recent(lambda: django_settings.PAD_TOKEN_CACHE_SECONDS)
post_save.connect(_pads.clear, sender=PadDevice, dispatch_uid="minsheng.evaluation.pads")
post_save.connect(_pads.clear, sender=Window, dispatch_uid="minsheng.evaluation.pad_windows")


def pad_for_token(window_id: int, raw: str | None) -> PadDevice | None:
    if not raw:
        return None
    digest = hash_token(raw)
    pad = _pads.get(
        digest,
        lambda: (
            PadDevice.objects.select_related("window")
            .filter(token_hash=digest, active=True)
            .first()
        ),
    )
    if pad is None or pad.window_id != window_id:
        return None
    return pad


def current_staff(window: Window) -> User | None:
    """Who serves at the window now: the staff member of its latest event today, else
    the window's staff member who logged in last."""
    latest = (
        ServiceEvent.objects.filter(
            window=window, started_at__gte=_day_start(timezone.now()), staff__isnull=False
        )
        .select_related("staff")
        .order_by("-started_at", "-pk")
        .first()
    )
    if latest is not None and latest.staff is not None:
        return latest.staff
    return (
        User.objects.filter(window=window, role=Role.WINDOW_STAFF, is_active=True)
        .order_by("-last_login", "pk")
        .first()
    )


def _day_start(now: dt.datetime) -> dt.datetime:
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def current_event(window: Window, now: dt.datetime | None = None) -> ServiceEvent | None:
    """The window's service event that a rating now is for: its latest of the day, if
    unrated (a rated one means the pad waits for the next 开始办件)."""
    now = now or timezone.now()
    latest = (
        ServiceEvent.objects.filter(window=window, started_at__gte=_day_start(now))
        .order_by("-started_at", "-pk")
        .first()
    )
    if latest is None or latest.rated_at is not None:
        return None
    return latest


# ---------------------------------------------------------------- ratings


@dataclass(frozen=True)
class RatingInput:
    level: int
    reasons: Sequence[str] = ()
    comment: str = ""
    indicators: dict[str, int] | None = None


def _invalid(field: str, message: str) -> EvaluationError:
    return EvaluationError(message, code="invalid", fields={field: [message]})


def check_input(data: RatingInput) -> RatingInput:
    try:
        level = int(data.level)
    except (TypeError, ValueError):
        raise _invalid("level", _("请选择满意度")) from None
    if level not in Level.values:
        raise _invalid("level", _("请选择满意度"))
    reasons = list(dict.fromkeys(str(r) for r in data.reasons or ()))
    if any(r not in Reason.values for r in reasons):
        raise _invalid("reasons", _("差评原因无效"))
    if level in BAD_LEVELS and not reasons:
        raise _invalid("reasons", _("请选择不满意的原因"))
    if level not in BAD_LEVELS:
        reasons = []
    comment = (data.comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise _invalid("comment", _("评价意见不能超过%(n)s字") % {"n": COMMENT_MAX})
    indicators: dict[str, int] = {}
    for key, value in (data.indicators or {}).items():
        if key not in Indicator.values:
            raise _invalid("indicators", _("分项评价无效"))
        try:
            score = int(value)
        except (TypeError, ValueError):
            raise _invalid("indicators", _("分项评价无效")) from None
        if score not in Level.values:
            raise _invalid("indicators", _("分项评价无效"))
        indicators[key] = score
    return RatingInput(level, reasons, comment, indicators)


def _lock_event(event_id: int) -> ServiceEvent:
    event = ServiceEvent.objects.select_for_update().filter(pk=event_id).first()
    if event is None:
        raise EvaluationError(_("办件不存在"), code="not_found")
    return event


def _already_rated() -> Conflict:
    return Conflict(_("该办件已经评价过了，每次服务只能评价一次"), code="already_rated")


def _store(
    event: ServiceEvent,
    data: RatingInput,
    channel: str,
    *,
    pad: PadDevice | None = None,
    client_uuid: uuid.UUID | None = None,
    recorded_by: User | None = None,
    now: dt.datetime | None = None,
) -> Rating:
    """Write the rating of a locked, unrated event; a bad one opens its 差评 case."""
    now = now or timezone.now()
    rating = Rating.objects.create(
        event=event,
        level=data.level,
        channel=channel,
        reasons=list(data.reasons),
        comment=data.comment,
        indicators=data.indicators or {},
        created_at=now,
        pad=pad,
        client_uuid=client_uuid,
        recorded_by=recorded_by,
        department_id=event.department_id,
        staff_id=event.staff_id,
    )
    event.rated_at = now
    event.save(update_fields=["rated_at"])
    mark_dirty(event.started_at)
    audit.record(
        recorded_by,
        "evaluation.rated",
        rating,
        after={"level": data.level, "channel": channel, "event": event.pk},
    )
    if data.level in BAD_LEVELS and channel != RatingChannel.DEFAULT:
        _open_case(rating, now)
    return rating


def _open_case(rating: Rating, now: dt.datetime) -> Case:
    rules = EvaluationSettings.current()
    verify = calendar.add_working_days(now, rules.verify_days)
    rectify = calendar.add_working_days(now, rules.rectify_days)
    case = Case.objects.create(
        rating=rating,
        department_id=rating.department_id,
        opened_at=now,
        verify_due_at=verify.due_at,
        rectify_due_at=rectify.due_at,
        due_provisional=verify.provisional or rectify.provisional,
    )
    audit.record(None, "evaluation.case.opened", case, after={"state": case.state})
    _notify_department(
        rating.department_id,
        _("收到差评，请在%(n)s个工作日内回访核实") % {"n": rules.verify_days},
        reverse("evaluation:case", args=[case.pk]),
        "evaluation.case.opened",
    )
    return case


@transaction.atomic
def record_past_rating(
    event_id: int, data: RatingInput, channel: str, *, at: dt.datetime
) -> Rating:
    """A rating given at ``at`` in the past (imports from an old system, the demo): its
    差评 case gets its deadlines from that moment."""
    if channel not in RatingChannel.values or channel == RatingChannel.DEFAULT:
        raise _invalid("channel", _("评价渠道无效"))
    data = check_input(data)
    event = _lock_event(event_id)
    if event.rated_at is not None:
        raise _already_rated()
    return _store(event, data, channel, now=at)


@dataclass(frozen=True)
class PadResult:
    rating: Rating
    replayed: bool


def rate_from_pad(
    pad: PadDevice, client_uuid: uuid.UUID, data: RatingInput, *, event_id: int | None = None
) -> PadResult:
    """A rating from the window's tablet; resending the same UUID answers the same."""
    data = check_input(data)
    try:
        return _rate_from_pad(pad, client_uuid, data, event_id)
    except IntegrityError:
        # A resent UUID that is already stored for another event than the one it names now
        # (the pad's "current event" moved on), or two resends that raced: the unique
        # (pad, client_uuid) refused the second row, and the first one is the answer.
        previous = Rating.objects.filter(pad=pad, client_uuid=client_uuid).first()
        if previous is None:
            raise
        return PadResult(previous, True)


@transaction.atomic
def _rate_from_pad(
    pad: PadDevice, client_uuid: uuid.UUID, data: RatingInput, event_id: int | None
) -> PadResult:
    # No look-up of the UUID first: the pads' hot path is a new rating, and a resend is
    # recognised below by the event it rated or by the unique constraint.
    if event_id is None:
        current = current_event(pad.window)
        if current is None:
            raise EvaluationError(_("当前没有可评价的办件"), code="no_event")
        event_id = current.pk
    event = _lock_pad_event(pad, event_id)
    if event.window_id != pad.window_id:
        raise EvaluationError(_("办件不存在"), code="not_found")
    if (getattr(event, "pad_recent", None) or 0) >= PAD_RATINGS_PER_MINUTE:
        raise EvaluationError(_("提交过于频繁，请稍后再试"), code="rate_limited")
    if event.rated_at is not None:
        existing = Rating.objects.get(event=event)
        if existing.pad_id == pad.pk and existing.client_uuid == client_uuid:
            return PadResult(existing, True)
        raise _already_rated()
    rating = _store(event, data, RatingChannel.PAD, pad=pad, client_uuid=client_uuid)
    if pad.last_seen_at is None or rating.created_at - pad.last_seen_at > PAD_SEEN_EVERY:
        PadDevice.objects.filter(pk=pad.pk).update(last_seen_at=rating.created_at)
        _pads.touch(pad.token_hash, lambda kept: setattr(kept, "last_seen_at", rating.created_at))
    return PadResult(rating, False)


def _lock_pad_event(pad: PadDevice, event_id: int) -> ServiceEvent:
    """The event, locked, with ``pad_recent``: how many ratings the pad stored in the last
    minute (its rate limit), asked in the same round trip (the pads' hot path).

    Written as SQL because building the ORM form of it (a locked row with a correlated
    count) took more CPU than any other step of a pad's rating, several times what the
    database spent running it."""
    since = connection.ops.adapt_datetimefield_value(timezone.now() - dt.timedelta(minutes=1))
    lock = " FOR UPDATE OF e" if connection.features.has_select_for_update_of else ""
    sql = (
        f"SELECT e.*, (SELECT COUNT(*) FROM {Rating._meta.db_table} r"  # noqa: S608 (table names from the models)
        " WHERE r.pad_id = %s AND r.created_at >= %s) AS pad_recent"
        f" FROM {ServiceEvent._meta.db_table} e WHERE e.id = %s{lock}"
    )
    found = list(ServiceEvent.objects.raw(sql, [pad.pk, since, event_id]))
    if not found:
        raise EvaluationError(_("办件不存在"), code="not_found")
    return found[0]


def kiosk_event(staff: User, now: dt.datetime | None = None) -> ServiceEvent | None:
    """The staff member's latest unrated event of the day (背对背: real events only)."""
    now = now or timezone.now()
    hours = EvaluationSettings.current().kiosk_lookback_hours
    since = max(_day_start(now), now - dt.timedelta(hours=hours))
    return (
        ServiceEvent.objects.filter(staff=staff, started_at__gte=since, rated_at__isnull=True)
        .order_by("-started_at", "-pk")
        .first()
    )


@transaction.atomic
def rate_from_kiosk(staff_id: int, data: RatingInput) -> Rating:
    data = check_input(data)
    staff = User.objects.filter(pk=staff_id, role=Role.WINDOW_STAFF, is_active=True).first()
    if staff is None:
        raise EvaluationError(_("工作人员不存在"), code="not_found")
    candidate = kiosk_event(staff)
    if candidate is None:
        raise EvaluationError(_("该工作人员今天没有待评价的办件"), code="no_event")
    event = _lock_event(candidate.pk)
    if event.rated_at is not None:
        raise _already_rated()
    return _store(event, data, RatingChannel.KIOSK)


@transaction.atomic
def rate_from_link(token: str, data: RatingInput) -> Rating:
    data = check_input(data)
    event = _lock_event(event_for_token(token).pk)
    if event.rated_at is not None:
        raise _already_rated()
    return _store(event, data, RatingChannel.LINK)


def event_by_number(number: str) -> ServiceEvent | None:
    """``BJ`` + date + 7-digit id, as printed on the receipt."""
    number = number.strip().upper()
    if not (number.startswith("BJ") and len(number) == 17 and number[2:].isdigit()):
        return None
    event = ServiceEvent.objects.filter(pk=int(number[10:])).first()
    return event if event is not None and event.number == number else None


@transaction.atomic
def rate_by_hotline(event_id: int, data: RatingInput, *, by: User) -> Rating:
    """A rating the citizen gave the 12345 operator by phone."""
    policy.require(by, "evaluation.hotline")
    data = check_input(data)
    event = _lock_event(event_id)
    if event.rated_at is not None:
        raise _already_rated()
    return _store(event, data, RatingChannel.HOTLINE, recorded_by=by)


@transaction.atomic
def rate_from_api(event_id: int, data: RatingInput, *, by: User) -> Rating:
    """A rating collected by a business system (its own 好差评 page) and passed on."""
    data = check_input(data)
    event = _lock_event(event_id)
    policy.require(by, "evaluation.event.create", event)
    if event.rated_at is not None:
        raise _already_rated()
    return _store(event, data, RatingChannel.API, recorded_by=by)


@transaction.atomic
def apply_default_ratings(now: dt.datetime | None = None, *, limit: int = 5000) -> int:
    """默认评价: events unrated for N natural days get 基本满意 when the county chose so.
    Counted apart in the statistics (channel "default"); one audit event per sweep."""
    rules = EvaluationSettings.current()
    if rules.default_mode != "basic":
        return 0
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=rules.default_after_days)
    events = list(
        ServiceEvent.objects.select_for_update(skip_locked=True)
        .filter(rated_at__isnull=True, started_at__lt=cutoff)
        .order_by("started_at")[:limit]
    )
    if not events:
        return 0
    ratings = [
        Rating(
            event=e,
            level=Level.BASIC,
            channel=RatingChannel.DEFAULT,
            created_at=now,
            department_id=e.department_id,
            staff_id=e.staff_id,
        )
        for e in events
    ]
    Rating.objects.bulk_create(ratings)
    ServiceEvent.objects.filter(pk__in=[e.pk for e in events]).update(rated_at=now)
    mark_dirty(*(e.started_at for e in events))
    audit.record(
        None,
        "evaluation.defaulted",
        object_type=ServiceEvent._meta.label_lower,
        object_repr=_("%(n)s件逾期未评价办件默认基本满意") % {"n": len(events)},
        after={"count": len(events), "first": events[0].pk, "last": events[-1].pk},
    )
    return len(events)


# ---------------------------------------------------------------- 差评 cases


def _lock_case(case_id: int, expected_version: int | None) -> Case:
    case = Case.objects.select_for_update().filter(pk=case_id).first()
    if case is None:
        raise EvaluationError(_("差评整改不存在"), code="not_found")
    if expected_version is not None and case.version != expected_version:
        raise Conflict(_("该差评刚刚已被他人处理，请刷新页面查看最新状态后再操作"))
    return case


def _step(case: Case, by: User, action: str, step: str) -> str:
    """Role, then state, then department scope (as in the appeals)."""
    policy.require(by, action)
    try:
        before = case.move(step)
    except InvalidStep:
        raise Conflict(
            _("该差评当前状态为“%(state)s”，不能%(step)s，请刷新页面")
            % {"state": CaseState(case.state).label, "step": CaseStep(step).label}
        ) from None
    policy.require(by, action, case)
    return before


def _require_text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if len(value) < 2:
        raise _invalid(field, message)
    return value


def _finish_step(case: Case, by: User, event: str, before: str, **after: Any) -> Case:
    case.save()
    mark_dirty(case.rating.event.started_at)
    audit.record(by, event, case, before={"state": before}, after={"state": case.state, **after})
    return case


@transaction.atomic
def verify_case(case_id: int, *, by: User, note: str, expected_version: int | None = None) -> Case:
    """回访核实: the citizen was called back; what they said."""
    note = _require_text(note, "note", _("请填写回访核实情况"))
    case = _lock_case(case_id, expected_version)
    before = _step(case, by, "evaluation.case.verify", CaseStep.VERIFY)
    case.verified_at = timezone.now()
    case.verify_note = note
    return _finish_step(case, by, "evaluation.case.verified", before)


@transaction.atomic
def classify_case(
    case_id: int, *, by: User, finding: str, note: str = "", expected_version: int | None = None
) -> Case:
    """定性: 合理 → rectify; 不合理/恶意 → straight to the supervisor's review."""
    if finding not in Finding.values:
        raise _invalid("finding", _("请选择定性结果"))
    note = (note or "").strip()
    if finding != Finding.REASONABLE and len(note) < 2:
        raise _invalid("note", _("定性为不合理或恶意时须写明理由"))
    case = _lock_case(case_id, expected_version)
    step = CaseStep.CLASSIFY if finding == Finding.REASONABLE else CaseStep.DISMISS
    before = _step(case, by, "evaluation.case.classify", step)
    case.finding = finding
    case.finding_note = note
    if step == CaseStep.DISMISS:
        _notify_role(
            Role.SUPERVISOR,
            _("差评定性待复核"),
            reverse("evaluation:case", args=[case.pk]),
            "evaluation.case.review",
        )
    return _finish_step(case, by, "evaluation.case.classified", before, finding=finding)


@transaction.atomic
def rectify_case(
    case_id: int,
    *,
    by: User,
    measures: str,
    evidence: str = "",
    expected_version: int | None = None,
) -> Case:
    """整改: what was done about it."""
    measures = _require_text(measures, "measures", _("请填写整改措施"))
    case = _lock_case(case_id, expected_version)
    before = _step(case, by, "evaluation.case.rectify", CaseStep.RECTIFY)
    case.measures = measures
    case.evidence = (evidence or "").strip()
    case.rectified_at = timezone.now()
    return _finish_step(case, by, "evaluation.case.rectified", before)


@transaction.atomic
def feedback_case(
    case_id: int, *, by: User, note: str, level: int, expected_version: int | None = None
) -> Case:
    """反馈: the citizen was told the result and rated the rectification."""
    note = _require_text(note, "note", _("请填写反馈情况"))
    if level not in Level.values:
        raise _invalid("level", _("请选择群众对整改的评价"))
    case = _lock_case(case_id, expected_version)
    before = _step(case, by, "evaluation.case.feedback", CaseStep.FEEDBACK)
    case.feedback_note = note
    case.feedback_level = level
    case.fed_back_at = timezone.now()
    event = case.rating.event
    if event.mobile:
        outbox.enqueue(
            "sms",
            event.mobile,
            _("您对%(dept)s的服务评价已整改：%(measures)s 感谢您的监督。")
            % {"dept": event.department.label, "measures": case.measures[:60]},
            kind="evaluation.case.feedback",
        )
    _notify_role(
        Role.SUPERVISOR,
        _("差评整改待复核"),
        reverse("evaluation:case", args=[case.pk]),
        "evaluation.case.review",
    )
    return _finish_step(case, by, "evaluation.case.fed_back", before, level=level)


@transaction.atomic
def review_case(
    case_id: int,
    *,
    by: User,
    approve: bool,
    note: str = "",
    expected_version: int | None = None,
) -> Case:
    """复核: the supervisor closes the case or sends it back to rectify."""
    note = (note or "").strip()
    if not approve and len(note) < 2:
        raise _invalid("note", _("退回整改须写明理由"))
    case = _lock_case(case_id, expected_version)
    step = CaseStep.APPROVE if approve else CaseStep.RETURN
    before = _step(case, by, "evaluation.case.review", step)
    case.review_note = note
    if approve:
        case.closed_at = timezone.now()
    else:
        case.rectified_at = None
        case.fed_back_at = None
        _notify_department(
            case.department_id,
            _("差评整改被退回，请重新整改"),
            reverse("evaluation:case", args=[case.pk]),
            "evaluation.case.returned",
        )
    return _finish_step(case, by, "evaluation.case.reviewed", before, approve=approve)


# ---------------------------------------------------------------- staff appeals (申诉)


@transaction.atomic
def file_appeal(rating_id: int, *, by: User, reason: str) -> StaffAppeal:
    reason = _require_text(reason, "reason", _("请写明申诉理由"))
    policy.require(by, "evaluation.appeal.file")
    rating = Rating.objects.select_for_update().filter(pk=rating_id).first()
    if rating is None or rating.staff_id != by.pk:
        raise EvaluationError(_("只能对本人收到的评价申诉"), code="not_found")
    if rating.excluded:
        raise Conflict(_("该评价已申诉成立"))
    if rating.appeals.filter(decision=StaffAppeal.Decision.PENDING).exists():
        raise Conflict(_("该评价已有待审核的申诉"))
    appeal = StaffAppeal.objects.create(
        rating=rating, department_id=rating.department_id, filed_by=by, reason=reason
    )
    audit.record(by, "evaluation.appeal.filed", appeal, after={"rating": rating.pk})
    _notify_role(
        Role.SUPERVISOR, _("收到差评申诉"), reverse("evaluation:appeals"), "evaluation.appeal.filed"
    )
    return appeal


@transaction.atomic
def decide_appeal(appeal_id: int, *, by: User, upheld: bool, note: str) -> StaffAppeal:
    """申诉成立 takes the rating out of the statistics (it stays in the record)."""
    note = _require_text(note, "note", _("请填写审核意见"))
    policy.require(by, "evaluation.appeal.decide")
    appeal = StaffAppeal.objects.select_for_update().filter(pk=appeal_id).first()
    if appeal is None:
        raise EvaluationError(_("申诉不存在"), code="not_found")
    if appeal.decision != StaffAppeal.Decision.PENDING:
        raise Conflict(_("该申诉已审核"))
    appeal.decision = StaffAppeal.Decision.UPHELD if upheld else StaffAppeal.Decision.REJECTED
    appeal.decision_note = note
    appeal.decided_by = by
    appeal.decided_at = timezone.now()
    appeal.save()
    if upheld:
        rating = Rating.objects.select_for_update().select_related("event").get(pk=appeal.rating_id)
        rating.excluded = True
        rating.save(update_fields=["excluded"])
        mark_dirty(rating.event.started_at)
        case = Case.objects.select_for_update().filter(rating=rating).first()
        if case is not None and case.state != CaseState.CLOSED:
            before = case.move(CaseStep.WITHDRAW)
            case.finding = case.finding or Finding.UNREASONABLE
            case.review_note = note
            case.closed_at = appeal.decided_at
            case.save()
            audit.record(
                by,
                "evaluation.case.withdrawn",
                case,
                before={"state": before},
                after={"state": case.state, "appeal": appeal.pk},
            )
    audit.record(by, "evaluation.appeal.decided", appeal, after={"upheld": upheld})
    outbox.enqueue(
        "inapp",
        str(appeal.filed_by_id),
        _("您的差评申诉已审核：%(result)s") % {"result": appeal.get_decision_display()},
        user=appeal.filed_by,
        kind="evaluation.appeal.decided",
    )
    return appeal


def overdue_cases(now: dt.datetime | None = None) -> Iterable[Case]:
    return Case.objects.overdue(now).select_related("department", "rating__event")
