"""The service catalogue (办事指南): service matters and where in the hall they are handled."""

from __future__ import annotations

from typing import ClassVar

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from minsheng.core.models import Department, Hall, Window


class MatterType(models.TextChoices):
    LICENSING = "licensing", _("行政许可")
    PUBLIC_SERVICE = "public_service", _("公共服务")
    CONFIRMATION = "confirmation", _("行政确认")
    PAYMENT = "payment", _("行政给付")
    LEVY = "levy", _("行政征收")
    ADJUDICATION = "adjudication", _("行政裁决")
    REWARD = "reward", _("行政奖励")
    OTHER = "other", _("其他行政权力")


class Audience(models.TextChoices):
    PERSON = "person", _("自然人")
    ORGANISATION = "organisation", _("法人和其他组织")
    BOTH = "both", _("自然人、法人和其他组织")


class MatterQuerySet(models.QuerySet["ServiceMatter"]):
    def active(self) -> MatterQuerySet:
        return self.filter(active=True)

    def high_frequency(self) -> MatterQuerySet:
        return self.filter(active=True, high_frequency=True).order_by("hf_order", "code")

    def with_details(self) -> MatterQuerySet:
        return self.select_related("department", "hall").prefetch_related(
            "windows__hall", "materials", "steps", "faqs"
        )


class ServiceMatter(models.Model):
    """One service matter (事项) with all the elements of its 办事指南."""

    code = models.CharField(_("事项编码"), max_length=32, unique=True)
    name = models.CharField(_("事项名称"), max_length=128)
    short_name = models.CharField(_("简称"), max_length=64, blank=True)
    aliases = models.TextField(
        _("别名/俗称"),
        blank=True,
        help_text=_("群众常用的叫法，每行一个或用“、”分隔，智能导服会用到"),
    )
    department = models.ForeignKey(
        Department,
        models.PROTECT,
        related_name="service_matters",
        verbose_name=_("实施部门"),
    )
    matter_type = models.CharField(
        _("事项类型"), max_length=16, choices=MatterType.choices, default=MatterType.PUBLIC_SERVICE
    )
    audience = models.CharField(
        _("服务对象"), max_length=16, choices=Audience.choices, default=Audience.PERSON
    )
    conditions = models.TextField(_("申请条件"), blank=True)
    legal_basis = models.TextField(_("设定依据"), blank=True)
    statutory_days = models.PositiveIntegerField(_("法定办结时限（工作日）"), null=True, blank=True)
    promised_days = models.PositiveIntegerField(
        _("承诺办结时限（工作日）"), null=True, blank=True, help_text=_("0 表示即办")
    )
    fee = models.CharField(_("收费标准"), max_length=255, default="不收费", blank=True)
    hall = models.ForeignKey(
        Hall,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="service_matters",
        verbose_name=_("办理大厅"),
    )
    windows = models.ManyToManyField(
        Window, blank=True, related_name="service_matters", verbose_name=_("办理窗口")
    )
    location = models.CharField(
        _("办理地点"), max_length=128, blank=True, help_text=_("例如：政务服务中心A厅一楼")
    )
    opening_hours = models.CharField(_("办理时间"), max_length=128, blank=True)
    consult_phone = models.CharField(_("咨询电话"), max_length=32, blank=True)
    complaint_phone = models.CharField(_("投诉电话"), max_length=32, blank=True)
    visits_required = models.PositiveSmallIntegerField(
        _("到现场次数"), default=1, help_text=_("0 表示零跑动")
    )
    online = models.BooleanField(_("可网上办理"), default=False)
    online_url = models.URLField(_("网上办理地址"), blank=True)
    high_frequency = models.BooleanField(
        _("高频事项"), default=False, help_text=_("在自助导服首页显示为按钮")
    )
    hf_order = models.PositiveSmallIntegerField(_("高频排序"), default=0)
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects: ClassVar[MatterQuerySet] = MatterQuerySet.as_manager()  # type: ignore[assignment]

    scope_fields = ("department",)

    class Meta:
        ordering = ["code"]
        verbose_name = _("服务事项")
        verbose_name_plural = _("服务事项")
        indexes = [models.Index(fields=["high_frequency", "hf_order"], name="catalog_hf_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def alias_list(self) -> list[str]:
        return split_aliases(self.aliases)

    @property
    def is_instant(self) -> bool:
        return self.promised_days == 0

    def primary_window(self) -> Window | None:
        """The window to send people to: the first active one that handles this matter."""
        windows = [w for w in self.windows.all() if w.active]
        return windows[0] if windows else None

    def effective_hall(self) -> Hall | None:
        if self.hall_id is not None:
            return self.hall
        window = self.primary_window()
        return window.hall if window is not None else None

    def window_label(self) -> str:
        """Windows as people say them: "A厅3号、4号窗口"."""
        parts: list[str] = []
        for window in self.windows.all():
            if window.active:
                parts.append(f"{window.hall.name}{window.number}号窗口")
        return "、".join(parts)


def split_aliases(text: str) -> list[str]:
    out: list[str] = []
    for line in text.replace("、", "\n").replace(",", "\n").replace("，", "\n").splitlines():
        word = line.strip()
        if word and word not in out:
            out.append(word)
    return out


class Material(models.Model):
    """A document the applicant brings (申请材料)."""

    class Kind(models.TextChoices):
        ORIGINAL = "original", _("原件")
        COPY = "copy", _("复印件")
        BOTH = "both", _("原件和复印件")
        ELECTRONIC = "electronic", _("电子材料")

    matter = models.ForeignKey(
        ServiceMatter, models.CASCADE, related_name="materials", verbose_name=_("事项")
    )
    name = models.CharField(_("材料名称"), max_length=255)
    kind = models.CharField(_("形式"), max_length=12, choices=Kind.choices, default=Kind.ORIGINAL)
    copies = models.PositiveSmallIntegerField(_("份数"), default=1)
    required = models.BooleanField(_("必需"), default=True)
    notes = models.CharField(_("备注"), max_length=255, blank=True)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        ordering = ["matter", "order", "pk"]
        verbose_name = _("申请材料")
        verbose_name_plural = _("申请材料")

    def __str__(self) -> str:
        return self.name


class Step(models.Model):
    """One step of the handling process (办理流程)."""

    matter = models.ForeignKey(
        ServiceMatter, models.CASCADE, related_name="steps", verbose_name=_("事项")
    )
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    text = models.CharField(_("步骤"), max_length=500)

    class Meta:
        ordering = ["matter", "order", "pk"]
        verbose_name = _("办理步骤")
        verbose_name_plural = _("办理步骤")

    def __str__(self) -> str:
        return self.text


class FAQ(models.Model):
    """A frequently asked question about a matter (常见问题)."""

    matter = models.ForeignKey(
        ServiceMatter, models.CASCADE, related_name="faqs", verbose_name=_("事项")
    )
    question = models.CharField(_("问题"), max_length=255)
    answer = models.TextField(_("解答"))
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        ordering = ["matter", "order", "pk"]
        verbose_name = _("常见问题")
        verbose_name_plural = _("常见问题")

    def __str__(self) -> str:
        return self.question


grid_size = [MinValueValidator(1), MaxValueValidator(60)]
grid_pos = [MinValueValidator(0), MaxValueValidator(59)]


class HallMap(models.Model):
    """A simple floor plan of a hall: a grid of rows × cols cells the admin fills in."""

    hall = models.OneToOneField(Hall, models.CASCADE, related_name="map", verbose_name=_("大厅"))
    rows = models.PositiveSmallIntegerField(_("行数"), default=8, validators=grid_size)
    cols = models.PositiveSmallIntegerField(_("列数"), default=12, validators=grid_size)
    entrance_row = models.PositiveSmallIntegerField(_("入口所在行"), default=7, validators=grid_pos)
    entrance_col = models.PositiveSmallIntegerField(_("入口所在列"), default=5, validators=grid_pos)
    notes = models.CharField(_("说明"), max_length=255, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("大厅平面图")
        verbose_name_plural = _("大厅平面图")

    def __str__(self) -> str:
        return f"{self.hall.name}平面图"

    def clean(self) -> None:
        if self.entrance_row >= self.rows or self.entrance_col >= self.cols:
            raise ValidationError(_("入口位置超出了平面图的范围"))


class MapItem(models.Model):
    """Something drawn on a hall map: a window, the service desk, a waiting area, a lift…"""

    class Kind(models.TextChoices):
        WINDOW = "window", _("窗口")
        DESK = "desk", _("咨询台")
        WAITING = "waiting", _("等候区")
        SELF_SERVICE = "self_service", _("自助服务区")
        STAIRS = "stairs", _("楼梯/电梯")
        TOILET = "toilet", _("卫生间")
        WALL = "wall", _("墙/隔断")
        OTHER = "other", _("其他")

    hall_map = models.ForeignKey(
        HallMap, models.CASCADE, related_name="items", verbose_name=_("平面图")
    )
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.WINDOW)
    window = models.ForeignKey(
        Window,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="map_items",
        verbose_name=_("窗口"),
    )
    label = models.CharField(_("标注"), max_length=32, blank=True)
    row = models.PositiveSmallIntegerField(_("行"), default=0, validators=grid_pos)
    col = models.PositiveSmallIntegerField(_("列"), default=0, validators=grid_pos)
    width = models.PositiveSmallIntegerField(_("宽（格）"), default=1, validators=grid_size)
    height = models.PositiveSmallIntegerField(_("高（格）"), default=1, validators=grid_size)

    class Meta:
        ordering = ["hall_map", "row", "col"]
        verbose_name = _("平面图元素")
        verbose_name_plural = _("平面图元素")
        constraints = [
            models.UniqueConstraint(
                fields=["hall_map", "window"],
                condition=models.Q(window__isnull=False),
                name="catalog_mapitem_window_once",
            )
        ]

    def __str__(self) -> str:
        return self.display_label

    @property
    def display_label(self) -> str:
        if self.label:
            return self.label
        if self.window_id is not None and self.window is not None:
            return f"{self.window.number}号"
        return str(self.get_kind_display())

    def clean(self) -> None:
        if self.kind == self.Kind.WINDOW and self.window_id is None:
            raise ValidationError(_("窗口类型的元素必须选择一个窗口"))
        if (
            self.window_id is not None
            and self.hall_map_id is not None
            and self.window is not None
            and self.window.hall_id != self.hall_map.hall_id
        ):
            raise ValidationError(_("该窗口不在这个大厅"))
        hall_map = self.hall_map if self.hall_map_id is not None else None
        if hall_map is not None and (
            self.row + self.height > hall_map.rows or self.col + self.width > hall_map.cols
        ):
            raise ValidationError(_("元素超出了平面图的范围"))
