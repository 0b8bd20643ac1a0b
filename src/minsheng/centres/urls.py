from django.urls import URLPattern, URLResolver

app_name = "centres"

urlpatterns: list[URLPattern | URLResolver] = []
