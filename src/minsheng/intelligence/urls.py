"""Staff pages of the appeal intelligence, mounted at /work/intelligence/."""

from django.urls import URLPattern, URLResolver, path

from minsheng.intelligence import views

app_name = "intelligence"

urlpatterns: list[URLPattern | URLResolver] = [
    path("work/intelligence/hot/", views.hot_issues, name="hot"),
    path("work/intelligence/hot/panel/", views.hot_panel, name="hot_panel"),
]
