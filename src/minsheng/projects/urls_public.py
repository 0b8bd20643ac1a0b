"""The public pages of 实事项目 (no login) and the statistics for leaders.

Included by ``projects/urls.py`` without a namespace of its own, so the names are
``projects:public``, ``projects:public_batch``, ``projects:dashboard``, ...
"""

from django.urls import URLPattern, path

from minsheng.projects.feeds import BatchFeed
from minsheng.projects.views import dashboard, public

urlpatterns: list[URLPattern] = [
    path("projects/", public.index, name="public"),
    path("projects/<int:year>-<int:number>/", public.batch_page, name="public_batch"),
    path("projects/<int:year>-<int:number>/feed.atom", BatchFeed(), name="public_feed"),
    path("projects/<int:year>-<int:number>/bulletin/", public.bulletin, name="public_bulletin"),
    path(
        "projects/<int:year>-<int:number>/bulletin.pdf",
        public.bulletin_pdf,
        name="public_bulletin_pdf",
    ),
    path("projects/p/<str:code>/", public.project_page, name="public_project"),
    path("work/projects/dashboard/", dashboard.dashboard, name="dashboard"),
    path("work/projects/overview/", dashboard.overview, name="overview"),
]
