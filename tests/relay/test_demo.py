"""`minsheng demo` shows the proxy service at every stage, with the ``proxy`` login's town
among the busiest, overdue stages told to their holders and the completed cases rated."""

from __future__ import annotations

import pytest

from minsheng.core import demo
from minsheng.core.models import OutboxMessage, User
from minsheng.evaluation.models import Rating, ServiceChannel
from minsheng.relay.models import Handover, RelayCase, State

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _community_on(settings):
    settings.DEMO_COMMUNITY = True


def test_the_demo_builds_two_months_of_cases_once():
    demo.load(lambda _line: None)
    cases = RelayCase.objects.all()
    assert 35 <= cases.count() <= 45
    assert set(cases.values_list("state", flat=True)) == set(State.values)
    proxy = User.objects.get(username="proxy")
    mine = cases.filter(origin_department=proxy.department)
    assert mine.count() >= 10 and mine.filter(opened_by=proxy).exists()
    assert cases.filter(matter__code="SCJ004").count() >= 10  # 个体工商户设立登记
    assert cases.overdue().exists() and cases.open().exclude(pk__in=cases.overdue()).exists()
    assert not cases.overdue().filter(overdue_notified_at=None).exists()  # swept
    assert OutboxMessage.objects.filter(kind="relay.overdue").exists()
    done = cases.filter(completed_at__isnull=False)
    assert not done.filter(event=None).exists()
    ratings = Rating.objects.filter(event__channel=ServiceChannel.PROXY)
    assert ratings.count() >= 5
    assert Handover.objects.filter(kind=Handover.Kind.RETURN).exists()
    demo.load(lambda _line: None)
    assert RelayCase.objects.count() == cases.count()
