from django.urls import URLPattern, URLResolver

app_name = "relay"

urlpatterns: list[URLPattern | URLResolver] = []
