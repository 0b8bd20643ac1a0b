"""`minsheng demo` shows the open venues with residents and a month of passages."""

from __future__ import annotations

import pytest

from minsheng.core import demo
from minsheng.core.models import User
from minsheng.venues.models import Closure, GatePassage, Resident, Venue

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _community_on(settings):
    settings.DEMO_COMMUNITY = True


def test_the_demo_builds_venues_residents_and_passages_once():
    demo.load(lambda _line: None)
    assert Venue.objects.count() == 4 and Closure.objects.count() == 2
    assert Resident.objects.count() == 120 and Resident.objects.filter(banned=True).count() == 1
    assert GatePassage.objects.filter(direction="in", allowed=True).count() > 200
    assert all(v.inside == 0 for v in Venue.objects.all())  # everyone left on their day
    assert User.objects.get(username="school").department.code == "jyj"
    demo.load(lambda _line: None)
    assert Venue.objects.count() == 4 and Resident.objects.count() == 120
