"""The figures per centre, town, batch and county, against a small data set counted by hand."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from minsheng.centres import actions, figures
from minsheng.centres.models import Batch, Centre, Dispute, FunctionKind, Matter, Opinion, Status
from tests.centres.factories import make_centre, make_town

pytestmark = pytest.mark.django_db


def matter(centre: Centre, outcome: str = Matter.Outcome.DONE) -> None:
    actions.record_matter(
        centre.pk, type=Matter.Type.POLICY, person_name="张三", description="咨询低保政策",
        outcome=outcome, by=None,
    )  # fmt: skip


def dispute(centre: Centre, outcome: str, days_ago: int = 0) -> Dispute:
    return actions.record_dispute(
        centre.pk, parties="王大山、李小河", type=Dispute.Type.NEIGHBOUR,
        description="院墙排水引起争执", outcome=outcome,
        mediated_on=timezone.localdate() - dt.timedelta(days=days_ago), by=None,
    )  # fmt: skip


def opinion(centre: Centre) -> None:
    actions.record_opinion(
        centre.pk, kind=Opinion.Kind.OPINION, title="路灯不亮", body="村口路灯坏了一个月",
        anonymous=True, by=None,
    )  # fmt: skip


@pytest.fixture
def county():
    """石桥镇: two centres of batch 1 (in use; basically built); 城关镇: one of batch 1 in
    use, one of batch 2 being built, one in no batch still planned."""
    first = Batch.objects.create(name="第一批", year=2025)
    second = Batch.objects.create(name="第二批", year=2026)
    shiqiao, _ = make_town("石桥镇")
    chengguan, _ = make_town("城关镇")
    a = make_centre(shiqiao, name="石桥村", batch=first)
    b = make_centre(shiqiao, name="前进村", batch=first, status=Status.BASIC)
    c = make_centre(chengguan, name="城北村", batch=first)
    make_centre(chengguan, name="城南村", batch=second, status=Status.BUILDING)
    make_centre(chengguan, name="桃园村", status=Status.PLANNED)
    for _ in range(3):
        matter(a)
    matter(a, Matter.Outcome.REFERRED)
    matter(b)
    matter(c, Matter.Outcome.UNABLE)
    overdue = dispute(a, Dispute.Outcome.RESOLVED, days_ago=40)
    visited = dispute(a, Dispute.Outcome.PARTIAL, days_ago=40)
    actions.record_follow_up(visited.pk, note="已履行", by=None)
    dispute(b, Dispute.Outcome.RESOLVED)
    dispute(c, Dispute.Outcome.REFERRED)
    opinion(a)
    opinion(a)
    opinion(c)
    assert overdue.follow_up_overdue
    return {"a": a, "b": b, "c": c, "shiqiao": shiqiao, "chengguan": chengguan}


def test_per_centre(county):
    counts = figures.by_centre(Centre.objects.all())
    assert counts[county["a"].pk] == figures.Counts(
        opinions=2, matters=4, matters_done=3, disputes=2, disputes_resolved=1,
        follow_ups_done=1, follow_ups_overdue=1,
    )  # fmt: skip
    assert counts[county["b"].pk] == figures.Counts(matters=1, matters_done=1, disputes=1,
                                                    disputes_resolved=1)  # fmt: skip
    assert counts[county["c"].pk] == figures.Counts(opinions=1, matters=1, disputes=1)
    assert len(counts) == 3  # centres without records have no row


def test_per_town_and_county(county):
    towns = {line.label: line for line in figures.by_town(Centre.objects.all())}
    assert towns["石桥镇"].progress == figures.Progress(centres=2, basic=1, in_use=1)
    assert towns["石桥镇"].counts.matters_done == 4
    assert towns["城关镇"].progress == figures.Progress(centres=3, planned=1, building=1, in_use=1)
    assert towns["城关镇"].progress.built == 1
    assert towns["城关镇"].counts == figures.Counts(opinions=1, matters=1, disputes=1)

    result = figures.county_figures()
    assert result.progress == figures.Progress(5, 1, 1, 1, 2) and result.built == 3
    assert result.counts == figures.Counts(
        opinions=3, matters=6, matters_done=4, disputes=4, disputes_resolved=2,
        follow_ups_done=1, follow_ups_overdue=1,
    )  # fmt: skip
    batches = [(b.label, b.progress.centres, b.progress.built, b.progress.in_use)
               for b in result.batches]  # fmt: skip
    assert batches == [("第一批", 3, 3, 2), ("第二批", 1, 0, 0), ("未列入批次", 1, 0, 0)]


def test_overdue_depends_on_the_moment(county):
    later = timezone.now() + dt.timedelta(days=60)
    assert figures.county_figures(now=later).counts.follow_ups_overdue == 3


def test_the_figures_are_a_few_grouped_queries_whatever_the_number_of_centres(county):
    with CaptureQueriesContext(connection) as few:
        figures.county_figures()
    for n in range(5):
        make_centre(county["shiqiao"], name=f"新村{n}")
    with CaptureQueriesContext(connection) as more:
        figures.county_figures()
    assert len(more) == len(few) <= 8


def test_functions_in_service_per_centre(county):
    kinds = {k.code: k.pk for k in FunctionKind.objects.all()}
    actions.set_functions(
        county["a"].pk,
        states={kinds["shop"]: "in_service", kinds["clinic"]: "planned",
                kinds["bathhouse"]: "in_service"},
        by=None,
    )  # fmt: skip
    result = figures.functions_by_centre(Centre.objects.all())
    assert result == {county["a"].pk: figures.Functions(basic=1, extensions=1)}
