"""Admin editing of the catalogue: matters with their materials, steps and FAQs inline,
hall maps with a preview, and the Excel/CSV import and export pages.

Only system administrators (``catalog.edit``) see these pages; every save goes through
``catalog.actions`` and is recorded in the audit trail.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from minsheng.catalog import actions, exporter, importer, tasks
from minsheng.catalog.forms import ImportForm
from minsheng.catalog.maps import build_plan
from minsheng.catalog.models import FAQ, HallMap, MapItem, Material, ServiceMatter, Step
from minsheng.core import jobs
from minsheng.core.admin.jobs import is_system_admin
from minsheng.core.models import LongJob, User, Window

M = TypeVar("M", bound=models.Model)

# Uploads above this size are imported by the worker, with a progress page.
BACKGROUND_BYTES = 512 * 1024


class CatalogAdmin(admin.ModelAdmin[M]):
    action = "catalog.edit"
    event = "row"

    def _allowed(self, request: HttpRequest) -> bool:
        return is_system_admin(request, self.action)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return self._allowed(request)

    def has_delete_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return self._allowed(request)

    def save_model(self, request: HttpRequest, obj: M, form: ModelForm[M], change: bool) -> None:
        actions.save_object(request.user, obj, self.event)

    def delete_model(self, request: HttpRequest, obj: M) -> None:
        actions.delete_object(request.user, obj, self.event)

    @transaction.atomic
    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[M]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


class InlinePermissions:
    def _allowed(self, request: HttpRequest) -> bool:
        return is_system_admin(request, "catalog.edit")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)


class MaterialInline(InlinePermissions, admin.TabularInline[Material, ServiceMatter]):
    model = Material
    extra = 1
    fields = ("order", "name", "kind", "copies", "required", "notes")


class StepInline(InlinePermissions, admin.TabularInline[Step, ServiceMatter]):
    model = Step
    extra = 1
    fields = ("order", "text")


class FAQInline(InlinePermissions, admin.StackedInline[FAQ, ServiceMatter]):
    model = FAQ
    extra = 0
    fields = ("order", "question", "answer")


@admin.register(ServiceMatter)
class ServiceMatterAdmin(CatalogAdmin[ServiceMatter]):
    event = "matter"
    list_display = (
        "code",
        "name",
        "department",
        "matter_type",
        "promised_days",
        "visits_required",
        "high_frequency",
        "hf_order",
        "active",
    )
    list_display_links = ("code", "name")
    list_filter = ("matter_type", "high_frequency", "online", "active", "department")
    list_editable = ("high_frequency", "hf_order")
    search_fields = ("code", "name", "short_name", "aliases")
    filter_horizontal = ("windows",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    inlines = (MaterialInline, StepInline, FAQInline)
    change_list_template = "admin/catalog/servicematter/change_list.html"
    fieldsets = (
        (None, {"fields": ("code", "name", "short_name", "aliases", "department", "matter_type")}),
        (_("办理要素"), {"fields": ("audience", "conditions", "legal_basis")}),
        (_("时限和收费"), {"fields": ("statutory_days", "promised_days", "fee")}),
        (
            _("办理地点"),
            {
                "fields": (
                    "hall",
                    "windows",
                    "location",
                    "opening_hours",
                    "consult_phone",
                    "complaint_phone",
                )
            },
        ),
        (
            _("办理方式"),
            {"fields": ("visits_required", "online", "online_url")},
        ),
        (_("展示"), {"fields": ("high_frequency", "hf_order", "active")}),
    )

    def save_model(
        self,
        request: HttpRequest,
        obj: ServiceMatter,
        form: ModelForm[ServiceMatter],
        change: bool,
    ) -> None:
        old = ServiceMatter.objects.filter(pk=obj.pk).first() if change else None
        actions.save_matter(
            request.user, obj, before=actions.snapshot(old) if old is not None else None
        )

    def delete_model(self, request: HttpRequest, obj: ServiceMatter) -> None:
        actions.delete_matter(request.user, obj)

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="catalog_servicematter_import",
            ),
            path(
                "export/<str:fmt>/",
                self.admin_site.admin_view(self.export_view),
                name="catalog_servicematter_export",
            ),
        ]
        return extra + super().get_urls()

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not is_system_admin(request, "catalog.import"):
            raise PermissionDenied
        user = request.user
        assert isinstance(user, User)
        report: dict[str, Any] | None = None
        job: LongJob | None = None
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            valid_only = form.cleaned_data["valid_only"]
            job = jobs.create("catalog.import", f"导入办事指南 {upload.name}", started_by=user)
            if upload.size > BACKGROUND_BYTES:
                # A big file goes to the worker; this page follows the job's progress.
                suffix = Path(upload.name).suffix.lower()
                parked = settings.VAR_DIR / "imports" / f"catalog-{job.pk}{suffix}"
                parked.parent.mkdir(parents=True, exist_ok=True)
                with parked.open("wb") as out:
                    for chunk in upload.chunks():
                        out.write(chunk)
                tasks.import_upload.enqueue(job.pk, str(parked), user.pk, valid_only)
                return redirect(f"{reverse('admin:catalog_servicematter_import')}?job={job.pk}")
            result = importer.import_file(
                upload.name, data=upload.read(), user=user, valid_only=valid_only, job_id=job.pk
            )
            report = result.as_dict()
            job.refresh_from_db()
            if result.written:
                messages.success(request, result.summary)
        elif request.GET.get("job", "").isdigit():
            job = LongJob.objects.filter(pk=int(request.GET["job"]), kind="catalog.import").first()
            if job is not None and isinstance(job.result, dict):
                report = job.result
        context = {
            **self.admin_site.each_context(request),
            "title": _("导入办事指南"),
            "form": form,
            "report": report,
            "job": job,
            "running": job is not None and job.status in {"queued", "running"},
            "export_xlsx": reverse("admin:catalog_servicematter_export", args=["xlsx"]),
            "export_csv": reverse("admin:catalog_servicematter_export", args=["csv"]),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "catalog/import.html", context)

    def export_view(self, request: HttpRequest, fmt: str) -> HttpResponse:
        if fmt not in {"xlsx", "csv"}:
            return HttpResponse(status=404)
        data = exporter.export_bytes(fmt, user=request.user)
        content_type = (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            if fmt == "xlsx"
            else "text/csv; charset=utf-8"
        )
        response = HttpResponse(data, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="catalog.{fmt}"'
        return response


class MapItemInline(InlinePermissions, admin.TabularInline[MapItem, HallMap]):
    model = MapItem
    extra = 3
    fields = ("kind", "window", "label", "row", "col", "width", "height")
    autocomplete_fields = ()

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "window" and field is not None:
            field.queryset = Window.objects.select_related("hall")
        return field


@admin.register(HallMap)
class HallMapAdmin(CatalogAdmin[HallMap]):
    event = "hall_map"
    list_display = ("hall", "rows", "cols", "updated_at")
    inlines = (MapItemInline,)
    fields = ("hall", "rows", "cols", "entrance_row", "entrance_col", "notes", "preview")
    readonly_fields = ("preview",)

    class Media:
        css = {"all": ("catalog/catalog.css",)}

    @admin.display(description=_("当前平面图"))
    def preview(self, obj: HallMap) -> str:
        if obj.pk is None:
            return gettext("保存后在这里显示平面图")
        return render_to_string("catalog/_hall_map.html", {"plan": build_plan(obj)})

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path(
                "<int:pk>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="catalog_hallmap_preview",
            )
        ]
        return extra + super().get_urls()

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self._allowed(request):
            raise PermissionDenied
        hall_map = get_object_or_404(HallMap.objects.select_related("hall"), pk=pk)
        windows = [i.window for i in hall_map.items.select_related("window") if i.window]
        problems = map_problems(hall_map)
        context = {
            **self.admin_site.each_context(request),
            "title": _("平面图预览"),
            "hall_map": hall_map,
            "plan": build_plan(hall_map, windows[:1]),
            "problems": problems,
            "change_url": reverse("admin:catalog_hallmap_change", args=[pk]),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "catalog/map_preview.html", context)

    def response_change(self, request: HttpRequest, obj: HallMap) -> HttpResponse:
        if "_preview" in request.POST:
            return redirect("admin:catalog_hallmap_preview", pk=obj.pk)
        return super().response_change(request, obj)


def map_problems(hall_map: HallMap) -> list[str]:
    """Overlaps, items outside the grid, and the hall's windows missing from the map."""
    problems: list[str] = []
    taken: dict[tuple[int, int], str] = {}
    for item in hall_map.items.select_related("window"):
        if item.row + item.height > hall_map.rows or item.col + item.width > hall_map.cols:
            problems.append(gettext("“%(item)s”超出了平面图范围") % {"item": item.display_label})
        for r in range(item.row, item.row + item.height):
            for c in range(item.col, item.col + item.width):
                if (r, c) in taken and taken[(r, c)] != item.display_label:
                    problems.append(
                        gettext("“%(item)s”与“%(other)s”重叠")
                        % {"item": item.display_label, "other": taken[(r, c)]}
                    )
                taken[(r, c)] = item.display_label
    drawn = set(hall_map.items.exclude(window=None).values_list("window_id", flat=True))
    for window in hall_map.hall.windows.filter(active=True):
        if window.pk not in drawn:
            problems.append(
                gettext("%(number)s号窗口（%(name)s）还没有画在图上")
                % {"number": window.number, "name": window.name}
            )
    return list(dict.fromkeys(problems))
