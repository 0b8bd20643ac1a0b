"""`minsheng demo` shows a relief station whose books balance, with every step present."""

from __future__ import annotations

import pytest

from minsheng.core import demo
from minsheng.relief import ledger
from minsheng.relief.models import Application, Station

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _community_on(settings):
    settings.DEMO_COMMUNITY = True


def test_the_demo_station_balances_and_shows_every_step():
    demo.load(lambda _line: None)
    station = Station.objects.get()
    assert ledger.reconcile(station) == [] and station.balance > 0
    assert set(Application.objects.values_list("state", flat=True)) == set(Application.State.values)
    reviewed = Application.objects.exclude(state__in=["submitted", "village_verified"])
    assert not reviewed.filter(documents=None).exists()  # the town saw papers for each
