"""The happiness canteen (幸福食堂): canteens with their daily fee and subsidy, the diners
registered as eligible, and one meal check-in per diner and day."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from minsheng.core.models import Department, Division


class Canteen(models.Model):
    scope_fields: ClassVar[tuple[str, ...]] = ("department",)

    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    village = models.ForeignKey(
        Division, models.PROTECT, related_name="+", verbose_name=_("所在村（社区）")
    )
    department = models.ForeignKey(
        Department, models.PROTECT, related_name="canteens", verbose_name=_("主管单位")
    )
    # What a diner pays and what the county adds per day: data the county sets, per canteen.
    fee_per_day = models.DecimalField(
        _("每日个人缴费（元）"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    subsidy_per_day = models.DecimalField(
        _("每日补贴（元）"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    min_age = models.PositiveSmallIntegerField(
        _("独居、留守老人最低年龄"), default=70, help_text=_("按身份证号中的出生日期计算")
    )
    active = models.BooleanField(_("运营中"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("幸福食堂")
        verbose_name_plural = _("幸福食堂")

    def __str__(self) -> str:
        return self.name


class Diner(models.Model):
    class Category(models.TextChoices):
        ALONE = "alone", _("独居老人")
        LEFT_BEHIND = "left_behind", _("留守老人")
        DIFFICULTY = "difficulty", _("困难群众")

    canteen = models.ForeignKey(Canteen, models.PROTECT, related_name="diners")
    name = models.CharField(_("姓名"), max_length=32)
    id_key = models.CharField(max_length=64, editable=False)
    id_masked = models.CharField(_("身份证号"), max_length=18, editable=False)
    born = models.DateField(_("出生日期"), editable=False)
    category = models.CharField(_("类别"), max_length=16, choices=Category.choices)
    # For 困难群众: the document that proves it (低保证、特困证 number...).
    proof = models.CharField(_("困难证明"), max_length=64, blank=True)
    active = models.BooleanField(_("在册"), default=True)
    registered_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        ordering = ["canteen", "name"]
        verbose_name = _("就餐老人")
        verbose_name_plural = _("就餐老人")
        constraints = [
            models.UniqueConstraint(fields=["canteen", "id_key"], name="one_diner_per_canteen")
        ]

    def __str__(self) -> str:
        return self.id_masked


class MealCheckIn(models.Model):
    """One meal day of one diner: what they paid and the subsidy, fixed at check-in."""

    diner = models.ForeignKey(Diner, models.PROTECT, related_name="meals")
    canteen = models.ForeignKey(Canteen, models.PROTECT, related_name="meals")
    day = models.DateField(_("日期"))
    fee = models.DecimalField(_("个人缴费（元）"), max_digits=10, decimal_places=2)
    subsidy = models.DecimalField(_("补贴（元）"), max_digits=10, decimal_places=2)
    at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey("core.User", models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-day"]
        verbose_name = _("就餐登记")
        verbose_name_plural = _("就餐登记")
        constraints = [
            models.UniqueConstraint(fields=["diner", "day"], name="one_meal_check_in_per_day")
        ]
        indexes = [models.Index(fields=["canteen", "day"])]

    def __str__(self) -> str:
        return f"{self.diner} {self.day}"
