"""The relief station (公益站) for women and children in difficulty: donations in, applications
verified by village and town and decided by the committee, disbursements out, and the fund
ledger whose running balance always equals the station's balance."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minsheng.core.models import Department, Division

CENT = Decimal("0.01")


class Station(models.Model):
    scope_fields: ClassVar[tuple[str, ...]] = ("department",)

    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    department = models.ForeignKey(
        Department, models.PROTECT, related_name="relief_stations", verbose_name=_("主管单位")
    )
    # Changed only by actions, under the row lock, together with a ledger entry.
    balance = models.DecimalField(
        _("基金余额（元）"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("0.00"),
        editable=False,
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("公益站")
        verbose_name_plural = _("公益站")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(balance__gte=0), name="relief_balance_never_negative"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Donation(models.Model):
    station = models.ForeignKey(Station, models.PROTECT, related_name="donations")
    donor = models.CharField(_("捐赠人"), max_length=64)
    anonymous = models.BooleanField(_("匿名"), default=False)
    amount = models.DecimalField(
        _("金额（元）"), max_digits=12, decimal_places=2, validators=[MinValueValidator(CENT)]
    )
    received_on = models.DateField(_("捐赠日期"))
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_on", "-pk"]
        verbose_name = _("捐赠")
        verbose_name_plural = _("捐赠")

    def __str__(self) -> str:
        return f"{self.received_on} {self.amount}"


class Application(models.Model):
    class State(models.TextChoices):
        SUBMITTED = "submitted", _("已申请")
        VILLAGE_VERIFIED = "village_verified", _("村（社区）已核实")
        TOWN_VERIFIED = "town_verified", _("乡镇（街道）已审核")
        APPROVED = "approved", _("评审通过")
        REJECTED = "rejected", _("未通过")
        PAID = "paid", _("已发放")

    class Kind(models.TextChoices):
        WOMAN = "woman", _("困境妇女")
        CHILD = "child", _("困境儿童")

    station = models.ForeignKey(Station, models.PROTECT, related_name="applications")
    kind = models.CharField(_("对象"), max_length=8, choices=Kind.choices)
    applicant = models.CharField(_("申请人"), max_length=32)
    id_key = models.CharField(max_length=64, editable=False)
    id_masked = models.CharField(_("身份证号"), max_length=18, editable=False)
    village = models.ForeignKey(
        Division, models.PROTECT, related_name="+", verbose_name=_("所在村（社区）")
    )
    situation = models.TextField(_("困难情况"))
    requested = models.DecimalField(
        _("申请金额（元）"), max_digits=12, decimal_places=2, validators=[MinValueValidator(CENT)]
    )
    approved = models.DecimalField(
        _("核定金额（元）"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    state = models.CharField(
        _("状态"), max_length=20, choices=State.choices, default=State.SUBMITTED
    )
    decision_note = models.CharField(_("评审意见"), max_length=200, blank=True)
    submitted_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-submitted_at"]
        verbose_name = _("救助申请")
        verbose_name_plural = _("救助申请")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.id_masked}"


def document_path(instance: Document, filename: str) -> str:
    # Never the uploaded name on disk: it often carries the applicant's name.
    return f"relief/{timezone.localdate():%Y/%m}/{instance.sha256[:32]}{instance.extension}"


class Document(models.Model):
    """A proof behind an application (identity, hardship, medical or accident papers),
    checked by ``appeals.attachments.clean`` and opened only through the staff page."""

    class Kind(models.TextChoices):
        IDENTITY = "identity", _("身份证明")
        HARDSHIP = "hardship", _("困难证明（低保证、特困证等）")
        MEDICAL = "medical", _("医疗或事故证明")
        OTHER = "other", _("其他材料")

    application = models.ForeignKey(
        Application, models.CASCADE, related_name="documents", verbose_name=_("救助申请")
    )
    kind = models.CharField(_("材料类型"), max_length=12, choices=Kind.choices)
    file = models.FileField(_("文件"), upload_to=document_path)
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
        ordering = ["application", "pk"]
        verbose_name = _("证明材料")
        verbose_name_plural = _("证明材料")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.original_name}"


class LedgerEntry(models.Model):
    """One movement of the fund. ``balance_after`` is written under the station's row lock,
    so the entries in order replay the balance exactly (``ledger.reconcile``)."""

    class Kind(models.TextChoices):
        DONATION = "donation", _("捐赠收入")
        DISBURSEMENT = "disbursement", _("救助支出")

    station = models.ForeignKey(Station, models.PROTECT, related_name="ledger")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2)  # + in, - out
    balance_after = models.DecimalField(max_digits=12, decimal_places=2)
    donation = models.OneToOneField(
        Donation, models.PROTECT, null=True, blank=True, related_name="entry"
    )
    application = models.OneToOneField(
        Application, models.PROTECT, null=True, blank=True, related_name="entry"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["station", "pk"]
        verbose_name = _("基金台账")
        verbose_name_plural = _("基金台账")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"
