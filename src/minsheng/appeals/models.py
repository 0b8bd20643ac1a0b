"""Appeals (诉求): what citizens ask for, and everything that happens to it."""

from __future__ import annotations

import re
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minsheng.appeals.states import (
    OPEN_STATES,
    RUNNING_STATES,
    TRANSITIONS,
    InvalidTransition,
    State,
)
from minsheng.core.models import Department, Division, SettingsRow
from minsheng.core.models.org import mobile_validator


class AppealType(models.TextChoices):
    CONSULT = "consult", _("咨询")
    HELP = "help", _("求助")
    COMPLAINT = "complaint", _("投诉")
    REPORT = "report", _("举报")
    SUGGESTION = "suggestion", _("建议")
    PRAISE = "praise", _("表扬")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("紧急")


class Channel(models.TextChoices):
    WEB = "web", _("网站/手机")
    HOTLINE = "hotline", _("12345热线")
    WECHAT = "wechat", _("微信")
    EMAIL = "email", _("电子邮件")
    CENTRE = "centre", _("邻里中心")
    DEPARTMENT = "department", _("部门报送")
    FIELD = "field", _("走访收集")
    API = "api", _("系统对接")
    OPEN311 = "open311", _("Open311")


def split_keywords(text: str) -> list[str]:
    """Words typed in one box, separated by blanks or Chinese/Latin commas and semicolons."""
    return [w for w in re.split(r"[\s,，、;；]+", text) if w]


class Category(models.Model):
    """The county's appeal categories (a hierarchy an admin edits)."""

    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    parent = models.ForeignKey(
        "self",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("上级分类"),
    )
    keywords = models.TextField(
        _("群众常用说法"),
        blank=True,
        help_text=_(
            "群众说起这类问题时常用的词，用空格或逗号分隔，如“欠薪 讨薪 拖欠工资”。"
            "智能分类训练时用作词典；修改后需重新训练模型才生效。"
        ),
    )
    active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("诉求分类")
        verbose_name_plural = _("诉求分类")

    def __str__(self) -> str:
        return self.name

    def keyword_list(self) -> list[str]:
        return split_keywords(self.keywords)

    def path(self) -> list[Category]:
        node: Category | None = self
        chain: list[Category] = []
        while node is not None:
            chain.append(node)
            node = node.parent
        return list(reversed(chain))


class RoutingRule(models.Model):
    """派单目录: which department answers for a category (the closest rule up the tree wins)."""

    category = models.OneToOneField(
        Category, models.CASCADE, related_name="routing", verbose_name=_("分类")
    )
    department = models.ForeignKey(
        Department, models.PROTECT, related_name="+", verbose_name=_("主办部门")
    )
    co_departments = models.ManyToManyField(
        Department, blank=True, related_name="+", verbose_name=_("协办部门")
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("派单目录")
        verbose_name_plural = _("派单目录")

    def __str__(self) -> str:
        return f"{self.category} → {self.department}"


class TimeLimit(models.Model):
    """Default handling time in working days by type and urgency (0 = the same working day)."""

    appeal_type = models.CharField(_("诉求类型"), max_length=16, choices=AppealType.choices)
    urgency = models.CharField(_("紧急程度"), max_length=8, choices=Urgency.choices)
    working_days = models.PositiveSmallIntegerField(_("办理时限(工作日)"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["appeal_type", "urgency"], name="one_time_limit_per_kind"
            )
        ]
        verbose_name = _("办理时限")
        verbose_name_plural = _("办理时限")

    def __str__(self) -> str:
        return f"{self.get_appeal_type_display()}/{self.get_urgency_display()}: {self.working_days}"


class RefusalRule(models.Model):
    """Things the county does not accept, and what the citizen is told instead."""

    class Outcome(models.TextChoices):
        REFUSED = "refused", _("不予受理")
        TRANSFERRED = "transferred", _("转办")

    code = models.CharField(_("编码"), max_length=32, unique=True)
    title = models.CharField(_("情形"), max_length=64, help_text=_("如：紧急警情、已进入诉讼程序"))
    outcome = models.CharField(_("处理结果"), max_length=12, choices=Outcome.choices)
    message = models.TextField(_("告知群众"), help_text=_("如：请立即拨打110报警"))
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("不予受理/转办情形")
        verbose_name_plural = _("不予受理/转办情形")

    def __str__(self) -> str:
        return self.title


class AppealSettings(SettingsRow):
    """The county's appeal rules that are data, not code (one row, edited in the admin)."""

    number_prefix = models.CharField(_("编号前缀"), max_length=8, default="YT")
    sign_within_days = models.PositiveSmallIntegerField(_("签收时限(工作日)"), default=1)
    rating_window_days = models.PositiveSmallIntegerField(
        _("评价期限(自然日)"), default=7, help_text=_("答复后多少天内未评价即自动办结")
    )
    rehandle_escalate_after = models.PositiveSmallIntegerField(_("重办几次后升级督办"), default=2)
    supervise_after_overdue_days = models.PositiveSmallIntegerField(
        _("超期几个工作日后督办"), default=2
    )
    max_extension_days = models.PositiveSmallIntegerField(_("单次延期上限(工作日)"), default=10)

    class Meta:
        verbose_name = _("诉求办理规则")
        verbose_name_plural = _("诉求办理规则")

    def __str__(self) -> str:
        return str(_("诉求办理规则"))


class AppealQuerySet(models.QuerySet["Appeal"]):
    def open(self) -> AppealQuerySet:
        return self.filter(state__in=OPEN_STATES)

    def running(self) -> AppealQuerySet:
        return self.filter(state__in=RUNNING_STATES)

    def overdue(self, now: object = None) -> AppealQuerySet:
        return self.running().filter(due_at__lt=now or timezone.now())


class Appeal(models.Model):
    number = models.CharField(_("编号"), max_length=32, unique=True)
    query_code_hash = models.CharField(max_length=128)
    title = models.CharField(_("标题"), max_length=100)
    body = models.TextField(_("内容"))
    # Title and body cut into words by jieba, space-separated (``search.document_tokens``):
    # PostgreSQL has no Chinese parser, so its full-text index reads these words instead
    # (the GIN index is created by migration 0003 on PostgreSQL only).
    search_tokens = models.TextField(blank=True, editable=False)
    appeal_type = models.CharField(
        _("类型"), max_length=16, choices=AppealType.choices, default=AppealType.HELP
    )
    urgency = models.CharField(
        _("紧急程度"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL
    )
    category = models.ForeignKey(
        Category,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="appeals",
        verbose_name=_("分类"),
    )
    channel = models.CharField(
        _("渠道"), max_length=12, choices=Channel.choices, default=Channel.WEB
    )
    state = models.CharField(
        _("状态"), max_length=12, choices=State.choices, default=State.RECEIVED
    )

    # Where: the town and village (picked), and the free address (personal data).
    division = models.ForeignKey(
        Division,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="appeals",
        verbose_name=_("所在村/社区"),
    )
    town = models.ForeignKey(
        Division,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("所在乡镇"),
    )
    address = models.CharField(_("详细地址"), max_length=200, blank=True)

    # Who: personal data, masked for every viewer who has no need for it.
    anonymous = models.BooleanField(_("匿名"), default=False)
    citizen_name = models.CharField(_("姓名"), max_length=32, blank=True)
    citizen_mobile = models.CharField(
        _("手机号"), max_length=11, blank=True, validators=[mobile_validator]
    )
    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="appeals",
        verbose_name=_("群众账号"),
    )
    consent_publish = models.BooleanField(_("同意公开答复"), default=False)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("录入人"),
    )

    lead_department = models.ForeignKey(
        Department,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="lead_appeals",
        verbose_name=_("主办部门"),
    )
    co_departments = models.ManyToManyField(
        Department, blank=True, related_name="co_appeals", verbose_name=_("协办部门")
    )
    auto_routed = models.BooleanField(_("自动派单"), default=False)

    received_at = models.DateTimeField(_("受理时间"), default=timezone.now, db_index=True)
    dispatched_at = models.DateTimeField(_("派单时间"), null=True, blank=True)
    sign_due_at = models.DateTimeField(_("签收期限"), null=True, blank=True)
    signed_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    due_at = models.DateTimeField(_("办理期限"), null=True, blank=True)
    due_provisional = models.BooleanField(_("期限待定"), default=False)
    replied_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    # Working days from dispatch to reply, fixed when the reply is given (KPIs aggregate it).
    handling_days = models.PositiveSmallIntegerField(_("办理用时(工作日)"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    reply = models.TextField(_("答复内容"), blank=True)

    sign_reminded_at = models.DateTimeField(null=True, blank=True)
    due_soon_notified_at = models.DateTimeField(null=True, blank=True)
    overdue_notified_at = models.DateTimeField(null=True, blank=True)
    rehandle_count = models.PositiveSmallIntegerField(_("重办次数"), default=0)
    extension_count = models.PositiveSmallIntegerField(_("延期次数"), default=0)
    return_count = models.PositiveSmallIntegerField(_("退单次数"), default=0)
    merged_into = models.ForeignKey(
        "self",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_appeals",
        verbose_name=_("并入"),
    )
    outcome_message = models.TextField(_("告知内容"), blank=True)
    promote_reason = models.TextField(_("转实事项目原因"), blank=True)

    # Rating (评价), from the citizen's link or a phone callback.
    resolved = models.BooleanField(_("是否解决"), null=True, blank=True)
    satisfaction = models.CharField(_("满意度"), max_length=12, blank=True)
    rated_at = models.DateTimeField(_("评价时间"), null=True, blank=True)

    # Optimistic concurrency: every action bumps it, so two people can't both win.
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    objects = AppealQuerySet.as_manager()

    scope_fields: ClassVar[tuple[str, ...]] = ("lead_department", "co_departments")

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(
                fields=["due_at"],
                name="appeal_running_due_idx",
                condition=models.Q(state__in=["dispatched", "handling"]),
            ),
            models.Index(
                fields=["sign_due_at"],
                name="appeal_unsigned_idx",
                condition=models.Q(state="dispatched"),
            ),
            models.Index(fields=["lead_department", "state"], name="appeal_dept_state_idx"),
            models.Index(fields=["state", "received_at"], name="appeal_state_received_idx"),
            models.Index(fields=["citizen_mobile"], name="appeal_mobile_idx"),
            # The workbench's queue in its own order (deadline, then age; PostgreSQL puts
            # the NULLs of an ascending index last, as the queue does), so its first page is
            # the index's first entries; with the lead department inside, counting a
            # department's queue reads the index only.
            models.Index(
                fields=["due_at", "received_at", "id"],
                name="appeal_open_queue_idx",
                include=["lead_department"],
                condition=models.Q(state__in=sorted(OPEN_STATES)),
            ),
        ]
        verbose_name = _("诉求")
        verbose_name_plural = _("诉求")

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def can_transition(self, target: str) -> bool:
        return target in TRANSITIONS[self.state]

    def transition(self, target: str) -> None:
        """Move to ``target`` if the workflow allows it from the current state."""
        if not self.can_transition(target):
            raise InvalidTransition(self.state, target)
        self.state = target
        self.version += 1

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class AppealEvent(models.Model):
    """One step of the appeal's timeline; ``public`` steps are shown to the citizen."""

    appeal = models.ForeignKey(
        Appeal, models.CASCADE, related_name="events", verbose_name=_("诉求")
    )
    kind = models.CharField(_("环节"), max_length=32)
    text = models.TextField(_("说明"), blank=True)
    public = models.BooleanField(_("向群众公开"), default=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    department = models.ForeignKey(
        Department, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("部门")
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("办理过程")
        verbose_name_plural = _("办理过程")

    def __str__(self) -> str:
        return f"{self.appeal_id} {self.kind}"


def attachment_path(instance: Attachment, filename: str) -> str:
    # Never the citizen's file name on disk: it may carry personal data.
    return f"appeals/{timezone.localdate():%Y/%m}/{instance.sha256[:32]}{instance.extension}"


class Attachment(models.Model):
    appeal = models.ForeignKey(
        Appeal, models.CASCADE, related_name="attachments", verbose_name=_("诉求")
    )
    event = models.ForeignKey(
        AppealEvent,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="attachments",
        verbose_name=_("环节"),
    )
    file = models.FileField(_("文件"), upload_to=attachment_path)
    original_name = models.CharField(_("原文件名"), max_length=200)
    content_type = models.CharField(_("类型"), max_length=64)
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
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")

    def __str__(self) -> str:
        return self.original_name


class ReturnRecord(models.Model):
    """A department sending an appeal back (退单); the dispatcher may dispute the reason."""

    appeal = models.ForeignKey(
        Appeal, models.CASCADE, related_name="returns", verbose_name=_("诉求")
    )
    department = models.ForeignKey(
        Department, models.PROTECT, related_name="+", verbose_name=_("退单部门")
    )
    reason = models.TextField(_("退单理由"))
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("退单人"),
    )
    returned_at = models.DateTimeField(_("退单时间"), default=timezone.now)
    disputed = models.BooleanField(_("有争议"), default=False)
    dispute_note = models.TextField(_("争议说明"), blank=True)

    scope_fields: ClassVar[tuple[str, ...]] = ("department",)

    class Meta:
        ordering = ["-returned_at"]
        verbose_name = _("退单记录")
        verbose_name_plural = _("退单记录")

    def __str__(self) -> str:
        return f"{self.appeal_id} {self.department}"


class ExtensionRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已同意")
        REFUSED = "refused", _("不同意")

    appeal = models.ForeignKey(
        Appeal, models.CASCADE, related_name="extensions", verbose_name=_("诉求")
    )
    department = models.ForeignKey(
        Department, models.PROTECT, related_name="+", verbose_name=_("申请部门")
    )
    days = models.PositiveSmallIntegerField(_("延期工作日"))
    reason = models.TextField(_("延期理由"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("申请人"),
    )
    requested_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    status = models.CharField(
        _("状态"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("审批人"),
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.TextField(_("审批意见"), blank=True)

    scope_fields: ClassVar[tuple[str, ...]] = ("department",)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["appeal"],
                condition=models.Q(status="pending"),
                name="one_pending_extension_per_appeal",
            )
        ]
        verbose_name = _("延期申请")
        verbose_name_plural = _("延期申请")

    def __str__(self) -> str:
        return f"{self.appeal_id} +{self.days}"


class Rating(models.Model):
    """The citizen's verdict on a reply (from the rating link, or a phone callback)."""

    class Level(models.TextChoices):
        SATISFIED = "satisfied", _("满意")
        BASIC = "basic", _("基本满意")
        UNSATISFIED = "unsatisfied", _("不满意")

    class Source(models.TextChoices):
        LINK = "link", _("短信链接")
        CALLBACK = "callback", _("电话回访")
        TIMEOUT = "timeout", _("逾期未评")

    appeal = models.ForeignKey(
        Appeal, models.CASCADE, related_name="ratings", verbose_name=_("诉求")
    )
    department = models.ForeignKey(
        Department, models.PROTECT, null=True, related_name="+", verbose_name=_("被评价部门")
    )
    round = models.PositiveSmallIntegerField(
        _("轮次"), default=0, help_text=_("第几次答复（重办后递增）")
    )
    resolved = models.BooleanField(_("是否解决"), null=True)
    level = models.CharField(_("满意度"), max_length=12, choices=Level.choices, blank=True)
    comment = models.TextField(_("意见"), blank=True)
    handler_at_fault = models.BooleanField(_("承办单位原因"), default=False)
    source = models.CharField(_("来源"), max_length=8, choices=Source.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("记录人"),
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["appeal", "round"], name="one_rating_per_reply")
        ]
        verbose_name = _("评价")
        verbose_name_plural = _("评价")

    def __str__(self) -> str:
        return f"{self.appeal_id} {self.get_level_display()}"


class Supervision(models.Model):
    """督办: the supervisor's office takes up an appeal (overdue, or re-handled too often)."""

    class Reason(models.TextChoices):
        OVERDUE = "overdue", _("超期未办结")
        REHANDLE = "rehandle", _("多次重办")
        MANUAL = "manual", _("督查室督办")

    appeal = models.ForeignKey(
        Appeal, models.CASCADE, related_name="supervisions", verbose_name=_("诉求")
    )
    department = models.ForeignKey(
        Department, models.PROTECT, null=True, related_name="+", verbose_name=_("被督办部门")
    )
    reason = models.CharField(_("督办原因"), max_length=12, choices=Reason.choices)
    note = models.TextField(_("督办意见"), blank=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("督办人"),
    )
    raised_at = models.DateTimeField(_("督办时间"), default=timezone.now)
    resolved_at = models.DateTimeField(_("解除时间"), null=True, blank=True)

    scope_fields: ClassVar[tuple[str, ...]] = ("department",)

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["appeal"],
                condition=models.Q(resolved_at__isnull=True),
                name="one_open_supervision_per_appeal",
            )
        ]
        verbose_name = _("督办")
        verbose_name_plural = _("督办")

    def __str__(self) -> str:
        return f"{self.appeal_id} {self.get_reason_display()}"


class IdempotencyKey(models.Model):
    """A client's retry key: the same key from the same client gives back the same appeal."""

    client = models.CharField(max_length=64)
    key = models.CharField(max_length=128)
    request_hash = models.CharField(max_length=64)
    appeal = models.ForeignKey(Appeal, models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "key"], name="idempotency_key_per_client")
        ]

    def __str__(self) -> str:
        return f"{self.client}:{self.key}"


class PendingReceipt(models.Model):
    """An appeal accepted through the API whose receipt is still to be written: the timeline
    step 受理, the audit event, the SMS with the query code, the search words and the
    automatic routing (``actions.register_receipts``, right after the commit and from the
    worker's periodic job). Deleted once written, and with it the query code, which the
    SMS needs and the appeal keeps only as a hash. See docs/decisions/0007."""

    appeal = models.OneToOneField(
        Appeal, models.CASCADE, primary_key=True, related_name="+", verbose_name=_("诉求")
    )
    query_code = models.CharField(max_length=16)
    # Who submitted it and from where, for the audit event written later.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    request_id = models.CharField(max_length=36, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("待登记回执")
        verbose_name_plural = _("待登记回执")

    def __str__(self) -> str:
        return str(self.appeal_id)


class LookupCode(models.Model):
    """A one-time SMS code for a citizen looking up their appeals by mobile number."""

    mobile = models.CharField(max_length=11, db_index=True)
    code_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.mobile[:3]}****{self.mobile[-4:]} {self.created_at:%Y-%m-%d %H:%M}"


class DailyCounter(models.Model):
    """Where a day's tracking numbers start (see ``numbers.next_daily_number``).

    SQLite counts in ``value`` (the last number given out that day). PostgreSQL draws from
    one sequence, which never blocks, and ``sequence_base`` is the sequence value just
    before the day's first number.
    """

    day = models.DateField(primary_key=True)
    value = models.PositiveIntegerField(default=0)
    sequence_base = models.BigIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.day}: {self.value}"


class KpiGrain(models.TextChoices):
    """Which dimensions a row of the KPI rollup is grouped by (the others are empty).

    The county-wide tables read the one-dimension grains (a few dozen rows a day); a
    department's own figures read its rows of the department × dimension grains."""

    DEPARTMENT = "department", _("部门")
    TOWN = "town", _("乡镇")
    CATEGORY = "category", _("分类")
    CHANNEL = "channel", _("渠道")
    DEPARTMENT_TOWN = "department_town", _("部门×乡镇")
    DEPARTMENT_CATEGORY = "department_category", _("部门×分类")
    DEPARTMENT_CHANNEL = "department_channel", _("部门×渠道")


class KpiDaily(models.Model):
    """The daily KPI rollup (``appeals.rollup``): per day received × grain, the counts
    behind every figure of docs/appeals-kpis.md. Derived data, rebuilt at will."""

    day = models.DateField(_("受理日期"))
    grain = models.CharField(_("汇总维度"), max_length=20, choices=KpiGrain.choices)
    # The lead department (主办); in the department grains also the department whose
    # returns (退单) ``returns_made`` counts.
    department = models.ForeignKey(
        Department, models.CASCADE, null=True, related_name="+", verbose_name=_("部门")
    )
    town = models.ForeignKey(
        Division, models.CASCADE, null=True, related_name="+", verbose_name=_("乡镇")
    )
    category = models.ForeignKey(
        Category, models.CASCADE, null=True, related_name="+", verbose_name=_("分类")
    )
    channel = models.CharField(_("渠道"), max_length=12, blank=True)
    received = models.PositiveIntegerField(default=0)
    dispatched = models.PositiveIntegerField(default=0)
    signed_on_time = models.PositiveIntegerField(default=0)
    replied = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    replied_on_time = models.PositiveIntegerField(default=0)
    rated = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    satisfied = models.PositiveIntegerField(default=0)
    returned = models.PositiveIntegerField(default=0)
    rehandled = models.PositiveIntegerField(default=0)
    extended = models.PositiveIntegerField(default=0)
    returns_made = models.PositiveIntegerField(default=0)
    returns_made_away = models.PositiveIntegerField(default=0)
    days_count = models.PositiveIntegerField(default=0)
    days_sum = models.PositiveBigIntegerField(default=0)
    # Handling days → how many appeals took that many: the 90th percentile is exact.
    days_histogram = models.JSONField(default=dict)

    class Meta:
        indexes = [
            models.Index(fields=["grain", "day"], name="kpidaily_grain_day_idx"),
            models.Index(fields=["grain", "department", "day"], name="kpidaily_grain_dept_day_idx"),
            models.Index(fields=["day"], name="kpidaily_day_idx"),
        ]
        verbose_name = _("诉求统计日汇总")
        verbose_name_plural = _("诉求统计日汇总")

    def __str__(self) -> str:
        return f"{self.day} {self.grain}"


class KpiRollupState(models.Model):
    """Where the rollup stands (one row): every day before ``complete_before`` is in it, as
    of the appeals changed before ``watermark``. Its row lock serialises the writers."""

    complete_before = models.DateField(null=True)
    watermark = models.DateTimeField(null=True)
    refreshed_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"{self.complete_before} {self.watermark}"
