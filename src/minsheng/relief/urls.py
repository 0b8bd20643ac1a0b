"""The relief station's public disclosure at /relief/ and its staff page at /work/relief/."""

from django.urls import URLPattern, URLResolver, path

from minsheng.relief import views

app_name = "relief"

urlpatterns: list[URLPattern | URLResolver] = [
    path("relief/", views.public_index, name="public"),
    path("work/relief/", views.staff_index, name="staff"),
    path("work/relief/<slug:code>/ledger.xlsx", views.export, name="export"),
    path("work/relief/documents/<int:pk>/", views.document, name="document"),
    path("work/relief/<slug:step>/", views.act, name="act"),
]
