"""The county's organisation: divisions, departments, service halls, windows and people."""

from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

mobile_validator = RegexValidator(r"^1[3-9]\d{9}$", _("请输入11位手机号码"))


class Division(models.Model):
    """An administrative division: the county, its towns/streets, their villages/communities."""

    class Level(models.TextChoices):
        COUNTY = "county", _("县")
        TOWN = "town", _("乡镇/街道")
        VILLAGE = "village", _("村/社区")

    code = models.CharField(_("区划代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    level = models.CharField(_("层级"), max_length=8, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("上级"),
    )
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")

    def __str__(self) -> str:
        return self.name

    @property
    def town(self) -> Division | None:
        """The town (乡镇/街道) this division lies in, itself if it is one."""
        if self.level == self.Level.TOWN:
            return self
        if self.level == self.Level.VILLAGE:
            return self.parent
        return None

    @property
    def full_name(self) -> str:
        names: list[str] = []
        node: Division | None = self
        while node is not None and node.level != self.Level.COUNTY:
            names.append(node.name)
            node = node.parent
        return "".join(reversed(names))


class Department(models.Model):
    """A unit that handles work: a county department, a town government or a station."""

    class Kind(models.TextChoices):
        COUNTY = "county", _("县直部门")
        TOWN = "town", _("乡镇政府")
        STATION = "station", _("站所")

    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=64, unique=True)
    short_name = models.CharField(_("简称"), max_length=32, blank=True)
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices, default=Kind.COUNTY)
    division = models.ForeignKey(
        Division,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="departments",
        verbose_name=_("所在区划"),
        help_text=_("乡镇政府和站所所在的乡镇"),
    )
    parent = models.ForeignKey(
        "self",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="units",
        verbose_name=_("上级部门"),
    )
    phone = models.CharField(_("联系电话"), max_length=32, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    scope_fields = ("pk",)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("部门")
        verbose_name_plural = _("部门")

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        return self.short_name or self.name


class Hall(models.Model):
    """A hall (厅) of the government service centre."""

    code = models.CharField(_("编码"), max_length=16, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    building = models.CharField(_("所在楼宇"), max_length=64, blank=True)
    floor = models.CharField(_("楼层"), max_length=16, blank=True)
    opening_hours = models.CharField(_("办公时间"), max_length=128, blank=True)
    phone = models.CharField(_("咨询电话"), max_length=32, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("服务大厅")
        verbose_name_plural = _("服务大厅")

    def __str__(self) -> str:
        return self.name


class Window(models.Model):
    """A service window in a hall, staffed by one department."""

    hall = models.ForeignKey(Hall, models.PROTECT, related_name="windows", verbose_name=_("大厅"))
    number = models.CharField(_("窗口号"), max_length=16)
    name = models.CharField(_("窗口名称"), max_length=64)
    department = models.ForeignKey(
        Department,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="windows",
        verbose_name=_("进驻部门"),
    )
    active = models.BooleanField(_("启用"), default=True)

    scope_fields = ("department",)

    class Meta:
        ordering = ["hall__code", "number"]
        constraints = [
            models.UniqueConstraint(fields=["hall", "number"], name="window_unique_number_per_hall")
        ]
        verbose_name = _("窗口")
        verbose_name_plural = _("窗口")

    def __str__(self) -> str:
        return f"{self.hall.name}{self.number}号窗口"


class Role(models.TextChoices):
    CITIZEN = "citizen", _("群众")
    WINDOW_STAFF = "window_staff", _("窗口工作人员")
    HANDLER = "handler", _("部门承办人")
    DEPT_HEAD = "dept_head", _("部门负责人")
    DISPATCHER = "dispatcher", _("派单员")
    SUPERVISOR = "supervisor", _("督查室")
    LEADER = "leader", _("县领导")
    ADMIN = "admin", _("系统管理员")


# Roles whose work belongs to one department; the policy scopes them to it.
DEPARTMENT_ROLES = frozenset({Role.WINDOW_STAFF, Role.HANDLER, Role.DEPT_HEAD})


class User(AbstractUser):
    """Anyone who logs in: staff of every role, and citizens who chose to have an account."""

    name = models.CharField(_("姓名"), max_length=32, blank=True)
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices, default=Role.CITIZEN)
    department = models.ForeignKey(
        Department,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("所属部门"),
    )
    window = models.ForeignKey(
        Window,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("所在窗口"),
    )
    staff_no = models.CharField(_("工号"), max_length=16, blank=True)
    mobile = models.CharField(_("手机号"), max_length=11, blank=True, validators=[mobile_validator])
    photo = models.ImageField(_("照片"), upload_to="staff/", blank=True)
    must_change_password = models.BooleanField(
        _("须修改密码"), default=False, help_text=_("初始或演示账号首次登录时必须修改密码")
    )

    objects: ClassVar[UserManager[User]] = UserManager()  # type: ignore[assignment]

    scope_fields = ("department",)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role__in=["window_staff", "handler", "dept_head"])
                | models.Q(department__isnull=False),
                name="department_role_needs_department",
            )
        ]

    def __str__(self) -> str:
        return self.name or self.username

    @property
    def display_name(self) -> str:
        return self.name or self.username

    @property
    def is_staff_member(self) -> bool:
        """Government staff of any role (not the Django admin flag)."""
        return self.role != Role.CITIZEN

    @property
    def is_department_scoped(self) -> bool:
        return self.role in DEPARTMENT_ROLES
