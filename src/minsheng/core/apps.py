from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "minsheng.core"
    label = "core"
    verbose_name = "基础平台"

    def ready(self) -> None:
        from minsheng.core import checks, rules  # noqa: F401  (register checks and actions)
