"""实事项目: batches, projects, their plan (配档表), progress reports, the supervision ledger
(督查台账) with its escalations, and 销号.

The ledger status of projects and milestones is computed in ``ledger.py`` from the plan and
the reports, and stored on the project for filtering; ``state`` is the workflow and changes
only through ``actions.py``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minsheng.core.models import Department, SettingsRow
from minsheng.core.models.org import mobile_validator
from minsheng.projects.states import (
    OPEN_STATES,
    STEPS,
    EscalationStep,
    InvalidStep,
    LedgerStatus,
    ProjectState,
    Trigger,
)

PERCENT = [MinValueValidator(0), MaxValueValidator(100)]


class ProjectCategory(models.Model):
    name = models.CharField(_("名称"), max_length=32, unique=True)
    order = models.PositiveIntegerField(_("排序"), default=0)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("项目类别")
        verbose_name_plural = _("项目类别")

    def __str__(self) -> str:
        return self.name


class ReportFrequency(models.TextChoices):
    MONTHLY = "monthly", _("每月")
    QUARTERLY = "quarterly", _("每季度")


class ProjectSettings(SettingsRow):
    """The county's rules for practical projects that are data, not code (one row)."""

    report_frequency = models.CharField(
        _("进展报送频次"),
        max_length=10,
        choices=ReportFrequency.choices,
        default=ReportFrequency.MONTHLY,
    )
    report_due_working_days = models.PositiveSmallIntegerField(
        _("报送时限(工作日)"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text=_("报送期结束后第几个工作日内报送上期进展"),
    )
    written_prefix = models.CharField(_("书面督办文号字头"), max_length=16, default="督办字")
    notice_prefix = models.CharField(_("通报批评文号字头"), max_length=16, default="督通字")
    issuer_name = models.CharField(
        _("督查机构名称"), max_length=64, default="县委县政府督查室", help_text=_("印在督办文书上")
    )
    ask_citizens = models.BooleanField(
        _("销号后请来源诉求群众评价"),
        default=True,
        help_text=_("项目验收销号后，短信邀请转为该项目的诉求的群众评价实施效果"),
    )
    rating_valid_days = models.PositiveSmallIntegerField(_("评价链接有效期(自然日)"), default=15)

    class Meta:
        verbose_name = _("实事项目规则")
        verbose_name_plural = _("实事项目规则")

    def __str__(self) -> str:
        return str(_("实事项目规则"))


class Batch(models.Model):
    """A batch of projects (第一批我为群众办实事项目) published together."""

    year = models.PositiveSmallIntegerField(_("年度"))
    number = models.PositiveSmallIntegerField(_("批次"))
    title = models.CharField(_("名称"), max_length=128)
    published = models.BooleanField(_("已公开"), default=False)
    published_at = models.DateTimeField(_("公开时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        ordering = ["-year", "-number"]
        verbose_name = _("项目批次")
        verbose_name_plural = _("项目批次")
        constraints = [
            models.UniqueConstraint(fields=["year", "number"], name="projects_batch_unique")
        ]

    def __str__(self) -> str:
        return self.title


class ProjectSource(models.TextChoices):
    DEPARTMENT = "department", _("部门申报")
    ONLINE = "online", _("网上征集")
    OFFLINE = "offline", _("线下征集")
    APPEAL = "appeal", _("群众诉求转办")


class ProjectQuerySet(models.QuerySet["Project"]):
    def open(self) -> ProjectQuerySet:
        return self.filter(state__in=OPEN_STATES)

    def public(self) -> ProjectQuerySet:
        """Projects of published batches that left the draft."""
        return self.filter(batch__published=True).exclude(state=ProjectState.DRAFT)


class Project(models.Model):
    batch = models.ForeignKey(
        Batch, models.PROTECT, related_name="projects", verbose_name=_("批次")
    )
    code = models.CharField(_("项目编号"), max_length=16, unique=True)
    title = models.CharField(_("项目名称"), max_length=200)
    category = models.ForeignKey(
        ProjectCategory, models.PROTECT, related_name="projects", verbose_name=_("类别")
    )
    lead_unit = models.ForeignKey(
        Department, models.PROTECT, related_name="led_projects", verbose_name=_("牵头单位")
    )
    co_units = models.ManyToManyField(
        Department, blank=True, related_name="co_projects", verbose_name=_("配合单位")
    )
    leader_name = models.CharField(_("责任领导"), max_length=32, blank=True)
    # Personal data: masked for viewers without need, never on public pages.
    contact_name = models.CharField(_("联系人"), max_length=32, blank=True)
    contact_phone = models.CharField(
        _("联系电话"), max_length=11, blank=True, validators=[mobile_validator]
    )
    measures = models.TextField(_("具体措施"), blank=True)
    budget = models.DecimalField(
        _("预算(万元)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    source = models.CharField(
        _("项目来源"),
        max_length=12,
        choices=ProjectSource.choices,
        default=ProjectSource.DEPARTMENT,
    )
    source_appeals = models.ManyToManyField(
        "appeals.Appeal", blank=True, related_name="projects", verbose_name=_("来源诉求")
    )
    deadline = models.DateField(_("完成时限"))
    state = models.CharField(
        _("状态"), max_length=8, choices=ProjectState.choices, default=ProjectState.DRAFT
    )
    percent_complete = models.PositiveSmallIntegerField(
        _("完成进度(%)"), default=0, validators=PERCENT
    )
    status = models.CharField(
        _("台账状态"), max_length=20, choices=LedgerStatus.choices, default=LedgerStatus.NORMAL
    )
    status_changed_at = models.DateTimeField(_("状态变化时间"), default=timezone.now)
    # Consecutive months, up to the last finished one, at whose end the project was behind.
    behind_months = models.PositiveSmallIntegerField(_("连续滞后月数"), default=0)
    # 下达: reporting periods and months behind count from here.
    started_at = models.DateTimeField(_("下达时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("销号时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("销号人"),
    )
    version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects: ClassVar[ProjectQuerySet] = ProjectQuerySet.as_manager()  # type: ignore[assignment]

    scope_fields = ("lead_unit", "co_units")

    class Meta:
        ordering = ["batch", "code"]
        verbose_name = _("实事项目")
        verbose_name_plural = _("实事项目")
        indexes = [
            models.Index(fields=["status", "lead_unit"], name="projects_project_status"),
            models.Index(fields=["lead_unit", "state"], name="projects_project_unit"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(percent_complete__lte=100), name="projects_project_percent"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    def move(self, step: str) -> str:
        """Take ``step``; returns the state before. Raises InvalidStep when not allowed."""
        sources, target = STEPS[step]
        if self.state not in sources:
            raise InvalidStep(self.state, step)
        before = self.state
        self.state = target
        self.version += 1
        if target == ProjectState.ACTIVE and self.started_at is None:
            self.started_at = timezone.now()
        return before

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def start(self) -> dt.datetime:
        """When the project went to the unit (its creation, for a draft)."""
        return self.started_at or self.created_at


class Target(models.Model):
    """A quantitative target (铺设管网 14.5 公里)."""

    project = models.ForeignKey(
        Project, models.CASCADE, related_name="targets", verbose_name=_("项目")
    )
    name = models.CharField(_("指标"), max_length=64)
    unit = models.CharField(_("单位"), max_length=16)
    planned = models.DecimalField(_("目标值"), max_digits=14, decimal_places=2)
    reached = models.DecimalField(_("已完成"), max_digits=14, decimal_places=2, default=Decimal(0))
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("量化指标")
        verbose_name_plural = _("量化指标")

    def __str__(self) -> str:
        return f"{self.name} {self.planned}{self.unit}"

    @property
    def percent(self) -> int:
        if self.planned <= 0:
            return 100
        return min(100, int(self.reached * 100 / self.planned))


class Milestone(models.Model):
    """One month of the implementation plan (配档表)."""

    project = models.ForeignKey(
        Project, models.CASCADE, related_name="milestones", verbose_name=_("项目")
    )
    month = models.DateField(_("月份"), help_text=_("该月1日"))
    title = models.CharField(_("节点任务"), max_length=200)
    expected = models.TextField(_("预期形象进度"), blank=True)
    due = models.DateField(_("完成期限"), help_text=_("默认为该月最后一个工作日"))
    target = models.ForeignKey(
        Target,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="milestones",
        verbose_name=_("对应指标"),
    )
    target_value = models.DecimalField(
        _("指标累计值"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    planned_percent = models.PositiveSmallIntegerField(
        _("计划累计进度(%)"), null=True, blank=True, validators=PERCENT
    )
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["month", "order", "pk"]
        verbose_name = _("计划节点")
        verbose_name_plural = _("计划节点")
        indexes = [
            models.Index(
                fields=["due"], name="projects_milestone_open", condition=Q(done_at__isnull=True)
            )
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.title}"


class ReportState(models.TextChoices):
    SUBMITTED = "submitted", _("已报送")
    RETURNED = "returned", _("已退回")


class ProgressReport(models.Model):
    project = models.ForeignKey(
        Project, models.CASCADE, related_name="reports", verbose_name=_("项目")
    )
    period = models.DateField(_("报送期"), help_text=_("所报月份的1日"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        related_name="+",
        verbose_name=_("报送人"),
    )
    submitted_at = models.DateTimeField(_("报送时间"), default=timezone.now)
    text = models.TextField(_("进展情况"))
    percent_complete = models.PositiveSmallIntegerField(_("完成进度(%)"), validators=PERCENT)
    state = models.CharField(
        _("状态"), max_length=10, choices=ReportState.choices, default=ReportState.SUBMITTED
    )
    returned_reason = models.TextField(_("退回原因"), blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("退回人"),
    )
    returned_at = models.DateTimeField(_("退回时间"), null=True, blank=True)

    class Meta:
        ordering = ["-period", "-submitted_at", "-pk"]
        verbose_name = _("进展报告")
        verbose_name_plural = _("进展报告")
        constraints = [
            # A returned report is replaced by a new one; one standing report per period.
            models.UniqueConstraint(
                fields=["project", "period"],
                condition=Q(state="submitted"),
                name="projects_one_report_per_period",
            )
        ]

    def __str__(self) -> str:
        return f"{self.project.code} {self.period:%Y-%m}"


class ReportValue(models.Model):
    """The cumulative value a report gives for one target."""

    report = models.ForeignKey(
        ProgressReport, models.CASCADE, related_name="values", verbose_name=_("进展报告")
    )
    target = models.ForeignKey(
        Target, models.CASCADE, related_name="report_values", verbose_name=_("指标")
    )
    value = models.DecimalField(_("累计完成"), max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = _("指标完成值")
        verbose_name_plural = _("指标完成值")
        constraints = [
            models.UniqueConstraint(fields=["report", "target"], name="projects_value_unique")
        ]

    def __str__(self) -> str:
        return f"{self.target.name} {self.value}"


class AttachmentKind(models.TextChoices):
    PHOTO = "photo", _("照片")
    DOCUMENT = "document", _("文件")


def attachment_path(instance: models.Model, filename: str) -> str:
    # Never the uploader's file name on disk (see appeals.models.attachment_path).
    sha = getattr(instance, "sha256", "")
    ext = getattr(instance, "extension", "")
    return f"projects/{timezone.localdate():%Y/%m}/{sha[:32]}{ext}"


class StoredFile(models.Model):
    """A file checked by ``appeals.attachments.clean`` (type from content, EXIF stripped)."""

    file = models.FileField(_("文件"), upload_to=attachment_path)
    kind = models.CharField(
        _("类型"), max_length=8, choices=AttachmentKind.choices, default=AttachmentKind.DOCUMENT
    )
    original_name = models.CharField(_("原文件名"), max_length=200)
    content_type = models.CharField(_("MIME类型"), max_length=64)
    extension = models.CharField(max_length=8)
    size = models.PositiveIntegerField(_("大小"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("上传人"),
    )
    created_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.original_name


class ReportAttachment(StoredFile):
    report = models.ForeignKey(
        ProgressReport, models.CASCADE, related_name="attachments", verbose_name=_("进展报告")
    )

    class Meta:
        verbose_name = _("进展附件")
        verbose_name_plural = _("进展附件")


class ReportDue(models.Model):
    """One reporting period of one project: overdue when ``due`` passed without a report."""

    project = models.ForeignKey(
        Project, models.CASCADE, related_name="report_dues", verbose_name=_("项目")
    )
    period = models.DateField(_("报送期"))
    due = models.DateField(_("报送期限"))
    submitted_report = models.ForeignKey(
        ProgressReport,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("报告"),
    )
    reminded_at = models.DateTimeField(_("提醒时间"), null=True, blank=True)
    chased_at = models.DateTimeField(_("催报时间"), null=True, blank=True)

    class Meta:
        ordering = ["period"]
        verbose_name = _("报送期")
        verbose_name_plural = _("报送期")
        constraints = [
            models.UniqueConstraint(fields=["project", "period"], name="projects_due_unique")
        ]
        indexes = [
            models.Index(
                fields=["due"],
                name="projects_due_missing",
                condition=Q(submitted_report__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.project_id} {self.period:%Y-%m}"

    def is_missing(self, today: dt.date) -> bool:
        return self.submitted_report_id is None and self.due < today


class EscalationRule(models.Model):
    """When the sweep escalates (admin data): ``trigger`` reaching ``threshold`` → ``step``."""

    trigger = models.CharField(_("触发条件"), max_length=24, choices=Trigger.choices)
    threshold = models.PositiveSmallIntegerField(
        _("阈值"), default=0, help_text=_("工作日数或月数，视触发条件而定")
    )
    after_step = models.CharField(
        _("上一级措施"),
        max_length=12,
        choices=EscalationStep.choices,
        blank=True,
        help_text=_("仅用于“上一级督办后仍未整改”"),
    )
    step = models.CharField(_("督办措施"), max_length=12, choices=EscalationStep.choices)
    due_days = models.PositiveSmallIntegerField(
        _("整改时限(工作日)"), default=10, help_text=_("限期办结的期限")
    )
    text = models.TextField(_("督办内容模板"), blank=True, help_text=_("留空使用默认内容"))
    active = models.BooleanField(_("启用"), default=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("督办规则")
        verbose_name_plural = _("督办规则")

    def __str__(self) -> str:
        return f"{self.get_trigger_display()}({self.threshold}) → {self.get_step_display()}"


class EscalationQuerySet(models.QuerySet["Escalation"]):
    def open(self) -> EscalationQuerySet:
        return self.filter(resolved_at__isnull=True)


class Escalation(models.Model):
    """One step of the ladder taken on a project (by the supervisor or the sweep)."""

    project = models.ForeignKey(
        Project, models.CASCADE, related_name="escalations", verbose_name=_("项目")
    )
    milestone = models.ForeignKey(
        Milestone,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="escalations",
        verbose_name=_("节点"),
    )
    # The reporting period a 逾期未报 escalation is about.
    period = models.DateField(_("报送期"), null=True, blank=True)
    step = models.CharField(_("督办措施"), max_length=12, choices=EscalationStep.choices)
    rule = models.ForeignKey(
        EscalationRule,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="escalations",
        verbose_name=_("规则"),
    )
    # What the rule fired on ("milestone:12", "period:2026-05", "project"): a rule fires once
    # per subject, so a second sweep issues nothing new.
    rule_key = models.CharField(max_length=32, blank=True)
    issued_at = models.DateTimeField(_("督办时间"), default=timezone.now)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("督办人"),
        help_text=_("空表示系统自动督办"),
    )
    text = models.TextField(_("督办内容"))
    doc_year = models.PositiveSmallIntegerField(null=True, blank=True)
    doc_seq = models.PositiveIntegerField(null=True, blank=True)
    doc_number = models.CharField(_("文号"), max_length=32, blank=True)
    due = models.DateField(_("整改期限"), null=True, blank=True)
    held_on = models.DateField(_("约谈日期"), null=True, blank=True)
    attendees = models.TextField(_("参加人员"), blank=True)
    agreed = models.TextField(_("约谈议定事项"), blank=True)
    resolved_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("办结人"),
    )
    resolution = models.TextField(_("整改情况"), blank=True)

    objects: ClassVar[EscalationQuerySet] = EscalationQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ["-issued_at", "-pk"]
        verbose_name = _("督办记录")
        verbose_name_plural = _("督办记录")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "milestone", "step"],
                condition=Q(resolved_at__isnull=True, milestone__isnull=False),
                name="projects_one_open_step_milestone",
            ),
            models.UniqueConstraint(
                fields=["project", "step"],
                condition=Q(resolved_at__isnull=True, milestone__isnull=True),
                name="projects_one_open_step_project",
            ),
            models.UniqueConstraint(
                fields=["rule", "project", "rule_key"],
                condition=Q(rule__isnull=False),
                name="projects_rule_fires_once",
            ),
            models.UniqueConstraint(
                fields=["step", "doc_year", "doc_seq"],
                condition=Q(doc_seq__isnull=False),
                name="projects_doc_number_unique",
            ),
        ]
        indexes = [models.Index(fields=["project", "step"], name="projects_escalation_step")]

    def __str__(self) -> str:
        return f"{self.project.code} {self.get_step_display()} {self.doc_number}".strip()

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class DocCounter(models.Model):
    """The last document number of a year and step, locked while a number is drawn so that
    numbers have no gaps (a rolled-back escalation gives its number back)."""

    year = models.PositiveSmallIntegerField()
    step = models.CharField(max_length=12, choices=EscalationStep.choices)
    value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["year", "step"], name="projects_doccounter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.step} {self.value}"


class CloseOutState(models.TextChoices):
    PENDING = "pending", _("待验收")
    ACCEPTED = "accepted", _("验收通过")
    REJECTED = "rejected", _("退回")


class CloseOut(models.Model):
    """An application for 销号 and the supervisor's decision on it."""

    project = models.ForeignKey(
        Project, models.CASCADE, related_name="closeouts", verbose_name=_("项目")
    )
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("申请人")
    )
    applied_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    evidence = models.TextField(_("完成情况及佐证"))
    state = models.CharField(
        _("状态"), max_length=8, choices=CloseOutState.choices, default=CloseOutState.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("验收人"),
    )
    decided_at = models.DateTimeField(_("验收时间"), null=True, blank=True)
    reason = models.TextField(_("验收意见"), blank=True)

    class Meta:
        ordering = ["-applied_at", "-pk"]
        verbose_name = _("销号申请")
        verbose_name_plural = _("销号申请")
        constraints = [
            models.UniqueConstraint(
                fields=["project"],
                condition=Q(state="pending"),
                name="projects_one_pending_closeout",
            )
        ]

    def __str__(self) -> str:
        return f"{self.project.code} {self.get_state_display()}"


class CloseOutAttachment(StoredFile):
    closeout = models.ForeignKey(
        CloseOut, models.CASCADE, related_name="attachments", verbose_name=_("销号申请")
    )

    class Meta:
        verbose_name = _("销号附件")
        verbose_name_plural = _("销号附件")


class ResultLevel(models.IntegerChoices):
    VERY_GOOD = 5, _("非常满意")
    GOOD = 4, _("满意")
    BASIC = 3, _("基本满意")
    BAD = 2, _("不满意")
    VERY_BAD = 1, _("非常不满意")


class ProjectRating(models.Model):
    """A citizen whose appeal became the project rates its result (once per appeal)."""

    project = models.ForeignKey(
        Project, models.CASCADE, related_name="ratings", verbose_name=_("项目")
    )
    appeal = models.ForeignKey(
        "appeals.Appeal", models.CASCADE, related_name="+", verbose_name=_("来源诉求")
    )
    level = models.PositiveSmallIntegerField(_("评价"), choices=ResultLevel.choices)
    comment = models.TextField(_("意见建议"), blank=True)
    created_at = models.DateTimeField(_("评价时间"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("群众评价")
        verbose_name_plural = _("群众评价")
        constraints = [
            models.UniqueConstraint(fields=["project", "appeal"], name="projects_rating_once")
        ]

    def __str__(self) -> str:
        return f"{self.project.code} {self.get_level_display()}"
