"""好差评: service events (办件), their ratings, 差评 cases, staff appeals and the rollup."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minsheng.core.models import Department, SettingsRow, Window
from minsheng.core.models.org import mobile_validator
from minsheng.evaluation.states import (
    BEFORE_FEEDBACK,
    BEFORE_VERIFY,
    OPEN_STATES,
    STEPS,
    CaseState,
    InvalidStep,
)


class Level(models.IntegerChoices):
    VERY_GOOD = 5, _("非常满意")
    GOOD = 4, _("满意")
    BASIC = 3, _("基本满意")
    BAD = 2, _("不满意")
    VERY_BAD = 1, _("非常不满意")


GOOD_LEVELS = frozenset({Level.VERY_GOOD, Level.GOOD})
BAD_LEVELS = frozenset({Level.BAD, Level.VERY_BAD})


class Reason(models.TextChoices):
    """Why a citizen was unsatisfied (GB/T 39734-2020's list, as the national platform)."""

    GUIDE = "guide", _("办事指南不清晰")
    MATERIALS = "materials", _("材料繁琐")
    VISITS = "visits", _("多次跑动")
    WAITING = "waiting", _("等待时间长")
    ATTITUDE = "attitude", _("服务态度差")
    OVERTIME = "overtime", _("办理超时")
    OTHER = "other", _("其他")


class Indicator(models.TextChoices):
    """The item indicators of the online form (each rated 1–5)."""

    EFFICIENCY = "efficiency", _("办事效率")
    GUIDE = "guide", _("办事指南准确度")
    CONVENIENCE = "convenience", _("办事便捷度")
    ATTITUDE = "attitude", _("服务态度")


class ServiceChannel(models.TextChoices):
    """Where the service itself was given."""

    WINDOW = "window", _("窗口办理")
    ONLINE = "online", _("网上办理")
    MOBILE = "mobile", _("掌上办理")
    SELF = "self", _("自助终端")
    # Done for the citizen by a village or community proxy worker (minsheng.relay).
    PROXY = "proxy", _("代办帮办")


class RatingChannel(models.TextChoices):
    """Where the rating came from."""

    PAD = "pad", _("面对面评价器")
    KIOSK = "kiosk", _("背对背专区")
    LINK = "link", _("离场评价（短信/二维码）")
    HOTLINE = "hotline", _("12345热线")
    API = "api", _("系统对接")
    DEFAULT = "default", _("默认评价")


class DefaultMode(models.TextChoices):
    OFF = "off", _("不设默认评价")
    BASIC = "basic", _("默认“基本满意”")


class EvaluationSettings(SettingsRow):
    """The county's 好差评 rules that are data, not code (one row, edited in the admin)."""

    default_mode = models.CharField(
        _("逾期未评价"), max_length=8, choices=DefaultMode.choices, default=DefaultMode.OFF
    )
    default_after_days = models.PositiveSmallIntegerField(
        _("默认评价天数(自然日)"), default=15, help_text=_("办件后多少个自然日内未评价即默认评价")
    )
    link_valid_days = models.PositiveSmallIntegerField(_("评价链接有效期(自然日)"), default=7)
    verify_days = models.PositiveSmallIntegerField(
        _("回访核实时限(工作日)"), default=1, help_text=_("差评产生后多少个工作日内回访核实")
    )
    rectify_days = models.PositiveSmallIntegerField(
        _("整改反馈时限(工作日)"), default=5, help_text=_("差评产生后多少个工作日内整改并反馈")
    )
    kiosk_lookback_hours = models.PositiveSmallIntegerField(
        _("背对背评价可评办件范围(小时)"), default=12
    )

    class Meta:
        verbose_name = _("好差评规则")
        verbose_name_plural = _("好差评规则")

    def __str__(self) -> str:
        return str(_("好差评规则"))


class PadDevice(models.Model):
    """A window's rating tablet (评价器), bound by staff; it proves itself with a token
    whose SHA-256 only is stored (the tablet keeps the token in its localStorage)."""

    window = models.ForeignKey(Window, models.CASCADE, related_name="pads", verbose_name=_("窗口"))
    name = models.CharField(_("设备名称"), max_length=64, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("绑定时间"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_seen_at = models.DateTimeField(_("最近联网"), null=True, blank=True)

    class Meta:
        verbose_name = _("窗口评价器")
        verbose_name_plural = _("窗口评价器")

    def __str__(self) -> str:
        return f"{self.window} {self.name}".strip()


class EventQuerySet(models.QuerySet["ServiceEvent"]):
    def unrated(self) -> EventQuerySet:
        return self.filter(rated_at__isnull=True)


class ServiceEvent(models.Model):
    """One service given (办件): rated at most once."""

    matter = models.ForeignKey(
        "catalog.ServiceMatter",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="service_events",
        verbose_name=_("办理事项"),
    )
    department = models.ForeignKey(
        Department, models.PROTECT, related_name="service_events", verbose_name=_("部门")
    )
    window = models.ForeignKey(
        Window,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="service_events",
        verbose_name=_("窗口"),
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="service_events",
        verbose_name=_("工作人员"),
    )
    channel = models.CharField(
        _("办理渠道"), max_length=8, choices=ServiceChannel.choices, default=ServiceChannel.WINDOW
    )
    mobile = models.CharField(
        _("办事人手机号"), max_length=11, blank=True, validators=[mobile_validator]
    )
    external_id = models.CharField(_("业务系统办件号"), max_length=64, blank=True)
    started_at = models.DateTimeField(_("开始时间"), default=timezone.now)
    finished_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    rated_at = models.DateTimeField(_("评价时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects: ClassVar[EventQuerySet] = EventQuerySet.as_manager()  # type: ignore[assignment]

    scope_fields = ("department",)

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("办件")
        verbose_name_plural = _("办件")
        indexes = [
            models.Index(fields=["window", "-started_at"], name="eval_event_window"),
            models.Index(fields=["staff", "-started_at"], name="eval_event_staff"),
            models.Index(fields=["started_at"], name="eval_event_started"),
            # The default-rating sweep looks only at unrated events.
            models.Index(
                fields=["started_at"], name="eval_event_unrated", condition=Q(rated_at__isnull=True)
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "external_id"],
                condition=~Q(external_id=""),
                name="eval_event_unique_external_id",
            )
        ]

    def __str__(self) -> str:
        return str(self.number)

    @property
    def number(self) -> str:
        local = timezone.localtime(self.started_at)
        return f"BJ{local:%Y%m%d}{self.pk:07d}"


class Rating(models.Model):
    """A citizen's rating of one service event (unique per event)."""

    event = models.OneToOneField(
        ServiceEvent, models.PROTECT, related_name="rating", verbose_name=_("办件")
    )
    level = models.PositiveSmallIntegerField(_("评价等级"), choices=Level.choices)
    channel = models.CharField(_("评价渠道"), max_length=8, choices=RatingChannel.choices)
    reasons = models.JSONField(_("差评原因"), default=list, blank=True)
    comment = models.TextField(_("评价意见"), blank=True)
    indicators = models.JSONField(_("分项评价"), default=dict, blank=True)
    created_at = models.DateTimeField(_("评价时间"), default=timezone.now)
    pad = models.ForeignKey(PadDevice, models.SET_NULL, null=True, blank=True, related_name="+")
    client_uuid = models.UUIDField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("记录人"),
    )
    # Copied from the event so that the statistics read one table.
    department = models.ForeignKey(Department, models.PROTECT, related_name="+")
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="ratings"
    )
    # An upheld staff appeal takes the rating out of the statistics; the record stays.
    excluded = models.BooleanField(_("申诉成立，不计入统计"), default=False)

    scope_fields = ("department",)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("评价")
        verbose_name_plural = _("评价")
        constraints = [
            # The offline queue resends: one rating per pad and client-made UUID.
            models.UniqueConstraint(
                fields=["pad", "client_uuid"],
                condition=Q(client_uuid__isnull=False),
                name="eval_rating_unique_pad_uuid",
            ),
        ]
        indexes = [
            models.Index(fields=["staff", "-created_at"], name="eval_rating_staff"),
            # The pads' rate limit counts a pad's ratings of the last minute.
            models.Index(
                fields=["pad", "created_at"],
                name="eval_rating_pad_recent",
                condition=Q(pad__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.get_level_display()}"

    @property
    def is_bad(self) -> bool:
        return self.level in BAD_LEVELS

    def reason_labels(self) -> list[str]:
        return [str(Reason(r).label) for r in self.reasons if r in Reason.values]


class Finding(models.TextChoices):
    REASONABLE = "reasonable", _("合理")
    UNREASONABLE = "unreasonable", _("不合理")
    MALICIOUS = "malicious", _("恶意")


def overdue_q(now: dt.datetime) -> Q:
    """Cases past the deadline of the step they wait for (also for scoped querysets)."""
    return Q(state__in=BEFORE_VERIFY, verify_due_at__lt=now) | Q(
        state__in=BEFORE_FEEDBACK, rectify_due_at__lt=now
    )


class CaseQuerySet(models.QuerySet["Case"]):
    def open(self) -> CaseQuerySet:
        return self.filter(state__in=OPEN_STATES)

    def overdue(self, now: dt.datetime | None = None) -> CaseQuerySet:
        return self.filter(overdue_q(now or timezone.now()))


class Case(models.Model):
    """The rectification of one bad rating (差评整改)."""

    rating = models.OneToOneField(Rating, models.PROTECT, related_name="case")
    department = models.ForeignKey(
        Department, models.PROTECT, related_name="evaluation_cases", verbose_name=_("责任部门")
    )
    state = models.CharField(
        _("状态"), max_length=12, choices=CaseState.choices, default=CaseState.VERIFYING
    )
    opened_at = models.DateTimeField(_("产生时间"), default=timezone.now)
    verify_due_at = models.DateTimeField(_("回访核实期限"))
    rectify_due_at = models.DateTimeField(_("整改反馈期限"))
    due_provisional = models.BooleanField(default=False)
    verified_at = models.DateTimeField(_("回访时间"), null=True, blank=True)
    verify_note = models.TextField(_("回访核实情况"), blank=True)
    finding = models.CharField(_("定性"), max_length=12, choices=Finding.choices, blank=True)
    finding_note = models.TextField(_("定性说明"), blank=True)
    measures = models.TextField(_("整改措施"), blank=True)
    evidence = models.TextField(_("整改佐证"), blank=True)
    rectified_at = models.DateTimeField(_("整改时间"), null=True, blank=True)
    feedback_note = models.TextField(_("反馈情况"), blank=True)
    feedback_level = models.PositiveSmallIntegerField(
        _("群众对整改的评价"), choices=Level.choices, null=True, blank=True
    )
    fed_back_at = models.DateTimeField(_("反馈时间"), null=True, blank=True)
    review_note = models.TextField(_("复核意见"), blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    version = models.PositiveIntegerField(default=0)

    objects: ClassVar[CaseQuerySet] = CaseQuerySet.as_manager()  # type: ignore[assignment]

    scope_fields = ("department",)

    class Meta:
        ordering = ["-opened_at", "-pk"]
        verbose_name = _("差评整改")
        verbose_name_plural = _("差评整改")
        indexes = [
            models.Index(
                fields=["rectify_due_at"],
                name="eval_case_open_due",
                condition=~Q(state="closed"),
            ),
        ]

    def __str__(self) -> str:
        return f"{_('差评整改')} {self.rating.event}"

    def move(self, step: str) -> str:
        """Take ``step``; returns the state before. Raises InvalidStep when not allowed."""
        sources, target = STEPS[step]
        if self.state not in sources:
            raise InvalidStep(self.state, step)
        before = self.state
        self.state = target
        self.version += 1
        return before

    def is_overdue(self, now: dt.datetime | None = None) -> bool:
        now = now or timezone.now()
        return (self.state in BEFORE_VERIFY and self.verify_due_at < now) or (
            self.state in BEFORE_FEEDBACK and self.rectify_due_at < now
        )


class StaffAppeal(models.Model):
    """A staff member's appeal (申诉) against a rating they think unfair."""

    class Decision(models.TextChoices):
        PENDING = "pending", _("待审核")
        UPHELD = "upheld", _("申诉成立")
        REJECTED = "rejected", _("申诉不成立")

    rating = models.ForeignKey(Rating, models.PROTECT, related_name="appeals")
    department = models.ForeignKey(Department, models.PROTECT, related_name="+")
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    reason = models.TextField(_("申诉理由"))
    filed_at = models.DateTimeField(_("申诉时间"), default=timezone.now)
    decision = models.CharField(
        _("审核结果"), max_length=8, choices=Decision.choices, default=Decision.PENDING
    )
    decision_note = models.TextField(_("审核意见"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)

    scope_fields = ("department",)

    class Meta:
        ordering = ["-filed_at", "-pk"]
        verbose_name = _("差评申诉")
        verbose_name_plural = _("差评申诉")
        constraints = [
            models.UniqueConstraint(
                fields=["rating"], condition=Q(decision="pending"), name="eval_one_pending_appeal"
            )
        ]

    def __str__(self) -> str:
        return f"{_('申诉')} {self.rating.event}"


class MonthlyStat(models.Model):
    """Monthly rollup of events and ratings by (department, window, staff, matter, rating
    channel), rebuilt per month by the worker: statistics over a million ratings read
    this table instead. ``channel`` is "" for events that have no rating."""

    month = models.DateField()
    department = models.ForeignKey(Department, models.CASCADE, related_name="+")
    window = models.ForeignKey(Window, models.CASCADE, null=True, related_name="+")
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, null=True, related_name="+")
    matter = models.ForeignKey("catalog.ServiceMatter", models.CASCADE, null=True, related_name="+")
    channel = models.CharField(max_length=8, blank=True)
    events = models.PositiveIntegerField(default=0)
    rated = models.PositiveIntegerField(default=0)  # counted ratings, not default ones
    defaulted = models.PositiveIntegerField(default=0)
    excluded = models.PositiveIntegerField(default=0)
    good = models.PositiveIntegerField(default=0)
    bad = models.PositiveIntegerField(default=0)
    level_sum = models.PositiveIntegerField(default=0)
    bad_verified = models.PositiveIntegerField(default=0)
    bad_rectified = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["month", "department"], name="eval_monthly_month")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.department_id}"


class DirtyMonth(models.Model):
    """A month whose rollup must be rebuilt (written by the actions, read by the worker)."""

    month = models.DateField(primary_key=True)
    marked_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"
