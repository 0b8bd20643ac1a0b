"""`minsheng demo` shows five canteens with eligible diners and a month of meals."""

from __future__ import annotations

import pytest

from minsheng.canteens.models import Canteen, Diner, MealCheckIn
from minsheng.core import demo
from minsheng.core.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _community_on(settings):
    settings.DEMO_COMMUNITY = True


def test_the_demo_builds_canteens_diners_and_meals_once():
    demo.load(lambda _line: None)
    assert Canteen.objects.count() == 5
    assert Diner.objects.count() >= 5 * 18
    assert MealCheckIn.objects.count() > 1000
    assert User.objects.get(username="canteen").department == Canteen.objects.first().department
    demo.load(lambda _line: None)
    assert Canteen.objects.count() == 5
