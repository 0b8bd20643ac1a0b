from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class HolidayDay(models.Model):
    """An entry of the State Council's yearly holiday notice, kept by the admin.

    Entries here override the ``chinesecalendar`` package, and are the only source for years
    the package does not know.
    """

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("放假")
        WORKDAY = "workday", _("调休上班")

    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices)
    name = models.CharField(_("节日"), max_length=32, blank=True)
    source = models.CharField(
        _("来源"), max_length=128, blank=True, help_text=_("如国务院办公厅通知文号")
    )
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("节假日安排")
        verbose_name_plural = _("节假日安排")

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}"
