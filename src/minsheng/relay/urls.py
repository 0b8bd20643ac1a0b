"""The proxy service: staff pages at /work/relay/, the citizens' progress query at /relay/."""

from django.urls import URLPattern, URLResolver, path

from minsheng.relay import views

app_name = "relay"

urlpatterns: list[URLPattern | URLResolver] = [
    path("relay/", views.public, name="public"),
    path("work/relay/", views.index, name="index"),
    path("work/relay/export.xlsx", views.export, name="export"),
    path("work/relay/new/", views.new, name="new"),
    path("work/relay/new/materials/", views.materials, name="materials"),
    path("work/relay/<slug:number>/", views.detail, name="detail"),
    path("work/relay/<slug:number>/contact/", views.contact, name="contact"),
    path("work/relay/<slug:number>/<slug:step>/", views.act, name="act"),
]
