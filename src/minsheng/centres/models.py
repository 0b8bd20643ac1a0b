"""Neighbourhood centres (邻里中心): one per village or community, built in batches, each with
its "7+X" functions; and what the centre's workers record there: villagers' opinions (each
an appeal with the centre as its channel), practical matters handled on the spot, and
neighbour disputes mediated, with the follow-up visit due a number of working days later."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minsheng.appeals.attachments import ALLOWED
from minsheng.core.models import Department, Division, SettingsRow


class Batch(models.Model):
    """A construction batch the county decides (第一批 100 个村...)."""

    name = models.CharField(_("批次"), max_length=32, unique=True)
    year = models.PositiveSmallIntegerField(_("年度"))
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        ordering = ["year", "pk"]
        verbose_name = _("建设批次")
        verbose_name_plural = _("建设批次")

    def __str__(self) -> str:
        return self.name


class Status(models.TextChoices):
    PLANNED = "planned", _("规划中")
    BUILDING = "building", _("建设中")
    BASIC = "basic", _("基本建成")
    IN_USE = "in_use", _("投入使用")


# One step forward at a time; one step back when a plan is put off or a centre has to be
# rebuilt or closed for repairs (the change then needs a reason, see ``needs_note``).
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.PLANNED: frozenset({Status.BUILDING}),
    Status.BUILDING: frozenset({Status.BASIC, Status.PLANNED}),
    Status.BASIC: frozenset({Status.IN_USE, Status.BUILDING}),
    Status.IN_USE: frozenset({Status.BASIC}),
}
ORDER = list(Status.values)
# Built (建成) in the figures: basically built or in use.
BUILT = (Status.BASIC, Status.IN_USE)


def town_department(village: Division) -> Department | None:
    """The town government (乡镇政府/街道办事处) of the village's town."""
    if village.parent_id is None:
        return None
    return Department.objects.filter(
        kind=Department.Kind.TOWN, division_id=village.parent_id
    ).first()


class Centre(models.Model):
    scope_fields: ClassVar[tuple[str, ...]] = ("department",)

    village = models.OneToOneField(
        Division,
        models.PROTECT,
        related_name="centre",
        verbose_name=_("村（社区）"),
        limit_choices_to={"level": Division.Level.VILLAGE},
    )
    # The town government runs its villages' centres; its staff see only theirs.
    department = models.ForeignKey(
        Department, models.PROTECT, related_name="centres", verbose_name=_("主管单位")
    )
    name = models.CharField(
        _("名称"), max_length=64, blank=True, help_text=_("留空则为“村名+邻里中心”")
    )
    batch = models.ForeignKey(
        Batch,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="centres",
        verbose_name=_("建设批次"),
    )
    # Written only by actions.change_status, through ``can_move_to``.
    status = models.CharField(
        _("建设状态"), max_length=12, choices=Status.choices, default=Status.PLANNED
    )
    status_on = models.DateField(_("状态日期"), default=timezone.localdate)
    address = models.CharField(_("地址"), max_length=200, blank=True)

    class Meta:
        ordering = ["village__code"]
        verbose_name = _("邻里中心")
        verbose_name_plural = _("邻里中心")
        indexes = [models.Index(fields=["department", "status"], name="centre_dept_status_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def code(self) -> str:
        return self.village.code

    def can_move_to(self, target: str) -> bool:
        return target in TRANSITIONS.get(self.status, frozenset())

    def needs_note(self, target: str) -> bool:
        """A step back is explained."""
        return ORDER.index(target) < ORDER.index(self.status)

    @property
    def next_statuses(self) -> list[Status]:
        return [Status(s) for s in ORDER if self.can_move_to(s)]

    @property
    def open(self) -> bool:
        """Whether the centre receives villagers (basically built or in use)."""
        return self.status in BUILT


class StatusChange(models.Model):
    """When each status was reached, and who recorded it."""

    centre = models.ForeignKey(Centre, models.CASCADE, related_name="status_changes")
    from_status = models.CharField(_("原状态"), max_length=12, blank=True)
    to_status = models.CharField(_("新状态"), max_length=12, choices=Status.choices)
    on = models.DateField(_("日期"))
    note = models.CharField(_("说明"), max_length=200, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["centre", "on", "pk"]
        verbose_name = _("建设状态变更")
        verbose_name_plural = _("建设状态变更")

    def __str__(self) -> str:
        return f"{self.centre} {self.get_to_status_display()} {self.on}"


class FunctionKind(models.Model):
    """A function a centre may offer: the seven basic ones of "7+X" and the extensions."""

    code = models.SlugField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=32)
    basic = models.BooleanField(_("基本功能"), default=False, help_text=_("“7+X”中的 7 项"))
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["-basic", "order", "code"]
        verbose_name = _("功能类别")
        verbose_name_plural = _("功能类别")

    def __str__(self) -> str:
        return self.name


class FunctionState(models.TextChoices):
    """What the 7+X checklist says of one function at one centre."""

    NONE = "none", _("未配置")
    PLANNED = "planned", _("已配置，未投用")
    IN_SERVICE = "in_service", _("已投用")


class CentreFunction(models.Model):
    """A function the centre has: planned (a room set aside) or in service."""

    centre = models.ForeignKey(Centre, models.CASCADE, related_name="functions")
    kind = models.ForeignKey(FunctionKind, models.PROTECT, related_name="+")
    in_service = models.BooleanField(_("已投用"), default=False)
    note = models.CharField(_("说明"), max_length=100, blank=True)

    class Meta:
        ordering = ["centre", "-kind__basic", "kind__order"]
        verbose_name = _("中心功能")
        verbose_name_plural = _("中心功能")
        constraints = [
            models.UniqueConstraint(fields=["centre", "kind"], name="one_function_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.centre} {self.kind}"

    @property
    def state(self) -> FunctionState:
        return FunctionState.IN_SERVICE if self.in_service else FunctionState.PLANNED


class CentreSettings(SettingsRow):
    """The county's rules for the centres that are data (one row, edited in the admin)."""

    follow_up_working_days = models.PositiveSmallIntegerField(
        _("调解后回访期限（工作日）"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )

    class Meta:
        verbose_name = _("邻里中心规则")
        verbose_name_plural = _("邻里中心规则")

    def __str__(self) -> str:
        return str(_("邻里中心规则"))


class Opinion(models.Model):
    """A villager's opinion or suggestion taken down at the centre: the appeal carries the
    content and the person (masked as appeals are); this row says which centre took it."""

    class Kind(models.TextChoices):
        OPINION = "opinion", _("意见")
        SUGGESTION = "suggestion", _("建议")

    centre = models.ForeignKey(Centre, models.PROTECT, related_name="opinions")
    appeal = models.OneToOneField(
        "appeals.Appeal", models.PROTECT, related_name="centre_opinion", verbose_name=_("诉求")
    )
    kind = models.CharField(_("类别"), max_length=12, choices=Kind.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("意见建议")
        verbose_name_plural = _("意见建议")
        indexes = [models.Index(fields=["centre", "created_at"], name="centre_opinion_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.appeal_id}"


class Matter(models.Model):
    """A practical matter handled at the centre for a villager (办实事)."""

    class Type(models.TextChoices):
        PROXY = "proxy", _("代缴代办")
        POLICY = "policy", _("政策咨询")
        CERTIFICATE = "certificate", _("证明开具")
        LIVING = "living", _("生活帮扶")
        OTHER = "other", _("其他")

    class Outcome(models.TextChoices):
        DONE = "done", _("办结")
        REFERRED = "referred", _("转办")
        UNABLE = "unable", _("无法办理")

    centre = models.ForeignKey(Centre, models.PROTECT, related_name="matters")
    type = models.CharField(_("类型"), max_length=12, choices=Type.choices)
    # Personal data: pages and exports show them masked.
    person_name = models.CharField(_("办事群众"), max_length=32)
    mobile = models.CharField(_("手机号"), max_length=11, blank=True)
    description = models.CharField(_("事项"), max_length=200)
    outcome = models.CharField(_("结果"), max_length=12, choices=Outcome.choices)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("经办人"),
    )
    handled_on = models.DateField(_("办理日期"))
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-handled_on", "-pk"]
        verbose_name = _("办理事项")
        verbose_name_plural = _("办理事项")
        indexes = [models.Index(fields=["centre", "handled_on"], name="centre_matter_idx")]

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.handled_on}"


class DisputeQuerySet(models.QuerySet["Dispute"]):
    def follow_up_open(self) -> DisputeQuerySet:
        return self.filter(follow_up_done_on__isnull=True)

    def follow_up_overdue(self, now: dt.datetime | None = None) -> DisputeQuerySet:
        return self.follow_up_open().filter(follow_up_due_at__lt=now or timezone.now())


def agreement_path(instance: Dispute, filename: str) -> str:
    # Never the uploaded file's name on disk: it may carry the parties' names.
    name = instance.agreement_sha256[:32] + ALLOWED.get(instance.agreement_type, "")
    return f"centres/agreements/{timezone.localdate():%Y/%m}/{name}"


class Dispute(models.Model):
    """A neighbour dispute mediated at the centre, and the follow-up visit after it."""

    class Type(models.TextChoices):
        NEIGHBOUR = "neighbour", _("邻里纠纷")
        FAMILY = "family", _("婚姻家庭")
        LAND = "land", _("宅基地/土地")
        LABOUR = "labour", _("劳务/债务")
        OTHER = "other", _("其他")

    class Outcome(models.TextChoices):
        RESOLVED = "resolved", _("调解成功")
        PARTIAL = "partial", _("部分达成")
        FAILED = "failed", _("未成功")
        REFERRED = "referred", _("转交司法所")

    centre = models.ForeignKey(Centre, models.PROTECT, related_name="disputes")
    # The parties' names (two or more): personal data, shown masked.
    parties = models.JSONField(_("当事人"), default=list)
    type = models.CharField(_("类型"), max_length=12, choices=Type.choices)
    description = models.TextField(_("纠纷情况"))
    mediator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("调解人"),
    )
    mediated_on = models.DateField(_("调解日期"))
    outcome = models.CharField(_("调解结果"), max_length=12, choices=Outcome.choices)
    agreement = models.FileField(_("调解协议书"), upload_to=agreement_path, blank=True)
    agreement_name = models.CharField(max_length=200, blank=True)
    agreement_type = models.CharField(max_length=64, blank=True)
    agreement_sha256 = models.CharField(max_length=64, blank=True)
    # Due at the end of the N-th working day after the mediation (core.calendar).
    follow_up_days = models.PositiveSmallIntegerField(_("回访期限（工作日）"))
    follow_up_due_at = models.DateTimeField(_("回访期限"))
    follow_up_provisional = models.BooleanField(_("期限待定"), default=False)
    follow_up_done_on = models.DateField(_("回访日期"), null=True, blank=True)
    follow_up_note = models.CharField(_("回访情况"), max_length=200, blank=True)
    follow_up_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = DisputeQuerySet.as_manager()

    class Meta:
        ordering = ["-mediated_on", "-pk"]
        verbose_name = _("矛盾纠纷调解")
        verbose_name_plural = _("矛盾纠纷调解")
        indexes = [
            models.Index(fields=["centre", "mediated_on"], name="centre_dispute_idx"),
            # The overdue list and the figures look only at visits not made yet.
            models.Index(
                fields=["follow_up_due_at"],
                name="centre_follow_up_open_idx",
                condition=models.Q(follow_up_done_on__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.mediated_on}"

    @property
    def follow_up_overdue(self) -> bool:
        return self.follow_up_done_on is None and self.follow_up_due_at < timezone.now()

    @property
    def follow_up_due_on(self) -> dt.date:
        return timezone.localdate(self.follow_up_due_at)
