"""The leaders' overview of the community services: county figures from each service, the
same numbers in the charts' data, no person on the page, and only for county-wide roles."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from minsheng.canteens import actions as canteen_actions
from minsheng.centres import actions as centre_actions
from minsheng.community import figures
from minsheng.core.models import Role
from minsheng.relief import actions as relief_actions
from minsheng.venues import actions as venue_actions
from tests.canteens.test_canteens import make_canteen, register
from tests.centres.factories import make_centre
from tests.factories import PASSWORD, UserFactory
from tests.relay.helpers import at_county, make_world
from tests.relief.test_relief import approved, make_station
from tests.venues.factories import make_resident, make_venue

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def login(role: str) -> Client:
    client = Client()
    user = UserFactory(role=role)
    assert client.login(username=user.username, password=PASSWORD)
    return client


def services() -> None:
    canteen = make_canteen()
    first = register(canteen, 1, name="张秀兰")
    second = register(canteen, 2, name="李桂芝")
    today = timezone.localdate()
    canteen_actions.check_in(first.pk, by=None, day=today)
    canteen_actions.check_in(second.pk, by=None, day=today)
    canteen_actions.check_in(first.pk, by=None, day=today - dt.timedelta(days=1))
    venue = make_venue(capacity=10)
    _resident, number = make_resident(name="王建国")
    venue_actions.pass_gate(venue.code, direction="in", id_number=number, by=None)
    station = make_station()
    relief_actions.donate(station.pk, donor="县妇联", amount="5000", received_on=today, by=None)
    relief_actions.disburse(approved(station, "1200").pk, by=None)
    centre = make_centre()
    make_centre(centre.village.parent, status="building", name="前进村")
    centre_actions.record_matter(
        centre.pk, type="certificate", person_name="赵德明", description="开具居住证明",
        outcome="done", by=None,
    )  # fmt: skip
    at_county(make_world())


@time_machine.travel(NOW, tick=False)
def test_the_figures_add_up_over_the_county():
    services()
    canteens = figures.canteens()
    assert (canteens.canteens, canteens.diners, canteens.meals_today) == (1, 2, 2)
    assert canteens.meals_month == 3
    assert canteens.fees_month == Decimal("15.00")  # 3 meals at 5.00
    assert canteens.daily[-1] == (dt.date(2026, 11, 20), 2) and len(canteens.daily) == 30
    venues = figures.venues()
    assert (venues.venues, venues.inside_now, venues.capacity) == (1, 1, 10)
    assert venues.entries_30_days == 1 and venues.by_hour[9] == 1
    relief = figures.relief()
    assert relief.balance == Decimal("3800.00") and relief.pending == 0
    assert [(y.year, y.money_in, y.money_out, y.helped) for y in relief.years] == [
        (2026, Decimal("5000.00"), Decimal("1200.00"), 1)
    ]


@time_machine.travel(NOW, tick=False)
def test_the_leader_sees_the_figures_and_chart_data_but_no_person():
    services()
    response = login(Role.LEADER).get(reverse("community:overview"))
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("张秀兰", "李桂芝", "王建国", "王小花", "赵德明", "王秀英"):
        assert name not in html
    block = re.search(r'<script id="community-data"[^>]*>(.*?)</script>', html, re.S)
    assert block is not None
    data = json.loads(block.group(1))
    assert data["meals"]["values"][-1] == 2 and sum(data["meals"]["values"]) == 3
    assert data["hours"]["values"][9] == 1
    assert data["relief"]["money_in"] == [5000.0]
    stages = dict(zip(data["stages"]["labels"], data["stages"]["values"], strict=True))
    assert stages["县级部门办理中"] == 1 and sum(stages.values()) == 1
    statuses = {s["name"]: sum(s["values"]) for s in data["centres"]["series"]}
    assert statuses["投入使用"] == 1 and statuses["建设中"] == 1
    centres = html.split('id="centres"', 1)[1].split("</section>", 1)[0]
    assert "办结实事" in centres


def test_only_county_wide_roles_open_it():
    assert login(Role.HANDLER).get(reverse("community:overview")).status_code == 403
    assert login(Role.SUPERVISOR).get(reverse("community:overview")).status_code == 200
    assert Client().get(reverse("community:overview")).status_code == 302
