"""The neighbourhood centres' public overview at /centres/ and staff pages at /work/centres/
(a centre by its village's code)."""

from django.urls import URLPattern, URLResolver, path

from minsheng.centres import exports, views

app_name = "centres"

urlpatterns: list[URLPattern | URLResolver] = [
    path("centres/", views.public_index, name="public"),
    path("work/centres/", views.index, name="index"),
    path("work/centres/centres.xlsx", exports.centre_list, name="export"),
    path("work/centres/<slug:code>/", views.centre, name="centre"),
    path("work/centres/<slug:code>/do/<slug:step>/", views.act, name="act"),
    path("work/centres/<slug:code>/opinions.xlsx", exports.opinions, name="opinions_export"),
    path("work/centres/<slug:code>/matters.xlsx", exports.matters, name="matters_export"),
    path("work/centres/<slug:code>/disputes.xlsx", exports.disputes, name="disputes_export"),
    path(
        "work/centres/<slug:code>/disputes/<int:dispute_id>/agreement/",
        views.agreement,
        name="agreement",
    ),
]
