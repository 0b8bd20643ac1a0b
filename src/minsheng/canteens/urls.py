"""Staff pages of the happiness canteens, at /work/canteens/."""

from django.urls import URLPattern, URLResolver, path

from minsheng.canteens import views

app_name = "canteens"

urlpatterns: list[URLPattern | URLResolver] = [
    path("work/canteens/", views.index, name="index"),
    path("work/canteens/<slug:code>/", views.canteen, name="canteen"),
    path(
        "work/canteens/<slug:code>/diners/<int:diner_id>/meal/",
        views.check_in,
        name="check_in",
    ),
    path("work/canteens/<slug:code>/statement.xlsx", views.statement, name="statement"),
]
