"""The proxy service (代办帮办): a village or community proxy worker takes a citizen's
matter from the catalogue, collects the materials and relays the case community → town →
county (接力); the county department handles it, the result comes back and the citizen
rates the service through 好差评.

Each stage has a deadline in working days (``RelaySettings``), stored on the case as
``due_at`` and swept by the worker. Who may see a case: the town government it started in,
the department holding it now, and every department it passed through (``departments``).
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minsheng.core.models import Department, Division, SettingsRow


class RelaySettings(SettingsRow):
    """The working days each stage may take (one row, edited in the admin)."""

    community_days = models.PositiveSmallIntegerField(
        _("村（社区）收件移交时限（工作日）"),
        default=1,
        help_text=_("代办员收齐材料并移交乡镇（街道）的时限，退回补正后同样适用"),
    )
    town_days = models.PositiveSmallIntegerField(_("乡镇（街道）审核移交时限（工作日）"), default=2)
    county_default_days = models.PositiveSmallIntegerField(
        _("县级部门默认办理时限（工作日）"),
        default=5,
        help_text=_("事项有承诺办结时限的按承诺时限，没有的按此时限"),
    )
    handback_days = models.PositiveSmallIntegerField(_("结果交付群众时限（工作日）"), default=1)

    class Meta:
        verbose_name = _("代办时限设置")
        verbose_name_plural = _("代办时限设置")

    def __str__(self) -> str:
        return str(_("代办时限设置"))


class Level(models.TextChoices):
    COMMUNITY = "community", _("村（社区）")
    TOWN = "town", _("乡镇（街道）")
    COUNTY = "county", _("县级部门")


class State(models.TextChoices):
    COLLECTING = "collecting", _("收件中")
    TO_TOWN = "to_town", _("已移交乡镇，待签收")
    AT_TOWN = "at_town", _("乡镇审核中")
    TO_COUNTY = "to_county", _("已移交县级部门，待签收")
    AT_COUNTY = "at_county", _("县级部门办理中")
    RETURNED = "returned", _("退回补正")
    DONE = "done", _("已办结，待交付")
    DELIVERED = "delivered", _("已交付群众")
    CANCELLED = "cancelled", _("已撤销")


S = State
# The only definition of the relay: ``RelayCase.check_transition`` reads it and every
# action moves a case through ``actions._advance``, which calls it.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.COLLECTING: frozenset({S.TO_TOWN, S.CANCELLED}),
    S.TO_TOWN: frozenset({S.AT_TOWN}),
    S.AT_TOWN: frozenset({S.TO_COUNTY, S.RETURNED, S.CANCELLED}),
    S.TO_COUNTY: frozenset({S.AT_COUNTY}),
    S.AT_COUNTY: frozenset({S.DONE, S.RETURNED, S.CANCELLED}),
    # Back at the community with the missing materials named: collected, it goes on again.
    S.RETURNED: frozenset({S.TO_TOWN, S.CANCELLED}),
    S.DONE: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset(),
    S.CANCELLED: frozenset(),
}
FINAL_STATES = frozenset({S.DELIVERED, S.CANCELLED})
OPEN_STATES = frozenset(set(State) - FINAL_STATES)
# Where each state leaves the case: the level holding it.
LEVEL_OF_STATE: dict[str, str] = {
    S.COLLECTING: Level.COMMUNITY,
    S.TO_TOWN: Level.TOWN,
    S.AT_TOWN: Level.TOWN,
    S.TO_COUNTY: Level.COUNTY,
    S.AT_COUNTY: Level.COUNTY,
    S.RETURNED: Level.COMMUNITY,
    S.DONE: Level.COMMUNITY,
    S.DELIVERED: Level.COMMUNITY,
    S.CANCELLED: Level.COMMUNITY,
}


class InvalidTransition(Exception):
    def __init__(self, source: str, target: str) -> None:
        super().__init__(f"{source} → {target}")
        self.source = source
        self.target = target


class CaseQuerySet(models.QuerySet["RelayCase"]):
    def open(self) -> CaseQuerySet:
        return self.filter(state__in=sorted(OPEN_STATES))

    def overdue(self, now: dt.datetime | None = None) -> CaseQuerySet:
        return self.open().filter(due_at__lt=now or timezone.now())


class RelayCase(models.Model):
    # The town government it started in, the department holding it and every department it
    # passed through: each of them sees the case, no one else (core.policy).
    scope_fields: ClassVar[tuple[str, ...]] = (
        "origin_department",
        "holder_department",
        "departments",
    )

    number = models.CharField(_("代办编号"), max_length=24, unique=True)
    matter = models.ForeignKey(
        "catalog.ServiceMatter",
        models.PROTECT,
        related_name="relay_cases",
        verbose_name=_("办理事项"),
    )
    citizen_name = models.CharField(_("群众姓名"), max_length=32)
    mobile = models.CharField(_("手机号"), max_length=11)
    # The ID number itself is never stored (core.idnumber): its keyed hash and masked form.
    id_key = models.CharField(max_length=64, blank=True, editable=False)
    id_masked = models.CharField(_("身份证号"), max_length=18, blank=True, editable=False)
    village = models.ForeignKey(
        Division, models.PROTECT, related_name="+", verbose_name=_("所在村（社区）")
    )
    origin_department = models.ForeignKey(
        Department, models.PROTECT, related_name="relay_cases_started", verbose_name=_("代办乡镇")
    )
    holder_level = models.CharField(
        _("当前环节"), max_length=12, choices=Level.choices, default=Level.COMMUNITY
    )
    holder_department = models.ForeignKey(
        Department, models.PROTECT, related_name="relay_cases_held", verbose_name=_("当前经办单位")
    )
    departments = models.ManyToManyField(
        Department, related_name="relay_cases_passed", verbose_name=_("经手单位"), blank=True
    )
    state = models.CharField(_("状态"), max_length=12, choices=State.choices, default=S.COLLECTING)
    version = models.PositiveIntegerField(default=0, editable=False)
    opened_at = models.DateTimeField(_("受理时间"), default=timezone.now)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("代办员"),
    )
    # The current stage: when it started and how many working days it has; ``due_at`` is
    # computed from them by core.calendar (and again when a provisional year becomes known).
    stage_started_at = models.DateTimeField(default=timezone.now)
    stage_days = models.PositiveSmallIntegerField(default=0)
    due_at = models.DateTimeField(_("本环节期限"), null=True, blank=True)
    due_provisional = models.BooleanField(default=False)
    overdue_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    return_reason = models.CharField(_("退回补正原因"), max_length=200, blank=True)
    result = models.CharField(_("办理结果"), max_length=200, blank=True)
    completed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("交付时间"), null=True, blank=True)
    cancel_reason = models.CharField(_("撤销原因"), max_length=200, blank=True)
    cancelled_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    event = models.OneToOneField(
        "evaluation.ServiceEvent",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="relay_case",
        verbose_name=_("好差评办件"),
    )

    objects: ClassVar[CaseQuerySet] = CaseQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ["-opened_at", "-pk"]
        verbose_name = _("代办件")
        verbose_name_plural = _("代办件")
        indexes = [
            # The overdue sweep and the overdue filter read open cases by deadline only.
            models.Index(
                fields=["due_at"],
                name="relay_open_due_idx",
                condition=Q(state__in=sorted(OPEN_STATES)),
            ),
            models.Index(fields=["origin_department", "-opened_at"], name="relay_origin_idx"),
            models.Index(fields=["holder_department", "state"], name="relay_holder_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    def can_transition(self, target: str) -> bool:
        return target in TRANSITIONS[self.state]

    def check_transition(self, target: str) -> None:
        """Raise unless the relay allows ``target`` from the current state."""
        if not self.can_transition(target):
            raise InvalidTransition(self.state, target)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def is_overdue(self, now: dt.datetime | None = None) -> bool:
        return self.is_open and self.due_at is not None and self.due_at < (now or timezone.now())


class Material(models.Model):
    """One document of the case's checklist, from the matter's 办事指南 or added by hand."""

    case = models.ForeignKey(RelayCase, models.CASCADE, related_name="materials")
    name = models.CharField(_("材料名称"), max_length=255)
    required = models.BooleanField(_("必需"), default=True)
    copies = models.PositiveSmallIntegerField(_("份数"), default=1)
    received = models.BooleanField(_("已收取"), default=False)
    note = models.CharField(_("备注"), max_length=255, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["case", "order", "pk"]
        verbose_name = _("代办材料")
        verbose_name_plural = _("代办材料")

    def __str__(self) -> str:
        return self.name


class Handover(models.Model):
    """One link of the relay: the case sent on (and signed for by the next level), sent back
    for missing materials, or the result sent back to the community to hand to the citizen."""

    class Kind(models.TextChoices):
        FORWARD = "forward", _("移交")
        RETURN = "return", _("退回补正")
        RESULT = "result", _("结果回传")

    case = models.ForeignKey(RelayCase, models.CASCADE, related_name="handovers")
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices, default=Kind.FORWARD)
    from_level = models.CharField(_("移交环节"), max_length=12, choices=Level.choices)
    from_department = models.ForeignKey(
        Department, models.PROTECT, related_name="+", verbose_name=_("移交单位")
    )
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("移交人"),
    )
    to_level = models.CharField(_("接收环节"), max_length=12, choices=Level.choices)
    to_department = models.ForeignKey(
        Department, models.PROTECT, related_name="+", verbose_name=_("接收单位")
    )
    sent_at = models.DateTimeField(_("移交时间"), default=timezone.now)
    due_at = models.DateTimeField(_("接收环节期限"), null=True, blank=True)
    received_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("签收人"),
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        ordering = ["case", "sent_at", "pk"]
        verbose_name = _("移交记录")
        verbose_name_plural = _("移交记录")

    def __str__(self) -> str:
        return f"{self.case} {self.get_from_level_display()}→{self.get_to_level_display()}"


class DailyCounter(models.Model):
    """The last number given out on a day; locked while a case is opened (``numbers``)."""

    day = models.DateField(primary_key=True)
    value = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("代办编号计数")
        verbose_name_plural = _("代办编号计数")

    def __str__(self) -> str:
        return f"{self.day} {self.value}"
