"""Open school venues (校园运动场开放): venues with staggered opening hours and published
closures, registered residents, and the gate's record of every passage."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minsheng.core.models import Department, Division


class Venue(models.Model):
    class Kind(models.TextChoices):
        HALL = "hall", _("室内体育馆")
        TRACK = "track", _("田径场")
        FOOTBALL = "football", _("足球场")
        BASKETBALL = "basketball", _("篮球场")

    # Rules a department-scoped user is held to (core.policy).
    scope_fields: ClassVar[tuple[str, ...]] = ("department",)

    code = models.CharField(_("编码"), max_length=32, unique=True)
    school = models.CharField(_("学校"), max_length=64)
    name = models.CharField(_("场地名称"), max_length=64)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    department = models.ForeignKey(
        Department, models.PROTECT, related_name="venues", verbose_name=_("管理单位")
    )
    town = models.ForeignKey(
        Division, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("乡镇")
    )
    capacity = models.PositiveIntegerField(_("最大容纳人数"), validators=[MinValueValidator(1)])
    # Live occupancy: changed only by conditional UPDATEs in actions.pass_gate, and the
    # database refuses any value above the capacity.
    inside = models.PositiveIntegerField(_("场内人数"), default=0, editable=False)
    active = models.BooleanField(_("开放"), default=True)

    class Meta:
        ordering = ["school", "code"]
        verbose_name = _("开放场地")
        verbose_name_plural = _("开放场地")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(inside__lte=models.F("capacity")),
                name="venue_inside_within_capacity",
                violation_error_message=_("场内人数不能超过最大容纳人数"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.school}·{self.name}"

    # Both read ``.all()`` so that the pages, which prefetch hours and closures for every
    # venue, ask no query per venue; the gate asks for one venue (a few rows each).
    def closure_at(self, moment: dt.datetime) -> Closure | None:
        return next((c for c in self.closures.all() if c.starts_at <= moment < c.ends_at), None)

    def open_at(self, moment: dt.datetime) -> bool:
        """Inside a period of the opening hours of that weekday (local time)."""
        local = timezone.localtime(moment)
        return any(
            h.weekday == local.weekday() and h.opens <= local.time() < h.closes
            for h in self.hours.all()
        )


class OpeningHours(models.Model):
    """One opening period of a weekday, outside school time (several per day allowed)."""

    class Weekday(models.IntegerChoices):
        MON = 0, _("周一")
        TUE = 1, _("周二")
        WED = 2, _("周三")
        THU = 3, _("周四")
        FRI = 4, _("周五")
        SAT = 5, _("周六")
        SUN = 6, _("周日")

    venue = models.ForeignKey(Venue, models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(_("星期"), choices=Weekday.choices)
    opens = models.TimeField(_("开放时间"))
    closes = models.TimeField(_("关闭时间"))

    class Meta:
        ordering = ["weekday", "opens"]
        verbose_name = _("开放时段")
        verbose_name_plural = _("开放时段")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(opens__lt=models.F("closes")),
                name="opening_hours_opens_before_closes",
                violation_error_message=_("关闭时间应晚于开放时间"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class Closure(models.Model):
    """A published closure (exams, maintenance, events): the gate says 闭馆 meanwhile."""

    venue = models.ForeignKey(Venue, models.CASCADE, related_name="closures")
    starts_at = models.DateTimeField(_("开始"))
    ends_at = models.DateTimeField(_("结束"))
    reason = models.CharField(_("原因"), max_length=128)
    announced_at = models.DateTimeField(_("公告时间"), auto_now_add=True)

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("临时闭馆")
        verbose_name_plural = _("临时闭馆")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(starts_at__lt=models.F("ends_at")),
                name="closure_starts_before_it_ends",
                violation_error_message=_("结束时间应晚于开始时间"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.venue} {self.reason}"


class Resident(models.Model):
    """A resident registered to use the venues. The ID number is kept only as a keyed hash
    (core.idnumber) and in masked form."""

    id_key = models.CharField(max_length=64, unique=True, editable=False)
    id_masked = models.CharField(_("身份证号"), max_length=18, editable=False)
    name = models.CharField(_("姓名"), max_length=32)
    mobile = models.CharField(_("手机号"), max_length=11, blank=True)
    # The identity token the gate's face-recognition unit reports, when it has one: the
    # product never sees a face, it trusts the gate.
    gate_identity = models.CharField(
        _("闸机身份标识"), max_length=64, null=True, blank=True, unique=True
    )
    banned = models.BooleanField(_("禁止入场"), default=False)
    ban_reason = models.CharField(_("禁止原因"), max_length=128, blank=True)
    registered_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        ordering = ["-registered_at"]
        verbose_name = _("登记居民")
        verbose_name_plural = _("登记居民")

    def __str__(self) -> str:
        return self.id_masked


class Visit(models.Model):
    """A resident inside a venue: open until the exit. One open visit per person and venue
    (a partial unique constraint), so a repeated entry never counts twice."""

    venue = models.ForeignKey(Venue, models.PROTECT, related_name="visits")
    resident = models.ForeignKey(Resident, models.PROTECT, related_name="visits")
    entered_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-entered_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["venue", "resident"],
                condition=models.Q(left_at__isnull=True),
                name="one_open_visit_per_resident_and_venue",
            )
        ]

    def __str__(self) -> str:
        return f"{self.venue} {self.resident} {self.entered_at:%Y-%m-%d %H:%M}"


class GatePassage(models.Model):
    """Every question the gate asked and the answer it got (the usage statistics)."""

    class Direction(models.TextChoices):
        IN = "in", _("入场")
        OUT = "out", _("离场")

    class Reason(models.TextChoices):
        OK = "ok", _("准许")
        ALREADY_INSIDE = "already_inside", _("已在场内")
        CLOSED = "closed", _("现在不开放")
        FULL = "full", _("场内已满")
        NOT_REGISTERED = "not_registered", _("未登记")
        BANNED = "banned", _("已被禁止入场")

    venue = models.ForeignKey(Venue, models.PROTECT, related_name="passages")
    resident = models.ForeignKey(
        Resident, models.PROTECT, null=True, blank=True, related_name="passages"
    )
    direction = models.CharField(max_length=3, choices=Direction.choices)
    allowed = models.BooleanField()
    reason = models.CharField(max_length=16, choices=Reason.choices)
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["venue", "at"])]

    def __str__(self) -> str:
        return f"{self.venue} {self.get_direction_display()} {self.get_reason_display()}"
