"""The KPI dashboard, mounted at /work/appeals/kpi/ in the "appeals" namespace."""

from django.urls import URLPattern, URLResolver, path

from minsheng.appeals.views import kpi

urlpatterns: list[URLPattern | URLResolver] = [
    path("", kpi.dashboard, name="kpi"),
    path("export/", kpi.export, name="kpi_export"),
]
