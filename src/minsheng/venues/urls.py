"""The public venue list at /venues/ and the staff pages at /work/venues/."""

from django.urls import URLPattern, URLResolver, path

from minsheng.venues import views

app_name = "venues"

urlpatterns: list[URLPattern | URLResolver] = [
    path("venues/", views.public_index, name="public"),
    path("work/venues/", views.staff_index, name="staff"),
    path("work/venues/register/", views.register, name="register"),
    path("work/venues/passages.xlsx", views.export, name="export"),
    path("work/venues/residents/<int:resident_id>/ban/", views.ban, name="ban"),
]
