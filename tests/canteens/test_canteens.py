"""The happiness canteen: eligibility, one check-in a day, exact monthly statements, pages."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from functools import partial

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from minsheng.canteens import actions, statements
from minsheng.canteens.models import Canteen, Diner, MealCheckIn
from minsheng.core import idnumber
from minsheng.core.models import AuditEvent, Division, Role
from tests.concurrency import at_once
from tests.factories import PASSWORD, DepartmentFactory, DivisionFactory, UserFactory

TODAY = dt.date(2026, 11, 20)


def number(born: dt.date, serial: int = 1) -> str:
    first17 = f"990102{born:%Y%m%d}{serial:03d}"
    return first17 + idnumber.check_char(first17)


def make_canteen(department=None, **fields) -> Canteen:
    village = DivisionFactory(name="城北村", level=Division.Level.VILLAGE)
    return Canteen.objects.create(
        code=fields.pop("code", "xfst-01"),
        name=fields.pop("name", "城北村幸福食堂"),
        village=village,
        department=department or DepartmentFactory(),
        fee_per_day=Decimal("5.00"),
        subsidy_per_day=Decimal("10.50"),
        **fields,
    )


def register(canteen: Canteen, serial: int = 1, **fields) -> Diner:
    return actions.register_diner(
        canteen.pk,
        name=fields.pop("name", "张奶奶"),
        id_number=fields.pop("id_number", number(dt.date(1950, 5, 1), serial)),
        category=fields.pop("category", Diner.Category.ALONE),
        by=None,
        today=TODAY,
        **fields,
    )


@pytest.mark.django_db
def test_eligibility_by_age_or_proof_and_nothing_written_when_refused():
    canteen = make_canteen()
    with pytest.raises(actions.CanteenError, match="需年满 70 周岁，此人 69 周岁"):
        register(canteen, id_number=number(dt.date(1956, 11, 21)))  # 70 tomorrow
    with pytest.raises(actions.CanteenError, match="证明"):
        register(canteen, category=Diner.Category.DIFFICULTY, id_number=number(dt.date(1980, 1, 1)))
    with pytest.raises(actions.CanteenError, match="校验位"):
        register(canteen, id_number="110105194912310021")
    assert not Diner.objects.exists() and not AuditEvent.objects.exists()

    old = register(canteen, id_number=number(dt.date(1956, 11, 20)))  # 70 today
    poor = register(
        canteen,
        serial=2,
        category=Diner.Category.DIFFICULTY,
        proof="低保证00012",
        id_number=number(dt.date(1980, 1, 1), 2),
    )
    assert old.born == dt.date(1956, 11, 20) and "*" in poor.id_masked
    with pytest.raises(actions.CanteenError, match="已在本食堂登记"):
        register(canteen, id_number=number(dt.date(1956, 11, 20)))
    assert AuditEvent.objects.filter(action="canteen.diner_registered").count() == 2


@pytest.mark.django_db
def test_one_check_in_a_day_with_the_rates_of_that_day():
    canteen = make_canteen()
    diner = register(canteen)
    meal = actions.check_in(diner.pk, by=None, day=TODAY)
    assert (meal.fee, meal.subsidy) == (Decimal("5.00"), Decimal("10.50"))
    with pytest.raises(actions.CanteenError, match="已登记过就餐"):
        actions.check_in(diner.pk, by=None, day=TODAY)
    assert MealCheckIn.objects.count() == 1

    Canteen.objects.filter(pk=canteen.pk).update(subsidy_per_day=Decimal("12.00"))
    later = actions.check_in(diner.pk, by=None, day=TODAY + dt.timedelta(days=1))
    assert later.subsidy == Decimal("12.00")
    assert MealCheckIn.objects.get(day=TODAY).subsidy == Decimal("10.50")

    actions.deregister(diner.pk, by=None)
    with pytest.raises(actions.CanteenError, match="不在册"):
        actions.check_in(diner.pk, by=None, day=TODAY + dt.timedelta(days=2))


@pytest.mark.django_db
def test_monthly_statements_sum_exactly_per_diner_and_canteen():
    canteen = make_canteen()
    other = make_canteen(code="xfst-02", name="桃园村幸福食堂")
    a, b = register(canteen, 1, name="甲"), register(canteen, 2, name="乙")
    c = register(other, 3, name="丙")
    for day in range(1, 31):  # November: 30 days
        actions.check_in(a.pk, by=None, day=dt.date(2026, 11, day))
    for day in (1, 2, 3):
        actions.check_in(b.pk, by=None, day=dt.date(2026, 11, day))
        actions.check_in(c.pk, by=None, day=dt.date(2026, 11, day))
    actions.check_in(a.pk, by=None, day=dt.date(2026, 12, 1))  # next month: not counted

    lines = statements.by_diner(canteen, dt.date(2026, 11, 1))
    assert sorted((line.meals, str(line.fees), str(line.subsidies)) for line in lines) == [
        (3, "15.00", "31.50"),
        (30, "150.00", "315.00"),
    ]
    assert statements.totals(lines).total == Decimal("511.50")
    per_canteen = statements.by_canteen(Canteen.objects.all(), dt.date(2026, 11, 15))
    assert [(line.label, line.meals) for line in per_canteen] == [
        ("城北村幸福食堂", 33),
        ("桃园村幸福食堂", 3),
    ]


def login(role: str, department=None) -> Client:
    client = Client()
    user = UserFactory(role=role, department=department)
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.mark.django_db
def test_pages_check_in_scope_and_export():
    department = DepartmentFactory()
    canteen = make_canteen(department)
    make_canteen(code="xfst-02", name="别的食堂")
    diner = register(canteen)
    staff = login(Role.HANDLER, department)

    index = staff.get(reverse("canteens:index")).content.decode()
    assert "城北村幸福食堂" in index and "别的食堂" not in index
    assert staff.get(reverse("canteens:canteen", args=["xfst-02"])).status_code == 404
    url = reverse("canteens:check_in", args=[canteen.code, diner.pk])
    staff.post(url)
    staff.post(url)  # twice: refused with a message, one meal
    assert MealCheckIn.objects.count() == 1
    page = staff.get(reverse("canteens:canteen", args=[canteen.code])).content.decode()
    assert "已就餐" in page

    response = staff.get(reverse("canteens:statement", args=[canteen.code]))
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[1][1] == 1 and rows[-1][0] == "合计"
    assert AuditEvent.objects.filter(action="canteen.statement_exported").exists()
    leader = login(Role.LEADER).get(reverse("canteens:index")).content.decode()
    assert "别的食堂" in leader and "张奶奶" not in leader


@pytest.mark.django_db
def test_registration_form_shows_the_reason_in_chinese():
    department = DepartmentFactory()
    canteen = make_canteen(department)
    response = login(Role.HANDLER, department).post(
        reverse("canteens:canteen", args=[canteen.code]),
        {"name": "李爷爷", "id_number": number(dt.date(2000, 1, 1)), "category": "alone"},
    )
    assert response.status_code == 400 and "需年满 70 周岁" in response.content.decode()
    assert not Diner.objects.exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no concurrent writers")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_windows_checking_in_the_same_diner_at_once_make_one_meal():
    diner = register(make_canteen())
    check_in = partial(actions.check_in, diner.pk, by=None, day=TODAY)
    results = at_once([check_in] * 4, expected=(actions.CanteenError,))
    outcomes = ["refused" if isinstance(r, actions.CanteenError) else "ok" for r in results]
    assert sorted(outcomes) == ["ok", "refused", "refused", "refused"]
    assert MealCheckIn.objects.count() == 1
