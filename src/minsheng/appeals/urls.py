"""Appeal pages: citizens' under /appeals/, staff's under /work/appeals/."""

from django.urls import include, path

from minsheng.appeals import urls_citizen, urls_kpi, urls_staff

app_name = "appeals"

urlpatterns = [
    path("appeals/", include(urls_citizen.urlpatterns)),
    path("work/appeals/", include(urls_staff.urlpatterns)),
    path("work/appeals/kpi/", include(urls_kpi.urlpatterns)),
]
