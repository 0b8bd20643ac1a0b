from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "minsheng.api"
    label = "api"
    verbose_name = "REST API"
