"""Venues with opening hours, residents with valid ID numbers."""

from __future__ import annotations

import datetime as dt
import itertools

from minsheng.core import idnumber
from minsheng.venues import actions
from minsheng.venues.models import OpeningHours, Resident, Venue
from tests.factories import DepartmentFactory

_serial = itertools.count(1)


def id_number(birth: str = "19800101", area: str = "990102") -> str:
    """A valid GB 11643 number (unassigned area 99xxxx), a new one each call."""
    first17 = f"{area}{birth}{next(_serial) % 1000:03d}"
    return first17 + idnumber.check_char(first17)


def make_venue(capacity: int = 3, department=None, **fields) -> Venue:
    """A venue open every day 06:00–22:00 local time."""
    venue = Venue.objects.create(
        code=fields.pop("code", f"v{next(_serial)}"),
        school=fields.pop("school", "县实验中学"),
        name=fields.pop("name", "田径场"),
        kind=fields.pop("kind", Venue.Kind.TRACK),
        department=department or DepartmentFactory(),
        capacity=capacity,
        **fields,
    )
    for weekday in range(7):
        OpeningHours.objects.create(
            venue=venue, weekday=weekday, opens=dt.time(6), closes=dt.time(22)
        )
    return venue


def make_resident(**fields) -> tuple[Resident, str]:
    number = fields.pop("number", None) or id_number()
    resident = actions.register_resident(
        id_number=number, name=fields.pop("name", "李大爷"), by=None, **fields
    )
    return resident, number
