"""The demo's 好差评: the county-scale hall, a year of events, 差评 cases in every state."""

from __future__ import annotations

import pytest

from minsheng.core import demo
from minsheng.core.models import AuditEvent, Role, User, Window
from minsheng.evaluation import demo as evaluation_demo
from minsheng.evaluation.models import Case, MonthlyStat, Rating, RatingChannel, ServiceEvent
from minsheng.evaluation.states import CaseState

pytestmark = pytest.mark.django_db


def test_the_hall_is_topped_up_to_the_county_scale_once() -> None:
    ctx = demo.DemoContext(out=lambda line: None)
    demo.build_core(ctx)
    evaluation_demo.build_hall(ctx)
    assert Window.objects.count() == evaluation_demo.WINDOWS
    assert User.objects.filter(role=Role.WINDOW_STAFF).count() == evaluation_demo.WINDOW_STAFF
    assert not User.objects.filter(role=Role.WINDOW_STAFF, window=None).exists()
    # Every window has someone.
    assert not Window.objects.filter(staff=None).exists()
    evaluation_demo.build_hall(ctx)
    assert Window.objects.count() == evaluation_demo.WINDOWS
    assert User.objects.filter(role=Role.WINDOW_STAFF).count() == evaluation_demo.WINDOW_STAFF


def test_a_year_of_events_with_cases_in_every_state(settings: object) -> None:
    lines: list[str] = []
    demo.load(lines.append)
    assert ServiceEvent.objects.count() == 300  # tests/conftest.py: DEMO_SERVICE_EVENTS
    assert Rating.objects.filter(channel=RatingChannel.DEFAULT).exists()
    channels = set(Rating.objects.values_list("channel", flat=True))
    assert {RatingChannel.PAD, RatingChannel.LINK, RatingChannel.DEFAULT} <= channels
    states = set(Case.objects.values_list("state", flat=True))
    assert states == set(CaseState)
    assert Case.objects.overdue().exists()
    assert MonthlyStat.objects.exists()
    assert AuditEvent.objects.filter(action="evaluation.demo").count() == 1
    # Idempotent: a second run adds nothing.
    events, ratings = ServiceEvent.objects.count(), Rating.objects.count()
    demo.load(lines.append)
    assert (ServiceEvent.objects.count(), Rating.objects.count()) == (events, ratings)
