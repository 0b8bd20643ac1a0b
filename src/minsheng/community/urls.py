from django.urls import URLPattern, URLResolver, path

from minsheng.community import views

app_name = "community"

urlpatterns: list[URLPattern | URLResolver] = [
    path("work/community/", views.overview, name="overview"),
]
