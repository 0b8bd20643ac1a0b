from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve

from minsheng.api.base import unknown_path
from minsheng.api.urls import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("api/<path:rest>", unknown_path),  # other API versions: JSON 404, not the HTML page
    path("open311/v2/", include("minsheng.appeals.urls_open311")),
    path("", include("minsheng.appeals.urls")),
    path("", include("minsheng.evaluation.urls")),
    path("", include("minsheng.projects.urls")),
    path("", include("minsheng.intelligence.urls")),
    path("", include("minsheng.venues.urls")),
    path("", include("minsheng.canteens.urls")),
    path("", include("minsheng.relief.urls")),
    path("", include("minsheng.centres.urls")),
    path("", include("minsheng.relay.urls")),
    path("", include("minsheng.community.urls")),
    path("", include("minsheng.catalog.urls")),
    path("", include("minsheng.guide.urls")),
    path("", include("minsheng.core.urls")),
]

if not settings.PRODUCTION:
    # In production nginx serves uploaded files; locally Django does.
    urlpatterns.append(path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT}))

handler403 = "minsheng.core.views.errors.permission_denied"
handler404 = "minsheng.core.views.errors.page_not_found"
handler500 = "minsheng.core.views.errors.server_error"
