"""Every change to the happiness canteens goes through here, audited: registering a diner
(eligibility checked), a meal check-in (once per diner and day, fee and subsidy fixed from
the canteen's rates at that moment), and taking a diner off the register."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.canteens.models import Canteen, Diner, MealCheckIn
from minsheng.core import audit, idnumber, policy
from minsheng.core.errors import ActionRefused
from minsheng.core.models import User
from minsheng.core.models.org import Role

R = Role
policy.register(
    {
        "canteen.operate": {R.WINDOW_STAFF, R.HANDLER, R.DEPT_HEAD, R.ADMIN},
        "canteen.view": {R.WINDOW_STAFF, R.HANDLER, R.DEPT_HEAD, R.SUPERVISOR, R.LEADER, R.ADMIN},
    }
)


class CanteenError(ActionRefused):
    """A refusal of this app's actions (see core.errors)."""


def _check(user: User | None, canteen: Canteen) -> None:
    if user is not None and not policy.can(user, "canteen.operate", canteen):
        raise PermissionDenied("canteen.operate")


def age_on(born: dt.date, day: dt.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


@transaction.atomic
def register_diner(
    canteen_id: int,
    *,
    name: str,
    id_number: str,
    category: str,
    proof: str = "",
    by: User | None,
    today: dt.date | None = None,
) -> Diner:
    """Register an eligible diner: 独居/留守老人 from the canteen's minimum age (from the ID
    number's birth date), 困难群众 with the document that proves it."""
    canteen = Canteen.objects.filter(pk=canteen_id, active=True).first()
    if canteen is None:
        raise CanteenError(_("食堂不存在或已停办"), "not_found")
    _check(by, canteen)
    if category not in Diner.Category.values:
        raise CanteenError(_("请选择类别"), field="category")
    if not name.strip():
        raise CanteenError(_("请填写姓名"), field="name")
    try:
        number = idnumber.validate(id_number)
    except ValidationError as exc:
        raise CanteenError(exc.messages[0], field="id_number") from None
    born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    today = today or timezone.localdate()
    if category == Diner.Category.DIFFICULTY:
        if not proof.strip():
            raise CanteenError(_("困难群众请填写低保证、特困证等证明的编号"), field="proof")
    elif age_on(born, today) < canteen.min_age:
        raise CanteenError(
            _("%(category)s需年满 %(age)d 周岁，此人 %(actual)d 周岁")
            % {
                "category": Diner.Category(category).label,
                "age": canteen.min_age,
                "actual": age_on(born, today),
            },
            field="id_number",
        )
    key = idnumber.key(number)
    if Diner.objects.filter(canteen=canteen, id_key=key).exists():
        raise CanteenError(_("此人已在本食堂登记"), "duplicate", "id_number")
    try:
        with transaction.atomic():
            diner = Diner.objects.create(
                canteen=canteen,
                name=name.strip(),
                id_key=key,
                id_masked=idnumber.masked(number),
                born=born,
                category=category,
                proof=proof.strip(),
            )
    except IntegrityError:
        raise CanteenError(_("此人已在本食堂登记"), "duplicate", "id_number") from None
    audit.record(by, "canteen.diner_registered", diner, after={"category": category})
    return diner


@transaction.atomic
def check_in(diner_id: int, *, by: User | None, day: dt.date | None = None) -> MealCheckIn:
    """Today's meal of a diner; a second check-in the same day is refused and writes nothing
    (the unique constraint decides when two windows try at once)."""
    diner = Diner.objects.select_related("canteen").filter(pk=diner_id).first()
    if diner is None:
        raise CanteenError(_("就餐老人不存在"), "not_found")
    _check(by, diner.canteen)
    if not diner.active:
        raise CanteenError(_("此人已不在册，不能登记就餐"))
    day = day or timezone.localdate()
    try:
        with transaction.atomic():
            meal = MealCheckIn.objects.create(
                diner=diner,
                canteen=diner.canteen,
                day=day,
                fee=diner.canteen.fee_per_day,
                subsidy=diner.canteen.subsidy_per_day,
                by=by,
            )
    except IntegrityError:
        raise CanteenError(
            _("%(name)s %(day)s 已登记过就餐") % {"name": diner.name, "day": day}, "duplicate"
        ) from None
    audit.record(
        by,
        "canteen.meal_checked_in",
        meal,
        after={"day": day.isoformat(), "fee": str(meal.fee), "subsidy": str(meal.subsidy)},
    )
    return meal


@transaction.atomic
def deregister(diner_id: int, *, by: User | None) -> Diner:
    diner = Diner.objects.select_for_update().select_related("canteen").filter(pk=diner_id).first()
    if diner is None:
        raise CanteenError(_("就餐老人不存在"), "not_found")
    _check(by, diner.canteen)
    if diner.active:
        diner.active = False
        diner.save(update_fields=["active"])
        audit.record(by, "canteen.diner_deregistered", diner)
    return diner
