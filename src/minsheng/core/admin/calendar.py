"""The holiday calendar in the admin: entries by year, and the upload of the yearly notice.

Only system admins (``holiday.manage``) see it. Every change goes through the calendar
actions, so it is audited, clears the calendar cache and recomputes provisional deadlines.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext_lazy as _

from minsheng.core import audit, calendar, holidays_csv, policy
from minsheng.core.models.calendar import HolidayDay


class YearFilter(admin.SimpleListFilter):
    title = _("年份")
    parameter_name = "year"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(str(year), f"{year}年") for year in reversed(calendar.imported_years())]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(date__year=int(value))
        return queryset


class HolidayImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV 文件"),
        help_text=_("列：date,kind,name；kind 为 holiday/workday 或 放假/休/班/上班"),
    )
    source = forms.CharField(
        label=_("通知文号"),
        max_length=128,
        required=False,
        help_text=_("如“国办发明电〔2026〕7号”"),
    )

    def clean_file(self) -> list[holidays_csv.HolidayRow]:
        upload = self.cleaned_data["file"]
        if upload.size > holidays_csv.MAX_BYTES:
            raise forms.ValidationError(_("文件过大，请检查是否选错了文件"))
        try:
            return holidays_csv.parse(upload.read())
        except holidays_csv.HolidayCsvError as error:
            raise forms.ValidationError(error.errors) from None


@admin.register(HolidayDay)
class HolidayDayAdmin(admin.ModelAdmin[HolidayDay]):
    list_display = ("date", "weekday", "kind", "name", "source", "created_at")
    list_filter = (YearFilter, "kind")
    search_fields = ("name", "source")
    date_hierarchy = "date"
    ordering = ("-date",)
    fields = ("date", "kind", "name", "source")
    change_list_template = "admin/core/holidayday/change_list.html"

    @admin.display(description=_("星期"))
    def weekday(self, obj: HolidayDay) -> str:
        return calendar.WEEKDAY_NAMES[obj.date.weekday()]

    def _allowed(self, request: HttpRequest) -> bool:
        return policy.can(request.user, "holiday.manage")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj: HolidayDay | None = None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request: HttpRequest, obj: HolidayDay | None = None) -> bool:
        return self._allowed(request)

    def has_delete_permission(self, request: HttpRequest, obj: HolidayDay | None = None) -> bool:
        return self._allowed(request)

    def save_model(
        self, request: HttpRequest, obj: HolidayDay, form: ModelForm[HolidayDay], change: bool
    ) -> None:
        before = None
        if change and obj.pk is not None:
            before = audit.snapshot(
                HolidayDay.objects.get(pk=obj.pk), ("date", "kind", "name", "source")
            )
        calendar.save_holiday(obj, by=request.user, before=before)

    def delete_model(self, request: HttpRequest, obj: HolidayDay) -> None:
        calendar.delete_holidays([obj], by=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[HolidayDay]) -> None:
        calendar.delete_holidays(list(queryset), by=request.user)

    def get_urls(self) -> list[URLPattern]:
        custom = [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="core_holidayday_import",
            )
        ]
        return custom + super().get_urls()

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self._allowed(request):
            raise PermissionDenied
        form = HolidayImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            result = holidays_csv.import_holidays(
                form.cleaned_data["file"], by=request.user, source=form.cleaned_data["source"]
            )
            self.message_user(
                request, _("已导入 %(summary)s") % {"summary": result.summary()}, messages.SUCCESS
            )
            url = reverse("admin:core_holidayday_changelist")
            return HttpResponseRedirect(f"{url}?year={result.years[-1]}")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("导入节假日安排"),
            "form": form,
            "package_years": calendar.package_years(),
            "imported_years": calendar.imported_years(),
        }
        return TemplateResponse(request, "admin/core/holidayday/import.html", context)
