"""Concurrent entries at capacity: never more people inside than the venue holds."""

from __future__ import annotations

import datetime as dt
from functools import partial
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from minsheng.venues import actions
from minsheng.venues.models import GatePassage, Venue, Visit
from tests.concurrency import at_once
from tests.venues.factories import make_resident, make_venue

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite has no row locks: one writer at a time, so there is no race to test",
)
racing = pytest.mark.django_db(transaction=True, serialized_rollback=True)

EVENING = dt.datetime(2026, 12, 2, 19, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@postgres_only
@racing
def test_concurrent_entries_at_capacity_let_in_exactly_the_capacity():
    capacity, people = 5, 16
    venue = make_venue(capacity=capacity)
    numbers = [make_resident()[1] for _ in range(people)]
    enter = partial(actions.pass_gate, venue.code, direction="in", by=None, now=EVENING)
    answers = [answer.reason for answer in at_once([partial(enter, id_number=n) for n in numbers])]

    assert sorted(answers) == sorted(["ok"] * capacity + ["full"] * (people - capacity))
    assert Venue.objects.get(pk=venue.pk).inside == capacity
    assert Visit.objects.filter(left_at__isnull=True).count() == capacity
    assert GatePassage.objects.filter(allowed=True).count() == capacity


@postgres_only
@racing
def test_the_same_person_reported_twice_at_once_is_counted_once():
    venue = make_venue(capacity=5)
    _resident, number = make_resident()
    enter = partial(
        actions.pass_gate, venue.code, direction="in", id_number=number, by=None, now=EVENING
    )
    answers = [answer.reason for answer in at_once([enter] * 4)]

    assert sorted(answers) == ["already_inside"] * 3 + ["ok"]
    assert Venue.objects.get(pk=venue.pk).inside == 1
