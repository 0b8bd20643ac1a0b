"""The guide's data: the admin-editable synonym table and the log of questions asked."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Synonym(models.Model):
    """How people say it → how the catalogue says it (开饭馆 → 食品经营许可)."""

    phrase = models.CharField(_("群众说法"), max_length=64, unique=True)
    official = models.CharField(
        _("规范说法"), max_length=200, help_text=_("事项名称中的词，多个词用空格分隔")
    )
    active = models.BooleanField(_("启用"), default=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("同义词")
        verbose_name_plural = _("同义词")
        ordering = ["phrase"]

    def __str__(self) -> str:
        return f"{self.phrase} → {self.official}"


class QuestionLog(models.Model):
    """One question asked at a kiosk, on the phone page or through the API.

    The text is scrubbed of mobile and ID numbers and names before it is stored; no
    address, account or device identifier is kept.
    """

    class Channel(models.TextChoices):
        KIOSK = "kiosk", _("导服一体机")
        PHONE = "phone", _("手机")
        API = "api", _("接口")

    class Kind(models.TextChoices):
        MATCH = "match", _("已匹配")
        CLARIFY = "clarify", _("追问")
        NONE = "none", _("未找到")

    class Feedback(models.TextChoices):
        HELPFUL = "helpful", _("有帮助")
        UNHELPFUL = "unhelpful", _("没帮助")

    asked_at = models.DateTimeField(_("提问时间"), auto_now_add=True, db_index=True)
    channel = models.CharField(_("渠道"), max_length=8, choices=Channel.choices)
    question = models.CharField(_("问题（已去除个人信息）"), max_length=500)
    kind = models.CharField(_("结果"), max_length=8, choices=Kind.choices)
    top_code = models.CharField(_("首选事项编码"), max_length=32, blank=True)
    top_name = models.CharField(_("首选事项"), max_length=128, blank=True)
    top_score = models.FloatField(_("得分"), default=0)
    shown_code = models.CharField(_("最终展示的事项"), max_length=32, blank=True)
    candidates = models.JSONField(_("候选事项"), default=list, blank=True)
    duration_ms = models.FloatField(_("耗时（毫秒）"), default=0)
    feedback = models.CharField(
        _("评价"), max_length=10, choices=Feedback.choices, blank=True, db_index=True
    )
    feedback_at = models.DateTimeField(_("评价时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("提问记录")
        verbose_name_plural = _("提问记录")
        ordering = ["-asked_at", "-id"]
        indexes = [models.Index(fields=["kind", "-asked_at"], name="guide_log_kind_idx")]

    def __str__(self) -> str:
        return self.question[:40]
