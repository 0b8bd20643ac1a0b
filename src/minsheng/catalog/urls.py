"""Public 办事指南 pages under /banshi/."""

from django.urls import path

from minsheng.catalog import views

app_name = "catalog"

urlpatterns = [
    path("banshi/", views.matter_list, name="list"),
    path("banshi/<str:code>/", views.matter_detail, name="detail"),
]
