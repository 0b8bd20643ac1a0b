"""Trained classifier versions and the dispatchers' corrections."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from minsheng.core.models import SettingsRow


class ClassifierVersion(models.Model):
    """One trained appeal classifier with its evaluation report; at most one is active.

    The fitted model is our own ``Classifier`` object pickled into ``model_blob``: it is
    written only by ``actions.train`` and read only by ``classifier.active_classifier``,
    never taken from outside.
    """

    number = models.PositiveIntegerField(_("版本号"), unique=True)
    created_at = models.DateTimeField(_("训练时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("训练人"),
    )
    source = models.CharField(_("训练数据"), max_length=300)
    row_count = models.PositiveIntegerField(_("训练条数"))
    labels = models.JSONField(_("类别"), default=list)
    # {"evaluated_on": str, "rows": int, "accuracy": float, "macro_f1": float,
    #  "per_class": {label: {"precision", "recall", "f1", "support"}},
    #  "confusion": {"labels": [...], "matrix": [[...]]}}
    metrics = models.JSONField(_("评估报告"), default=dict)
    model_blob = models.BinaryField(_("模型"), editable=False)
    active = models.BooleanField(_("当前版本"), default=False)

    class Meta:
        ordering = ["-number"]
        verbose_name = _("分类模型版本")
        verbose_name_plural = _("分类模型版本")
        constraints = [
            models.UniqueConstraint(
                fields=["active"],
                condition=models.Q(active=True),
                name="intelligence_one_active_classifier",
            )
        ]

    def __str__(self) -> str:
        return f"v{self.number}"

    def metric(self, name: str) -> Any:
        return self.metrics.get(name)


class RoutingCorrection(models.Model):
    """What the classifier suggested for an appeal and what the dispatcher chose instead."""

    appeal = models.ForeignKey(
        "appeals.Appeal",
        models.CASCADE,
        related_name="routing_corrections",
        verbose_name=_("诉求"),
    )
    version = models.ForeignKey(
        ClassifierVersion,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="corrections",
        verbose_name=_("模型版本"),
    )
    suggested_label = models.CharField(_("建议分类"), max_length=64, blank=True)
    confidence = models.FloatField(_("置信度"), null=True, blank=True)
    chosen_category = models.ForeignKey(
        "appeals.Category",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("选定分类"),
    )
    chosen_department = models.ForeignKey(
        "core.Department",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("选定部门"),
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("纠正人"),
    )
    at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("分派纠正记录")
        verbose_name_plural = _("分派纠正记录")

    def __str__(self) -> str:
        return f"{self.appeal_id}: {self.suggested_label} → {self.chosen_category_id}"


class IntelligenceSettings(SettingsRow):
    """The county's choice about automatic routing (one row, edited in the admin)."""

    auto_route = models.BooleanField(
        _("自动派单"),
        default=False,
        help_text=_("开启后，分类置信度达到下面阈值的新诉求直接派给对应部门，并标记为自动派单"),
    )
    auto_route_confidence = models.FloatField(
        _("自动派单置信度阈值"),
        default=0.9,
        help_text=_("0到1之间；低于阈值的诉求由派单员参考建议人工派单"),
    )

    class Meta:
        verbose_name = _("智能派单设置")
        verbose_name_plural = _("智能派单设置")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(auto_route_confidence__gte=0)
                & models.Q(auto_route_confidence__lte=1),
                name="intelligence_confidence_0_1",
            )
        ]

    def __str__(self) -> str:
        return str(_("智能派单设置"))
