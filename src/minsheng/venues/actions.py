"""Every change to the open school venues goes through here: residents' registration and
bans (audited), and the gate's passages (each one recorded as a GatePassage).

Occupancy is a counter on the venue changed only by conditional UPDATEs
(``inside < capacity`` to enter, ``inside > 0`` to leave), and the database refuses a value
above the capacity; an entry is one open ``Visit`` per person and venue (a partial unique
constraint), so a person the gate reports twice is counted once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.core import audit, idnumber, policy
from minsheng.core.errors import ActionRefused
from minsheng.core.models import User
from minsheng.core.models.org import Role
from minsheng.venues.models import GatePassage, Resident, Venue, Visit

R = Role
policy.register(
    {
        # The venue's own staff run its gate (through an API token of theirs) and its list;
        # the education bureau's administrators register residents at any window.
        "venue.gate": {R.WINDOW_STAFF, R.DEPT_HEAD, R.ADMIN},
        "venue.view": {R.WINDOW_STAFF, R.DEPT_HEAD, R.SUPERVISOR, R.LEADER, R.ADMIN},
        "venue.register": {R.WINDOW_STAFF, R.DEPT_HEAD, R.ADMIN},
        "venue.ban": {R.DEPT_HEAD, R.ADMIN},
    }
)

Reason = GatePassage.Reason
Direction = GatePassage.Direction


class VenueError(ActionRefused):
    """A refusal of this app's actions (see core.errors)."""


@dataclass(frozen=True)
class GateDecision:
    allow: bool
    reason: str
    message: str
    inside: int
    capacity: int


def _check(user: User | None, action: str, venue: Venue | None = None) -> None:
    if user is not None and not policy.can(user, action, venue):
        raise PermissionDenied(action)


# ---------------------------------------------------------------- residents


@transaction.atomic
def register_resident(
    *, id_number: str, name: str, mobile: str = "", gate_identity: str = "", by: User | None
) -> Resident:
    _check(by, "venue.register")
    try:
        number = idnumber.validate(id_number)
    except ValidationError as exc:
        raise VenueError(exc.messages[0], "invalid", "id_number") from None
    if not name.strip():
        raise VenueError(_("请填写姓名"), "invalid", "name")
    key = idnumber.key(number)
    if Resident.objects.filter(id_key=key).exists():
        raise VenueError(_("该身份证号已登记"), "duplicate", "id_number")
    if gate_identity and Resident.objects.filter(gate_identity=gate_identity).exists():
        raise VenueError(_("该闸机身份标识已被他人使用"), "duplicate", "gate_identity")
    try:
        with transaction.atomic():
            resident = Resident.objects.create(
                id_key=key,
                id_masked=idnumber.masked(number),
                name=name.strip(),
                mobile=mobile.strip(),
                gate_identity=gate_identity or None,
            )
    except IntegrityError:  # registered at another window at the same moment
        raise VenueError(_("该身份证号已登记"), "duplicate", "id_number") from None
    audit.record(by, "venue.resident_registered", resident, after={"id": resident.id_masked})
    return resident


@transaction.atomic
def set_banned(resident_id: int, *, banned: bool, reason: str = "", by: User | None) -> Resident:
    _check(by, "venue.ban")
    resident = Resident.objects.select_for_update().filter(pk=resident_id).first()
    if resident is None:
        raise VenueError(_("登记居民不存在"), "not_found")
    if banned and not reason.strip():
        raise VenueError(_("请写明禁止入场的原因"), "invalid", "reason")
    before = {"banned": resident.banned, "reason": resident.ban_reason}
    resident.banned = banned
    resident.ban_reason = reason.strip() if banned else ""
    resident.save(update_fields=["banned", "ban_reason"])
    audit.record(
        by,
        "venue.resident_banned" if banned else "venue.resident_unbanned",
        resident,
        before=before,
        after={"banned": banned, "reason": resident.ban_reason},
    )
    return resident


def find_resident(*, id_number: str = "", gate_identity: str = "") -> Resident | None:
    if gate_identity:
        return Resident.objects.filter(gate_identity=gate_identity).first()
    try:
        number = idnumber.validate(id_number)
    except ValidationError:
        return None
    return Resident.objects.filter(id_key=idnumber.key(number)).first()


# ---------------------------------------------------------------- the gate

MESSAGES: dict[str, Any] = {
    Reason.OK: _("欢迎"),
    Reason.ALREADY_INSIDE: _("已在场内"),
    Reason.CLOSED: _("现在不开放"),
    Reason.FULL: _("场内已满，请稍后再来"),
    Reason.NOT_REGISTERED: _("未登记，请先到学校门卫或社区登记"),
    Reason.BANNED: _("已被禁止入场"),
}


class _Full(Exception):
    """Raised inside the entry's transaction to undo the visit when there is no room."""


def pass_gate(
    venue_code: str,
    *,
    direction: str,
    id_number: str = "",
    gate_identity: str = "",
    by: User | None,
    now: dt.datetime | None = None,
) -> GateDecision:
    """May this person go in (or out) now? Records the passage either way."""
    if direction not in Direction.values:
        raise VenueError(_("方向应为 in 或 out"), "invalid", "direction")
    if bool(id_number) == bool(gate_identity):
        raise VenueError(_("请提供身份证号或闸机身份标识中的一项"), "invalid", "id_number")
    venue = Venue.objects.filter(code=venue_code, active=True).first()
    if venue is None:
        raise VenueError(_("场地不存在或未开放"), "unknown_venue")
    _check(by, "venue.gate", venue)
    now = now or timezone.now()
    resident = find_resident(id_number=id_number, gate_identity=gate_identity)
    reason: str
    if resident is None:
        reason = Reason.NOT_REGISTERED
    elif direction == Direction.OUT:
        reason = _leave(venue, resident, now)
    elif resident.banned:
        reason = Reason.BANNED
    elif venue.closure_at(now) is not None or not venue.open_at(now):
        reason = Reason.CLOSED
    else:
        reason = _enter(venue, resident, now)
    allowed = reason in (Reason.OK, Reason.ALREADY_INSIDE)
    GatePassage.objects.create(
        venue=venue, resident=resident, direction=direction, allowed=allowed, reason=reason, at=now
    )
    inside = Venue.objects.values_list("inside", flat=True).get(pk=venue.pk)
    return GateDecision(allowed, str(reason), str(MESSAGES[reason]), inside, venue.capacity)


def _enter(venue: Venue, resident: Resident, now: dt.datetime) -> str:
    try:
        with transaction.atomic():
            Visit.objects.create(venue=venue, resident=resident, entered_at=now)
            room = Venue.objects.filter(pk=venue.pk, inside__lt=F("capacity")).update(
                inside=F("inside") + 1
            )
            if not room:
                raise _Full
    except _Full:
        return Reason.FULL
    except IntegrityError:  # an open visit already: the gate asked twice, count once
        return Reason.ALREADY_INSIDE
    return Reason.OK


def _leave(venue: Venue, resident: Resident, now: dt.datetime) -> str:
    """Leaving is always allowed; the counter drops only for a person counted in."""
    with transaction.atomic():
        closed = Visit.objects.filter(venue=venue, resident=resident, left_at__isnull=True).update(
            left_at=now
        )
        if closed:
            Venue.objects.filter(pk=venue.pk, inside__gt=0).update(inside=F("inside") - 1)
    return Reason.OK
