"""Open school venues: ID numbers, registration, and the gate API's answers."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from minsheng.core import idnumber, tokens
from minsheng.core.models import AuditEvent, Role
from minsheng.venues import actions
from minsheng.venues.models import Closure, GatePassage, Resident, Venue, Visit
from tests.factories import DepartmentFactory, UserFactory
from tests.venues.factories import id_number, make_resident, make_venue

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
EVENING = dt.datetime(2026, 12, 2, 19, 0, tzinfo=TZ)  # a Wednesday, inside 06:00–22:00
NIGHT = dt.datetime(2026, 12, 2, 23, 0, tzinfo=TZ)


# ---------------------------------------------------------------- ID numbers


def test_a_valid_number_passes_and_is_kept_only_as_a_keyed_hash():
    number = "11010519491231002X"  # the standard's own example
    assert idnumber.validate(number.lower()) == number
    key = idnumber.key(number)
    assert len(key) == 64 and number not in key and key == idnumber.key(number)
    assert idnumber.masked(number) == "110105********002X"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("110105194912310021", "id_check_digit"),
        ("11010519491231002", "id_format"),
        ("1101051949123100AX", "id_format"),
        ("110105194902300025", "id_birth_date"),  # 30 February
    ],
)
def test_wrong_numbers_are_refused_with_the_reason(value, code):
    with pytest.raises(ValidationError) as error:
        idnumber.validate(value)
    assert error.value.code == code


# ---------------------------------------------------------------- registration


def test_registration_stores_no_id_number_and_is_audited():
    resident, number = make_resident(mobile="13800001234", gate_identity="face-7")
    stored = Resident.objects.filter(pk=resident.pk).values().get()
    assert all(number not in str(value) for value in stored.values())
    assert resident.id_masked.endswith(number[-4:]) and "*" in resident.id_masked
    assert AuditEvent.objects.filter(action="venue.resident_registered").count() == 1


@pytest.mark.parametrize(
    ("number", "field", "code"),
    [("110105194912310021", "id_number", "invalid"), ("", "id_number", "invalid")],
)
def test_a_wrong_number_registers_nothing(number, field, code):
    with pytest.raises(actions.VenueError) as error:
        actions.register_resident(id_number=number, name="李大爷", by=None)
    assert (error.value.field, error.value.code) == (field, code)
    assert not Resident.objects.exists() and not AuditEvent.objects.exists()


def test_the_same_number_or_gate_identity_registers_once():
    _resident, number = make_resident(gate_identity="face-1")
    with pytest.raises(actions.VenueError, match="已登记"):
        actions.register_resident(id_number=number, name="另一人", by=None)
    with pytest.raises(actions.VenueError, match="闸机身份标识"):
        actions.register_resident(
            id_number=id_number(), name="另一人", gate_identity="face-1", by=None
        )
    assert Resident.objects.count() == 1


def test_the_database_refuses_more_inside_than_capacity():
    venue = make_venue(capacity=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Venue.objects.filter(pk=venue.pk).update(inside=2)


# ---------------------------------------------------------------- the gate (actions)


def gate(venue, number="", direction="in", at=EVENING, **kwargs):
    return actions.pass_gate(
        venue.code, direction=direction, id_number=number, by=None, now=at, **kwargs
    )


def test_entry_and_exit_move_the_live_count():
    venue = make_venue(capacity=3)
    _resident, number = make_resident()

    entered = gate(venue, number)
    assert (entered.allow, entered.reason, entered.inside) == (True, "ok", 1)
    again = gate(venue, number)  # the gate asked twice: counted once
    assert (again.allow, again.reason, again.inside) == (True, "already_inside", 1)
    left = gate(venue, number, direction="out")
    assert (left.allow, left.inside) == (True, 0)
    assert gate(venue, number, direction="out").inside == 0  # never below zero
    assert Visit.objects.get().left_at == EVENING
    assert GatePassage.objects.count() == 4


def test_every_deny_reason():
    venue = make_venue(capacity=1)
    _inside, number_inside = make_resident()
    banned, number_banned = make_resident()
    actions.set_banned(banned.pk, banned=True, reason="破坏设施", by=None)
    _other, number_other = make_resident()
    gate(venue, number_inside)

    answers = {
        "not_registered": gate(venue, id_number()),
        "banned": gate(venue, number_banned),
        "full": gate(venue, number_other),
        "closed": gate(venue, number_other, at=NIGHT),
    }
    for reason, answer in answers.items():
        assert (answer.allow, answer.reason) == (False, reason), reason
        assert answer.message
    Closure.objects.create(
        venue=venue,
        starts_at=EVENING - dt.timedelta(hours=1),
        ends_at=EVENING + dt.timedelta(hours=1),
        reason="期末考试",
    )
    gate(venue, number_inside, direction="out")
    closed = gate(venue, number_other)
    assert (closed.allow, closed.reason) == (False, "closed")
    assert GatePassage.objects.filter(allowed=False).count() == 5
    assert Venue.objects.get(pk=venue.pk).inside == 0


def test_unknown_venue_and_bad_requests_change_nothing():
    venue = make_venue()
    _resident, number = make_resident()
    with pytest.raises(actions.VenueError) as error:
        actions.pass_gate("nope", direction="in", id_number=number, by=None)
    assert error.value.code == "unknown_venue"
    with pytest.raises(actions.VenueError):
        gate(venue, number, gate_identity="face-1")  # both identities
    with pytest.raises(actions.VenueError):
        gate(venue, "")  # neither
    assert not GatePassage.objects.exists()


def test_a_ban_needs_a_reason_and_is_audited():
    resident, _number = make_resident()
    with pytest.raises(actions.VenueError):
        actions.set_banned(resident.pk, banned=True, reason=" ", by=None)
    actions.set_banned(resident.pk, banned=True, reason="多次违规", by=None)
    actions.set_banned(resident.pk, banned=False, by=None)
    # Insertion order: in a test that never commits the sealer gives no seq.
    assert [e.action for e in AuditEvent.objects.order_by("pk")][-2:] == [
        "venue.resident_banned",
        "venue.resident_unbanned",
    ]


# ---------------------------------------------------------------- the gate API


def bearer(user) -> dict[str, str]:
    _token, key = tokens.create_token(user, "闸机")
    return {"Authorization": f"Bearer {key}"}


def test_the_gate_api_answers_with_a_token_of_the_venues_department(client):
    venue = make_venue(capacity=1)
    staff = UserFactory(role=Role.WINDOW_STAFF, department=venue.department)
    stranger = UserFactory(role=Role.WINDOW_STAFF, department=DepartmentFactory())
    make_resident(gate_identity="face-9")
    url = f"/api/v1/venues/{venue.code}/gate"

    def post(data, user=staff):
        return client.post(url, data, content_type="application/json", headers=bearer(user))

    with time_machine.travel(EVENING, tick=False):
        allowed = post({"direction": "in", "gate_identity": "face-9"})
        denied = post({"direction": "in", "id_number": id_number()})
        forbidden = post({"direction": "in", "gate_identity": "face-9"}, user=stranger)
        bad = post({"direction": "sideways", "gate_identity": "face-9"})
        both = post({"direction": "in", "gate_identity": "face-9", "id_number": id_number()})
        unknown = client.post(
            "/api/v1/venues/nope/gate",
            {"direction": "in", "gate_identity": "face-9"},
            content_type="application/json",
            headers=bearer(staff),
        )

    assert allowed.status_code == 200
    assert allowed.json() == {
        "allow": True, "reason": "ok", "message": "欢迎", "inside": 1, "capacity": 1
    }  # fmt: skip
    assert denied.json()["allow"] is False and denied.json()["reason"] == "not_registered"
    assert forbidden.status_code == 403
    assert bad.status_code == 422 and both.status_code == 422
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    assert GatePassage.objects.count() == 2
