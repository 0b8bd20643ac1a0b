"""`minsheng demo` shows two batches of centres with realistic progress, their functions
and three months of records; the `centre` login's town has centres in use with data."""

from __future__ import annotations

import pytest

from minsheng.appeals.models import Channel
from minsheng.centres import figures
from minsheng.centres.models import Batch, Centre, Dispute, Matter, Opinion, Status
from minsheng.core import demo
from minsheng.core.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _community_on(settings):
    settings.DEMO_COMMUNITY = True


def test_the_demo_builds_two_batches_and_three_months_of_records_once():
    demo.load(lambda _line: None)
    assert Centre.objects.count() == 60
    assert [(b.name, b.centres.count()) for b in Batch.objects.all()] == [
        ("第一批", 36),
        ("第二批", 24),
    ]
    county = figures.county_figures()
    assert 0 < county.progress.in_use < county.built < 60 and county.progress.planned > 0
    first = next(b for b in county.batches if b.label == "第一批")
    assert first.progress.built > 24
    assert 300 <= Matter.objects.count() <= 600 and 40 <= Dispute.objects.count() <= 90
    assert county.counts.disputes_resolved > Dispute.objects.count() // 2
    assert 0 < county.counts.follow_ups_overdue < 15
    opinions = Opinion.objects.select_related("appeal")
    assert 20 <= opinions.count() <= 40
    assert {o.appeal.channel for o in opinions} == {Channel.CENTRE}
    assert all(o.appeal.division_id == o.centre.village_id for o in opinions)

    worker = User.objects.get(username="centre")
    theirs = Centre.objects.filter(department=worker.department)
    assert theirs.count() == 6 and not theirs.exclude(status=Status.IN_USE).exists()
    assert Opinion.objects.filter(centre__in=theirs, recorded_by=worker).count() >= 6
    assert Dispute.objects.filter(centre__in=theirs).exclude(agreement="").exists()
    demo.load(lambda _line: None)
    assert Centre.objects.count() == 60 and Opinion.objects.count() == opinions.count()
